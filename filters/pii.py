"""PII detection and redaction with Presidio pattern recognizers and no NLP model (nothing downloads).

Generic recognizers (e-mail, IBAN, card, IP, phone) run for every language; Presidio's country recognizers are
enabled for the policy's countries. Overlapping hits are resolved deliberately: highest score, then longest span,
then entity name. Findings are reported as counts per entity type; raw values never leave this module.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from dataclasses import dataclass
from functools import cache

# Presidio's country packages → ISO 3166 codes
_COUNTRY_PACKAGES = {
    "australia": "AU", "canada": "CA", "finland": "FI", "germany": "DE", "india": "IN", "italy": "IT",
    "korea": "KR", "nigeria": "NG", "philippines": "PH", "poland": "PL", "singapore": "SG",
    "south_africa": "ZA", "spain": "ES", "sweden": "SE", "thai": "TH", "turkey": "TR", "uk": "GB", "us": "US",
}  # fmt: skip

_GENERIC = {
    "EMAIL_ADDRESS": "EmailRecognizer",
    "IBAN_CODE": "IbanRecognizer",
    "CREDIT_CARD": "CreditCardRecognizer",
    "IP_ADDRESS": "IpRecognizer",
    "PHONE_NUMBER": "PhoneRecognizer",
    "URL": "UrlRecognizer",
}

# Cheap pre-scan: every pattern entity Terroir redacts needs a digit or an "@"; text with neither is skipped.
_CANDIDATE = re.compile(r"[@\d]")


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
            if issubclass(cls, EntityRecognizer) and cls.__module__ == m.__name__ and cls.__name__.endswith("Recognizer"):
                found[cls.__name__] = cls
    return tuple(found[k] for k in sorted(found))


def supported_countries() -> tuple[str, ...]:
    return tuple(sorted(_COUNTRY_PACKAGES.values()))


@dataclass(frozen=True)
class PiiHit:
    start: int
    end: int
    entity_type: str
    score: float


class PiiRedactor:
    """`redact(text, lang)` → (redacted text, {entity type: count}). Replaces each hit by `<ENTITY_TYPE>`."""

    def __init__(
        self,
        languages: tuple[str, ...],
        entities: tuple[str, ...],
        countries: tuple[str, ...] = (),
        score_threshold: float = 0.5,
    ) -> None:
        from presidio_analyzer import AnalyzerEngine, RecognizerRegistry
        from presidio_analyzer import predefined_recognizers as pr
        from presidio_analyzer.nlp_engine import NoOpNlpEngine

        from filters.residency import offline_tldextract

        offline_tldextract()
        self.languages = tuple(sorted(set(languages) | {"en"}))
        self.score_threshold = score_threshold
        registry = RecognizerRegistry(supported_languages=list(self.languages))
        wanted = set(entities)
        for lang in self.languages:
            for entity, cls_name in _GENERIC.items():
                if entity in wanted:
                    registry.add_recognizer(getattr(pr, cls_name)(supported_language=lang))
            for country in countries:
                for cls in country_recognizer_classes(country):
                    try:
                        rec = cls(supported_language=lang)
                    except TypeError:
                        continue
                    registry.add_recognizer(rec)
                    wanted.update(rec.supported_entities)
        self.entities = tuple(sorted(wanted))
        nlp = NoOpNlpEngine(models=[{"lang_code": lang, "model_name": "none"} for lang in self.languages])
        nlp.load()
        self._engine = AnalyzerEngine(registry=registry, nlp_engine=nlp, supported_languages=list(self.languages))

    def find(self, text: str, lang: str | None) -> list[PiiHit]:
        if not _CANDIDATE.search(text):
            return []
        language = lang if lang in self.languages else "en"
        results = self._engine.analyze(
            text=text, language=language, entities=list(self.entities), score_threshold=self.score_threshold
        )
        hits = [PiiHit(r.start, r.end, r.entity_type, round(float(r.score), 4)) for r in results]
        return resolve_overlaps(hits)

    def redact(self, text: str, lang: str | None) -> tuple[str, dict[str, int]]:
        hits = self.find(text, lang)
        if not hits:
            return text, {}
        counts: dict[str, int] = {}
        out, pos = [], 0
        for h in hits:
            out.append(text[pos : h.start])
            out.append(f"<{h.entity_type}>")
            pos = h.end
            counts[h.entity_type] = counts.get(h.entity_type, 0) + 1
        out.append(text[pos:])
        return "".join(out), dict(sorted(counts.items()))


def resolve_overlaps(hits: list[PiiHit]) -> list[PiiHit]:
    """Non-overlapping hits in text order; on overlap the higher score, then the longer span, then the name wins."""
    chosen: list[PiiHit] = []
    for h in sorted(hits, key=lambda h: (-h.score, -(h.end - h.start), h.entity_type, h.start)):
        if all(h.end <= c.start or h.start >= c.end for c in chosen):
            chosen.append(h)
    return sorted(chosen, key=lambda h: h.start)
