"""Recognizers for national identifiers Presidio lacks, registered by ISO country code.

Each recognizer is a Presidio `PatternRecognizer` (patterns, context words in the national language(s) and English,
`validate_result` delegating the check to python-stdnum or to a small documented implementation) and reports a
confidence tier: "validated" when the check passed, "pattern" otherwise. See `base.py` for the scoring rules and
`registry.py` for the country table.
"""

from filters.national_ids.base import PATTERN, VALIDATED, NationalIdRecognizer, StdnumRecognizer
from filters.national_ids.registry import (
    NATIONAL_ID_RECOGNIZERS,
    SUPERSEDED_PRESIDIO,
    national_id_recognizer_classes,
    national_languages,
)

__all__ = [
    "NATIONAL_ID_RECOGNIZERS",
    "PATTERN",
    "SUPERSEDED_PRESIDIO",
    "VALIDATED",
    "NationalIdRecognizer",
    "StdnumRecognizer",
    "national_id_recognizer_classes",
    "national_languages",
]
