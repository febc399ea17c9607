"""PII detection and redaction: Presidio recognizers, national identifiers, optional spaCy NER; nothing downloads.

What runs for a document in language L from jurisdiction J:

- language-agnostic recognizers for every language: Presidio's e-mail, IP and URL; Terroir's IBAN, card, phone
  number (libphonenumber, with J as the region hint, else the policy's countries), date of birth, street address,
  postcode and personal URL, which share one linear candidate scan of the text (`filters.pii_scan`);
- for each of the policy's `pii.countries`, Presidio's country recognizers and Terroir's national-identifier
  recognizers (`filters/national_ids/`), registered for every language the redactor covers (the policy's
  languages, English, and each country's national languages), so a Norwegian number in an English or Swedish text
  is found too; their context words are in the national language(s) and English;
- spaCy NER (PERSON, LOCATION, ORGANIZATION) when the policy names a pipeline for L that is installed.

Pattern recognizers run through `filters.pii_engine.FastAnalyzer`, which gives the same findings as stock
Presidio's `AnalyzerEngine` configured with the same recognizers (`presidio_engine()` builds that engine; tests and
`benchmarks/bench_pii.py` compare the two). Overlaps are resolved deliberately: highest score, then longest span,
then entity name. Each hit carries a confidence tier: "validated" (a checksum, check letter or date passed, or
libphonenumber validated the number), "pattern" (the shape matched, nothing could be checked) or "ner".

Raw values never leave this module: results are counts, types, tiers and offsets; Presidio's log records that
could carry a value have their arguments withheld; exceptions are re-raised as `PiiAnalysisError` naming only
the exception type.
"""

from __future__ import annotations

import hashlib
import hmac
import importlib
import inspect
import logging
import pkgutil
import unicodedata
from dataclasses import dataclass, field, replace
from functools import cache

from filters.labelled_ids import ENTITY as LABELLED_ID
from filters.labelled_ids import LabelledIdRecognizer
from filters.national_ids import (
    PATTERN,
    SUPERSEDED_PRESIDIO,
    VALIDATED,
    NationalIdRecognizer,
    national_id_recognizer_classes,
    national_languages,
)
from filters.pii_phone import PHONE_CONTEXT  # noqa: F401 - part of this module's interface
from filters.pii_policy import COUNTRY_PACKAGES as _COUNTRY_PACKAGES
from filters.pii_policy import (  # noqa: F401 - part of this module's interface
    MIN_SALT_CHARS,
    OPERATORS,
    check_pii_config,
    ner_pipeline_available,
    supported_countries,
)

log = logging.getLogger(__name__)

_GENERIC = {
    "EMAIL_ADDRESS": "EmailRecognizer",
    "IP_ADDRESS": "IpRecognizer",
    "PHONE_NUMBER": "PhoneRecognizer",
    "URL": "UrlRecognizer",
}
# Terroir's own pattern recognizers (they share one candidate scan, `filters.pii_scan`): entity → (module, class)
SCAN_RECOGNIZERS = {
    "IBAN_CODE": ("filters.pii_finance", "IbanRecognizer"),
    "CREDIT_CARD": ("filters.pii_finance", "CardRecognizer"),
    "DATE_OF_BIRTH": ("filters.pii_dates", "DateOfBirthRecognizer"),
    "STREET_ADDRESS": ("filters.pii_address", "StreetAddressRecognizer"),
    "POSTCODE": ("filters.pii_address", "PostcodeRecognizer"),
    "PERSONAL_URL": ("filters.pii_url", "PersonalUrlRecognizer"),
}
# every entity type a policy's `pii.entities` can name, besides the national identifiers its countries bring
PATTERN_ENTITIES = tuple(sorted({*_GENERIC, *SCAN_RECOGNIZERS, LABELLED_ID}))

NER_ENTITIES = ("PERSON", "LOCATION", "ORGANIZATION")
NER_TIER = "ner"
_RECOGNIZER_ID = "recognizer_identifier"  # RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, without importing Presidio here


class PiiAnalysisError(RuntimeError):
    """PII analysis failed; the message names the failing part and the exception type, never document text."""


@cache
def country_recognizer_classes(country: str) -> tuple[type, ...]:
    """Presidio's recognizer classes for one ISO country code (empty when Presidio has none)."""
    from presidio_analyzer import EntityRecognizer

    pkg_name = next((p for p, c in _COUNTRY_PACKAGES.items() if c == country), None)
    if pkg_name is None:
        return ()
    pkg = importlib.import_module(f"presidio_analyzer.predefined_recognizers.country_specific.{pkg_name}")
    found: dict[str, type] = {}
    for mod in pkgutil.iter_modules(pkg.__path__):
        m = importlib.import_module(f"{pkg.__name__}.{mod.name}")
        for _, cls in inspect.getmembers(m, inspect.isclass):
            if (
                issubclass(cls, EntityRecognizer)
                and cls.__module__ == m.__name__
                and cls.__name__.endswith("Recognizer")
            ):
                found[cls.__name__] = cls
    return tuple(found[k] for k in sorted(found))


def recognizer_classes(country: str) -> tuple[type, ...]:
    """Every recognizer class a policy's `pii.countries: [country]` enables: Presidio's, then Terroir's."""
    from filters.pii_presidio_fixes import REPLACEMENTS

    superseded = SUPERSEDED_PRESIDIO.get(country, frozenset())
    presidio = tuple(
        REPLACEMENTS.get(c.__name__, c) for c in country_recognizer_classes(country) if c.__name__ not in superseded
    )
    return presidio + national_id_recognizer_classes(country)


@dataclass(frozen=True)
class PiiHit:
    """One finding: offsets, entity type, score and confidence tier; never the value itself."""

    start: int
    end: int
    entity_type: str
    score: float
    tier: str = PATTERN


@dataclass
class Redaction:
    """A redacted text with what was found: counts per entity type, counts per type and tier, the hits."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)
    tiers: dict[str, dict[str, int]] = field(default_factory=dict)
    hits: list[PiiHit] = field(default_factory=list)
    ner: bool = False  # whether NER ran on this text


class _WithholdArguments(logging.Filter):
    """Presidio logs some values it fails to validate ("Failed to validate text %s"): keep the template only."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.args:
            record.msg = f"{record.msg} [arguments withheld by Terroir: they may hold document text]"
            record.args = None
        return True


def _guard_presidio_logs() -> None:
    logger = logging.getLogger("presidio-analyzer")
    if not any(isinstance(f, _WithholdArguments) for f in logger.filters):
        logger.addFilter(_WithholdArguments())


class PiiRedactor:
    """`redact(text, lang, region=None)` → (redacted text, {entity type: count}).

    languages, entities, countries, score_threshold: what to look for (see the module docstring).
    operator: "placeholder" (`<ENTITY_TYPE>`, the default), "hash" (`<ENTITY_TYPE:16 hex digits>`, an HMAC-SHA256
        of the normalized value keyed by `salt`: the same value gives the same token across documents and runs,
        and cannot be reversed without the salt), or "mask" (every letter and digit replaced by "*", the value's
        length and punctuation kept).
    salt: the secret for "hash" (required then, at least 16 characters; never logged or stored).
    ner_models: {language: spaCy package name or pipeline folder}; languages whose pipeline is missing are listed
        in `status()["ner"]` and run without NER, unless `require_ner` is true (then ValueError).
    phone_regions: regions for phone numbers when a document's jurisdiction is unknown (default: the countries
        libphonenumber knows, else Presidio's default regions).
    fast: False runs stock Presidio's AnalyzerEngine instead of the prescan (same findings, slower; for checks).
    """

    def __init__(
        self,
        languages: tuple[str, ...],
        entities: tuple[str, ...],
        countries: tuple[str, ...] = (),
        score_threshold: float = 0.5,
        *,
        operator: str = "placeholder",
        salt: str | bytes | None = None,
        ner_models: dict[str, str] | None = None,
        require_ner: bool = False,
        phone_regions: tuple[str, ...] | None = None,
        fast: bool = True,
    ) -> None:
        import phonenumbers
        from presidio_analyzer import predefined_recognizers as pr

        from filters.pii_engine import FastAnalyzer, PrecedingWordsContextEnhancer
        from filters.residency import offline_tldextract

        if operator not in OPERATORS:
            raise ValueError(f"unknown PII operator {operator!r}; allowed values are {list(OPERATORS)}")
        if operator == "hash":
            if not salt:
                raise ValueError("PII operator 'hash' needs a secret salt; none was given")
            if len(salt) < MIN_SALT_CHARS:
                raise ValueError(f"PII operator 'hash' needs a salt of at least {MIN_SALT_CHARS} characters")
        offline_tldextract()
        _guard_presidio_logs()
        self.operator = operator
        self._salt = salt.encode() if isinstance(salt, str) else salt
        self.score_threshold = score_threshold
        self.countries = tuple(dict.fromkeys(countries))
        national = [lang for c in self.countries for lang in national_languages(c)]
        self.languages = tuple(sorted(set(languages) | {"en"} | set(national)))
        wanted = set(entities)
        self._recognizers: dict[str, list] = {}
        for lang in self.languages:
            recs = []
            for entity, cls_name in _GENERIC.items():
                if entity in wanted and entity != "PHONE_NUMBER":
                    recs.append(getattr(pr, cls_name)(supported_language=lang))
            for entity, (module, cls_name) in SCAN_RECOGNIZERS.items():
                if entity in wanted:
                    recs.append(getattr(importlib.import_module(module), cls_name)(supported_language=lang))
            if LABELLED_ID in wanted:
                recs.append(LabelledIdRecognizer(supported_language=lang))
            for country in self.countries:
                for cls in recognizer_classes(country):
                    try:
                        rec = cls(supported_language=lang)
                    except TypeError:  # recognizers that need more arguments (South African phone numbers)
                        continue
                    recs.append(rec)
                    wanted.update(rec.supported_entities)
            self._recognizers[lang] = recs
        self._phone = "PHONE_NUMBER" in wanted
        regions = tuple(c for c in self.countries if c in phonenumbers.SUPPORTED_REGIONS)
        self.phone_regions = (
            tuple(phone_regions) if phone_regions else regions or pr.PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS
        )
        self._phone_recognizers: dict[tuple[str, tuple[str, ...]], object] = {}
        self._prepared_sets: dict[tuple[str, tuple[str, ...]], object] = {}
        self._supported_regions = frozenset(phonenumbers.SUPPORTED_REGIONS)
        self.context_enhancer = PrecedingWordsContextEnhancer()
        self._fast = FastAnalyzer(self.context_enhancer, score_threshold) if fast else None
        self._engine = None
        self._by_id: dict[str, object] = {r.id: r for recs in self._recognizers.values() for r in recs}
        self._ner: dict[str, object] = {}  # language → filters.ner.SpacyNer
        self.ner_status: dict[str, str] = {}
        self._load_ner(ner_models or {}, wanted, require_ner)
        self.entities = tuple(sorted(wanted | (set(self._ner_entities) if self._ner else set())))

    # -- set-up ------------------------------------------------------------------------------------------------

    def _load_ner(self, models: dict[str, str], wanted: set[str], require_ner: bool) -> None:
        from filters.ner import NerUnavailable, SpacyNer

        requested = tuple(e for e in NER_ENTITIES if e in wanted)
        self._ner_entities = requested or NER_ENTITIES
        for lang, name in sorted(models.items()):
            try:
                ner = SpacyNer(lang, name, self._ner_entities)  # filters/ner.py: entity components only, nlp.pipe
            except NerUnavailable as exc:
                self.ner_status[lang] = f"unavailable: {exc}"
                continue
            self._ner[lang] = ner
            self._by_id[ner.recognizer.id] = ner.recognizer
            self.ner_status[lang] = f"on: {name}"
        missing = sorted(lang for lang, s in self.ner_status.items() if not s.startswith("on"))
        if missing and require_ner:
            raise ValueError(f"NER is required, but no spaCy pipeline could be loaded for {missing}")
        if missing:
            log.warning("PII: no NER for %s; names, places and organisations are not found there", missing)

    def status(self) -> dict:
        """What the report can show: operator, countries, languages, entities, NER per language."""
        return {
            "operator": self.operator,
            "countries": list(self.countries),
            "languages": list(self.languages),
            "entities": list(self.entities),
            "ner": dict(self.ner_status),
        }

    def _language(self, lang: str | None) -> str:
        return lang if lang in self._recognizers else "en"

    def _phone_regions(self, region: str | None) -> tuple[str, ...]:
        return (region,) if region and region in self._supported_regions else self.phone_regions

    def _phone_recognizer(self, lang: str, regions: tuple[str, ...]):
        key = (lang, regions)
        rec = self._phone_recognizers.get(key)
        if rec is None:
            from filters.pii_phone import NationalPhoneRecognizer

            rec = NationalPhoneRecognizer(regions, supported_language=lang)
            self._phone_recognizers[key] = rec
            self._by_id[rec.id] = rec
        return rec

    def recognizers(self, lang: str | None, region: str | None = None) -> list:
        """The pattern recognizers that run for a document in `lang` from jurisdiction `region`."""
        return list(self._prepared(lang, region).recognizers)

    def _prepared(self, lang: str | None, region: str | None):
        lang = self._language(lang)
        regions = self._phone_regions(region) if self._phone else ()
        key = (lang, regions)
        found = self._prepared_sets.get(key)
        if found is None:
            from filters.pii_engine import PreparedRecognizers

            recs = list(self._recognizers[lang])
            if self._phone:
                recs.append(self._phone_recognizer(lang, regions))
            found = self._prepared_sets[key] = PreparedRecognizers(recs)
        return found

    def presidio_engine(self):
        """Stock Presidio `AnalyzerEngine` with the same recognizers and context enhancer (no NLP model).

        Phone recognizers depend on the document's region: pass `recognizers(lang, region)`'s phone recognizer as
        an ad-hoc recognizer, as `analyze_with_presidio` does.
        """
        if self._engine is None:
            from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
            from presidio_analyzer.nlp_engine import NoOpNlpEngine

            registry = RecognizerRegistry(
                recognizers=[r for recs in self._recognizers.values() for r in recs],
                supported_languages=list(self.languages),
            )
            nlp = NoOpNlpEngine(models=[{"lang_code": lang, "model_name": "none"} for lang in self.languages])
            nlp.load()
            self._engine = AnalyzerEngine(
                registry=registry,
                nlp_engine=nlp,
                supported_languages=list(self.languages),
                context_aware_enhancer=self.context_enhancer,
            )
        return self._engine

    # -- analysis ----------------------------------------------------------------------------------------------

    def analyze_with_presidio(self, text: str, lang: str | None, region: str | None = None) -> list:
        """Stock Presidio's pattern results (RecognizerResult) for the document, for comparison with `analyze`."""
        lang = self._language(lang)
        prepared = self._prepared(lang, region)
        registered = {id(r) for r in self._recognizers[lang]}
        ad_hoc = [r for r in prepared.recognizers if id(r) not in registered]
        entities = prepared.entities
        return self.presidio_engine().analyze(
            text=text,
            language=lang,
            entities=entities,
            score_threshold=self.score_threshold,
            ad_hoc_recognizers=ad_hoc or None,
        )

    def analyze(self, text: str, lang: str | None, region: str | None = None) -> list:
        """Pattern results (RecognizerResult) above the threshold, as stock Presidio would return them."""
        if self._fast is None:
            return self.analyze_with_presidio(text, lang, region)
        return self._fast.analyze(text, self._prepared(lang, region))

    def _ner_results(self, text: str, lang: str, found: list | None = None) -> list:
        from presidio_analyzer import EntityRecognizer

        results = self._ner[lang].analyze(text) if found is None else found
        return EntityRecognizer.remove_duplicates([r for r in results if r.score >= self.score_threshold])

    def _tier(self, hit: PiiHit, rec, text: str) -> str:
        from presidio_analyzer import PatternRecognizer
        from presidio_analyzer.predefined_recognizers import PhoneRecognizer, SpacyRecognizer

        value = text[hit.start : hit.end]
        own_tier = getattr(rec, "tier", None)
        if callable(own_tier):  # Terroir's recognizers know how their hits were checked
            return own_tier(value)
        if isinstance(rec, NationalIdRecognizer):
            return rec.tier(value)
        if isinstance(rec, PhoneRecognizer):
            return VALIDATED  # libphonenumber validated it against the region's numbering plan
        if isinstance(rec, SpacyRecognizer):
            return NER_TIER
        if isinstance(rec, PatternRecognizer):
            try:
                return VALIDATED if rec.validate_result(value) is True else PATTERN
            except Exception:  # noqa: BLE001 - a failing check means not validated
                return PATTERN
        return PATTERN

    def find_detail(
        self, text: str, lang: str | None, region: str | None = None, *, ner_results: list | None = None
    ) -> tuple[list[PiiHit], bool]:
        """(non-overlapping hits in text order, whether NER ran). Raises PiiAnalysisError on any failure.

        ner_results: this text's NER results when `redact_many` already ran the language's pipeline in a batch.
        """
        failure = None
        try:
            language = self._language(lang)
            results = list(self.analyze(text, language, region))
            # NER only with the document's own language's pipeline: another language's model would mislead
            ner = lang in self._ner
            if ner:
                results.extend(self._ner_results(text, lang, ner_results))
            ids = {}
            hits = []
            for r in results:
                h = PiiHit(r.start, r.end, r.entity_type, round(float(r.score), 4))
                ids[(h.start, h.end, h.entity_type)] = (r.recognition_metadata or {}).get(_RECOGNIZER_ID)
                hits.append(h)
            chosen = resolve_overlaps(hits)
            chosen = [
                replace(h, tier=self._tier(h, self._by_id.get(ids[(h.start, h.end, h.entity_type)]), text))
                for h in chosen
            ]
        except Exception as exc:  # noqa: BLE001 - no message that may quote the text may escape
            failure = type(exc).__name__
        if failure is not None:
            # raised outside the except block so the original exception is not attached as context
            raise PiiAnalysisError(f"PII analysis failed ({failure})")
        return chosen, ner

    def find(self, text: str, lang: str | None, region: str | None = None) -> list[PiiHit]:
        """Non-overlapping hits in text order."""
        return self.find_detail(text, lang, region)[0]

    def replacement(self, value: str, entity_type: str) -> str:
        """What `value` becomes under the redactor's operator."""
        if self.operator == "hash":
            digest = hmac.new(self._salt, f"{entity_type}\x1f{_normalize(value)}".encode(), hashlib.sha256)
            return f"<{entity_type}:{digest.hexdigest()[:16]}>"
        if self.operator == "mask":
            return "".join("*" if ch.isalnum() else ch for ch in value)
        return f"<{entity_type}>"

    def redact_detail(
        self, text: str, lang: str | None, region: str | None = None, *, ner_results: list | None = None
    ) -> Redaction:
        """The redacted text with counts per type, counts per type and tier, and the hits (no values)."""
        hits, ner = self.find_detail(text, lang, region, ner_results=ner_results)
        if not hits:
            return Redaction(text, ner=ner)
        counts: dict[str, int] = {}
        tiers: dict[str, dict[str, int]] = {}
        out, pos = [], 0
        for h in hits:
            out.append(text[pos : h.start])
            out.append(self.replacement(text[h.start : h.end], h.entity_type))
            pos = h.end
            counts[h.entity_type] = counts.get(h.entity_type, 0) + 1
            per = tiers.setdefault(h.entity_type, {})
            per[h.tier] = per.get(h.tier, 0) + 1
        out.append(text[pos:])
        return Redaction(
            "".join(out),
            dict(sorted(counts.items())),
            {k: dict(sorted(v.items())) for k, v in sorted(tiers.items())},
            hits,
            ner,
        )

    def redact_many(self, items: list[tuple[str, str | None, str | None]]) -> list[Redaction | PiiAnalysisError]:
        """`redact_detail` for (text, lang, region) items; NER runs once per language over its texts (`nlp.pipe`).

        A text whose analysis fails gets a PiiAnalysisError in its place; the others are unaffected.
        """
        from filters.ner import batch_ner

        found = batch_ner(self._ner, [(text, lang) for text, lang, _ in items])
        out: list[Redaction | PiiAnalysisError] = []
        for i, (text, lang, region) in enumerate(items):
            try:
                out.append(self.redact_detail(text, lang, region, ner_results=found.get(i)))
            except PiiAnalysisError as exc:
                out.append(exc)
        return out

    def redact(self, text: str, lang: str | None, region: str | None = None) -> tuple[str, dict[str, int]]:
        """(redacted text, {entity type: count})."""
        r = self.redact_detail(text, lang, region)
        return r.text, r.counts


def _normalize(value: str) -> str:
    """The form a value is hashed in: NFKC, case-folded, without spaces and separators inside numbers.

    "4111 1111 1111 1111" and "4111-1111-1111-1111" give the same token; e-mail addresses keep their dots.
    """
    v = unicodedata.normalize("NFKC", value).casefold()
    if "@" in v:
        return "".join(v.split())
    return "".join(ch for ch in v if ch.isalnum())


def resolve_overlaps(hits: list[PiiHit]) -> list[PiiHit]:
    """Non-overlapping hits in text order; on overlap the higher score, then the longer span, then the name wins."""
    chosen: list[PiiHit] = []
    for h in sorted(hits, key=lambda h: (-h.score, -(h.end - h.start), h.entity_type, h.start)):
        if all(h.end <= c.start or h.start >= c.end for c in chosen):
            chosen.append(h)
    return sorted(chosen, key=lambda h: h.start)
