"""Text normalisation before shingling: two transcriptions of one book differ in case, punctuation and spacing far
more than in words (`„Ja“, sagte er.` / `"Ja," sagte er`; long s, ligatures, line breaks), and raw character
shingles see every one of those differences.

`normalize_for_shingles` folds them away: Unicode compatibility forms (NFKC: `ſ` → `s`, `ﬁ` → `fi`, full-width
forms), case (`casefold`: also `ß` → `ss`), soft hyphens and other format characters removed, every run of
punctuation, symbols and whitespace becomes one space, leading and trailing space dropped. It is applied to the text
before hashing (`MinHasher(normalize=True)`) and before verification (`shingle_strings(..., normalize=True)`), the
same on the CPU and GPU backends, so the MinHash kernels themselves stay bit for bit cuDF's.
"""

from __future__ import annotations

import unicodedata

import regex

_FORMAT = regex.compile(r"\p{Cf}+")  # soft hyphen, zero-width joiners, BOM: not word breaks, just dropped
_SEPARATORS = regex.compile(r"[\p{P}\p{S}\p{Z}\s\p{Cc}]+")


def normalize_for_shingles(text: str) -> str:
    """`text` folded for near-duplicate detection (see the module docstring); words keep their letters and digits."""
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _FORMAT.sub("", text)
    return _SEPARATORS.sub(" ", text, concurrent=False).strip()
