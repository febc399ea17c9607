"""Overlapping findings resolved deliberately, and the confidence tier of each kept hit.

Recognizers overlap (a phone number can also pass the UK NHS mod-11 check): the higher score wins, then the longer
span, then the entity name, so the outcome never depends on the order recognizers ran in. Each kept hit carries a
tier: "validated" (a checksum, check letter or date passed, or libphonenumber validated the number), "pattern" (the
shape matched, nothing could be checked) or "ner".
"""

from __future__ import annotations

from dataclasses import dataclass

from filters.national_ids.recognizer import PATTERN, VALIDATED, NationalIdRecognizer

NER_TIER = "ner"


@dataclass(frozen=True)
class PiiHit:
    """One finding: offsets, entity type, score and confidence tier; never the value itself."""

    start: int
    end: int
    entity_type: str
    score: float
    tier: str = PATTERN


def resolve_overlaps(hits: list[PiiHit]) -> list[PiiHit]:
    """Non-overlapping hits in text order; on overlap the higher score, then the longer span, then the name wins."""
    chosen: list[PiiHit] = []
    for h in sorted(hits, key=lambda h: (-h.score, -(h.end - h.start), h.entity_type, h.start)):
        if all(h.end <= c.start or h.start >= c.end for c in chosen):
            chosen.append(h)
    return sorted(chosen, key=lambda h: h.start)


def tier_of(hit: PiiHit, rec, text: str) -> str:
    """The confidence tier of `hit`, found by recognizer `rec` in `text` (a failing check means "pattern")."""
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
