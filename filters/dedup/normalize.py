"""Text normalisation before shingling: two transcriptions of one book differ in case, punctuation and spacing far
more than in words (`„Ja“, sagte er.` / `"Ja," sagte er`; long s, ligatures, line breaks), and raw character
shingles see every one of those differences.

`normalize_for_shingles` folds them away: Unicode compatibility forms (NFKC: `ſ` → `s`, `ﬁ` → `fi`, full-width
forms), case (`casefold`: also `ß` → `ss`), soft hyphens and other format characters removed, every run of
punctuation, symbols and whitespace becomes one space, leading and trailing space dropped. It is applied to the text
before hashing (`MinHasher(normalize=True)`) and before verification (`shingle_strings(..., normalize=True)`), the
same on the CPU and GPU backends, so the MinHash kernels themselves stay bit for bit cuDF's.

The `spelling` level (`dedup.fuzzy.normalize: spelling`) also folds what two editions of one 19th-century German
text differ in after that, as measured on the Grimm tales of 1857 against a modernised edition (docs/dedup.md):
apostrophes inside a word are dropped rather than made word breaks (`bist's` = `bists`), and the spellings of the
1901 reform are folded to one form (`th` → `t`: `Thür`/`Tür`, `Rath`/`Rat`, `Urtheil`/`Urteil`; `ieng` → `ing`:
`fieng`/`fing`; `ey` → `ei`: `seyn`/`sein`). The folds are plain string rewrites applied to every text alike, so
identical texts stay identical and a word of another language is only rewritten the same way in both texts.
"""

from __future__ import annotations

import unicodedata

import regex

_FORMAT = regex.compile(r"\p{Cf}+")  # soft hyphen, zero-width joiners, BOM: not word breaks, just dropped
_SEPARATORS = regex.compile(r"[\p{P}\p{S}\p{Z}\s\p{Cc}]+")
_APOSTROPHE = regex.compile(r"(?<=\p{L})['’ʼ](?=\p{L})")  # sag's / sags, o'clock / oclock
# old German spellings and their 1901 forms, on the folded (lowercase) text
_SPELLINGS = (("th", "t"), ("ieng", "ing"), ("ey", "ei"))

LEVELS = ("none", "basic", "spelling")


def normalize_level(value: object) -> str:
    """The normalisation level a policy or caller value names: False/None → `none`, True → `basic`, or one of
    `LEVELS` by name; anything else raises ValueError naming the accepted values."""
    if value is None or value is False:
        return "none"
    if value is True:
        return "basic"
    if isinstance(value, str) and value in LEVELS:
        return value
    raise ValueError(f"normalize must be true, false or one of {LEVELS}, got {value!r}")


def normalize_for_shingles(text: str, level: object = "basic") -> str:
    """`text` folded for near-duplicate detection (see the module docstring); words keep their letters and digits.
    `level` is `basic` (True) or `spelling`; `none` (False) returns the text unchanged."""
    level = normalize_level(level)
    if level == "none":
        return text
    text = unicodedata.normalize("NFKC", text).casefold()
    text = _FORMAT.sub("", text)
    if level == "spelling":
        text = _APOSTROPHE.sub("", text)
    text = _SEPARATORS.sub(" ", text, concurrent=False).strip()
    if level == "spelling":
        for old, new in _SPELLINGS:
            text = text.replace(old, new)
    return text
