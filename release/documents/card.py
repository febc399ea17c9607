"""`README.md`: a Hugging Face dataset card for a release: YAML front matter (built as data, dumped with PyYAML) and
Markdown sections from the template `templates/card.md.j2`."""

from __future__ import annotations

from filters.ner import names_summary
from release.documents.eu_summary import ai_act_summary
from release.documents.facts import CATEGORIES, TOKENIZER_NAME, ShardFacts, languages, summary_config
from release.documents.templating import render
from release.stats import DECISIONS, ReleaseStats

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
    langs = languages(stats)
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

    cfg = summary_config(policy)
    if summary is None:
        summary = ai_act_summary(manifest, stats, policy, shard_paths or [], facts=facts)
    front = _card_front_matter(manifest, stats, cfg, summary)
    rel = manifest["release"]
    return render(
        "card.md.j2",
        front=front,
        front_yaml=yaml.safe_dump(front, sort_keys=False, allow_unicode=True, width=1000),
        summary=summary,
        manifest=manifest,
        rel=rel,
        description=((policy.raw or {}).get("description") or "").strip()
        or f"Corpus built under policy {rel['policy_id']}.",
        regions=sorted({s["residency_region"] for s in manifest["shards"]}),
        tokenizer=TOKENIZER_NAME,
        categories={k: v.split(" ", 1)[1] for k, v in CATEGORIES.items()},
        decisions=list(DECISIONS),
        **_phrases(summary),
    )


def _phrases(summary: dict) -> dict:
    """The list-valued phrases of the card (one string per language, origin and entity type)."""
    g = summary["1_general_information"]["1.3_modalities_size_and_characteristics"]
    pii = summary["3_data_processing_aspects"]["3.2_removal_of_illegal_content"]["personal_data_redaction"]
    return {
        "languages": [f"{x['language']} {x['documents']:,}" for x in g["linguistic_characteristics"]],
        "origins": [f"{x['jurisdiction']} → {x['residency_region']} ({x['documents']:,})"
                    for x in g["origin_jurisdictions"]],
        "entities_redacted": [f"{k} {v:,}" for k, v in pii["entities_redacted"].items()],
        "names": names_summary(pii["names_by_language"]),
    }  # fmt: skip
