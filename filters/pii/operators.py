"""How a found span is replaced: a placeholder, a salted hash, or a mask (`pii.operator`).

- "placeholder": `<ENTITY_TYPE>` (the default);
- "hash": `<ENTITY_TYPE:16 hex digits>`, an HMAC-SHA256 of the normalized value keyed by a secret salt: the same
  value gives the same token across documents and runs, and cannot be reversed without the salt;
- "mask": every letter and digit replaced by "*", the value's length and punctuation kept.
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from dataclasses import dataclass, field

from filters.pii.policy import MIN_SALT_CHARS, OPERATORS
from filters.pii.resolve import PiiHit


@dataclass
class Redaction:
    """A redacted text with what was found: counts per entity type, counts per type and tier, the hits."""

    text: str
    counts: dict[str, int] = field(default_factory=dict)
    tiers: dict[str, dict[str, int]] = field(default_factory=dict)
    hits: list[PiiHit] = field(default_factory=list)
    ner: bool = False  # whether NER ran on this text


def check_operator(operator: str, salt: str | bytes | None) -> None:
    """ValueError (what to fix, never the salt) when the operator is unknown or "hash" lacks a long enough salt."""
    if operator not in OPERATORS:
        raise ValueError(f"unknown PII operator {operator!r}; allowed values are {list(OPERATORS)}")
    if operator == "hash":
        if not salt:
            raise ValueError("PII operator 'hash' needs a secret salt; none was given")
        if len(salt) < MIN_SALT_CHARS:
            raise ValueError(f"PII operator 'hash' needs a salt of at least {MIN_SALT_CHARS} characters")


def normalize(value: str) -> str:
    """The form a value is hashed in: NFKC, case-folded, without spaces and separators inside numbers.

    "4111 1111 1111 1111" and "4111-1111-1111-1111" give the same token; e-mail addresses keep their dots.
    """
    v = unicodedata.normalize("NFKC", value).casefold()
    if "@" in v:
        return "".join(v.split())
    return "".join(ch for ch in v if ch.isalnum())


def replacement(value: str, entity_type: str, operator: str, salt: bytes | None) -> str:
    """What `value` becomes under `operator` (`salt`: the secret of "hash")."""
    if operator == "hash":
        digest = hmac.new(salt, f"{entity_type}\x1f{normalize(value)}".encode(), hashlib.sha256)
        return f"<{entity_type}:{digest.hexdigest()[:16]}>"
    if operator == "mask":
        return "".join("*" if ch.isalnum() else ch for ch in value)
    return f"<{entity_type}>"


def apply(text: str, hits: list[PiiHit], operator: str, salt: bytes | None, ner: bool = False) -> Redaction:
    """`text` with every hit (non-overlapping, in text order) replaced, and the counts per type and per tier."""
    if not hits:
        return Redaction(text, ner=ner)
    counts: dict[str, int] = {}
    tiers: dict[str, dict[str, int]] = {}
    out, pos = [], 0
    for h in hits:
        out.append(text[pos : h.start])
        out.append(replacement(text[h.start : h.end], h.entity_type, operator, salt))
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
