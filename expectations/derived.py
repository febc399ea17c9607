"""Columns the gate derives from a shard before validating it, so that policy rules that no single built-in
expectation can state are still checked by built-in expectations with explicit arguments:

- `gate_region_matches_storage`: the row's residency region is the region of the storage the shard is in;
- `gate_language_admitted`: the language is in the policy's scope with a score at or above its minimum;
- `gate_residual_pii`: validated personal identifiers still present in the text (e-mail, IBAN with its mod-97
  check, payment card with its Luhn check, and the policy's validated national identifiers when available).
"""

from __future__ import annotations

import re

DERIVED_COLUMNS = ("gate_region_matches_storage", "gate_language_admitted", "gate_residual_pii")

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_CARD = re.compile(r"\b(?:\d[ -]?){12,18}\d\b")


def _luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def residual_pii(text: str, extra_finder=None) -> int:
    """Number of validated identifiers in `text` (raw values are never returned)."""
    from stdnum import iban

    # each scan runs only where it could match: an e-mail needs an "@", a card number 13 ASCII digits, an IBAN 2
    # (counting characters is some fifty times cheaper than a regex scan over the text)
    n = len(_EMAIL.findall(text)) if "@" in text else 0
    digits = sum(map(text.count, "0123456789"))
    if digits >= 2:
        n += sum(1 for m in _IBAN.finditer(text) if iban.is_valid(m.group(0)))
    if digits >= 13:
        n += sum(1 for m in _CARD.finditer(text) if 13 <= len(d := re.sub(r"\D", "", m.group(0))) <= 19 and _luhn_ok(d))
    if extra_finder is not None:
        n += extra_finder(text)
    return n


def add_gate_columns(df, storage_region: str, policy, extra_finder=None):
    """Return `df` with the derived columns appended (the shard file itself is never changed)."""
    df = df.copy()
    df["gate_region_matches_storage"] = df["residency_region"] == storage_region
    floors = policy.languages
    default = policy.default_min_lang_score

    def admitted(lang, score) -> bool:
        if lang is None or score is None:
            return False
        floor = floors.get(lang) if floors else default
        return floor is not None and score >= floor

    df["gate_language_admitted"] = [admitted(lang, s) for lang, s in zip(df["lang"], df["lang_score"])]
    df["gate_residual_pii"] = [residual_pii(t, extra_finder) for t in df["text"]]
    return df


def allowed_rights_statuses(policy) -> list[str]:
    out = ["allowed"]
    if policy.rights.reserved == "allow":
        out.append("reserved")
    if policy.rights.unknown == "allow":
        out.append("unknown")
    return out
