"""Personal data in the strings around a document, not only in its text: URLs (`?mail=…`, `/user/…@…`), record
locators (a dump's id field), input file names. Every published string field goes through the policy's PII redactor.

A string is cut at the separators of URLs and paths (`/ ? & = # ; , :`), each piece is percent-decoded and, when it
could hold an identifier (an `@`, six or more digits, an IPv4 address), redacted with the policy's operator. Pieces
repeat a lot (hosts, folders): results are cached.

Input paths must stay unique and usable: a path component holding personal data becomes `redacted-<digest>` plus its
file suffix, where the digest is keyed by the policy's PII salt (or, without one, the policy's hash), so the same
file gets the same name in every run and two files never share one.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from functools import lru_cache
from urllib.parse import unquote_plus

_SEPARATORS = re.compile(r"([/?&=#;,:])")
_IPV4 = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_SUFFIXES = (".warc.gz", ".arc.gz", ".wet.gz", ".wat.gz", ".jsonl.gz", ".json.gz", ".warc", ".arc", ".jsonl",
             ".ndjson", ".parquet", ".xml", ".gz", ".txt", ".html")  # fmt: skip


def could_hold_pii(piece: str) -> bool:
    """Cheap test before the redactor: identifiers the policy redacts need an @, digits or an IP address."""
    if "@" in piece:
        return True
    digits = sum(map(piece.count, "0123456789"))
    return digits >= 6 or (digits >= 4 and _IPV4.search(piece) is not None)


class MetadataScrubber:
    """`text(s)`: `s` with personal data in any of its pieces redacted; `path(rel)`: an input path with every component
    that holds personal data renamed. `redactor` is a `filters.pii.engine.PiiRedactor` (anything with `redact(text, lang)`)
    built lazily by `make_redactor` the first time a piece needs it, so clean metadata costs no Presidio start."""

    def __init__(self, make_redactor, key: bytes, cache_size: int = 65536) -> None:
        self._make_redactor = make_redactor
        self._redactor = None
        self._key = key
        self._piece = lru_cache(maxsize=cache_size)(self._scrub_piece)

    def _scrub_piece(self, piece: str) -> str:
        decoded = unquote_plus(piece)
        if not could_hold_pii(decoded):
            return piece
        if self._redactor is None:
            self._redactor = self._make_redactor()
        redacted, counts = self._redactor.redact(decoded, None)
        return redacted if counts else piece

    def text(self, value: str | None) -> str | None:
        if not value or not could_hold_pii(unquote_plus(value)):
            return value
        return "".join(self._piece(p) if i % 2 == 0 else p for i, p in enumerate(_SEPARATORS.split(value)))

    def path(self, rel: str) -> str:
        parts = rel.split("/")
        out = []
        for part in parts:
            suffix = next((s for s in _SUFFIXES if part.lower().endswith(s)), "")
            stem = part[: len(part) - len(suffix)]
            if self.text(part) == part and self.text(stem) == stem:  # `name@host.se.jsonl`: the stem is the address
                out.append(part)
                continue
            digest = hmac.new(self._key, part.encode("utf-8", "surrogatepass"), hashlib.sha256).hexdigest()[:12]
            out.append(f"redacted-{digest}{suffix}")
        return "/".join(out)


def metadata_key(policy, environ=None) -> bytes:
    """The key of renamed path components: the policy's PII salt when set, else the policy file's hash."""
    import os

    environ = os.environ if environ is None else environ
    return (environ.get(policy.pii_salt_env) or policy.sha256 or policy.policy_id).encode()


def scrubber_for(policy, environ=None) -> MetadataScrubber:
    """The metadata scrubber of a policy: its PII entities and countries, its operator and salt."""
    import os

    salt = (os.environ if environ is None else environ).get(policy.pii_salt_env)

    def make():
        from filters.pii.engine import PiiRedactor

        return PiiRedactor(tuple(policy.languages) or ("en",), policy.pii_entities, policy.pii_countries,
                           policy.pii_score_threshold, operator=policy.pii_operator,
                           salt=salt if policy.pii_operator == "hash" else None)  # fmt: skip

    return MetadataScrubber(make, metadata_key(policy, environ))
