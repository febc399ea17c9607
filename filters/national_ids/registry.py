"""Which national-identifier rows a policy's `pii.countries` enables, by ISO code (built from the table)."""

from __future__ import annotations

from filters.national_ids.recognizer import NationalId
from filters.national_ids.table import NATIONAL_IDS


def _by_country(rows: tuple[NationalId, ...]) -> dict[str, tuple[NationalId, ...]]:
    found: dict[str, list[NationalId]] = {}
    for row in rows:
        found.setdefault(row.country, []).append(row)
    return {country: tuple(found[country]) for country in sorted(found)}


#: ISO 3166-1 alpha-2 code → the rows of its identifiers (call a row with `supported_language=` for a recognizer)
NATIONAL_ID_RECOGNIZERS: dict[str, tuple[NationalId, ...]] = _by_country(NATIONAL_IDS)

#: Presidio recognizers that a Terroir recognizer supersedes for the same entity (Presidio's Singapore recognizer
#: matches the NRIC/FIN shape without its check letter; ours checks it).
SUPERSEDED_PRESIDIO: dict[str, frozenset[str]] = {"SG": frozenset({"SgFinRecognizer"})}


def national_ids_of(country: str) -> tuple[NationalId, ...]:
    """Terroir's identifier rows for one ISO 3166-1 alpha-2 code (empty when there are none)."""
    return NATIONAL_ID_RECOGNIZERS.get(country, ())


def national_languages(country: str) -> tuple[str, ...]:
    """The national language codes declared by the country's identifiers (empty when none are registered)."""
    seen: dict[str, None] = {}
    for row in national_ids_of(country):
        seen.update(dict.fromkeys(row.languages))
    return tuple(seen)
