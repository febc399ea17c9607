"""Presidio recognizers Terroir runs in a corrected form (same entity, same check, a tighter pattern).

- `ItVatCodeRecognizer` (IT_VAT_CODE): Presidio's pattern takes any eleven digits with spaces or underscores between
  any of them ("0121 234 3030", "+39 02 1234 5678"), and its checksum passes on one in ten, so it reported phone
  numbers as VAT codes. A partita IVA is written as one run of eleven digits, with or without "IT" before it;
  only that shape is matched here. The checksum is Presidio's.
"""

from __future__ import annotations

from presidio_analyzer import Pattern
from presidio_analyzer.predefined_recognizers import ItVatCodeRecognizer as _PresidioItVat


class ItVatCodeRecognizer(_PresidioItVat):
    """IT_VAT_CODE: eleven contiguous digits (optionally after "IT"), Presidio's checksum."""

    def __init__(self, supported_language: str = "it", **kwargs) -> None:
        pattern = Pattern("IT Vat code (piva), contiguous", r"(?<![\w+])(?:IT ?)?[0-9]{11}(?![\w])", 0.1)
        super().__init__(patterns=[pattern], supported_language=supported_language, **kwargs)


#: Presidio class name → the class Terroir runs instead
REPLACEMENTS: dict[str, type] = {"ItVatCodeRecognizer": ItVatCodeRecognizer}
