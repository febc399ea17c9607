"""Recognizers for national identifiers Presidio lacks, declared as data and registered by ISO country code.

`identifiers.toml` holds one row per identifier (entity, country, languages, patterns with scores, context words,
the python-stdnum module or `checks.py` function that checks it, and how strong that check is); `table.py` reads it;
`recognizer.py` holds the one recognizer class a row builds (a Presidio `PatternRecognizer` reporting a confidence
tier: "validated" when the check passed, "pattern" otherwise); `registry.py` groups the rows by country. To add an
identifier, add a row (and a check function only where python-stdnum has none) and a valid and an invalid example
to `tests/test_national_ids.py`.
"""

from filters.national_ids.recognizer import PATTERN, VALIDATED, NationalId, NationalIdRecognizer
from filters.national_ids.registry import (
    NATIONAL_ID_RECOGNIZERS,
    SUPERSEDED_PRESIDIO,
    national_ids_of,
    national_languages,
)

__all__ = [
    "NATIONAL_ID_RECOGNIZERS",
    "PATTERN",
    "SUPERSEDED_PRESIDIO",
    "VALIDATED",
    "NationalId",
    "NationalIdRecognizer",
    "national_ids_of",
    "national_languages",
]
