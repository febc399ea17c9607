"""The identifier table: `identifiers.toml` (data, one row per identifier) read into `NationalId` rows.

Reading fails loudly on a malformed row (an unknown field, check or strength rule, a row with neither a
python-stdnum module nor a check function): the table ships with the code, so such an error is a bug, not input.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from filters.national_ids.checks import CHECKS, STRENGTH_RULES
from filters.national_ids.recognizer import NationalId, bounded

TABLE = Path(__file__).with_name("identifiers.toml")
_FIELDS = {"entity", "country", "languages", "about", "stdnum", "check", "strong_check", "strength", "context",
           "patterns"}  # fmt: skip


def _row(spec: dict) -> NationalId:
    unknown = set(spec) - _FIELDS
    if unknown:
        raise ValueError(f"{TABLE.name}: {spec.get('entity')}: unknown fields {sorted(unknown)}")
    if ("stdnum" in spec) == ("check" in spec):
        raise ValueError(f"{TABLE.name}: {spec.get('entity')}: give exactly one of 'stdnum' and 'check'")
    return NationalId(
        entity=spec["entity"],
        country=spec["country"],
        languages=tuple(spec["languages"]),
        patterns=tuple((p["name"], bounded(p["regex"]), float(p["score"])) for p in spec["patterns"]),
        context=tuple(spec["context"]),
        about=spec["about"],
        stdnum=spec.get("stdnum"),
        check=CHECKS[spec["check"]] if "check" in spec else None,
        strong_check=bool(spec.get("strong_check", True)),
        strength=STRENGTH_RULES[spec["strength"]] if "strength" in spec else None,
    )


def load_table(path: Path = TABLE) -> tuple[NationalId, ...]:
    """Every row of the table, in file order."""
    with path.open("rb") as f:
        return tuple(_row(spec) for spec in tomllib.load(f)["identifier"])


NATIONAL_IDS: tuple[NationalId, ...] = load_table()
