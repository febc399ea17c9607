"""The one policy loader: YAML in, a validated, immutable `Policy` out, or a `PolicyError` naming what to fix.

Validation happens in two passes, both before any work starts: the JSON Schema in `policy.schema.json` (shape and
types), then cross-field rules the schema cannot express (known jurisdictions, a jurisdiction mapped to one region).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from schemas.jurisdictions import ISO_3166_ALPHA2

DEFAULT_PII_ENTITIES = ("EMAIL_ADDRESS", "IBAN_CODE", "CREDIT_CARD", "IP_ADDRESS", "PHONE_NUMBER")


def _ner_pipeline_ref(name: str, policy_path: Path) -> str:
    """A package name as given; a path (it holds a slash) relative to the policy file's folder."""
    if "/" not in name and "\\" not in name:
        return name
    return name if Path(name).is_absolute() else str(policy_path.parent / name)


def _require_ner_languages(value, admission: dict) -> tuple[str, ...]:
    if value is True:
        return tuple(sorted((admission.get("languages") or {}).keys()))
    return tuple(value) if isinstance(value, list) else ()


class PolicyError(ValueError):
    """A policy file that cannot be used; the message names the file, the field, what was found and what is allowed."""


@dataclass(frozen=True)
class Region:
    name: str
    jurisdictions: tuple[str, ...]
    storage: str
    allowed_locations: tuple[str, ...] = ()


@dataclass(frozen=True)
class SourceDecl:
    source_id: str
    jurisdiction: str | None = None
    license: str | None = None
    format: str = "auto"
    text_field: str = "text"
    id_field: str | None = None
    url_field: str | None = "url"


@dataclass(frozen=True)
class FuzzyDedup:
    """MinHash-LSH settings: `bands` × `rows` permutations; candidates verified against `threshold` (Jaccard)."""

    enabled: bool = False
    backend: str = "auto"  # auto, cpu, gpu
    mode: str = "char"  # char: cuDF minhash over character windows; word: minhash_ngrams over word n-grams
    width: int = 5
    ngrams: int = 5
    bits: int = 64
    bands: int = 20
    rows: int = 10
    seed: int = 42
    threshold: float = 0.8
    verify: str = "true"  # none, estimated, true (estimates alone reach ~0.94 pair precision at 0.8; docs/dedup.md)
    # shingles of the text folded for case, punctuation and spacing: edition duplicates (two transcriptions of one
    # book) are found only with it (docs/dedup.md); false hashes the raw text, as cuDF's minhash does; "spelling"
    # also folds old German spellings (filters/dedup/normalize.py)
    normalize: bool | str = True

    @property
    def num_perm(self) -> int:
        return self.bands * self.rows


@dataclass(frozen=True)
class RightsRules:
    """What reserved and unknown rights mean for this corpus, and which signals count."""

    reserved: str = "exclude"  # exclude, quarantine, allow (e.g. Art. 3 research use)
    unknown: str = "quarantine"  # fail closed by default
    ai_crawlers: tuple[str, ...] = ()
    robots_wildcard_counts: bool = True
    content_usage_categories: tuple[str, ...] = ("train-ai", "train-genai")
    snapshots: str | None = None  # folder of <host>/robots.txt and <host>/.well-known/tdmrep.json


@dataclass(frozen=True)
class OriginEvidenceRules:
    """`residency.evidence`: which origin signals count and how much (defaults in `filters.origin.model`)."""

    enabled: bool = True
    signals: tuple[str, ...] | None = None  # None: every signal
    weights: dict[str, float] = field(default_factory=dict)  # overrides of the default weights
    min_confidence: float | None = None  # None: the default
    max_db_age_days: int | None = None  # None: the default


@dataclass(frozen=True)
class Takedown:
    urls: tuple[str, ...] = ()
    domains: tuple[str, ...] = ()
    content_hashes: tuple[str, ...] = ()

    def __bool__(self) -> bool:
        return bool(self.urls or self.domains or self.content_hashes)


@dataclass(frozen=True)
class StageSpec:
    """One extra per-document stage of `stages:` (docs/stages.md): the class `use` names, run after `after`."""

    use: str  # module:Class
    after: str
    name: str  # the ledger's stage name: the policy's `name:`, else the class name in snake case
    args: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Policy:
    policy_id: str
    path: str
    sha256: str
    regions: tuple[Region, ...]
    sources: dict[str, SourceDecl] = field(default_factory=dict)
    languages: dict[str, float] = field(default_factory=dict)
    default_min_lang_score: float = 0.5
    licenses: tuple[str, ...] = ()
    unknown_license: str = "allow"
    allowed_sources: tuple[str, ...] = ()
    collected_from: str | None = None
    collected_to: str | None = None
    domain_jurisdictions: dict[str, str] = field(default_factory=dict)
    unknown_origin: str = "quarantine"  # or drop
    origin_evidence: OriginEvidenceRules = field(default_factory=OriginEvidenceRules)
    rights: RightsRules = field(default_factory=RightsRules)
    takedown: Takedown = field(default_factory=Takedown)
    html_extractor: str = "resiliparse"  # 29x trafilatura's speed at word F1 0.976 vs 0.992 (docs/benchmarks.md)
    min_chars: int = 50
    strip_gutenberg: bool = True  # cut a Project Gutenberg file's header and licence off (filters/extract/boilerplate.py)
    max_record_bytes: int = 64 << 20
    max_decompressed_bytes: int = 16 << 30
    quality_enabled: bool = True
    quality_filters: tuple[str, ...] = ("gopher_quality", "gopher_repetition", "fineweb")
    quality_exempt_source_types: tuple[str, ...] = ("alto", "tei")
    # Gopher's alphabetic-word ratio over words (not punctuation tokens, as datatrove counts them); documents over
    # quality_long_document_words words judged in parts (split), passed unjudged (exempt) or judged whole (judge)
    quality_alpha_ratio_over: str = "words"
    quality_long_documents: str = "split"
    quality_long_document_words: int = 10_000
    pii_entities: tuple[str, ...] = DEFAULT_PII_ENTITIES
    pii_countries: tuple[str, ...] = ()
    pii_operator: str = "placeholder"
    pii_score_threshold: float = 0.5
    pii_salt_env: str = "TERROIR_PII_SALT"
    pii_ner: dict[str, str] = field(default_factory=dict)
    pii_ner_prefilter: bool = True  # `ner_prefilter`: NER reads only the words around possible names (ner_windows)
    pii_require_ner: bool = False  # `require_ner: true`: every admitted language needs a pipeline (preflight)
    # documents in these languages are quarantined when no NER ran on them (`require_ner: [lang, ...]`, or every
    # admitted language with `require_ner: true`)
    pii_require_ner_languages: tuple[str, ...] = ()
    exact_dedup: bool = True
    fuzzy: FuzzyDedup = field(default_factory=FuzzyDedup)
    shards_per_region: int = 2
    ledger_shards: int = 2
    gate_suite: str = "corpus_shard"
    min_text_chars: int = 1
    max_text_chars: int = 5_000_000
    max_residual_pii: int = 0
    trusted_keys: tuple[str, ...] = ()  # approval.trusted_keys: trust-list / .pub paths (absolute) or inline keys
    stages: tuple[StageSpec, ...] = ()  # extra per-document stages, checked (imported, built) in preflight
    raw: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)

    @property
    def region_of(self) -> dict[str, str]:
        """Jurisdiction → region name."""
        return {j: r.name for r in self.regions for j in r.jurisdictions}

    @property
    def region_names(self) -> tuple[str, ...]:
        return tuple(r.name for r in self.regions)

    def region(self, name: str) -> Region:
        for r in self.regions:
            if r.name == name:
                return r
        raise KeyError(name)

    def source(self, source_id: str) -> SourceDecl:
        return self.sources.get(source_id) or SourceDecl(source_id=source_id)

    def min_score(self, lang: str) -> float | None:
        """Minimum language-ID score for `lang`, or None when the language is out of scope."""
        if not self.languages:
            return self.default_min_lang_score
        return self.languages.get(lang)


def _schema() -> dict[str, Any]:
    return json.loads(resources.files("schemas").joinpath("policy.schema.json").read_text(encoding="utf-8"))


def _where(path) -> str:
    return ".".join(str(p) for p in path) or "(top level)"


def _describe_schema_error(err) -> str:
    where = _where(err.absolute_path)
    found = json.dumps(err.instance, default=str)
    if len(found) > 80:
        found = found[:77] + "..."
    if err.validator == "additionalProperties":
        allowed = sorted(err.schema.get("properties", {}))
        extra = sorted(set(err.instance) - set(allowed)) if isinstance(err.instance, dict) else []
        return f"field {where}: unknown key(s) {extra}; allowed keys are {allowed}"
    if err.validator == "required":
        return f"field {where}: {err.message}"
    if err.validator == "enum":
        return f"field {where}: found {found}; allowed values are {err.validator_value}"
    if err.validator == "type":
        return f"field {where}: found {found}; expected type {err.validator_value}"
    if err.validator == "pattern":
        return f"field {where}: found {found}; must match {err.validator_value}"
    return f"field {where}: found {found}; {err.message}"


class _StrictLoader(yaml.SafeLoader):
    """YAML as a policy needs it: a key given twice is an error (YAML keeps the last silently), and every key is a
    string (an unquoted `no:` or `on:` is a boolean in YAML 1.1: the Norwegian language key would become False)."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            line = key_node.start_mark.line + 1
            if not isinstance(key, str):
                hint = ""
                if isinstance(key, bool):
                    hint = f" (YAML reads {key_node.value!r} as {key}: quote it, \"{key_node.value}\")"
                raise PolicyError(f"line {line}: key {key_node.value!r} is not a string{hint}")
            if key in seen:
                raise PolicyError(f"line {line}: key {key!r} appears twice in one mapping (first at line {seen[key]}); "
                                  "keep one")  # fmt: skip
            seen[key] = line
        return super().construct_mapping(node, deep=deep)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _StrictLoader.construct_mapping)


def _gate_suite(value: str | None, policy_path: Path) -> tuple[str | None, str | None]:
    """A built-in suite's name, or a `.json` file in the policy's own folder (relative to it), as (suite, problem)."""
    if value is None:
        return None, None
    if not value.endswith(".json"):
        if re.fullmatch(r"[A-Za-z0-9_-]+", value):
            return value, None
        return None, f"field gates.suite: {value!r} is neither a built-in suite's name nor a .json file"
    folder = policy_path.resolve().parent
    target = Path(os.path.normpath(folder / value))
    if not target.is_relative_to(folder):
        return None, (f"field gates.suite: {value} lies outside the policy's folder {folder}; keep a custom suite "
                      "beside the policy that names it")  # fmt: skip
    return str(target), None


def load_policy(path: str | Path) -> Policy:
    """Read and validate a policy file. Raises `PolicyError` (never a bare YAML or schema exception)."""
    import hashlib

    import jsonschema

    p = Path(path)
    if not p.is_file():
        raise PolicyError(f"policy {p}: file not found")
    data_bytes = p.read_bytes()
    try:
        doc = yaml.load(data_bytes, Loader=_StrictLoader)  # a SafeLoader subclass
    except PolicyError as exc:
        raise PolicyError(f"policy {p}: {exc}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise PolicyError(f"policy {p}: not valid YAML{at}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(doc, dict):
        raise PolicyError(f"policy {p}: top level must be a mapping of fields, found {type(doc).__name__}")

    validator = jsonschema.Draft202012Validator(_schema())
    errors = sorted(validator.iter_errors(doc), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if errors:
        lines = "\n  ".join(_describe_schema_error(e) for e in errors[:10])
        raise PolicyError(f"policy {p}: {len(errors)} problem(s):\n  {lines}")
    return _build(doc, p, hashlib.sha256(data_bytes).hexdigest())


def _build(doc: dict[str, Any], p: Path, sha: str) -> Policy:
    problems: list[str] = []
    regions = []
    seen: dict[str, str] = {}
    for name, spec in doc["residency"]["regions"].items():
        for j in spec["jurisdictions"]:
            if j not in ISO_3166_ALPHA2:
                problems.append(f"field residency.regions.{name}.jurisdictions: {j!r} is not an ISO 3166-1 alpha-2 code")
            if j in seen and seen[j] != name:
                problems.append(
                    f"field residency.regions.{name}.jurisdictions: {j} is already mapped to region {seen[j]!r}; "
                    "a jurisdiction may belong to one region only"
                )
            seen[j] = name
        regions.append(
            Region(
                name=name,
                jurisdictions=tuple(spec["jurisdictions"]),
                storage=spec["storage"],
                allowed_locations=tuple(spec.get("allowed_locations", ())),
            )
        )
    sources = {}
    for sid, spec in (doc.get("sources") or {}).items():
        j = spec.get("jurisdiction")
        if j is not None and j not in ISO_3166_ALPHA2:
            problems.append(f"field sources.{sid}.jurisdiction: {j!r} is not an ISO 3166-1 alpha-2 code")
        sources[sid] = SourceDecl(
            source_id=sid,
            jurisdiction=j,
            license=spec.get("license"),
            format=spec.get("format", "auto"),
            text_field=spec.get("text_field", "text"),
            id_field=spec.get("id_field"),
            url_field=spec.get("url_field", "url"),
        )
    pii = doc.get("pii") or {}
    for c in pii.get("countries", []):
        if c not in ISO_3166_ALPHA2:
            problems.append(f"field pii.countries: {c!r} is not an ISO 3166-1 alpha-2 code")
    fz = (doc.get("dedup") or {}).get("fuzzy") or {}
    if fz.get("mode") == "word" and "width" in fz:
        problems.append("field dedup.fuzzy.width: applies to mode 'char'; word mode uses dedup.fuzzy.ngrams")
    for dom, j in ((doc["residency"].get("domains") or {}).items()):
        if j not in ISO_3166_ALPHA2:
            problems.append(f"field residency.domains.{dom}: {j!r} is not an ISO 3166-1 alpha-2 code")
    evidence, ev_problems = _origin_evidence(doc["residency"].get("evidence") or {})
    problems += ev_problems
    rights_doc = doc.get("rights") or {}
    snapshots = rights_doc.get("snapshots")
    if snapshots is not None:
        snap_path = (p.parent / snapshots) if not Path(snapshots).is_absolute() else Path(snapshots)
        if not snap_path.is_dir():
            problems.append(f"field rights.snapshots: folder {snap_path} does not exist")
        snapshots = str(snap_path)
    takedown, td_problems = _load_takedown(doc.get("takedown") or {}, p)
    problems += td_problems
    adm_doc = doc.get("admission") or {}
    if adm_doc.get("collected_from", "") > adm_doc.get("collected_to", "9999"):
        problems.append("field admission: collected_from is after collected_to")
    gates = doc.get("gates") or {}
    suite, suite_problem = _gate_suite(gates.get("suite"), p)
    if suite_problem:
        problems.append(suite_problem)
    if gates.get("min_text_chars", 1) > gates.get("max_text_chars", 5_000_000):
        problems.append("field gates: min_text_chars is larger than max_text_chars")
    trusted_keys, key_problems = _trusted_keys(doc.get("approval") or {}, p)
    problems += key_problems
    stages, stage_problems = _stage_specs(doc.get("stages") or [])
    problems += stage_problems
    if problems:
        raise PolicyError(f"policy {p}: {len(problems)} problem(s):\n  " + "\n  ".join(problems))

    adm = doc.get("admission") or {}
    ext = doc.get("extraction") or {}
    qual = doc.get("quality") or {}
    out = doc.get("output") or {}
    defaults = Policy(policy_id="", path="", sha256="", regions=())
    return Policy(
        policy_id=doc["policy_id"],
        path=str(p),
        sha256=sha,
        regions=tuple(regions),
        sources=sources,
        languages=dict(adm.get("languages") or {}),
        default_min_lang_score=adm.get("default_min_lang_score", defaults.default_min_lang_score),
        licenses=tuple(adm.get("licenses", ())),
        unknown_license=adm.get("unknown_license", "allow"),
        allowed_sources=tuple(adm.get("sources", ())),
        collected_from=adm.get("collected_from"),
        collected_to=adm.get("collected_to"),
        domain_jurisdictions={k.lower().lstrip("."): v for k, v in (doc["residency"].get("domains") or {}).items()},
        unknown_origin=doc["residency"].get("unknown_origin", "quarantine"),
        origin_evidence=evidence,
        rights=RightsRules(
            reserved=rights_doc.get("reserved", "exclude"),
            unknown=rights_doc.get("unknown", "quarantine"),
            ai_crawlers=tuple(rights_doc.get("ai_crawlers", ())),
            robots_wildcard_counts=rights_doc.get("robots_wildcard_counts", True),
            content_usage_categories=tuple(rights_doc.get("content_usage_categories", ("train-ai", "train-genai"))),
            snapshots=snapshots,
        ),
        takedown=takedown,
        html_extractor=ext.get("html_extractor", defaults.html_extractor),
        min_chars=ext.get("min_chars", defaults.min_chars),
        max_record_bytes=ext.get("max_record_bytes", defaults.max_record_bytes),
        max_decompressed_bytes=ext.get("max_decompressed_bytes", defaults.max_decompressed_bytes),
        strip_gutenberg=ext.get("strip_gutenberg", defaults.strip_gutenberg),
        quality_enabled=qual.get("enabled", True),
        quality_filters=tuple(qual.get("filters", defaults.quality_filters)),
        quality_exempt_source_types=tuple(qual.get("exempt_source_types", defaults.quality_exempt_source_types)),
        quality_alpha_ratio_over=qual.get("alpha_ratio_over", defaults.quality_alpha_ratio_over),
        quality_long_documents=qual.get("long_documents", defaults.quality_long_documents),
        quality_long_document_words=qual.get("long_document_words", defaults.quality_long_document_words),
        pii_entities=tuple(pii.get("entities", DEFAULT_PII_ENTITIES)),
        pii_countries=tuple(pii.get("countries", ())),
        pii_operator=pii.get("operator", "placeholder"),
        pii_score_threshold=pii.get("score_threshold", defaults.pii_score_threshold),
        pii_salt_env=pii.get("salt_env", defaults.pii_salt_env),
        pii_ner={lang: _ner_pipeline_ref(name, p) for lang, name in (pii.get("ner") or {}).items()},
        pii_ner_prefilter=pii.get("ner_prefilter", True),
        pii_require_ner=pii.get("require_ner", False) is True,
        pii_require_ner_languages=_require_ner_languages(pii.get("require_ner", False), adm),
        exact_dedup=(doc.get("dedup") or {}).get("exact", True),
        fuzzy=FuzzyDedup(**((doc.get("dedup") or {}).get("fuzzy") or {})),
        shards_per_region=out.get("shards_per_region", defaults.shards_per_region),
        ledger_shards=out.get("ledger_shards", defaults.ledger_shards),
        gate_suite=suite or defaults.gate_suite,
        min_text_chars=gates.get("min_text_chars", defaults.min_text_chars),
        max_text_chars=gates.get("max_text_chars", defaults.max_text_chars),
        max_residual_pii=gates.get("max_residual_pii", 0),
        trusted_keys=trusted_keys,
        stages=stages,
        raw=doc,
    )


def default_stage_name(use: str) -> str:
    """`mypkg.filters:NationalBlocklist` → `national_blocklist`."""
    cls = use.rpartition(":")[2]
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "_", cls).lower()[:40]


def _stage_specs(entries: list[dict[str, Any]]) -> tuple[tuple[StageSpec, ...], list[str]]:
    """`stages:` as specs with their ledger names; two stages of one name are refused (the rest is preflight's)."""
    specs, problems, seen = [], [], {}
    for i, e in enumerate(entries):
        name = e.get("name") or default_stage_name(e["use"])
        if not re.fullmatch(r"[a-z][a-z0-9_]{0,39}", name):
            problems.append(f"field stages.{i}: the name {name!r} taken from the class is not a ledger stage name; "
                            "give one with name: (lower case letters, digits and _)")  # fmt: skip
        if name in seen:
            problems.append(f"field stages.{i}: stage name {name!r} is already used by stages.{seen[name]}; give one "
                            "of them another name:")  # fmt: skip
        seen.setdefault(name, i)
        specs.append(StageSpec(use=e["use"], after=e["after"], name=name, args=dict(e.get("args") or {})))
    return tuple(specs), problems


def ordered_stage_names(base: tuple[str, ...] | list[str], specs: tuple[StageSpec, ...]) -> tuple[str, ...]:
    """`base` with every extra stage placed right after the stage its `after` names (several after one stage keep
    their listing order; a stage after an extra stage follows it). Specs whose `after` is in neither are left out:
    preflight refuses them. The order the stages run in, and the order of their ledger rows and report lines."""
    children: dict[str, list[str]] = {}
    for s in specs:
        children.setdefault(s.after, []).append(s.name)
    out: list[str] = []

    def emit(name: str) -> None:
        out.append(name)
        for child in children.get(name, ()):
            if child not in out:
                emit(child)

    for name in base:
        emit(name)
    return tuple(out)


def _trusted_keys(spec: dict[str, Any], policy_path: Path) -> tuple[tuple[str, ...], list[str]]:
    """approval.trusted_keys with files resolved against the policy's folder; inline public key lines kept as is."""
    out, problems = [], []
    for entry in spec.get("trusted_keys", ()):
        if entry.strip().startswith("terroir-ed25519 "):
            out.append(entry.strip())
            continue
        f = Path(entry).expanduser()
        f = f if f.is_absolute() else policy_path.parent / f
        if not f.is_file():
            problems.append(f"field approval.trusted_keys: {f} does not exist (a trust list or .pub file)")
        out.append(str(f))
    return tuple(out), problems


def _origin_evidence(spec: dict[str, Any]) -> tuple[OriginEvidenceRules, list[str]]:
    """Cross-field rules of `residency.evidence` (names and ranges are checked by the JSON Schema)."""
    problems = []
    signals = tuple(spec["signals"]) if "signals" in spec else None
    weights = dict(spec.get("weights") or {})
    if signals is not None:
        for name in sorted(set(weights) - set(signals)):
            problems.append(f"field residency.evidence.weights.{name}: {name} is not in residency.evidence.signals "
                            f"{list(signals)}; add it there or remove its weight")  # fmt: skip
        if all(weights.get(s, 1.0) == 0 for s in signals):
            problems.append("field residency.evidence.signals: every listed signal has weight 0; set enabled: false "
                            "to turn origin evidence off")  # fmt: skip
    rules = OriginEvidenceRules(
        enabled=spec.get("enabled", True),
        signals=signals,
        weights=weights,
        min_confidence=spec.get("min_confidence"),
        max_db_age_days=(spec.get("ip_database") or {}).get("max_age_days"),
    )
    return rules, problems


def _load_takedown(spec: dict[str, Any], policy_path: Path) -> tuple[Takedown, list[str]]:
    """Inline lists plus an optional file of `url X`, `domain X` or `sha256 X` lines (`#` starts a comment)."""
    urls, domains, hashes = list(spec.get("urls", ())), list(spec.get("domains", ())), list(spec.get("content_hashes", ()))
    problems: list[str] = []
    if spec.get("file"):
        f = Path(spec["file"])
        f = f if f.is_absolute() else policy_path.parent / f
        if not f.is_file():
            return Takedown(), [f"field takedown.file: {f} does not exist"]
        for n, line in enumerate(f.read_text(encoding="utf-8").splitlines(), start=1):
            line = line.split("#", 1)[0].strip()
            if not line:
                continue
            kind, _, value = line.partition(" ")
            value = value.strip()
            if kind == "url" and value:
                urls.append(value)
            elif kind == "domain" and value:
                domains.append(value)
            elif kind == "sha256" and len(value) == 64 and all(c in "0123456789abcdef" for c in value):
                hashes.append(value)
            else:
                problems.append(f"field takedown.file: {f} line {n}: expected 'url URL', 'domain NAME' or 'sha256 HEX'")
    return Takedown(
        urls=tuple(sorted({u.strip() for u in urls})),
        domains=tuple(sorted({d.lower().strip(".") for d in domains})),
        content_hashes=tuple(sorted(set(hashes))),
    ), problems
