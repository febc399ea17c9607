"""One recognizer class for every national identifier, built from one row of the identifier table.

A row (`NationalId`, loaded from `identifiers.toml` by `filters.national_ids.table`) declares:

- `patterns`: (name, regex, score), each wrapped in the shared boundaries below. A pattern with the identifier's
  usual separators or a distinctive shape scores 0.5 (redacted at the default threshold); a bare digit run scores
  lower, so it needs a context word (+0.35) or a passing strong check before it is redacted.
- `context`: words in the national language(s) and English that make a nearby number more likely to be the
  identifier (matched as lower-case substrings of the words just before the hit, so inflected forms count).
- the check: python-stdnum's `is_valid` for the row's `stdnum` module, or a small function of
  `filters.national_ids.checks` (`check`) where python-stdnum has none. True when the check digits / encoded date
  pass, False when they fail, None when the identifier has no check that can fail (the hit stays a pattern hit).
- `strong_check`: whether a passing check is evidence enough on its own (two check digits, a check digit over an
  encoded birth date, a check letter over a distinctive shape). A weak check (a date alone, one mod-11 digit over a
  short digit run) only stops invalid values; the pattern score and context decide. `strength`, when set, names a
  function that decides it per value instead.

A recognizer is a Presidio `PatternRecognizer`, so stock Presidio runs it unchanged. `validate_result` follows
Presidio's contract (True: score 1.0; False: dropped; None: pattern score stands). `tier(value)` names the
confidence tier Terroir reports: "validated" when the check passed, else "pattern". Checks never raise and never
log: a value that cannot be checked is simply not validated.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from dataclasses import dataclass

import regex
from presidio_analyzer import Pattern, PatternRecognizer

VALIDATED = "validated"
PATTERN = "pattern"

# Boundaries shared by the patterns: not glued to a Latin letter or digit, and not a slice of a longer grouped
# number ("4111 1111 1111 1111" must not yield a 12-digit My Number). Only Latin letters count: Japanese and Chinese
# write identifiers right after a word ("マイナンバーは123456789012"). Lookbehinds are fixed-width on purpose: the
# prescan in filters/pii/prescan.py measures each pattern's width from its parse tree.
START = r"(?<![\dA-Za-z\u00c0-\u024f+\-/])(?<!\d[ .,])"
END = r"(?![\dA-Za-z\u00c0-\u024f\-/])(?![ .,]\d)"
# Case-sensitive on purpose: letters in identifiers are upper case, and "s1234567d" in running text is rarer than the
# false positives a case-insensitive letter class would bring.
FLAGS = regex.DOTALL | regex.MULTILINE


def bounded(body: str) -> str:
    """`body` wrapped in the shared start and end boundaries."""
    return START + body + END


@dataclass(frozen=True)
class NationalId:
    """One identifier: what it is, where it is used, how it is written and checked (see the module docstring).

    Calling a row with `supported_language=` builds its recognizer, as calling a Presidio recognizer class does.
    """

    entity: str
    country: str  # ISO 3166-1 alpha-2, upper case (the policy's spelling)
    languages: tuple[str, ...]  # national language(s); English is always added by the registry
    patterns: tuple[tuple[str, str, float], ...]  # (name, regex with boundaries, score)
    context: tuple[str, ...]
    about: str  # what the identifier is, in one sentence
    stdnum: str | None = None  # python-stdnum module, e.g. "no.fodselsnummer"
    check: Callable[[str], bool | None] | None = None  # used instead of `stdnum` where set
    strong_check: bool = True
    strength: Callable[[str], bool] | None = None  # per-value strength rule, overrides `strong_check`

    def __call__(self, supported_language: str = "en", name: str | None = None) -> NationalIdRecognizer:
        return NationalIdRecognizer(self, supported_language=supported_language, name=name)


class NationalIdRecognizer(PatternRecognizer):
    """A national identifier's recognizer: the patterns, context words and check of one `NationalId` row."""

    def __init__(self, row: NationalId, supported_language: str = "en", name: str | None = None) -> None:
        self.row = row
        self.COUNTRY_CODE = row.country.lower()  # Presidio's country tag
        self._check = row.check or _stdnum_check(row.stdnum)
        super().__init__(
            supported_entity=row.entity,
            name=name or f"NationalId:{row.entity}",
            supported_language=supported_language,
            patterns=[Pattern(n, r, s) for n, r, s in row.patterns],
            context=list(row.context),
            global_regex_flags=FLAGS,
        )

    def is_strong(self, value: str) -> bool:
        """Whether a passing check on this value is enough to redact it without context (see module docstring)."""
        strength = self.row.strength
        return strength(value) if strength is not None else self.row.strong_check

    def _safe_check(self, value: str) -> bool | None:
        try:
            return self._check(value)
        except Exception:  # noqa: BLE001 - a check must never raise: its message could carry the value
            return False

    def validate_result(self, pattern_text: str) -> bool | None:
        ok = self._safe_check(pattern_text)
        if ok is False:
            return False
        if ok and self.is_strong(pattern_text):
            return True
        return None

    def tier(self, value: str) -> str:
        """The confidence tier: "validated" when the value's check passes, else "pattern"."""
        return VALIDATED if self._safe_check(value) else PATTERN


_STDNUM_CHECKS: dict[str, Callable[[str], bool]] = {}


def _stdnum_check(module: str | None) -> Callable[[str], bool]:
    """python-stdnum's `is_valid` of `module`, as a check returning a plain bool (imported once, on first use)."""
    if module is None:
        raise ValueError("a national-identifier row needs a python-stdnum module or a check function")
    check = _STDNUM_CHECKS.get(module)
    if check is None:
        is_valid = importlib.import_module(f"stdnum.{module}").is_valid
        check = _STDNUM_CHECKS[module] = lambda value: bool(is_valid(value))
    return check
