"""Stock `PhoneRecognizer` on the fast path: libphonenumber's own matcher, skipping candidates too short to be valid.

Terroir's own phone numbers come from `filters.pii.recognizers.phone` (one shared scan, no per-region passes); this module serves
a policy or test that registers Presidio's `PhoneRecognizer` itself, with the same findings as stock Presidio. The
one difference: libphonenumber's matcher gives up after 65,535 rejected candidates per text, and skipped candidates
do not count towards that limit, so on such a text the fast path can only find more, never less.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from functools import cache

from presidio_analyzer import EntityRecognizer, RecognizerResult
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

_DIGIT_RUNS = re.compile(r"\d+")
_LETTER = re.compile(r"[^\W\d_]")


def _literal_digits(rule: str | None) -> int:
    """Digits a national-prefix transform rule adds: its digits that are not group references (\\1, $1)."""
    if not rule:
        return 0
    return sum(c.isdigit() for c in re.sub(r"[\\$]\d", "", rule))


@cache
def _phone_metadata():
    """(digits needed for a national-format number per region, digits needed for any international number)."""
    import phonenumbers
    from phonenumbers import PhoneMetadata

    def min_len(md) -> int:
        return min((n for n in md.general_desc.possible_length if n > 0), default=1)

    per_cc: dict[int, int] = {}
    for cc, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        if regions and regions[0] == "001":
            md = PhoneMetadata.metadata_for_nongeo_region(cc)
            per_cc[cc] = min_len(md) if md else 1
        else:
            lens = [min_len(md) for r in regions if (md := PhoneMetadata.metadata_for_region(r))]
            per_cc[cc] = min(lens, default=1)
    national: dict[str, int] = {}
    intl = 10**6
    for cc, regions in phonenumbers.COUNTRY_CODE_TO_REGION_CODE.items():
        main = PhoneMetadata.metadata_for_region(regions[0]) if regions and regions[0] != "001" else None
        added = _literal_digits(main.national_prefix_transform_rule) if main else 0
        intl = min(intl, per_cc[cc] - added + len(str(cc)))
        for r in regions:
            md = PhoneMetadata.metadata_for_region(r) if r != "001" else None
            if md is not None:
                national[r] = per_cc[cc] - _literal_digits(md.national_prefix_transform_rule)
    return national, max(1, intl)


@cache
def _idd(region: str):
    from phonenumbers import PhoneMetadata

    md = PhoneMetadata.metadata_for_region(region)
    return re.compile(md.international_prefix) if md is not None and md.international_prefix else None


def _phone_digits_needed(candidate: str, region: str | None) -> int:
    """Fewest digits `candidate` (or any part of it) must hold to parse to a valid number for `region`."""
    national, intl = _phone_metadata()
    needed = national.get(region) if region else None
    if needed is None or "+" in candidate or "\uff0b" in candidate or _LETTER.search(candidate):
        return intl  # a plus sign, or letters (vanity numbers, extensions): any country is possible
    idd = _idd(region)
    if idd is not None:
        runs = _DIGIT_RUNS.findall(candidate)
        digits = _ascii_digits("".join(runs))
        offset = 0
        for run in runs:  # an inner match starts at a digit run: any run may begin an international prefix
            if idd.match(digits, offset):
                return intl
            offset += len(run)
    return needed


def _ascii_digits(s: str) -> str:
    return "".join(str(unicodedata.digit(c)) for c in s)


_VERDICTS: dict[bytes, tuple[int, int] | None] = {}
_VERDICTS_MAX = 200_000


def _gated_matcher_class():
    from phonenumbers import PhoneNumber, PhoneNumberMatch, PhoneNumberMatcher

    blank = PhoneNumber()  # stands in for the parsed number, which the caller never reads

    class GatedPhoneNumberMatcher(PhoneNumberMatcher):
        """libphonenumber's matcher that rejects at once a candidate with too few digits to be valid, and
        remembers its verdict on a candidate in context (years and dates recur in every document)."""

        def _extract_match(self, candidate, offset):
            digitish = sum(1 for c in candidate if c.isdigit() or c.isalpha())
            if digitish < _phone_digits_needed(candidate, self.preferred_region):
                # fewer digits than the shortest valid number: stock Presidio would parse it and reject it
                return None
            # The verdict depends on the candidate, the region and leniency, the character before it and the
            # three after it (libphonenumber looks at nothing else). The key is a digest, so no value is kept.
            text, end = self.text, offset + len(candidate)
            context = f"{self.preferred_region}\x1f{self.leniency}\x1f{text[offset - 1] if offset else ''}\x1f"
            key = hashlib.blake2b(f"{context}{candidate}\x1f{text[end : end + 3]}".encode(), digest_size=16).digest()
            verdict = _VERDICTS.get(key, _UNKNOWN)
            if verdict is _UNKNOWN:
                found = super()._extract_match(candidate, offset)
                verdict = None if found is None else (found.start - offset, len(found.raw_string))
                if len(_VERDICTS) >= _VERDICTS_MAX:
                    _VERDICTS.clear()
                _VERDICTS[key] = verdict
            if verdict is None:
                return None
            start = offset + verdict[0]
            # only offsets are used by the caller: the parsed number is not kept, so no value is kept
            return PhoneNumberMatch(start, text[start : start + verdict[1]], blank)

    return GatedPhoneNumberMatcher


_UNKNOWN = object()
_GATED = None


@cache
def _phone_punctuation() -> frozenset[str]:
    from phonenumbers.phonenumberutil import _VALID_PUNCTUATION

    # the matcher compiles its pattern case-insensitively: "x" also stands for "X"
    return frozenset(_VALID_PUNCTUATION.replace("\\", "")) | {"X"}


def _max_cluster_digits(text: str, runs: list[tuple[int, int]]) -> int:
    """Most digits in a run of digit blocks joined by at most 4 phone punctuation characters (the only way a
    candidate joins blocks); "x"/"X" there also count, as a vanity number could read them as digits."""
    punct = _phone_punctuation()
    best = current = 0
    prev_end = -10
    for lo, hi in runs:
        gap = text[prev_end:lo] if lo - prev_end <= 4 else None
        if gap is not None and all(c in punct for c in gap):
            current += (hi - lo) + gap.count("x") + gap.count("X")
        else:
            current = hi - lo
        best = max(best, current)
        prev_end = hi
    return best


def phone_results(recognizer: PhoneRecognizer, text: str, index) -> list[RecognizerResult]:
    """What `PhoneRecognizer.analyze(text)` returns (minus explanations), without parsing hopeless candidates."""
    global _GATED
    runs = index.runs("digit")
    if not runs:
        return []
    national, intl = _phone_metadata()
    most = _max_cluster_digits(text, runs)
    regions = [r for r in recognizer.supported_regions if most >= min(national.get(r, intl), intl)]
    if not regions:
        return []
    if _GATED is None:
        _GATED = _gated_matcher_class()
    entity = recognizer.supported_entities[0]
    meta = {
        RecognizerResult.RECOGNIZER_NAME_KEY: recognizer.name,
        RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: recognizer.id,
    }
    results = []
    for region in regions:
        for match in _GATED(text, region, leniency=recognizer.leniency):
            results.append(RecognizerResult(entity, match.start, match.end, recognizer.SCORE, None, dict(meta)))
    return EntityRecognizer.remove_duplicates(results)
