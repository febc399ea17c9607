"""IBANs and payment-card numbers in any grouping, checked with python-stdnum.

Both read the shared scan (`filters.pii.recognizers.scan`), so neither runs a regex over the whole text:

- `IbanRecognizer` (IBAN_CODE): from each "iban" candidate (two letters, two digits, then letters and digits with up
  to two separators between any of them: "ES91 2100 0418 4502 0005 1332", "es9121000418 45020005 1332",
  "DE89-3704-0044-0532-0130-00", "NL91.ABNA.0417.1643.00"), the prefix of the country's IBAN length ending at a word
  boundary, when `stdnum.iban` accepts it (country format and mod-97 check digits). Score 1.0, "validated" tier.
- `CardRecognizer` (CREDIT_CARD): inside each "digits" candidate, the longest run of digit groups with 13-19 digits,
  an issuer prefix (1-6) and a valid Luhn check digit, whatever the grouping, with one separator (spaces or dashes,
  the same between all groups: "4111 1111 1111 1111", "4111-1111-1111-1111", "4111 - 1111 - 1111 - 1111",
  "3782 822463 10005", "4111111111111111"); a run joined to its
  neighbours by the separator used inside it is not cut out of a longer number. Score 1.0, "validated" tier.
"""

from __future__ import annotations

import re
from functools import cache

from presidio_analyzer import RecognizerResult

from filters.pii.recognizers.scan import ScanRecognizer, delimited, digit_groups, per_digit_cluster, scan, window

_IBAN_SEPARATORS = " \u00a0.-"
_CARD_SEPARATORS = frozenset(" \u00a0-")
_MIN_IBAN = 15


@cache
def iban_length(country: str) -> int | None:
    """The IBAN length of a country from stdnum's registry (None: no IBAN there)."""
    from stdnum import iban

    info = iban._ibandb.info(country.upper() + "00")
    bban = info[0][1].get("bban") if info else None
    return 4 + sum(int(n) for n in re.findall(r"\d+", bban)) if bban else None


class IbanRecognizer(ScanRecognizer):
    """IBAN_CODE with any grouping and case, validated by stdnum (country format and mod 97)."""

    ENTITY = "IBAN_CODE"

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        from stdnum import iban

        out = []
        for start, end in scan(text).of("iban"):
            lo, hi = window(text, start, end)
            ends = []  # (alphanumeric count, end offset) at each word boundary inside the candidate
            count = 0
            for i in range(lo, hi):
                ch = text[i]
                if ch.isalnum():
                    count += 1
                    if count >= _MIN_IBAN and (i + 1 >= len(text) or not text[i + 1].isalnum()):
                        ends.append((count, i + 1))
                elif ch not in _IBAN_SEPARATORS:
                    break
            length = iban_length(text[lo : lo + 2])
            for count, e in reversed(ends):
                if count == length and iban.is_valid("".join(c for c in text[lo:e] if c.isalnum())):
                    out.append(self.result(lo, e, 1.0))
                    break
        return out


def luhn_valid(digits: str) -> bool:
    from stdnum import luhn

    return luhn.is_valid(digits)


class CardRecognizer(ScanRecognizer):
    """CREDIT_CARD: 13-19 digits in any grouping with an issuer prefix and a valid Luhn check digit."""

    ENTITY = "CREDIT_CARD"

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        return per_digit_cluster(text, 13, self._cluster)

    def _cluster(self, text: str, start: int, end: int) -> list[RecognizerResult]:
        lo, hi = window(text, start, end)
        if (lo > 0 and (text[lo - 1].isalnum() or text[lo - 1] == "+")) or (hi < len(text) and text[hi].isalnum()):
            return []  # part of a word, or a phone number's international prefix
        groups = digit_groups(text, lo, hi)
        out, i = [], 0
        while i < len(groups):
            found = self._longest_from(text, groups, i)
            if found is None:
                i += 1
                continue
            j, s, e = found
            out.append(self.result(s, e, 1.0))
            i = j + 1
        return out

    @staticmethod
    def _longest_from(text: str, groups, i: int):
        digits, runs, first_gap = "", [], None
        for k in range(i, len(groups)):
            g0, g1 = groups[k]
            if k > i:
                gap = text[groups[k - 1][1] : g0]
                first_gap = gap if first_gap is None else first_gap
                if len(gap) > 3 or not set(gap) <= _CARD_SEPARATORS or gap != first_gap:
                    break  # one separator, the same between all groups
            digits += text[g0:g1]
            if len(digits) > 19:
                break
            runs.append((k, digits))
        for k, digits in reversed(runs):
            if len(digits) >= 13 and digits[0] in "123456" and luhn_valid(digits) and delimited(text, groups, i, k):
                return k, groups[i][0], groups[k][1]
        return None
