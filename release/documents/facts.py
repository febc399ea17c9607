"""Facts the release documents share: what the published shards hold per source (documents, tokens, text bytes,
collection dates, domain bytes), Terroir's token count, and the source categories and licences of the AI Act template.

Token counts use Terroir's own offline tokenizer (`TOKENIZER_NAME`): one token per run of letters, marks and digits,
one per punctuation or symbol character, one per Han, Hiragana or Katakana character; whitespace is not a token. It
runs in Arrow's RE2 engine (`pyarrow.compute.count_substring_regex`), so it needs no model and no download. It is a
word-level count, usually below a subword (BPE) tokenizer's count on the same text; the AI Act size bins are decades
apart, so the bin it gives is the one a subword count would give except close to a bin boundary.
"""

from __future__ import annotations

import os
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

from release.stats import ReleaseStats

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


# ---------------------------------------------------------------- helpers shared by the documents


def summary_config(policy) -> dict:
    """The policy's optional `summary:` section (described in `release.documents.eu_summary`), else {}."""
    cfg = (policy.raw or {}).get("summary") or {}
    return cfg if isinstance(cfg, dict) else {}


def licence_of(facts: SourceFacts, policy, sid: str) -> str | None:
    """The licence the policy declares for a source, else the smallest one found in its shards' `license` column."""
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
    declared = ((summary_config(policy).get("sources") or {}).get(sid) or {}).get("category")
    if declared in CATEGORIES:
        return declared
    if facts.source_types and facts.source_types.most_common(1)[0][0] == "web":
        return "crawled"
    licence = licence_of(facts, policy, sid)
    if licence:
        return "public_dataset" if licence.upper().startswith(_OPEN_LICENCES) else "licensed"
    return "other"


def dups(dd: dict) -> str:
    """The summary's deduplication section in words: "exact 3, near 1"."""
    return f"exact {dd['exact_duplicates_dropped']:,}, near {dd['near_duplicates_dropped']:,}"


def stage_line(totals: list[dict]) -> str:
    """`decisions_per_stage` in one line: "input: kept 12, error 1; read: …" (decisions with no rows left out)."""
    def decisions(t: dict) -> str:
        return ", ".join(f"{d} {t[d]:,}" for d in t if d != "stage" and t[d])

    return "; ".join(f"{t['stage']}: {decisions(t)}" for t in totals)


def release_name(manifest: dict) -> str:
    """The release's name in the documents: terroir-POLICY_ID."""
    return f"terroir-{manifest['release']['policy_id']}"


def languages(stats: ReleaseStats) -> list[str]:
    """The published languages, most documents first (the unidentified language left out)."""
    return [lang for lang, _n in stats.languages if lang]
