"""PII detection and redaction, the facade: `PiiRedactor` ties the package's parts together; nothing downloads.

What runs for a document in language L from jurisdiction J (`filters.pii.registry` builds the table):

- language-agnostic recognizers for every language: Presidio's e-mail, IP and URL; Terroir's IBAN, card, phone
  number (libphonenumber, with J as the region hint, else the policy's countries), date of birth, street address,
  postcode and personal URL, which share one linear candidate scan of the text (`filters.pii.recognizers.scan`);
- for each of the policy's `pii.countries`, Presidio's country recognizers and Terroir's national-identifier
  recognizers (`filters/national_ids/`), registered for every language the redactor covers (the policy's
  languages, English, and each country's national languages), so a Norwegian number in an English or Swedish text
  is found too; their context words are in the national language(s) and English;
- spaCy NER (PERSON, LOCATION, ORGANIZATION) when the policy names a pipeline for L that is installed.

Pattern recognizers run through `filters.pii.analyzer.FastAnalyzer` (candidate spans from `filters.pii.prescan`),
which gives the same findings as stock Presidio's `AnalyzerEngine` configured with the same recognizers
(`presidio_engine()` builds that engine; tests and `benchmarks/bench_pii.py` compare the two). Overlaps are resolved
deliberately (`filters.pii.resolve`: highest score, then longest span, then entity name), each hit carries a
confidence tier, and `filters.pii.operators` replaces the kept spans.

Raw values never leave this package: results are counts, types, tiers and offsets; Presidio's log records that
could carry a value have their arguments withheld; exceptions are re-raised as `PiiAnalysisError` naming only
the exception type.
"""

from __future__ import annotations

import logging
from dataclasses import replace

from filters.pii import operators
from filters.pii.operators import Redaction
from filters.pii.registry import NER_ENTITIES, build_recognizers, redactor_languages
from filters.pii.resolve import PiiHit, resolve_overlaps, tier_of

log = logging.getLogger(__name__)
_RECOGNIZER_ID = "recognizer_identifier"  # RecognizerResult.RECOGNIZER_IDENTIFIER_KEY, without importing Presidio here


class PiiAnalysisError(RuntimeError):
    """PII analysis failed; the message names the failing part and the exception type, never document text."""


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
    ner_prefilter: the NER cascade (`filters/ner_windows.py`, `pii.ner_prefilter`): the pipelines read only the
        words around possible names; False reads every text whole.
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
        ner_prefilter: bool = True,
        phone_regions: tuple[str, ...] | None = None,
        fast: bool = True,
    ) -> None:
        import phonenumbers
        from presidio_analyzer import predefined_recognizers as pr

        from filters.pii.analyzer import FastAnalyzer
        from filters.pii.context import PrecedingWordsContextEnhancer
        from filters.residency import offline_tldextract

        operators.check_operator(operator, salt)
        offline_tldextract()
        _guard_presidio_logs()
        self.operator = operator
        self._salt = salt.encode() if isinstance(salt, str) else salt
        self.score_threshold = score_threshold
        self.countries = tuple(dict.fromkeys(countries))
        self.languages = redactor_languages(tuple(languages), self.countries)
        self._recognizers, wanted = build_recognizers(self.languages, tuple(entities), self.countries)
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
        self._load_ner(ner_models or {}, wanted, require_ner, ner_prefilter)
        self.entities = tuple(sorted(wanted | (set(self._ner_entities) if self._ner else set())))

    # -- set-up ------------------------------------------------------------------------------------------------

    def _load_ner(self, models: dict[str, str], wanted: set[str], require_ner: bool, prefilter: bool) -> None:
        from filters.ner import NerUnavailable, SpacyNer

        requested = tuple(e for e in NER_ENTITIES if e in wanted)
        self._ner_entities = requested or NER_ENTITIES
        for lang, name in sorted(models.items()):
            try:
                # filters/ner.py: entity components only, nlp.pipe; prefilter: filters/ner_windows.py
                ner = SpacyNer(lang, name, self._ner_entities, prefilter=prefilter)
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
            from filters.pii.recognizers.phone import NationalPhoneRecognizer

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
            from filters.pii.analyzer import PreparedRecognizers

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
                replace(h, tier=tier_of(h, self._by_id.get(ids[(h.start, h.end, h.entity_type)]), text))
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
        return operators.replacement(value, entity_type, self.operator, self._salt)

    def redact_detail(
        self, text: str, lang: str | None, region: str | None = None, *, ner_results: list | None = None
    ) -> Redaction:
        """The redacted text with counts per type, counts per type and tier, and the hits (no values)."""
        hits, ner = self.find_detail(text, lang, region, ner_results=ner_results)
        return operators.apply(text, hits, self.operator, self._salt, ner)

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
