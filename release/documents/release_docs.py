"""Documents that travel with a release, generated from the manifest, the release statistics and the shards only.

- `summary/eu_ai_act_summary.{json,md}`: the contribution of this release to the public summary of training content
  that Article 53(1)(d) of the AI Act asks of a general-purpose AI model provider, in the sections of the
  Commission's template (July 2025). What the pipeline cannot know (provider, model, crawler identity, other
  measures) comes from the policy's optional `summary:` section, else is marked `TO BE COMPLETED BY THE PROVIDER`.
- `croissant.json`: Croissant 1.1 JSON-LD with the Responsible-AI (RAI 1.0) fields.
- `README.md`: a Hugging Face dataset card (YAML front matter and sections).

Every function is deterministic: the same release gives byte-identical documents (no generation timestamp; the
release's own `created_at` is used), so rewriting the documents of an approved release changes nothing.

Token counts use Terroir's own offline tokenizer (`TOKENIZER_NAME`): one token per run of letters, marks and digits,
one per punctuation or symbol character, one per Han, Hiragana or Katakana character; whitespace is not a token. It
runs in Arrow's RE2 engine (`pyarrow.compute.count_substring_regex`), so it needs no model and no download. It is a
word-level count, usually below a subword (BPE) tokenizer's count on the same text; the AI Act size bins are decades
apart, so the bin it gives is the one a subword count would give except close to a bin boundary.

The optional `summary:` section of a policy (YAML) may hold:

    summary:
      provider: {name: ..., contact: ..., authorised_representative: ...}
      model: {names: [...], dependencies: ..., union_market_date: ...}
      sme: false                      # true: list the top 5% of domains, at most 1,000
      version: 1.0.0                  # dataset version for the Croissant file (else derived from created_at)
      url: https://...                # where the release is described
      use_cases: ...
      crawler: {names: [...], purposes: ..., behaviour: ...}
      illegal_content_measures: ...
      sources:
        SOURCE_ID: {category: public_dataset|licensed|private_third_party|crawled|user|synthetic|other,
                    name: ..., url: ..., description: ...}
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import math
import os
from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from filters.ner import names_by_language, names_summary
from release.stats import DECISIONS, ReleaseStats, compute_release_stats

TO_COMPLETE = "TO BE COMPLETED BY THE PROVIDER"
TEMPLATE = (
    "European Commission, Explanatory Notice and Template for the Public Summary of Training Content for "
    "general-purpose AI models, Article 53(1)(d) of Regulation (EU) 2024/1689 (AI Act), July 2025"
)

TOKENIZER_NAME = "terroir-unicode-wordpunct-v1"
_CJK = r"\p{Han}\p{Hiragana}\p{Katakana}"
#: RE2 pattern: a CJK character, else a run of anything that is not space, punctuation, symbol, control or CJK
#: (letters, marks, digits), else one punctuation or symbol character.
TOKENIZER_PATTERN = rf"[{_CJK}]|[^\s\p{{P}}\p{{S}}\p{{C}}\p{{Z}}{_CJK}]+|[\p{{P}}\p{{S}}]"
TOKENIZER_DESCRIPTION = (
    "Offline Unicode word/punctuation tokenizer: one token per run of letters, combining marks and digits, one per "
    "punctuation or symbol character, one per Han, Hiragana or Katakana character; whitespace and control characters "
    "are not tokens. Runs as one RE2 pattern in Apache Arrow (pyarrow.compute.count_substring_regex), offline. A "
    "word-level count: subword tokenizers give more tokens for the same text."
)

#: Template section 1.3: size bins for text.
TEXT_SIZE_BINS = ((1_000_000_000, "Less than 1 billion tokens"),
                  (10_000_000_000_000, "1 billion to 10 trillion tokens"),
                  (None, "More than 10 trillion tokens"))  # fmt: skip

CATEGORIES = {
    "public_dataset": "2.1 Publicly available datasets",
    "licensed": "2.2.1 Datasets commercially licensed by rightsholders or their representatives",
    "private_third_party": "2.2.2 Private datasets obtained from other third parties",
    "crawled": "2.3 Data crawled and scraped from online sources",
    "user": "2.4 User data",
    "synthetic": "2.5 Synthetic data",
    "other": "2.6 Other sources of data",
}
# a declared licence of these families means the source is published for reuse: a publicly available dataset
_OPEN_LICENCES = ("CC0", "CC-BY", "CC-PDDC", "PDDL", "ODC-BY", "ODBL", "ETALAB", "OGL", "DL-DE", "PUBLIC-DOMAIN",
                  "CDLA", "APACHE", "MIT")  # fmt: skip

CONTENT_TYPES = {
    "web": "web pages from web archives (WARC/ARC), HTML converted to text",
    "alto": "digitised newspapers and periodicals (OCR text from ALTO pages, grouped into articles by METS)",
    "mets": "digitised newspapers and periodicals (OCR text from ALTO pages, grouped into articles by METS)",
    "tei": "scholarly text editions (TEI P5)",
    "jsonl": "text records from dataset dumps (JSON Lines)",
    "parquet": "text records from dataset dumps (Parquet)",
}

RIGHTS_SIGNALS = {
    "tdmrep-file": "TDMRep: the site's /.well-known/tdmrep.json (W3C TDM Reservation Protocol)",
    "tdmrep-header": "TDMRep: tdm-reservation HTTP response header",
    "tdmrep-meta": "TDMRep: <meta name=\"tdm-reservation\"> in the page",
    "robots-txt-disallow": "robots.txt (RFC 9309): URL disallowed for an AI-training crawler's user-agent group",
    "x-robots-tag-noai": "X-Robots-Tag HTTP header with noai",
    "meta-robots-noai": "<meta name=\"robots\"> with noai",
    "content-usage": "Content-Usage HTTP header (IETF AI preferences) refusing AI training",
}

FIELD_DESCRIPTIONS = {
    "doc_id": "Stable document id derived from the source id and the record locator; the same on every rerun.",
    "text": "Document text after extraction and PII redaction (personal data replaced by typed placeholders).",
    "source_id": "Source the document came from, as named in the policy.",
    "source_type": "Kind of input record: web (WARC/ARC), alto (ALTO/METS), tei, jsonl or parquet.",
    "url": "URL of the archived web page or of the record, when known.",
    "registrable_domain": "Registrable domain of the URL (public-suffix aware), when there is a URL.",
    "record_locator": "Where the record sits in its input file (file and offset, or METS article).",
    "collected_at": "When the record was collected (ISO 8601, e.g. the WARC-Date), when known.",
    "lang": "Language identified by fastText lid.176 (ISO 639 code).",
    "lang_score": "Confidence of the language identification (0 to 1).",
    "origin_jurisdiction": "ISO 3166-1 alpha-2 country the document comes from.",
    "origin_basis": "Evidence for the origin: the source's declaration (registry), the URL's ccTLD, or the policy's "
                    "domain list.",
    "residency_region": "Policy region whose storage holds the document; also the shard's folder.",
    "license": "Licence declared for the document's source in the policy (SPDX id), when any.",
    "rights_status": "Text-and-data-mining rights status: allowed, reserved or unknown.",
    "rights_basis": "The signal behind the rights status (e.g. no-reservation-signal, source-declaration).",
    "pii_counts": "Personal-data entities redacted in the document: a list of {entity, count}, one per entity type.",
    "content_hash": "sha256 of the normalized text; the exact-deduplication key.",
    "dup_cluster": "Near-duplicate cluster id when fuzzy deduplication grouped the document, else empty.",
    "policy_id": "Policy the release was built under.",
    "pipeline_version": "Terroir version that built the release.",
}  # fmt: skip
SUBFIELD_DESCRIPTIONS = {"entity": "Entity type.", "count": "Number redacted."}

SUMMARY_JSON = "summary/eu_ai_act_summary.json"
SUMMARY_MD = "summary/eu_ai_act_summary.md"
CROISSANT = "croissant.json"
CARD = "README.md"


# ---------------------------------------------------------------- tokens and shard facts


def count_tokens(texts) -> int:
    """Number of `TOKENIZER_NAME` tokens in a string, a list of strings or an Arrow string array (nulls count 0)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(texts, str):
        texts = [texts]
    if not isinstance(texts, (pa.Array, pa.ChunkedArray)):
        texts = pa.array(texts, pa.large_string())
    return int(pc.sum(pc.count_substring_regex(texts, TOKENIZER_PATTERN)).as_py() or 0)


def text_size_bin(tokens: int) -> str:
    """The template's text size bin for a token count."""
    for limit, label in TEXT_SIZE_BINS:
        if limit is None or tokens < limit:
            return label
    raise AssertionError("unreachable")


@dataclass
class SourceFacts:
    documents: int = 0
    tokens: int = 0
    text_bytes: int = 0
    source_types: Counter = field(default_factory=Counter)
    licenses: Counter = field(default_factory=Counter)  # None key: no licence declared
    first_collected: str | None = None  # YYYY-MM or YYYY-MM-DD
    last_collected: str | None = None


@dataclass
class ShardFacts:
    """What the documents need from the published shards, computed in one pass over them."""

    by_source: dict[str, SourceFacts] = field(default_factory=dict)
    domain_bytes: dict[str, Counter] = field(default_factory=dict)  # source_id → registrable domain → text bytes

    @property
    def documents(self) -> int:
        return sum(s.documents for s in self.by_source.values())

    @property
    def tokens(self) -> int:
        return sum(s.tokens for s in self.by_source.values())

    @property
    def text_bytes(self) -> int:
        return sum(s.text_bytes for s in self.by_source.values())

    def merge(self, other: ShardFacts) -> None:
        for sid, o in other.by_source.items():
            s = self.by_source.setdefault(sid, SourceFacts())
            s.documents += o.documents
            s.tokens += o.tokens
            s.text_bytes += o.text_bytes
            s.source_types.update(o.source_types)
            s.licenses.update(o.licenses)
            s.first_collected = _min(s.first_collected, o.first_collected)
            s.last_collected = _max(s.last_collected, o.last_collected)
        for sid, counts in other.domain_bytes.items():
            self.domain_bytes.setdefault(sid, Counter()).update(counts)


def _min(a, b):
    return b if a is None else a if b is None else min(a, b)


def _max(a, b):
    return b if a is None else a if b is None else max(a, b)


_SCAN_COLUMNS = ["text", "source_id", "source_type", "license", "registrable_domain", "collected_at"]


def _scan_one(item) -> ShardFacts:
    """Facts of one shard given as a local path, a (filesystem, path) pair or an open pyarrow file."""
    if isinstance(item, tuple):
        fsys, path = item
        with fsys.open_input_file(path) as f:
            return _scan_file(f)
    return _scan_file(str(item) if isinstance(item, (str, os.PathLike)) else item)


def _scan_file(source) -> ShardFacts:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    facts = ShardFacts()
    pf = pq.ParquetFile(source)
    for batch in pf.iter_batches(columns=_SCAN_COLUMNS, batch_size=8192):
        text = batch.column("text")
        collected = batch.column("collected_at")
        dated = pc.fill_null(pc.match_substring_regex(collected, r"^\d{4}-\d{2}"), False)
        day = pc.if_else(dated, pc.utf8_slice_codeunits(collected, 0, 10), pa.scalar(None, pa.string()))
        t = pa.table({
            "source_id": batch.column("source_id"), "source_type": batch.column("source_type"),
            "license": batch.column("license"), "domain": batch.column("registrable_domain"), "day": day,
            "tokens": pc.count_substring_regex(text, TOKENIZER_PATTERN).cast(pa.int64()),
            "bytes": pc.binary_length(text).cast(pa.int64()),
        })  # fmt: skip
        agg = t.group_by(["source_id", "source_type", "license"]).aggregate(
            [("tokens", "sum"), ("bytes", "sum"), ("tokens", "count"), ("day", "min"), ("day", "max")]
        )
        for r in agg.to_pylist():
            s = facts.by_source.setdefault(r["source_id"], SourceFacts())
            s.documents += r["tokens_count"]
            s.tokens += r["tokens_sum"]
            s.text_bytes += r["bytes_sum"]
            s.source_types[r["source_type"]] += r["tokens_count"]
            s.licenses[r["license"]] += r["tokens_count"]
            s.first_collected = _min(s.first_collected, r["day_min"])
            s.last_collected = _max(s.last_collected, r["day_max"])
        with_domain = t.filter(pc.is_valid(t["domain"]))
        for r in with_domain.group_by(["source_id", "domain"]).aggregate([("bytes", "sum")]).to_pylist():
            facts.domain_bytes.setdefault(r["source_id"], Counter())[r["domain"]] += r["bytes_sum"]
    return facts


def scan_shards(shard_paths: list, threads: int | None = None) -> ShardFacts:
    """Documents, tokens, text bytes, collection dates and domain bytes per source, from the published shards.

    Items are local paths, (pyarrow filesystem, path) pairs or open pyarrow files. Shards are read in parallel
    threads (Arrow's kernels release the GIL); the result does not depend on the order or the thread count.
    """
    facts = ShardFacts()
    items = list(shard_paths)
    workers = max(1, min(threads or (os.cpu_count() or 1), len(items) or 1, 8))
    with ThreadPoolExecutor(max_workers=workers) as pool:
        for part in pool.map(_scan_one, items):
            facts.merge(part)
    return facts


# ---------------------------------------------------------------- helpers shared by the three documents


def _summary_config(policy) -> dict:
    cfg = (policy.raw or {}).get("summary") or {}
    return cfg if isinstance(cfg, dict) else {}


def _licence_of(facts: SourceFacts, policy, sid: str) -> str | None:
    declared = policy.source(sid).license
    if declared:
        return declared
    named = [k for k in facts.licenses if k]
    return min(named) if named else None


def source_category(sid: str, facts: SourceFacts, policy) -> str:
    """The template category of a source: the policy's `summary.sources.ID.category`, else inferred.

    Inference: archived web records are crawled data; a source with an open licence is a publicly available
    dataset; one with another declared licence is licensed data; anything else is an other source.
    """
    declared = ((_summary_config(policy).get("sources") or {}).get(sid) or {}).get("category")
    if declared in CATEGORIES:
        return declared
    if facts.source_types and facts.source_types.most_common(1)[0][0] == "web":
        return "crawled"
    licence = _licence_of(facts, policy, sid)
    if licence:
        return "public_dataset" if licence.upper().startswith(_OPEN_LICENCES) else "licensed"
    return "other"


def _month(day: str | None) -> str | None:
    """'2026-02-15' → '02/2026' (the template's MM/YYYY)."""
    return f"{day[5:7]}/{day[:4]}" if day and len(day) >= 7 else None


def top_domains(domain_bytes: Counter, sme: bool) -> tuple[list[tuple[str, int]], str]:
    """The template's most relevant domains: top 10% of domains by text bytes (SMEs: top 5%, at most 1,000).

    Returns (domains with their bytes, largest first, ties by name; the rule applied). At least one domain is
    listed when there is any.
    """
    total = len(domain_bytes)
    if sme:
        k = min(math.ceil(0.05 * total), 1000)
        rule = "top 5% of registrable domains by published text bytes, at most 1,000 (SME)"
    else:
        k = math.ceil(0.10 * total)
        rule = "top 10% of registrable domains by published text bytes"
    ranked = sorted(domain_bytes.items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked[:k], rule


def _rights_family(basis: str) -> str:
    if basis.startswith("robots-txt-disallow"):
        return "robots-txt-disallow"
    if basis.startswith("content-usage-"):
        return "content-usage"
    if "invalid" in basis:
        return "unreadable-signal"
    return basis


def _funnel(stats: ReleaseStats, stage: str, decision: str) -> int:
    return stats.decided(stage, decision)


def _reasons(stats: ReleaseStats, key: str) -> list[dict]:
    return stats.reasons_for(key)


def _dups(dd: dict) -> str:
    return f"exact {dd['exact_duplicates_dropped']:,}, near {dd['near_duplicates_dropped']:,}"


def _stage_line(totals: list[dict]) -> str:
    """`decisions_per_stage` in one line: "input: kept 12, error 1; read: …" (decisions with no rows left out)."""
    return "; ".join(f"{t['stage']}: " + ", ".join(f"{d} {t[d]:,}" for d in t if d != "stage" and t[d]) for t in totals)


def _spdx_url(licence: str) -> str:
    return f"https://spdx.org/licenses/{licence}.html" if " " not in licence else licence


def _release_name(manifest: dict) -> str:
    return f"terroir-{manifest['release']['policy_id']}"


def _languages(stats: ReleaseStats) -> list[str]:
    return [lang for lang, _n in stats.languages if lang]


def _listing(sources: list[dict]) -> list[dict]:
    keys = ("source_id", "name", "url", "description", "licence", "documents", "tokens", "text_bytes",
            "collection_period")  # fmt: skip
    return [{k: s[k] for k in keys} for s in sources]


# ---------------------------------------------------------------- AI Act summary


def ai_act_summary(manifest: dict, stats: ReleaseStats, policy, shard_paths: list, *, sme: bool | None = None,
                   facts: ShardFacts | None = None) -> dict:  # fmt: skip
    """The summary as a JSON-ready dict with one key per template section (1, 2, 3 and their subsections).

    Sizes, sources, dates and domains come from the shards (`shard_paths`, or `facts` from an earlier
    `scan_shards`); decisions (rights, takedown, PII, quality, dedup) from `stats` (`release_stats.ReleaseStats`); the
    gate from the manifest. `sme` picks the domain rule of section 2.3 (default: the policy's `summary.sme`, else
    False). What the pipeline cannot know is `TO_COMPLETE` unless the policy's `summary:` section gives it.
    """
    cfg = _summary_config(policy)
    sme = bool(cfg.get("sme", False)) if sme is None else sme
    facts = facts if facts is not None else scan_shards(shard_paths)
    rel = manifest["release"]
    sources = _sources(facts, policy, cfg)
    by_cat: dict[str, list[dict]] = defaultdict(list)
    for s in sources:
        by_cat[s["category"]].append(s)
    return {
        "template": TEMPLATE,
        "scope": f"Training content of the Terroir release {_release_name(manifest)} created {rel['created_at']}. "
        "If the model is trained on further content, the provider adds it to this summary.",
        "release": {
            "policy_id": rel["policy_id"],
            "created_at": rel["created_at"],
            "pipeline_version": rel["pipeline_version"],
            "schema_version": rel["schema_version"],
            "policy_sha256": (manifest.get("policy") or {}).get("sha256"),
            "shards": len(manifest.get("shards", [])),
            "documents": facts.documents,
        },
        "1_general_information": _general_information(cfg, stats, policy, facts, sources),
        "2_list_of_data_sources": _data_sources(cfg, facts, by_cat, sme),
        "3_data_processing_aspects": _processing(manifest, stats, policy, cfg),
        "sources": sources,
    }


def _sources(facts: ShardFacts, policy, cfg: dict) -> list[dict]:
    out = []
    for sid in sorted(facts.by_source):
        f = facts.by_source[sid]
        c = (cfg.get("sources") or {}).get(sid) or {}
        out.append({
            "source_id": sid,
            "category": source_category(sid, f, policy),
            "name": c.get("name") or sid,
            "url": c.get("url"),
            "description": c.get("description"),
            "licence": _licence_of(f, policy, sid),
            "content_types": sorted({CONTENT_TYPES.get(t, t) for t in f.source_types}),
            "documents": f.documents,
            "tokens": f.tokens,
            "text_bytes": f.text_bytes,
            "collection_period": {"from": _month(f.first_collected), "to": _month(f.last_collected)},
            "first_collected": f.first_collected,
            "last_collected": f.last_collected,
        })  # fmt: skip
    return out


def _general_information(cfg: dict, stats: ReleaseStats, policy, facts: ShardFacts, sources: list[dict]) -> dict:
    provider = cfg.get("provider") or {}
    model = cfg.get("model") or {}
    last_day = max((s["last_collected"] for s in sources if s["last_collected"]), default=None)
    lang_bytes = stats.language_bytes
    n_docs = facts.documents or 1
    admitted = ", ".join(f"{k} (score >= {v})" for k, v in sorted(policy.languages.items())) or "every language"
    return {
        "1.1_provider_identification": {
            "provider_name_and_contact": ", ".join(str(provider[k]) for k in ("name", "contact") if provider.get(k))
            or TO_COMPLETE,
            "authorised_representative": provider.get("authorised_representative") or TO_COMPLETE,
        },
        "1.2_model_identification": {
            "versioned_model_names": model.get("names") or TO_COMPLETE,
            "model_dependencies": model.get("dependencies") or TO_COMPLETE,
            "date_of_placement_on_union_market": model.get("union_market_date") or TO_COMPLETE,
        },
        "1.3_modalities_size_and_characteristics": {
            "modalities": ["text"],
            "training_data_size": {
                "text": {
                    "size_bin": text_size_bin(facts.tokens),
                    "tokens": facts.tokens,
                    "tokenizer": {
                        "name": TOKENIZER_NAME, "description": TOKENIZER_DESCRIPTION, "pattern": TOKENIZER_PATTERN
                    },
                    "documents": facts.documents,
                    "text_bytes_utf8": facts.text_bytes,
                }
            },
            "types_of_content": sorted({t for s in sources for t in s["content_types"]}),
            "latest_date_of_data_collection": _month(last_day),
            "latest_collection_day": last_day,
            "linguistic_characteristics": [
                {"language": lang, "documents": n, "share_of_documents": round(n / n_docs, 4),
                 "text_bytes": int(lang_bytes.get(lang, 0))}
                for lang, n in stats.languages
            ],
            "language_identification": f"fastText lid.176; the policy admits {admitted}",
            "origin_jurisdictions": [
                {"jurisdiction": j, "residency_region": r, "documents": n}
                for j, r, n in stats.jurisdictions
            ],
        },
    }


def _data_sources(cfg: dict, facts: ShardFacts, by_cat: dict[str, list[dict]], sme: bool) -> dict:
    def used(cat: str) -> bool:
        return bool(by_cat.get(cat))

    def total(cat: str, key: str) -> int:
        return sum(s[key] for s in by_cat.get(cat, []))

    crawled = by_cat.get("crawled", [])
    crawl_domains: Counter = Counter()
    for s in crawled:
        crawl_domains.update(facts.domain_bytes.get(s["source_id"], {}))
    listed, rule = top_domains(crawl_domains, sme)
    crawl_bytes = sum(crawl_domains.values()) or 1
    first = min((s["first_collected"] for s in crawled if s["first_collected"]), default=None)
    last = max((s["last_collected"] for s in crawled if s["last_collected"]), default=None)
    crawler = cfg.get("crawler") or {}
    public_tokens = total("public_dataset", "tokens") or 1
    datasets = [d | {"share_of_public_tokens": round(d["tokens"] / public_tokens, 4),
                     "large": d["tokens"] / public_tokens > 0.03}
                for d in _listing(by_cat.get("public_dataset", []))]  # fmt: skip
    missing = TO_COMPLETE if crawled else None
    return {
        "2.1_publicly_available_datasets": {
            "used": used("public_dataset"),
            "modalities": ["text"] if used("public_dataset") else [],
            "datasets": datasets,
            "large_dataset_rule": "more than 3% of the tokens of all publicly available datasets in this release",
        },
        "2.2_private_non_publicly_available_datasets": {
            "2.2.1_commercially_licensed": {
                "used": used("licensed"),
                "modalities": ["text"] if used("licensed") else [],
                "documents": total("licensed", "documents"),
                "tokens": total("licensed", "tokens"),
            },
            "2.2.2_other_third_parties": {
                "used": used("private_third_party"),
                "modalities": ["text"] if used("private_third_party") else [],
                "datasets": _listing(by_cat.get("private_third_party", [])),
            },
        },
        "2.3_crawled_and_scraped": {
            "used": bool(crawled),
            "crawler_names": crawler.get("names") or missing,
            "crawler_purposes": crawler.get("purposes") or missing,
            "crawler_behaviour": crawler.get("behaviour") or missing,
            "pipeline_note": "Terroir does not crawl: it reads archived crawl records (WARC/ARC) and evaluates the "
            "rights signals archived with each response (section 3.1).",
            "collection_period": {"from": _month(first), "to": _month(last)},
            "content_description": sorted({t for s in crawled for t in s["content_types"]}),
            "modalities": ["text"] if crawled else [],
            "documents": total("crawled", "documents"),
            "tokens": total("crawled", "tokens"),
            "most_relevant_domains": {
                "rule": rule,
                "sme": sme,
                "domains_total": len(crawl_domains),
                "domains_listed": len(listed),
                "domains": [
                    {"domain": d, "text_bytes": b, "share_of_crawled_bytes": round(b / crawl_bytes, 4)}
                    for d, b in listed
                ],
            },
        },
        "2.4_user_data": {
            "used": used("user"),
            "sources": _listing(by_cat.get("user", [])),
            "note": None if used("user") else "No user data in this release.",
        },
        "2.5_synthetic_data": {
            "used": used("synthetic"),
            "sources": _listing(by_cat.get("synthetic", [])),
            "note": None if used("synthetic") else "No synthetic data in this release.",
        },
        "2.6_other_sources": {"used": used("other"), "sources": _listing(by_cat.get("other", []))},
    }


def _processing(manifest: dict, stats: ReleaseStats, policy, cfg: dict) -> dict:
    from filters.rights import DEFAULT_AI_CRAWLERS

    excluded: Counter = Counter()
    kept_anyway: Counter = Counter()
    for status, basis, decision, n in stats.rights_decisions:
        if status == "allowed":
            continue
        target = kept_anyway if decision == "kept" else excluded
        target[(_rights_family(basis or ""), basis, decision)] += n
    td = policy.takedown
    gate = manifest.get("gate") or {}
    method = "Presidio recognizers with NER models" if policy.pii_ner else "Presidio pattern recognizers, no NLP model"
    return {
        "3.1_text_and_data_mining_opt_out": {
            "signals_honoured": [{"signal": k, "description": v} for k, v in RIGHTS_SIGNALS.items()],
            "ai_crawler_user_agents": list(policy.rights.ai_crawlers or DEFAULT_AI_CRAWLERS),
            "robots_wildcard_group_counts": policy.rights.robots_wildcard_counts,
            "content_usage_categories": list(policy.rights.content_usage_categories),
            "treatment": {"reserved": policy.rights.reserved, "unknown": policy.rights.unknown},
            "non_web_sources": "Archives and dumps carry no machine-readable signals; their rights come from the "
            "source declaration in the policy (licence).",
            "documents_excluded": [
                {"signal": fam, "basis": basis, "decision": decision, "documents": n}
                for (fam, basis, decision), n in sorted(excluded.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "documents_excluded_total": sum(excluded.values()),
            "documents_kept_despite_signal": [
                {"signal": fam, "basis": basis, "documents": n}
                for (fam, basis, _d), n in sorted(kept_anyway.items(), key=lambda kv: (-kv[1], kv[0]))
            ],
            "takedown_requests": {
                "entries": {
                    "urls": len(td.urls), "domains": len(td.domains), "content_hashes": len(td.content_hashes)
                },
                "documents_removed": _funnel(stats, "takedown", "dropped"),
            },
        },
        "3.2_removal_of_illegal_content": {
            "personal_data_redaction": {
                "method": method,
                "operator": policy.pii_operator,
                "entities": list(policy.pii_entities),
                "national_id_countries": list(policy.pii_countries),
                "documents_redacted": _funnel(stats, "pii", "redacted"),
                "entities_redacted": dict(sorted(stats.counts.pii_redacted.items())),
                "names_by_language": names_by_language(policy.pii_ner, stats.languages, policy.languages),
            },
            "takedown_documents_removed": _funnel(stats, "takedown", "dropped"),
            "pipeline_note": "Terroir applies no classifier for illegal content (such as child sexual abuse material "
            "or terrorist content); such measures, if any, are the provider's.",
            "provider_measures": cfg.get("illegal_content_measures") or TO_COMPLETE,
        },
        "3.3_other_information": {
            "quality_filtering": {
                "enabled": policy.quality_enabled,
                "filters": list(policy.quality_filters),
                "exempt_source_types": list(policy.quality_exempt_source_types),
                "documents_dropped": _funnel(stats, "quality", "dropped"),
                "reasons": _reasons(stats, "quality/dropped"),
            },
            "language_filtering": {"documents_dropped": _funnel(stats, "langid", "dropped")},
            "deduplication": {
                "exact": policy.exact_dedup,
                "fuzzy": policy.fuzzy.enabled,
                "exact_duplicates_dropped": stats.dedup.exact_dropped,
                "near_duplicates_dropped": stats.dedup.near_dropped,
                "documents_dropped": stats.dedup.dropped,
            },
            "residency": {"documents_quarantined": _funnel(stats, "residency", "quarantined")},
            "validation_gate": {
                "suite": gate.get("suite"),
                "shards_passed": gate.get("shards_passed"),
                "shards_quarantined": gate.get("shards_quarantined"),
            },
            "errors": {"error_rows": stats.counts.error_rows},
            "decisions_per_stage": stats.stage_totals(),
        },
    }


# ---------------------------------------------------------------- Markdown


class _Markdown:
    """Line-oriented Markdown: headings and paragraphs end with a blank line, list items do not."""

    def __init__(self):
        self.lines: list[str] = []

    def heading(self, level: int, text: str) -> None:
        self.lines += ["#" * level + " " + text, ""]

    def para(self, *parts: str) -> None:
        self.lines += ["".join(parts), ""]

    def item(self, *parts: str) -> None:
        self.lines.append("- " + "".join(parts))

    def table(self, header: list[str], rows: list[list]) -> None:
        self.lines.append("| " + " | ".join(header) + " |")
        self.lines.append("|" + "---|" * len(header))
        self.lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
        self.lines.append("")

    def end_list(self) -> None:
        self.lines.append("")

    def text(self) -> str:
        return "\n".join(self.lines).rstrip("\n") + "\n"


_DONE = {"exclude": "excluded", "quarantine": "quarantined", "allow": "allowed"}


def _val(v) -> str:
    if v is None:
        return "not applicable"
    if isinstance(v, list):
        return ", ".join(map(str, v)) if v else "none"
    return str(v)


def _yes(flag: bool) -> str:
    return "Yes" if flag else "No"


def _name_link(x: dict) -> str:
    return f"[{x['name']}]({x['url']})" if x.get("url") else x["name"]


def render_ai_act_summary_md(summary: dict) -> str:
    """The summary as Markdown under the template's numbered headings; every number comes from `summary`."""
    g = summary["1_general_information"]
    d = summary["2_list_of_data_sources"]
    p = summary["3_data_processing_aspects"]
    md = _Markdown()
    md.heading(1, "Public summary of training content (AI Act, Article 53(1)(d))")
    md.para(f"Structure: {summary['template']}.")
    md.para(f"Scope: {summary['scope']}")

    md.heading(2, "1. General information")
    md.heading(3, "1.1. Provider identification")
    md.item("Provider name and contact details: ", _val(g["1.1_provider_identification"]["provider_name_and_contact"]))
    md.item("Authorised representative: ", _val(g["1.1_provider_identification"]["authorised_representative"]))
    md.end_list()
    model = g["1.2_model_identification"]
    md.heading(3, "1.2. Model identification")
    md.item("Versioned model name(s): ", _val(model["versioned_model_names"]))
    md.item("Model dependencies: ", _val(model["model_dependencies"]))
    md.item("Date of placement of the model on the Union market: ", _val(model["date_of_placement_on_union_market"]))
    md.end_list()
    size = g["1.3_modalities_size_and_characteristics"]
    text = size["training_data_size"]["text"]
    md.heading(3, "1.3. Modalities, overall training data size and other characteristics")
    md.table(["Modality", "Training data size", "Types of content"], [[
        "Text",
        (f"{text['size_bin']} ({text['tokens']:,} tokens; {text['documents']:,} documents; "
         f"{text['text_bytes_utf8']:,} bytes of UTF-8 text)"),
        "; ".join(size["types_of_content"]),
    ]])  # fmt: skip
    tok = text["tokenizer"]
    md.para(f"Tokens are counted with `{tok['name']}`. {tok['description']} Pattern: `{tok['pattern']}`")
    md.item("Latest date of data acquisition/collection for model training: ",
            _val(size["latest_date_of_data_collection"]))  # fmt: skip
    md.item("Language identification: ", size["language_identification"])
    langs = [f"{x['language']} {x['documents']:,} ({x['share_of_documents']:.1%})"
             for x in size["linguistic_characteristics"]]  # fmt: skip
    md.item("Linguistic characteristics (documents per language): ", _val(langs))
    origins = [f"{x['jurisdiction']} → {x['residency_region']} ({x['documents']:,})"
               for x in size["origin_jurisdictions"]]  # fmt: skip
    md.item("Origin jurisdictions (→ residency region): ", _val(origins))
    md.end_list()

    md.heading(2, "2. List of data sources")
    pub = d["2.1_publicly_available_datasets"]
    md.heading(3, "2.1. Publicly available datasets")
    md.para(f"Used: {_yes(pub['used'])}.")
    if pub["datasets"]:
        md.para(f"Large datasets are those with {pub['large_dataset_rule']}.")
        md.table(["Dataset", "Licence", "Documents", "Tokens", "Share of tokens", "Large"], [
            [_name_link(x), x["licence"] or "not declared", f"{x['documents']:,}", f"{x['tokens']:,}",
             f"{x['share_of_public_tokens']:.1%}", _yes(x["large"])] for x in pub["datasets"]
        ])  # fmt: skip
    priv = d["2.2_private_non_publicly_available_datasets"]
    lic, other3 = priv["2.2.1_commercially_licensed"], priv["2.2.2_other_third_parties"]
    md.heading(3, "2.2. Private non-publicly available datasets obtained from third parties")
    md.heading(4, "2.2.1. Datasets commercially licensed by rightsholders or their representatives")
    md.para(f"Used: {_yes(lic['used'])}.",
            f" Modality: text; {lic['documents']:,} documents, {lic['tokens']:,} tokens." if lic["used"] else "")
    md.heading(4, "2.2.2. Private datasets obtained from other third parties")
    md.para(f"Used: {_yes(other3['used'])}.")
    for x in other3["datasets"]:
        md.item(_name_link(x), f": {x['documents']:,} documents, {x['tokens']:,} tokens")
    if other3["datasets"]:
        md.end_list()
    cr = d["2.3_crawled_and_scraped"]
    md.heading(3, "2.3. Data crawled and scraped from online sources")
    md.para(f"Used: {_yes(cr['used'])}.")
    if cr["used"]:
        period, dom = cr["collection_period"], cr["most_relevant_domains"]
        md.item("Crawler name(s): ", _val(cr["crawler_names"]))
        md.item("Purposes of the crawler(s): ", _val(cr["crawler_purposes"]))
        md.item("General description of crawler behaviour: ", _val(cr["crawler_behaviour"]), ". ", cr["pipeline_note"])
        md.item("Period of data collection: ", period["from"] or "unknown", " to ", period["to"] or "unknown")
        md.item("Type of content and online sources: ", _val(cr["content_description"]),
                f"; {cr['documents']:,} documents, {cr['tokens']:,} tokens")  # fmt: skip
        md.item("Type of modality covered: text")
        md.item(f"Most relevant domain names ({dom['rule']}): {dom['domains_listed']} of {dom['domains_total']}")
        md.end_list()
        md.table(["Domain", "Text bytes", "Share of crawled text"],
                 [[x["domain"], f"{x['text_bytes']:,}", f"{x['share_of_crawled_bytes']:.1%}"] for x in dom["domains"]])
    for key, title in (("2.4_user_data", "2.4. User data"), ("2.5_synthetic_data", "2.5. Synthetic data"),
                       ("2.6_other_sources", "2.6. Other sources of data")):  # fmt: skip
        sec = d[key]
        md.heading(3, title)
        md.para(f"Used: {_yes(sec['used'])}.", f" {sec['note']}" if sec.get("note") else "")
        for x in sec["sources"]:
            what = x["description"] or ("licence " + x["licence"] if x["licence"] else "no licence declared")
            md.item(_name_link(x), f": {what}; {x['documents']:,} documents, {x['tokens']:,} tokens")
        if sec["sources"]:
            md.end_list()

    md.heading(2, "3. Data processing aspects")
    tdm = p["3.1_text_and_data_mining_opt_out"]
    md.heading(3, "3.1. Respect of reservation of rights from text and data mining exception or limitation")
    md.para("Reservations of rights under Article 4(3) of Directive (EU) 2019/790 are read offline from each archived "
            "web response; the first signal that reserves rights decides:")  # fmt: skip
    md.lines += [f"{i}. {s['description']}" for i, s in enumerate(tdm["signals_honoured"], 1)] + [""]
    wildcard = " (a disallow for `*` counts too)" if tdm["robots_wildcard_group_counts"] else ""
    md.para("AI-training crawler user-agents looked up in robots.txt: ", ", ".join(tdm["ai_crawler_user_agents"]),
            wildcard, ". Content-Usage categories: ", ", ".join(tdm["content_usage_categories"]), ".")  # fmt: skip
    md.para(f"Policy: reserved content is {_DONE[tdm['treatment']['reserved']]}, content whose signals cannot be ",
            f"read is {_DONE[tdm['treatment']['unknown']]}. {tdm['non_web_sources']}")  # fmt: skip
    md.para(f"Documents excluded for a reservation of rights: {tdm['documents_excluded_total']:,}.")
    if tdm["documents_excluded"]:
        md.table(["Signal", "Basis", "Decision", "Documents"],
                 [[x["signal"], x["basis"], x["decision"], f"{x['documents']:,}"] for x in tdm["documents_excluded"]])
    if tdm["documents_kept_despite_signal"]:
        kept = [f"{x['basis']} ({x['documents']:,})" for x in tdm["documents_kept_despite_signal"]]
        md.para("Kept by policy despite a signal: ", _val(kept), ".")
    t = tdm["takedown_requests"]
    md.para(f"Takedown requests applied: {t['entries']['urls']} URL(s), {t['entries']['domains']} domain(s), ",
            f"{t['entries']['content_hashes']} content hash(es); {t['documents_removed']:,} document(s) removed.")
    ill = p["3.2_removal_of_illegal_content"]
    pii = ill["personal_data_redaction"]
    countries = ", ".join(pii["national_id_countries"])
    ids = f"; national identifiers of {countries}" if countries else ""
    counts = _val([f"{k} {v:,}" for k, v in pii["entities_redacted"].items()])
    md.heading(3, "3.2. Removal of illegal content")
    md.item(f"Personal data: {pii['method']}, operator `{pii['operator']}`; entities ",
            f"{', '.join(pii['entities'])}{ids}. ",
            f"{pii['documents_redacted']:,} document(s) redacted; entities replaced: {counts}.")
    md.item(f"Names, places and organisations (NER) per language: {names_summary(pii['names_by_language'])}.")
    md.item(f"Takedown: {ill['takedown_documents_removed']:,} document(s) removed on request.")
    md.item(ill["pipeline_note"])
    md.item("Measures of the provider: ", _val(ill["provider_measures"]))
    md.end_list()
    o = p["3.3_other_information"]
    q, dd, gate = o["quality_filtering"], o["deduplication"], o["validation_gate"]
    md.heading(3, "3.3. Other information (optional)")
    md.item(f"Quality filtering: {'on' if q['enabled'] else 'off'} ({', '.join(q['filters']) or 'no filter'}; ",
            f"exempt: {', '.join(q['exempt_source_types']) or 'none'}); {q['documents_dropped']:,} document(s) ",
            "dropped.")
    md.item(f"Language scope: {o['language_filtering']['documents_dropped']:,} document(s) out of scope dropped.")
    md.item(f"Deduplication: exact {'on' if dd['exact'] else 'off'}, ",
            f"near-duplicate {'on' if dd['fuzzy'] else 'off'}; {dd['documents_dropped']:,} duplicate(s) dropped ",
            f"({_dups(dd)}).")
    md.item(f"Residency: {o['residency']['documents_quarantined']:,} document(s) of unknown or out-of-policy origin ",
            "quarantined, never published.")
    md.item(f"Validation gate (suite {gate['suite']}): {gate['shards_passed']} shard(s) passed, ",
            f"{gate['shards_quarantined']} quarantined.")
    md.item(f"Ledger decisions per stage: {_stage_line(o['decisions_per_stage'])}.")
    md.end_list()
    return md.text()


# ---------------------------------------------------------------- Croissant


def _croissant_type(t) -> str:
    import pyarrow as pa

    if pa.types.is_string(t) or pa.types.is_large_string(t):
        return "sc:Text"
    if pa.types.is_floating(t):
        return "sc:Float"
    if pa.types.is_integer(t):
        return "sc:Integer"
    if pa.types.is_boolean(t):
        return "sc:Boolean"
    if pa.types.is_timestamp(t):
        return "sc:DateTime"
    if pa.types.is_date(t):
        return "sc:Date"
    raise ValueError(f"no Croissant data type for Arrow type {t}")


#: The standard Croissant 1.1 @context (mlcroissant warns about any other), which also declares the RAI prefix.
CROISSANT_CONTEXT = {
    "@language": "en", "@vocab": "https://schema.org/", "arrayShape": "cr:arrayShape", "citeAs": "cr:citeAs",
    "column": "cr:column", "conformsTo": "dct:conformsTo", "containedIn": "cr:containedIn",
    "cr": "http://mlcommons.org/croissant/", "rai": "http://mlcommons.org/croissant/RAI/",
    "data": {"@id": "cr:data", "@type": "@json"}, "dataType": {"@id": "cr:dataType", "@type": "@vocab"},
    "dct": "http://purl.org/dc/terms/", "description": {"@container": "@language"},
    "equivalentProperty": "cr:equivalentProperty", "examples": {"@id": "cr:examples", "@type": "@json"},
    "extract": "cr:extract", "field": "cr:field", "fileProperty": "cr:fileProperty", "fileObject": "cr:fileObject",
    "fileSet": "cr:fileSet", "format": "cr:format", "includes": "cr:includes", "isArray": "cr:isArray",
    "isLiveDataset": "cr:isLiveDataset", "jsonPath": "cr:jsonPath", "key": "cr:key", "md5": "cr:md5",
    "name": {"@container": "@language"}, "parentField": "cr:parentField", "path": "cr:path",
    "recordSet": "cr:recordSet", "references": "cr:references", "regex": "cr:regex", "repeated": "cr:repeated",
    "replace": "cr:replace", "samplingRate": "cr:samplingRate", "sc": "https://schema.org/",
    "separator": "cr:separator", "source": "cr:source", "subField": "cr:subField", "transform": "cr:transform",
}  # fmt: skip


def _version(manifest: dict, cfg: dict) -> str:
    if cfg.get("version"):
        return str(cfg["version"])
    # a calendar version in semver form (no leading zeros); the build part keeps two releases of one day apart
    c = manifest["release"]["created_at"]
    return f"{int(c[0:4])}.{int(c[5:7])}.{int(c[8:10])}+{c[11:13]}{c[14:16]}{c[17:19]}"


def _croissant_fields() -> list[dict]:
    import pyarrow as pa

    from schemas import CORPUS_SCHEMA

    def source(column: str, **extra) -> dict:
        return {"fileSet": {"@id": "shards"}, "extract": {"column": column}} | extra

    fields = []
    for f in CORPUS_SCHEMA:
        node = {"@type": "cr:Field", "@id": f"documents/{f.name}", "name": f.name,
                "description": FIELD_DESCRIPTIONS.get(f.name, f.name)}  # fmt: skip
        if pa.types.is_list(f.type) and pa.types.is_struct(f.type.value_type):
            # a list of structs (pii_counts): a repeated record with one sub-field per struct field, taken by name
            node["dataType"] = "cr:RecordSet"
            node["isArray"] = True
            node["subField"] = [
                {"@type": "cr:Field", "@id": f"documents/{f.name}/{sub.name}", "name": sub.name,
                 "dataType": _croissant_type(sub.type), "description": SUBFIELD_DESCRIPTIONS.get(sub.name, sub.name),
                 "source": source(f.name, transform={"jsonPath": sub.name})}
                for sub in f.type.value_type
            ]  # fmt: skip
        else:
            node["dataType"] = _croissant_type(f.type)
        node["source"] = source(f.name)
        fields.append(node)
    return fields


def croissant_metadata(manifest: dict, stats: ReleaseStats, policy, shard_paths: list | None = None, *,
                       facts: ShardFacts | None = None, summary: dict | None = None) -> dict:  # fmt: skip
    """Croissant 1.1 JSON-LD for the release, with RAI 1.0 fields; file paths are the manifest's (relative or URIs).

    Distribution: one FileObject per shard (sha256, size) and one FileSet `shards` whose `includes` globs name each
    region's shard folder; one RecordSet `documents` whose fields are the corpus schema's columns, read from it.
    """
    cfg = _summary_config(policy)
    if summary is None:
        summary = ai_act_summary(manifest, stats, policy, shard_paths or [], facts=facts)
    rel = manifest["release"]
    name = _release_name(manifest)
    shards = sorted(manifest["shards"], key=lambda s: s["path"])
    regions = sorted({s["residency_region"] for s in shards})
    distribution = [
        {
            "@type": "cr:FileObject", "@id": f"shard/{s['path']}", "name": s["path"].rsplit("/", 1)[-1],
            "description": f"Parquet shard of residency region {s['residency_region']}, {s['rows']} rows",
            "contentUrl": s["path"], "contentSize": f"{s['bytes']} B", "encodingFormat": "application/x-parquet",
            "sha256": s["sha256"],
        }
        for s in shards
    ]  # fmt: skip
    # a release without shards still names where shards would be: Croissant requires `includes`
    globs = sorted({s["path"].rsplit("/", 1)[0] + "/*.parquet" for s in shards}) or ["shards/*/*.parquet"]
    distribution.append({
        "@type": "cr:FileSet", "@id": "shards", "name": "shards", "encodingFormat": "application/x-parquet",
        "description": f"The published shards, one folder per residency region ({', '.join(regions) or 'none'}).",
        "includes": globs,
    })  # fmt: skip
    g = summary["1_general_information"]["1.3_modalities_size_and_characteristics"]
    text_size = g["training_data_size"]["text"]
    licences = sorted({s["licence"] for s in summary["sources"] if s["licence"]})
    unlicensed = [s["source_id"] for s in summary["sources"] if not s["licence"]]
    first = min((s["first_collected"] for s in summary["sources"] if s["first_collected"]), default=None)
    last = g["latest_collection_day"]
    provider = (cfg.get("provider") or {}).get("name")
    description = " ".join(filter(None, [
        ((policy.raw or {}).get("description") or "").strip(),
        (f"Terroir release of policy {rel['policy_id']} created {rel['created_at']}: {text_size['documents']:,} "
         f"documents ({text_size['tokens']:,} {TOKENIZER_NAME} tokens) in {len(shards)} Parquet shards, residency "
         f"region(s) {', '.join(regions) or 'none'}."),
        f"Sources without a declared licence: {', '.join(unlicensed)}." if unlicensed else "",
    ]))  # fmt: skip
    doc = {
        "@context": CROISSANT_CONTEXT,
        "@type": "sc:Dataset",
        "conformsTo": ["http://mlcommons.org/croissant/1.1", "http://mlcommons.org/croissant/RAI/1.0"],
        "name": name,
        "description": description,
        "license": [_spdx_url(x) for x in licences],
        "url": cfg.get("url"),
        "version": _version(manifest, cfg),
        "datePublished": rel["created_at"],
        "citeAs": f"@misc{{{name.replace('-', '_')}, title={{{name}}}, note={{Terroir release of policy "
        f"{rel['policy_id']}, {rel['created_at']}}}}}",
        "inLanguage": _languages(stats),
        "keywords": ["training corpus", "text", "language modeling", "PII-redacted", "data residency"],
        "creator": {"@type": "Organization", "name": provider} if provider else None,
        "isLiveDataset": False,
        "distribution": distribution,
        "recordSet": [{
            "@type": "cr:RecordSet", "@id": "documents", "name": "documents", "key": {"@id": "documents/doc_id"},
            "description": "One redacted document per record, with its provenance, residency and rights columns.",
            "field": _croissant_fields(),
        }],
    }  # fmt: skip
    doc |= _rai(summary, policy, cfg, first, last)
    return _drop_none(doc)


def _rai(summary: dict, policy, cfg: dict, first: str | None, last: str | None) -> dict:
    g = summary["1_general_information"]["1.3_modalities_size_and_characteristics"]
    p = summary["3_data_processing_aspects"]
    pii = p["3.2_removal_of_illegal_content"]["personal_data_redaction"]
    tdm = p["3.1_text_and_data_mining_opt_out"]
    o = p["3.3_other_information"]
    dd = o["deduplication"]
    counts = ", ".join(f"{k} {v}" for k, v in pii["entities_redacted"].items()) or "none"
    countries = ", ".join(pii["national_id_countries"])
    ids = f" and national identifiers of {countries}" if countries else ""
    collection = [f"{s['name']} ({CATEGORIES[s['category']]}): {', '.join(s['content_types'])}; {s['documents']:,} "
                  f"documents" for s in summary["sources"]]  # fmt: skip
    langs = ", ".join(f"{x['language']} {x['share_of_documents']:.1%}" for x in g["linguistic_characteristics"])
    origins = ", ".join(f"{x['jurisdiction']} {x['documents']}" for x in g["origin_jurisdictions"])
    return {
        "rai:dataCollection": "; ".join(collection) or "no documents",
        "rai:dataCollectionType": sorted({"Web Scraping" if s["category"] == "crawled" else "Secondary Data Analysis"
                                         for s in summary["sources"]}),
        # the RAI vocabulary's spelling; start and end of collection as ISO dates
        "rai:dataCollectionTimeframe": [first, last] if first and last else None,
        "rai:dataPreprocessingProtocol": [
            (f"Rights: text-and-data-mining reservations (TDMRep file, header and meta; robots.txt groups of AI "
             f"crawlers; noai; Content-Usage) read per archived response; {tdm['documents_excluded_total']} "
             "document(s) excluded."),
            (f"Extraction: HTML to text with {policy.html_extractor}; documents under {policy.min_chars} characters "
             "dropped."),
            f"Language identification: {g['language_identification']}.",
            (f"Quality: {', '.join(o['quality_filtering']['filters']) or 'none'}"
             f"{'' if o['quality_filtering']['enabled'] else ' (disabled)'}; "
             f"{o['quality_filtering']['documents_dropped']} document(s) dropped."),
            ("Residency: origin jurisdiction from the source declaration, the policy's domain list or the ccTLD; "
             f"{o['residency']['documents_quarantined']} document(s) of unknown origin quarantined."),
            (f"Deduplication: exact, by normalized content hash{', and near-duplicate, by MinHash-LSH' if dd['fuzzy'] else ''}; "
             f"{dd['documents_dropped']} duplicate(s) dropped ({_dups(dd)})."),
            f"Ledger decisions per stage: {_stage_line(o['decisions_per_stage'])}.",
            f"PII redaction: {pii['method']}; {pii['documents_redacted']} document(s) redacted.",
            (f"Validation gate: Great Expectations suite {o['validation_gate']['suite']} on every shard; "
             f"{o['validation_gate']['shards_quarantined']} shard(s) quarantined."),
        ],
        "rai:personalSensitiveInformation": (
            f"Personal data found by {pii['method']} ({', '.join(pii['entities'])}{ids}) is replaced in the text "
            f"(operator {pii['operator']}); the ledger keeps counts and types, never values. Redacted in "
            f"{pii['documents_redacted']} document(s): {counts}. Names, postal addresses and other personal data "
            "without a fixed pattern are not removed unless an NER model is configured."
        ),
        "rai:dataLimitations": (
            "Pattern-based PII detection misses personal data without a fixed pattern. Language identification and "
            "quality heuristics err on short, mixed-language and OCR text. Origin from a ccTLD is a heuristic; "
            f"documents without a known origin are quarantined, not published. Token counts are word-level "
            f"({TOKENIZER_NAME})."
        ),
        "rai:dataBiases": (
            f"Documents by language: {langs or 'none'}; by origin jurisdiction: {origins or 'none'}. The corpus "
            "follows the chosen sources and the policy's language and jurisdiction scope, not the population of any "
            "jurisdiction; web content under-represents publishers that reserve their rights."
        ),
        "rai:dataUseCases": cfg.get("use_cases") or "Pre-training and continued pre-training of language models "
        "(text generation), within the residency regions the policy allows.",
        "rai:dataReleaseMaintenancePlan": "A release is immutable and published by its manifest (release.json, "
        "sha256 per file); takedowns and corrections are applied by a new run and a new release.",
    }


def _drop_none(d):
    if isinstance(d, dict):
        return {k: _drop_none(v) for k, v in d.items() if v is not None}
    if isinstance(d, list):
        return [_drop_none(v) for v in d]
    return d


# ---------------------------------------------------------------- Hugging Face dataset card

_HF_LICENCE = {"CC0-1.0": "cc0-1.0", "ODC-By-1.0": "odc-by", "ODbL-1.0": "odbl", "PDDL-1.0": "pddl"}
_SIZE_CATEGORIES = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"),
                    (10_000_000, "1M<n<10M"), (100_000_000, "10M<n<100M"), (1_000_000_000, "100M<n<1B"),
                    (10_000_000_000, "1B<n<10B"), (100_000_000_000, "10B<n<100B"),
                    (1_000_000_000_000, "100B<n<1T"), (None, "n>1T"))  # fmt: skip


def _size_category(n: int) -> str:
    for limit, label in _SIZE_CATEGORIES:
        if limit is None or n < limit:
            return label
    raise AssertionError("unreachable")


def _card_front_matter(manifest: dict, stats: ReleaseStats, cfg: dict, summary: dict) -> dict:
    rel = manifest["release"]
    shards = sorted(manifest["shards"], key=lambda s: s["path"])
    regions = sorted({s["residency_region"] for s in shards})
    licences = sorted({s["licence"] for s in summary["sources"] if s["licence"]})
    unlicensed = [s for s in summary["sources"] if not s["licence"]]
    langs = _languages(stats)
    n_docs = summary["release"]["documents"]
    front = {
        "pretty_name": cfg.get("pretty_name") or f"Terroir {rel['policy_id']} corpus",
        "license": [_HF_LICENCE.get(x, x.lower()) for x in licences] + (["other"] if unlicensed else []),
        "language": langs,
        "multilinguality": "multilingual" if len(langs) > 1 else "monolingual",
        "task_categories": ["text-generation"],
        "task_ids": ["language-modeling"],
        "size_categories": [_size_category(n_docs)],
        "tags": ["terroir", "pii-redacted", "data-residency"],
        "configs": [{"config_name": "all", "default": True,
                     "data_files": [{"split": "train", "path": [s["path"] for s in shards]}]}],
    }  # fmt: skip
    for region in regions:
        paths = [s["path"] for s in shards if s["residency_region"] == region]
        front["configs"].append({"config_name": region, "data_files": [{"split": "train", "path": paths}]})
    if unlicensed:
        front["license_name"] = "mixed"
        front["license_details"] = "Per source: " + "; ".join(
            f"{s['source_id']}: {s['licence'] or 'no licence declared'}" for s in summary["sources"]
        )
    return front


def dataset_card(manifest: dict, stats: ReleaseStats, policy, shard_paths: list | None = None, *,
                 facts: ShardFacts | None = None, summary: dict | None = None) -> str:  # fmt: skip
    """A Hugging Face dataset card: YAML front matter (licences, languages, an `all` config and one config per
    residency region naming the shard files, size category, task) and Markdown sections (description, sources,
    processing, personal information, rights, limitations, how to load)."""
    import yaml

    cfg = _summary_config(policy)
    if summary is None:
        summary = ai_act_summary(manifest, stats, policy, shard_paths or [], facts=facts)
    front = _card_front_matter(manifest, stats, cfg, summary)
    rel = manifest["release"]
    regions = sorted({s["residency_region"] for s in manifest["shards"]})
    g = summary["1_general_information"]["1.3_modalities_size_and_characteristics"]
    text = g["training_data_size"]["text"]
    p = summary["3_data_processing_aspects"]
    tdm, o = p["3.1_text_and_data_mining_opt_out"], p["3.3_other_information"]
    pii = p["3.2_removal_of_illegal_content"]["personal_data_redaction"]
    dom = summary["2_list_of_data_sources"]["2.3_crawled_and_scraped"]["most_relevant_domains"]

    md = _Markdown()
    md.heading(1, front["pretty_name"])
    md.heading(2, "Description")
    md.para(((policy.raw or {}).get("description") or "").strip() or f"Corpus built under policy {rel['policy_id']}.")
    md.para(f"{text['documents']:,} documents, {text['tokens']:,} tokens ({TOKENIZER_NAME}), ",
            f"{len(manifest['shards'])} Parquet shards (zstd, rows sorted by `doc_id`) in residency region(s) ",
            f"{', '.join(regions) or 'none'}. Built by {rel['pipeline_version']} on {rel['created_at']} (schema ",
            f"{rel['schema_version']}). `release.json` lists every shard with its sha256; `croissant.json` describes ",
            "the release in Croissant 1.1; `summary/eu_ai_act_summary.md` is its AI Act training-content summary.")
    md.heading(2, "Sources")
    md.table(["Source", "Category", "Content", "Licence", "Documents", "Tokens"], [
        [_name_link(s), CATEGORIES[s["category"]].split(" ", 1)[1], "; ".join(s["content_types"]),
         s["licence"] or "not declared", f"{s['documents']:,}", f"{s['tokens']:,}"]
        for s in summary["sources"]
    ])  # fmt: skip
    if dom["domains"]:
        md.para(f"Most relevant web domains ({dom['rule']}): ", ", ".join(d["domain"] for d in dom["domains"]), ".")
    md.item("Languages (documents): ", _val([f"{x['language']} {x['documents']:,}"
                                             for x in g["linguistic_characteristics"]]))  # fmt: skip
    md.item("Origin jurisdictions → residency region (documents): ",
            _val([f"{x['jurisdiction']} → {x['residency_region']} ({x['documents']:,})"
                  for x in g["origin_jurisdictions"]]))  # fmt: skip
    md.end_list()
    md.heading(2, "Processing")
    md.para("sources → rights → extraction → language ID → quality → residency and admission → exact dedup → ",
            "near-duplicate dedup (when the policy enables it) → PII redaction → shards → validation gate → publication. Every decision on every document is in `ledger/` ",
            "(one row per document and stage, with the reason); `report/index.html` shows them.")
    md.item(f"Quality: {', '.join(o['quality_filtering']['filters']) or 'none'}; ",
            f"{o['quality_filtering']['documents_dropped']:,} document(s) dropped.")
    dd = o["deduplication"]
    md.item(f"Deduplication: {dd['documents_dropped']:,} duplicate(s) dropped ({_dups(dd)}), ",
            "the lowest `doc_id` of each cluster kept.")
    md.item(f"Residency: {o['residency']['documents_quarantined']:,} document(s) of unknown origin quarantined.")
    md.item(f"Validation gate: {o['validation_gate']['shards_passed']} shard(s) passed, ",
            f"{o['validation_gate']['shards_quarantined']} quarantined.")
    md.end_list()
    md.para("Decisions per stage (ledger rows; one row per document and stage, one per file at `input`):")
    md.table(["stage", *DECISIONS], [[t["stage"], *(f"{t[d]:,}" for d in DECISIONS)] for t in o["decisions_per_stage"]])
    md.heading(2, "Personal information")
    countries = ", ".join(pii["national_id_countries"])
    ids = f"; national identifiers of {countries}" if countries else ""
    md.para(f"Detected with {pii['method']} ({', '.join(pii['entities'])}{ids}) and replaced by typed placeholders ",
            f"in {pii['documents_redacted']:,} document(s): ",
            _val([f"{k} {v:,}" for k, v in pii["entities_redacted"].items()]),
            ". Per-document counts are in the `pii_counts` column. Names and addresses are not removed unless an NER ",
            "model is configured.")
    md.para(f"Names, places and organisations (NER) per language: {names_summary(pii['names_by_language'])}.")
    md.heading(2, "Rights")
    md.para("Web documents whose archived response reserves text-and-data-mining rights (TDMRep file, header or ",
            "meta; robots.txt disallow for AI-training crawlers; noai; Content-Usage) are ",
            f"{_DONE[tdm['treatment']['reserved']]} ({tdm['documents_excluded_total']:,} not published in this ",
            f"release); responses whose signals cannot be read are {_DONE[tdm['treatment']['unknown']]}. Other ",
            "sources carry the licence declared in ",
            "the policy (column `license`). Takedown requests removed ",
            f"{tdm['takedown_requests']['documents_removed']:,} document(s).")
    md.heading(2, "Limitations")
    md.para("Pattern-based PII detection misses personal data without a fixed pattern; language identification and ",
            "quality heuristics err on short, mixed-language and OCR text; origin from a ccTLD is a heuristic. ",
            "Composition follows the sources and the policy's scope, not any population.")
    md.heading(2, "How to load")
    md.para("A training job reads a release only once a compliance officer has signed it (`approval.json`, checked ",
            "against the officers' trust list: `trust=` or `$TERROIR_TRUST`); the readers below refuse an unapproved ",
            "release, one signed by an untrusted or revoked key, or one whose files differ from `release.json`.")
    md.lines += [
        "```python",
        "from release import hf_dataset, open_release",
        "",
        "import pyarrow.dataset as pads",
        "",
        'ds = open_release("path/to/release", trust="officers.json")  # pyarrow.dataset.Dataset of the shards',
        'table = ds.to_table(columns=["doc_id", "text"], filter=pads.field("lang") == "sv")',
        'hf = hf_dataset("path/to/release", trust="officers.json")  # datasets.Dataset (needs `datasets`)',
        "```",
        "",
    ]
    md.para("The `configs` above (`all`, and one per residency region) name the shard files, so plain ",
            '`datasets.load_dataset("parquet", data_files=...)` reads them too (without the approval check); ',
            "pyarrow, DuckDB and Spark read the shards as they are. `pii_counts` is a list of `{entity, count}` ",
            "records (schema 2.0.0; schema 1.0.0 stored an Arrow map, which `datasets` cannot load).")
    front_yaml = yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000)
    return f"---\n{front_yaml}---\n\n{md.text()}"


# ---------------------------------------------------------------- writing


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_release_docs(release_dir: str | os.PathLike, manifest: dict, stats: ReleaseStats, policy, shard_paths: list, *,
                       sme: bool | None = None) -> list[dict]:  # fmt: skip
    """Write the AI Act summary (JSON and Markdown), croissant.json and README.md into the release folder.

    `shard_paths` are the published shards (local paths, (filesystem, path) pairs or open pyarrow files); they are
    scanned once. Returns one entry per file, `{"path", "bytes", "sha256"}` with paths relative to the release
    folder: store it as the manifest's `docs` list and `verify` checks these files too.
    """
    out = Path(release_dir)
    facts = scan_shards(shard_paths)
    summary = ai_act_summary(manifest, stats, policy, shard_paths, sme=sme, facts=facts)
    croissant = croissant_metadata(manifest, stats, policy, summary=summary)
    files = {
        SUMMARY_JSON: json.dumps(summary, indent=2, ensure_ascii=False) + "\n",
        SUMMARY_MD: render_ai_act_summary_md(summary),
        CROISSANT: json.dumps(croissant, indent=2, ensure_ascii=False) + "\n",
        CARD: dataset_card(manifest, stats, policy, summary=summary),
    }
    written = []
    for rel, text in files.items():
        data = text.encode("utf-8")
        _write(out / rel, data)
        written.append({"path": rel, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    return written


def regenerate_docs(release_dir: str | os.PathLike, policy_path: str | os.PathLike, *,
                    sme: bool | None = None) -> list[dict]:  # fmt: skip
    """Write the documents of an already published release from its own files (manifest, ledger, shards).

    Raises `ReleaseError` when the release cannot be read or `policy_path` is not the policy it was built with (its
    sha256 differs from the manifest's), and `PolicyError` for a bad policy file. The files come out identical to
    those written at publication unless something changed, which `verify` reports when the manifest lists `docs`.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from release.manifest import ReleaseError, published_shards, read_manifest, shard_location
    from schemas import LEDGER_SCHEMA
    from schemas.policy import load_policy

    manifest, _sha = read_manifest(release_dir)
    policy = load_policy(policy_path)
    expected = (manifest.get("policy") or {}).get("sha256")
    if expected and policy.sha256 != expected:
        raise ReleaseError(
            f"policy {policy_path} (sha256 {policy.sha256}) is not the policy release {release_dir} was built with "
            f"(sha256 {expected})"
        )
    from release.files import region_storages

    storages = region_storages(policy, release_dir)  # shards outside the folder: only under the policy's storage
    tables = []
    for entry in manifest.get("ledger", []):
        fsys, path = shard_location(release_dir, entry, storages)
        with fsys.open_input_file(path) as f:
            tables.append(pq.read_table(f))
    ledger = pa.concat_tables(tables) if tables else LEDGER_SCHEMA.empty_table()
    shards = [shard_location(release_dir, e, storages) for e in published_shards(manifest)]
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(fsys.open_input_file(p)) for fsys, p in shards]
        stats = compute_release_stats(ledger, files, policy)
    return write_release_docs(release_dir, manifest, stats, policy, shards, sme=sme)
