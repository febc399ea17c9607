"""Presidio recognizers Terroir runs in a corrected form (same entity, same check, a tighter pattern).

- `ItVatCodeRecognizer` (IT_VAT_CODE): Presidio's pattern takes any eleven digits with spaces or underscores between
  any of them ("0121 234 3030", "+39 02 1234 5678"), and its checksum passes on one in ten, so it reported phone
  numbers as VAT codes. A partita IVA is written as one run of eleven digits, with or without "IT" before it;
  only that shape is matched here. The checksum is Presidio's.
- `ZaMobileNumberRecognizer`, `ZaTelephoneNumberRecognizer` (ZA_MOBILE_NUMBER, ZA_TELEPHONE_NUMBER): Presidio runs
  libphonenumber's matcher over the whole text; here it runs only on the digit clusters of the shared scan
  (`filters.pii.recognizers.scan`) with at least nine digits, each with a few characters of context, so the work follows the
  numbers, not the text's length. Classification and scores are Presidio's; what is lost are "numbers" the stock
  matcher reads from letters (it reported "icilio: Calle" as a South African telephone number in a Spanish text).
"""

from __future__ import annotations

from presidio_analyzer import EntityRecognizer, Pattern
from presidio_analyzer.predefined_recognizers import ItVatCodeRecognizer as _PresidioItVat
from presidio_analyzer.predefined_recognizers import ZaMobileNumberRecognizer as _PresidioZaMobile
from presidio_analyzer.predefined_recognizers import ZaTelephoneNumberRecognizer as _PresidioZaTelephone

from filters.pii.recognizers.scan import scan, window

_MARGIN = 3  # characters of context the matcher sees on each side of a cluster


class ItVatCodeRecognizer(_PresidioItVat):
    """IT_VAT_CODE: eleven contiguous digits (optionally after "IT"), Presidio's checksum."""

    def __init__(self, supported_language: str = "it", **kwargs) -> None:
        pattern = Pattern("IT Vat code (piva), contiguous", r"(?<![\w+])(?:IT ?)?[0-9]{11}(?![\w])", 0.1)
        super().__init__(patterns=[pattern], supported_language=supported_language, **kwargs)


class _ScanWindowsZaPhone:
    """South African phone recognizers' analysis, run on the scan's digit clusters instead of the whole text."""

    def analyze(self, text: str, entities, nlp_artifacts=None):
        import phonenumbers
        from phonenumbers import PhoneNumberMatch

        results = []
        for start, end in scan(text).of("digits"):
            if sum(c.isdigit() for c in text[start:end]) < 9:
                continue  # a South African number has nine digits after its trunk prefix
            lo, hi = window(text, start - _MARGIN, end + _MARGIN)
            for match in phonenumbers.PhoneNumberMatcher(text[lo:hi], self.REGION, leniency=self.leniency):
                number = match.number
                if phonenumbers.region_code_for_number(number) != self.REGION:
                    continue
                if self._classify(number) != self.target_classification:
                    continue
                shifted = PhoneNumberMatch(match.start + lo, match.raw_string, number)
                results.append(self._get_recognizer_result(shifted, text, self.REGION, nlp_artifacts))
        return EntityRecognizer.remove_duplicates(results)


class ZaMobileNumberRecognizer(_ScanWindowsZaPhone, _PresidioZaMobile):
    """ZA_MOBILE_NUMBER on the scan's digit clusters."""


class ZaTelephoneNumberRecognizer(_ScanWindowsZaPhone, _PresidioZaTelephone):
    """ZA_TELEPHONE_NUMBER on the scan's digit clusters."""


#: Presidio class name → the class Terroir runs instead
REPLACEMENTS: dict[str, type] = {
    "ItVatCodeRecognizer": ItVatCodeRecognizer,
    "ZaMobileNumberRecognizer": ZaMobileNumberRecognizer,
    "ZaTelephoneNumberRecognizer": ZaTelephoneNumberRecognizer,
}
