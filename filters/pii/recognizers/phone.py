"""Phone numbers in the national formats of the policy's countries, validated by libphonenumber.

`NationalPhoneRecognizer` reads the "digits" candidates of the shared scan (`filters.pii.recognizers.scan`): clusters of digit
groups joined by spaces, dots, dashes, slashes or parentheses. Inside a cluster it tries, from each group, the
longest run of groups with a digit count some region's numbering plan allows, and keeps it when libphonenumber
parses it to a valid number: for the document's region when one is given, else for any of the policy's countries;
a number written with "+" or "00" is parsed as international. Dates ("11/02/1970", "2016-05-28") and IP addresses
are never numbers.

Scores: a valid number with an international prefix scores 1.0 (it is unambiguous, and wins over a national
identifier whose checksum happens to pass on its digits); a number written as people write phone numbers (at least
two groups of two or more digits, grouped as libphonenumber's national format, or starting with the region's trunk
prefix where it has one, or else in groups of two and three digits: "612 345 678", "030 1234567", "06-12 34 56 78",
"212-555-0199") scores 0.6 and is redacted on its own; a bare digit run
("612345678") scores 0.4 and needs a context word just before it (`PHONE_CONTEXT`, in the policies' languages; the
context enhancer adds 0.35). Every hit is in the "validated" tier. Work per text: one look at each candidate and a
bounded number of parses per cluster (results are memoised per digit string and region).
"""

from __future__ import annotations

import re
from functools import cache, lru_cache

from presidio_analyzer import EntityRecognizer, RecognizerResult

from filters.national_ids.recognizer import VALIDATED
from filters.pii.recognizers.scan import delimited, per_digit_cluster, window

ENTITY = "PHONE_NUMBER"
# Presidio's phone context words are English only; a DPO expects "telefon" and "電話" to count as well. "number"
# alone is left out on purpose: it would lift order and invoice numbers.
PHONE_CONTEXT = (
    "phone", "telephone", "tel", "mobile", "cell", "call", "fax", "ph.",
    "telefon", "tlf", "mobil", "ring", "handy", "rufnummer", "puhelin", "puh", "gsm", "tfno", "telf", "tfn",
    "téléphone", "tél", "portable", "teléfono", "telefono", "móvil", "movil", "cellulare", "telefoon", "mobiel",
    "telemóvel", "telefone", "celular", "telefonu", "телефон", "τηλέφωνο", "電話", "携帯", "电话", "手机", "전화",
    "contacto", "contact", "kontakt", "llamar", "llame", "anrufen", "appeler", "chiamare", "bellen",
)  # fmt: skip
INTERNATIONAL_SCORE = 1.0  # "+49 1512 3456373" validated: wins over an ID checksum that happens to pass inside it
SHAPED_SCORE = 0.6
BARE_SCORE = 0.4
MAX_DIGITS = 17
_GROUP = re.compile(r"\d+")
_DATE = re.compile(r"\(?\d{1,2}([./-])\d{1,2}\1\d{2,4}\)?|\(?\d{4}([./-])\d{1,2}\2\d{1,2}\)?")
_IP = re.compile(r"\d{1,3}(?:\.\d{1,3}){3}")
_INTL = re.compile(r"\+(?:00(?!0))?|00(?!0)")  # "+0034 …" is written too


def _is_ip(candidate: str) -> bool:
    return bool(_IP.fullmatch(candidate)) and all(int(part) <= 255 for part in candidate.split("."))


@cache
def national_lengths(region: str) -> frozenset[int]:
    """Digit counts a national-format number of `region` can have (with and without its trunk prefix)."""
    from phonenumbers import PhoneMetadata

    md = PhoneMetadata.metadata_for_region(region)
    if md is None:
        return frozenset()
    lengths = {n for n in md.general_desc.possible_length if n > 0}
    prefix = len(md.national_prefix or "")
    return frozenset(lengths | {n + prefix for n in lengths})


@cache
def _shape(region: str) -> tuple[re.Pattern | None, str]:
    """(the region's national-number pattern, its trunk prefix): a cheap test before libphonenumber parses."""
    from phonenumbers import PhoneMetadata

    md = PhoneMetadata.metadata_for_region(region)
    if md is None or not md.general_desc.national_number_pattern:
        return None, ""
    return re.compile(md.general_desc.national_number_pattern), md.national_prefix or ""


def _could_be(digits: str, region: str) -> bool:
    """Whether the digits, with or without the region's trunk prefix, fit its numbering plan's shape."""
    pattern, trunk = _shape(region)
    if pattern is None:
        return True
    if pattern.fullmatch(digits):
        return True
    return bool(trunk) and digits.startswith(trunk) and bool(pattern.fullmatch(digits[len(trunk) :]))


@lru_cache(maxsize=65536)
def _valid(candidate: str, region: str | None) -> tuple[int, ...] | None:
    """None when `candidate` is no valid number for `region`; else the digit-group lengths of its national format."""
    import phonenumbers

    try:
        number = phonenumbers.parse(candidate, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    return tuple(len(g) for g in _GROUP.findall(national))


@cache
def _trunk_prefix(region: str) -> str:
    from phonenumbers import PhoneMetadata

    md = PhoneMetadata.metadata_for_region(region)
    return (md.national_prefix or "") if md is not None else ""


class NationalPhoneRecognizer(EntityRecognizer):
    """PHONE_NUMBER: valid numbers of `regions` (national or international format) among the scan's digit clusters."""

    def __init__(
        self,
        regions: tuple[str, ...],
        supported_language: str = "en",
        context: tuple[str, ...] = PHONE_CONTEXT,
        name: str | None = None,
    ) -> None:
        import phonenumbers

        self.regions = tuple(r for r in regions if r in phonenumbers.SUPPORTED_REGIONS)
        self._lengths = {r: national_lengths(r) for r in self.regions}
        self._any_length = frozenset().union(*self._lengths.values()) if self._lengths else frozenset()
        super().__init__(
            supported_entities=[ENTITY],
            name=name or "NationalPhoneRecognizer",
            supported_language=supported_language,
            context=list(context),
        )

    def load(self) -> None:  # nothing to load: libphonenumber's metadata is imported lazily
        pass

    def tier(self, value: str) -> str:
        return VALIDATED

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        if not self.regions:
            return []
        return per_digit_cluster(text, 5, self._cluster)

    def _cluster(self, text: str, start: int, end: int) -> list[RecognizerResult]:
        lo, hi = window(text, start, end)
        if (lo > 0 and text[lo - 1].isalnum()) or (hi < len(text) and text[hi].isalnum()):
            return []  # part of a word: a reference such as "A1234567" or "1234567B"
        groups = [m.span() for m in _GROUP.finditer(text, lo, hi)]
        out = []
        i = 0
        while i < len(groups):
            found = self._longest_from(text, groups, i, lo, hi)
            if found is None:
                i += 1
                continue
            j, s, e, score = found
            out.append(self._result(s, e, score))
            i = j + 1
        return out

    def _longest_from(self, text, groups, i, lo, hi):
        """(last group, start, end, score) of the longest valid number starting at group i, or None."""
        counts, total = [], 0
        for g0, g1 in groups[i:]:
            total += g1 - g0
            if total > MAX_DIGITS:
                break
            counts.append(total)
        s = groups[i][0]
        if s > lo and text[s - 1] in "+(":
            s -= 1
            if s > lo and text[s - 1] == "(" and text[s] == "+":
                s -= 1
        for k in range(len(counts) - 1, -1, -1):
            e = groups[i + k][1]
            if e < hi and text[e] == ")" and "(" in text[s:e]:
                e += 1
            candidate = text[s:e]
            if _DATE.fullmatch(candidate) or _is_ip(candidate):
                continue
            found = self._region_of(candidate, counts[k])
            if found is None:
                continue
            groups_used = groups[i : i + k + 1]
            if not delimited(text, groups, i, i + k):
                continue
            region, national = found
            return i + k, s, e, self._score(text, candidate, groups_used, region, national)
        return None

    def _region_of(self, candidate: str, digits: int) -> tuple[str, tuple[int, ...]] | None:
        """(region, national-format group lengths) of a valid reading of the candidate ("" for an international
        number), or None."""
        bare = candidate.lstrip("(")
        if _INTL.match(bare):
            international = "+" + bare.lstrip("+")[2:] if bare.lstrip("+").startswith("00") else bare
            found = _valid(international, None) if 8 <= digits <= MAX_DIGITS else None
            return None if found is None else ("", found)
        if digits not in self._any_length:
            return None
        plain = "".join(c for c in candidate if c.isdigit())
        for region in self.regions:
            if digits in self._lengths[region] and _could_be(plain, region):
                found = _valid(candidate, region)
                if found is not None:
                    return region, found
        return None

    @staticmethod
    def _score(text: str, candidate: str, groups, region: str, national: tuple[int, ...]) -> float:
        """0.6 when written as phone numbers are (see the module docstring), else 0.4."""
        if not region:
            return INTERNATIONAL_SCORE
        sizes = tuple(g1 - g0 for g0, g1 in groups)
        if len(sizes) < 2 or min(sizes) < 2:
            return BARE_SCORE
        if sizes == national:
            return SHAPED_SCORE  # libphonenumber's own national grouping
        trunk = _trunk_prefix(region)
        if trunk:  # numbers of the region are written with their trunk prefix ("030 …", "06 …", "0121 …")
            return SHAPED_SCORE if candidate.lstrip("(").startswith(trunk) else BARE_SCORE
        # no trunk prefix (ES, IT, DK…): the spoken groupings of two and three digits ("612 345 678", "91 234 56 78")
        return SHAPED_SCORE if max(sizes[1:]) <= 3 and sizes[0] <= 3 else BARE_SCORE

    def _result(self, start: int, end: int, score: float) -> RecognizerResult:
        return RecognizerResult(
            ENTITY,
            start,
            end,
            score,
            None,
            {
                RecognizerResult.RECOGNIZER_NAME_KEY: self.name,
                RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id,
            },
        )
