"""The contribution of a release to the public summary of training content that Article 53(1)(d) of the AI Act asks
of a general-purpose AI model provider, in the sections of the Commission's template (July 2025):
`summary/eu_ai_act_summary.json` (`ai_act_summary`) and its Markdown rendering (`render_ai_act_summary_md`, template
`templates/eu_ai_act_summary.md.j2`).

What the pipeline cannot know (provider, model, crawler identity, other measures) comes from the policy's optional
`summary:` section, else is marked `TO BE COMPLETED BY THE PROVIDER`. The section (YAML) may hold:

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

Deterministic: the same release gives the same bytes (the release's own `created_at`, no generation timestamp).
"""

from __future__ import annotations

import math
from collections import Counter, defaultdict

from filters.ner import names_by_language, names_summary
from release.documents.facts import (
    CONTENT_TYPES,
    TOKENIZER_DESCRIPTION,
    TOKENIZER_NAME,
    TOKENIZER_PATTERN,
    ShardFacts,
    licence_of,
    release_name,
    scan_shards,
    source_category,
    summary_config,
    text_size_bin,
)
from release.documents.templating import render
from release.stats import ReleaseStats

TO_COMPLETE = "TO BE COMPLETED BY THE PROVIDER"
TEMPLATE = (
    "European Commission, Explanatory Notice and Template for the Public Summary of Training Content for "
    "general-purpose AI models, Article 53(1)(d) of Regulation (EU) 2024/1689 (AI Act), July 2025"
)

RIGHTS_SIGNALS = {
    "tdmrep-file": "TDMRep: the site's /.well-known/tdmrep.json (W3C TDM Reservation Protocol)",
    "tdmrep-header": "TDMRep: tdm-reservation HTTP response header",
    "tdmrep-meta": "TDMRep: <meta name=\"tdm-reservation\"> in the page",
    "robots-txt-disallow": "robots.txt (RFC 9309): URL disallowed for an AI-training crawler's user-agent group",
    "x-robots-tag-noai": "X-Robots-Tag HTTP header with noai",
    "meta-robots-noai": "<meta name=\"robots\"> with noai",
    "content-usage": "Content-Usage HTTP header (IETF AI preferences) refusing AI training",
}


def ai_act_summary(manifest: dict, stats: ReleaseStats, policy, shard_paths: list, *, sme: bool | None = None,
                   facts: ShardFacts | None = None) -> dict:  # fmt: skip
    """The summary as a JSON-ready dict with one key per template section (1, 2, 3 and their subsections).

    Sizes, sources, dates and domains come from the shards (`shard_paths`, or `facts` from an earlier
    `scan_shards`); decisions (rights, takedown, PII, quality, dedup) from `stats` (`release_stats.ReleaseStats`); the
    gate from the manifest. `sme` picks the domain rule of section 2.3 (default: the policy's `summary.sme`, else
    False). What the pipeline cannot know is `TO_COMPLETE` unless the policy's `summary:` section gives it.
    """
    cfg = summary_config(policy)
    sme = bool(cfg.get("sme", False)) if sme is None else sme
    facts = facts if facts is not None else scan_shards(shard_paths)
    rel = manifest["release"]
    sources = _sources(facts, policy, cfg)
    by_cat: dict[str, list[dict]] = defaultdict(list)
    for s in sources:
        by_cat[s["category"]].append(s)
    return {
        "template": TEMPLATE,
        "scope": f"Training content of the Terroir release {release_name(manifest)} created {rel['created_at']}. "
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
            "licence": licence_of(f, policy, sid),
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
        "1.3_modalities_size_and_characteristics": _modalities_and_size(stats, policy, facts, sources),
    }


def _modalities_and_size(stats: ReleaseStats, policy, facts: ShardFacts, sources: list[dict]) -> dict:
    """Section 1.3: size (tokens, documents, bytes) and its bin, content types, dates, languages and origins."""
    last_day = max((s["last_collected"] for s in sources if s["last_collected"]), default=None)
    lang_bytes = stats.language_bytes
    n_docs = facts.documents or 1
    admitted = ", ".join(f"{k} (score >= {v})" for k, v in sorted(policy.languages.items())) or "every language"
    return {
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
            {"jurisdiction": j, "residency_region": r, "documents": n} for j, r, n in stats.jurisdictions
        ],
    }


def _data_sources(cfg: dict, facts: ShardFacts, by_cat: dict[str, list[dict]], sme: bool) -> dict:
    def used(cat: str) -> bool:
        return bool(by_cat.get(cat))

    def total(cat: str, key: str) -> int:
        return sum(s[key] for s in by_cat.get(cat, []))

    public_tokens = total("public_dataset", "tokens") or 1
    datasets = [d | {"share_of_public_tokens": round(d["tokens"] / public_tokens, 4),
                     "large": d["tokens"] / public_tokens > 0.03}
                for d in _listing(by_cat.get("public_dataset", []))]  # fmt: skip
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
        "2.3_crawled_and_scraped": _crawled(cfg, facts, by_cat.get("crawled", []), sme),
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


def _crawled(cfg: dict, facts: ShardFacts, crawled: list[dict], sme: bool) -> dict:
    """Section 2.3: crawled sources, their collection period and most relevant domains."""
    crawl_domains: Counter = Counter()
    for s in crawled:
        crawl_domains.update(facts.domain_bytes.get(s["source_id"], {}))
    listed, rule = top_domains(crawl_domains, sme)
    crawl_bytes = sum(crawl_domains.values()) or 1
    first = min((s["first_collected"] for s in crawled if s["first_collected"]), default=None)
    last = max((s["last_collected"] for s in crawled if s["last_collected"]), default=None)
    crawler = cfg.get("crawler") or {}
    missing = TO_COMPLETE if crawled else None
    return {
        "used": bool(crawled),
        "crawler_names": crawler.get("names") or missing,
        "crawler_purposes": crawler.get("purposes") or missing,
        "crawler_behaviour": crawler.get("behaviour") or missing,
        "pipeline_note": "Terroir does not crawl: it reads archived crawl records (WARC/ARC) and evaluates the "
        "rights signals archived with each response (section 3.1).",
        "collection_period": {"from": _month(first), "to": _month(last)},
        "content_description": sorted({t for s in crawled for t in s["content_types"]}),
        "modalities": ["text"] if crawled else [],
        "documents": sum(s["documents"] for s in crawled),
        "tokens": sum(s["tokens"] for s in crawled),
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
    }


def _processing(manifest: dict, stats: ReleaseStats, policy, cfg: dict) -> dict:
    return {
        "3.1_text_and_data_mining_opt_out": _tdm_opt_out(stats, policy),
        "3.2_removal_of_illegal_content": _illegal_content(stats, policy, cfg),
        "3.3_other_information": _other_information(manifest, stats, policy),
    }


def _tdm_opt_out(stats: ReleaseStats, policy) -> dict:
    """Section 3.1: the rights signals honoured, the documents they excluded, takedown requests."""
    from filters.rights import DEFAULT_AI_CRAWLERS

    excluded: Counter = Counter()
    kept_anyway: Counter = Counter()
    for status, basis, decision, n in stats.rights_decisions:
        if status == "allowed":
            continue
        target = kept_anyway if decision == "kept" else excluded
        target[(_rights_family(basis or ""), basis, decision)] += n
    td = policy.takedown
    return {
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
            "entries": {"urls": len(td.urls), "domains": len(td.domains), "content_hashes": len(td.content_hashes)},
            "documents_removed": _funnel(stats, "takedown", "dropped"),
        },
    }


def _illegal_content(stats: ReleaseStats, policy, cfg: dict) -> dict:
    """Section 3.2: personal-data redaction and takedowns; other measures are the provider's."""
    method = "Presidio recognizers with NER models" if policy.pii_ner else "Presidio pattern recognizers, no NLP model"
    return {
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
    }


def _other_information(manifest: dict, stats: ReleaseStats, policy) -> dict:
    """Section 3.3: quality, language and duplicate filtering, residency, the gate, the ledger's decisions."""
    gate = manifest.get("gate") or {}
    return {
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
    }


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


def _listing(sources: list[dict]) -> list[dict]:
    keys = ("source_id", "name", "url", "description", "licence", "documents", "tokens", "text_bytes",
            "collection_period")  # fmt: skip
    return [{k: s[k] for k in keys} for s in sources]


# ---------------------------------------------------------------- Markdown


def render_ai_act_summary_md(summary: dict) -> str:
    """The summary as Markdown under the template's numbered headings; every number comes from `summary`."""
    return render("eu_ai_act_summary.md.j2", summary=summary, **_md_phrases(summary))


def _md_phrases(summary: dict) -> dict:
    """The list-valued phrases of the Markdown (one string per language, origin, kept signal, entity type)."""
    size = summary["1_general_information"]["1.3_modalities_size_and_characteristics"]
    p = summary["3_data_processing_aspects"]
    kept = p["3.1_text_and_data_mining_opt_out"]["documents_kept_despite_signal"]
    pii = p["3.2_removal_of_illegal_content"]["personal_data_redaction"]
    return {
        "languages": [f"{x['language']} {x['documents']:,} ({x['share_of_documents']:.1%})"
                      for x in size["linguistic_characteristics"]],
        "origins": [f"{x['jurisdiction']} → {x['residency_region']} ({x['documents']:,})"
                    for x in size["origin_jurisdictions"]],
        "kept_despite_signal": [f"{x['basis']} ({x['documents']:,})" for x in kept],
        "entities_redacted": [f"{k} {v:,}" for k, v in pii["entities_redacted"].items()],
        "names": names_summary(pii["names_by_language"]),
    }  # fmt: skip
