"""`croissant.json`: Croissant 1.1 JSON-LD for a release, with the Responsible-AI (RAI 1.0) fields, built as data
(`croissant_metadata`) and written with `json.dumps` by `release.documents.writer`."""

from __future__ import annotations

from release.documents.eu_summary import ai_act_summary
from release.documents.facts import (
    CATEGORIES,
    TOKENIZER_NAME,
    ShardFacts,
    dups,
    languages,
    release_name,
    stage_line,
    summary_config,
)
from release.stats import ReleaseStats

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


def _spdx_url(licence: str) -> str:
    return f"https://spdx.org/licenses/{licence}.html" if " " not in licence else licence


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
    cfg = summary_config(policy)
    if summary is None:
        summary = ai_act_summary(manifest, stats, policy, shard_paths or [], facts=facts)
    rel = manifest["release"]
    name = release_name(manifest)
    shards = sorted(manifest["shards"], key=lambda s: s["path"])
    regions = sorted({s["residency_region"] for s in shards})
    distribution = _distribution(shards, regions)
    g = summary["1_general_information"]["1.3_modalities_size_and_characteristics"]
    text_size = g["training_data_size"]["text"]
    licences = sorted({s["licence"] for s in summary["sources"] if s["licence"]})
    unlicensed = [s["source_id"] for s in summary["sources"] if not s["licence"]]
    first = min((s["first_collected"] for s in summary["sources"] if s["first_collected"]), default=None)
    last = g["latest_collection_day"]
    provider = (cfg.get("provider") or {}).get("name")
    description = _description(policy, rel, text_size, len(shards), regions, unlicensed)
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
        "inLanguage": languages(stats),
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


def _distribution(shards: list[dict], regions: list[str]) -> list[dict]:
    """One FileObject per shard (sha256, size), then the FileSet `shards` whose globs name each region's folder."""
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
    return distribution


def _description(policy, rel: dict, text_size: dict, n_shards: int, regions: list[str], unlicensed: list[str]) -> str:
    """The policy's description, then what the release holds, then the sources without a declared licence."""
    return " ".join(filter(None, [
        ((policy.raw or {}).get("description") or "").strip(),
        (f"Terroir release of policy {rel['policy_id']} created {rel['created_at']}: {text_size['documents']:,} "
         f"documents ({text_size['tokens']:,} {TOKENIZER_NAME} tokens) in {n_shards} Parquet shards, residency "
         f"region(s) {', '.join(regions) or 'none'}."),
        f"Sources without a declared licence: {', '.join(unlicensed)}." if unlicensed else "",
    ]))  # fmt: skip


def _rai(summary: dict, policy, cfg: dict, first: str | None, last: str | None) -> dict:
    g = summary["1_general_information"]["1.3_modalities_size_and_characteristics"]
    p = summary["3_data_processing_aspects"]
    pii = p["3.2_removal_of_illegal_content"]["personal_data_redaction"]
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
        "rai:dataPreprocessingProtocol": _preprocessing_protocol(summary, policy),
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


def _preprocessing_protocol(summary: dict, policy) -> list[str]:
    """`rai:dataPreprocessingProtocol`: one sentence per stage, with the documents it removed."""
    g = summary["1_general_information"]["1.3_modalities_size_and_characteristics"]
    p = summary["3_data_processing_aspects"]
    pii = p["3.2_removal_of_illegal_content"]["personal_data_redaction"]
    tdm = p["3.1_text_and_data_mining_opt_out"]
    o = p["3.3_other_information"]
    dd = o["deduplication"]
    near = ", and near-duplicate, by MinHash-LSH" if dd["fuzzy"] else ""
    return [
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
        (f"Deduplication: exact, by normalized content hash{near}; "
         f"{dd['documents_dropped']} duplicate(s) dropped ({dups(dd)})."),
        f"Ledger decisions per stage: {stage_line(o['decisions_per_stage'])}.",
        f"PII redaction: {pii['method']}; {pii['documents_redacted']} document(s) redacted.",
        (f"Validation gate: Great Expectations suite {o['validation_gate']['suite']} on every shard; "
         f"{o['validation_gate']['shards_quarantined']} shard(s) quarantined."),
    ]  # fmt: skip


def _drop_none(d):
    if isinstance(d, dict):
        return {k: _drop_none(v) for k, v in d.items() if v is not None}
    if isinstance(d, list):
        return [_drop_none(v) for v in d]
    return d
