"""Columns the gate derives from a shard before validating it, so that policy rules that no single built-in
expectation can state are still checked by built-in expectations with explicit arguments:

- `gate_region_matches_storage`: the row's residency region is the region of the storage the shard is in;
- `gate_language_admitted`: the language is in the policy's scope with a score at or above its minimum;
- `gate_residual_pii`: validated personal identifiers still present in the text (e-mail, IBAN with its mod-97
  check, payment card with its Luhn check, and the policy's validated national identifiers when available).

"Validated" means what the PII stage means by it, so that the gate never quarantines a shard for a string the
policy does not treat as personal data: an e-mail address needs a domain under a real public suffix (the offline
list the PII stage's e-mail recognizer checks: `x@host.anele` is not an address); a card number is grouped as cards
print it, starts with a card network's digit (2–6) and passes Luhn, and digits inside an IBAN-shaped token are judged
as an IBAN (mod 97), not as a card. Both were found at 100k and 1M benchmark documents, where perturbed near-duplicates carry reversed
addresses and IBANs with broken checksums whose digits pass Luhn by chance.
"""

from __future__ import annotations

import re

DERIVED_COLUMNS = ("gate_region_matches_storage", "gate_language_admitted", "gate_residual_pii")

_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
# a card number as cards print it: a 4-digit first group from a card network (2-6), then three groups of 3-5 digits,
# each separator one space or hyphen at most (an 18-digit run grouped 4-4-4-4-2 is not a card)
_CARD = re.compile(r"\b[2-6]\d{3}[ -]?\d{3,4}[ -]?\d{3,4}[ -]?\d{3,5}\b")


def _has_public_suffix(address: str) -> bool:
    """The e-mail recognizer's rule: the address's domain ends in a real public suffix (offline list)."""
    from filters.residency import _tld_extractor

    return _tld_extractor()(address).fqdn != ""


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
    n = sum(1 for e in _EMAIL.findall(text) if _has_public_suffix(e)) if "@" in text else 0
    digits = sum(map(text.count, "0123456789"))
    ibans: list[tuple[int, int]] = []
    if digits >= 2:
        for m in _IBAN.finditer(text):
            ibans.append(m.span())
            n += iban.is_valid(m.group(0))
    if digits >= 13:
        for m in _CARD.finditer(text):
            d = re.sub(r"\D", "", m.group(0))
            if not 13 <= len(d) <= 19 or not _luhn_ok(d):
                continue
            if any(a <= m.start() and m.end() <= b for a, b in ibans):
                continue  # the digits of an IBAN-shaped token: its mod-97 check above decides
            n += 1
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
