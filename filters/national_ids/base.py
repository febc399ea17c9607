"""The one shape every national-identifier recognizer has: patterns, context words, a check, a confidence tier.

A recognizer is a Presidio `PatternRecognizer`, so stock Presidio runs it unchanged; what Terroir adds is declared on
the class:

- `PATTERNS`: (name, regex, score). A pattern with the identifier's usual separators or a distinctive shape scores
  0.5 (redacted at the default threshold); a bare digit run scores lower, so it needs a context word (+0.35) or a
  passing strong check before it is redacted.
- `CONTEXT`: words in the national language(s) and English that make a nearby number more likely to be the
  identifier (matched as lower-case substrings of the words just before the hit, so inflected forms count).
- `check(value)`: True when the check digits / encoded date pass, False when they fail, None when the identifier
  has no check that can fail (the hit then stays a pattern hit).
- `STRONG_CHECK`: whether a passing check is evidence enough on its own (two check digits, a check digit over an
  encoded birth date, a check letter over a distinctive shape). A weak check (a date alone, one mod-11 digit over a
  short digit run) only stops invalid values; the pattern score and context decide.

`validate_result` follows Presidio's contract (True: score 1.0; False: dropped; None: pattern score stands).
`tier(value)` names the confidence tier Terroir reports: "validated" when the check passed, else "pattern".
Checks never raise and never log: a value that cannot be checked is simply not validated.
"""

from __future__ import annotations

from typing import ClassVar

import regex
from presidio_analyzer import Pattern, PatternRecognizer

VALIDATED = "validated"
PATTERN = "pattern"

# Boundaries shared by the patterns: not glued to a Latin letter or digit, and not a slice of a longer grouped
# number ("4111 1111 1111 1111" must not yield a 12-digit My Number). Only Latin letters count: Japanese and Chinese
# write identifiers right after a word ("マイナンバーは123456789012"). Lookbehinds are fixed-width on purpose: the
# prescan in filters/pii_engine.py measures each pattern's width from its parse tree.
START = r"(?<![\dA-Za-z\u00c0-\u024f+\-/])(?<!\d[ .,])"
END = r"(?![\dA-Za-z\u00c0-\u024f\-/])(?![ .,]\d)"


def bounded(body: str) -> str:
    """`body` wrapped in the shared start and end boundaries."""
    return START + body + END


class NationalIdRecognizer(PatternRecognizer):
    """Base class: subclasses declare ENTITY, COUNTRY, LANGUAGES, PATTERNS, CONTEXT and implement `check`."""

    ENTITY: ClassVar[str]
    COUNTRY: ClassVar[str]  # ISO 3166-1 alpha-2, upper case (the policy's spelling)
    LANGUAGES: ClassVar[tuple[str, ...]]  # national language(s); English is always added by the registry
    PATTERNS: ClassVar[tuple[tuple[str, str, float], ...]]
    CONTEXT: ClassVar[tuple[str, ...]]
    STRONG_CHECK: ClassVar[bool] = True
    # Case-sensitive on purpose: letters in identifiers are upper case, and "s1234567d" in running text is rarer
    # than the false positives a case-insensitive letter class would bring.
    FLAGS: ClassVar[int] = regex.DOTALL | regex.MULTILINE

    def __init_subclass__(cls, **kwargs) -> None:
        super().__init_subclass__(**kwargs)
        if "COUNTRY" in cls.__dict__:
            cls.COUNTRY_CODE = cls.COUNTRY.lower()

    def __init__(self, supported_language: str = "en", name: str | None = None) -> None:
        super().__init__(
            supported_entity=self.ENTITY,
            name=name,
            supported_language=supported_language,
            patterns=[Pattern(n, r, s) for n, r, s in self.PATTERNS],
            context=list(self.CONTEXT),
            global_regex_flags=self.FLAGS,
        )

    def check(self, value: str) -> bool | None:
        """True: the value's check passes; False: it fails; None: the identifier has no failing check."""
        raise NotImplementedError

    def is_strong(self, value: str) -> bool:
        """Whether a passing check on this value is enough to redact it without context (see module docstring)."""
        return self.STRONG_CHECK

    def _safe_check(self, value: str) -> bool | None:
        try:
            return self.check(value)
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


class StdnumRecognizer(NationalIdRecognizer):
    """A recognizer whose check is python-stdnum's `is_valid` for one module (`STDNUM`, e.g. "no.fodselsnummer")."""

    STDNUM: ClassVar[str]

    def check(self, value: str) -> bool | None:
        return bool(_stdnum(self.STDNUM).is_valid(value))


_MODULES: dict[str, object] = {}


def _stdnum(name: str):
    mod = _MODULES.get(name)
    if mod is None:
        import importlib

        mod = _MODULES[name] = importlib.import_module(f"stdnum.{name}")
    return mod
