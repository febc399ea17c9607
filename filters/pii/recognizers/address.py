"""Postal addresses and postcodes of the policies' countries, found from the shared scan's candidates.

`StreetAddressRecognizer` (STREET_ADDRESS) finds a street with its house number, written three ways:

- street type first, then a capitalised name and a number or "s/n" ("Calle de la Fuente 96, 8B", "Avda. Gaspar
  Aguilar, 90", "C/ Pitis, 23, 4 C", "Paseo de Barranco de la Ballena, s/n", "Via Roma 12", "ul. Długa 5"),
  from the scan's "street" candidates;
- a name ending in a street suffix, then the number ("Hauptstraße 5", "Berliner Str. 12", "Kalverstraat 92",
  "Drottninggatan 3", "Mannerheimintie 12", "Nørregade 7"), from the house number's "digits" candidate;
- the number first ("221B Baker Street", "12, rue de la Paix"), also from the number's candidate;
- a capitalised name and a number that a postcode and place follow ("Doctor Esquerdo, 46, 28007 Madrid");
- the rest of the line after an address label ("Domicilio: Paseo de las palmeras.", "Anschrift: …").

Floor and door details after the number ("4 C", "5º A", "1F", "bajo") are included. Score 0.7, "pattern" tier.

`PostcodeRecognizer` (POSTCODE) finds a postcode in the shapes of the policies' countries (5 digits: ES, DE, FR,
IT, FI…; "1012 AB" NL; "114 55" SE; "1000-001" PT; "00-950" PL; 4 digits: AT, BE, CH, DK, NO…; British "SW1A 1AA"
and Canadian "K1A 0B1") when a cue comes just before it ("CP: 46271", "C.P. 28023", "PLZ 10115") or a place name
just after it ("46017 Valencia", "28034, Madrid", "114 55 Stockholm"); British and Canadian shapes are distinctive
enough on their own. A four-digit postcode without a cue must start an address line or follow a comma, and one
that could be a year (1900-2039) needs a cue; six digits (IN, CO, SG…) need a cue. Score 0.6, "pattern" tier.
"""

from __future__ import annotations

import re

from presidio_analyzer import RecognizerResult

from filters.national_ids.recognizer import PATTERN
from filters.pii.recognizers.scan import ScanRecognizer, digit_groups, scan, window

STREET_ENTITY = "STREET_ADDRESS"
POSTCODE_ENTITY = "POSTCODE"
STREET_SCORE = 0.7
POSTCODE_SCORE = 0.6

_STREET_SUFFIXES = (
    "straße", "strasse", "str.", "gasse", "weg", "allee", "platz", "ring", "damm", "ufer", "chaussee",
    "straat", "laan", "gracht", "plein", "singel", "kade", "dijk",
    "gatan", "vägen", "gata", "väg", "torget", "gränd", "katu", "tie", "kuja", "polku", "vej", "gade", "veien",
    "gaten", "vegen",
)  # fmt: skip
_EN_STREET_TYPES = (
    "Street", "St", "Road", "Rd", "Avenue", "Ave", "Lane", "Ln", "Drive", "Dr", "Close", "Way", "Place", "Pl",
    "Court", "Ct", "Terrace", "Crescent", "Boulevard", "Blvd", "Square", "Sq", "Gardens", "Grove", "Row", "Hill",
)  # fmt: skip
_FR_STREET_TYPES = ("rue", "avenue", "av.", "boulevard", "bd", "allée", "chemin", "impasse", "place", "quai", "route",
                    "cours", "passage", "via", "viale", "piazza", "corso")  # fmt: skip
_CONNECTORS = (
    r"(?:de|del|de la|de las|de los|dels|de l'|d'|da|do|dos|das|di|della|delle|dei|des|du|la|le|los|las|el|y|i|e)"
)


_CONNECTOR_WORDS = frozenset(_CONNECTORS.strip("(?:)").replace(" ", "|").split("|"))


def _alt(words) -> str:
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))


_NAME = r"[^\W\d_][\w'’.\-]*"
_CAP_NAME = r"(?:[A-ZÀ-ÖØ-ÞĀ-Ž\d][\w'’.\-]*)"
_NUMBER = (
    r"(?:n[º°o]\.?\s*|no\.?\s*|nr\.?\s*|núm\.?\s*|#\s?)?"
    # a house number, not a decimal or a ratio ("0,1 en", "20/20")
    r"(?:\d{1,4}(?!,\d{1,2}(?:[\s,.;)]|$)|\.\d|/\d)(?:\s?[a-zA-Z](?!\w))?|s/n|s\.n\.|km\.?\s?\d{1,3}(?:[,.]\d{3})?)"
)
_DETAIL = (
    r"(?:[,.]?\s?(?:\d{1,2}\s?[º°ª]?\s?[A-Za-z]?|[A-Z]|bajo|piso|puerta|pta\.?|esc\.?|izq(?:da)?\.?|dcha\.?)(?!\w))"
)
# after a street-type word (the scan's candidate): optional connectors, 1-5 name words, the number, details
_KEYWORD_STREET = re.compile(  # case-insensitive: "Calle puerto principe 18" is written so too
    rf"[\s\u00a0]*(?:(?:{_CONNECTORS}\s+){{1,2}}{_NAME}|{_NAME})(?:[\s\u00a0]+(?:{_CONNECTORS}\s+)?{_NAME}){{0,4}}?"
    rf",?[\s\u00a0]*{_NUMBER}(?!\w)(?:{_DETAIL}){{0,3}}"
)
# after an address label ("Domicilio:"): the rest of the line, up to a full stop
_LABELLED = re.compile(r"[ \u00a0]*([^\n]{3,80}?)[ \u00a0]*(?:\.[ \u00a0]*(?:\n|$)|\.[ \u00a0]+\.|\n|$)")
# before a house number that a postcode and place follow: the street's capitalised name ("Teseo, 5 3-N. 29010 Málaga")
_CAP_WORD = r"[A-ZÀ-ÖØ-ÞĀ-Ž][^\W\d_]*(?:['’\-][^\W\d_]+)*"
_NAME_BEFORE = re.compile(
    rf"(?<![\w])(?:{_CAP_WORD}[ \u00a0]+(?:{_CONNECTORS}[ \u00a0]+)?){{0,3}}{_CAP_WORD},?[ \u00a0]*$"
)
_POSTCODE_AFTER = re.compile(rf"(?:{_DETAIL}){{0,3}}[ ,.\-–]*(?:[A-Z]-)?\d{{5}}(?!\d)[ ,.\-–]+[A-ZÀ-ÖØ-ÞĀ-Ž]")
# before a house number: a name ending in a street suffix
_SUFFIX_STREET = re.compile(
    rf"(?<![\w])(?:(?-i:[A-ZÀ-ÖØ-ÞĀ-Ž][^\W\d_]*)[\s\u00a0])?[^\W\d_][\w\-]*(?:{_alt(_STREET_SUFFIXES)})[\s\u00a0]*$",
    re.IGNORECASE,
)
# after a house number: English or French street
_EN_STREET = re.compile(rf"[A-Za-z]?,?[\s\u00a0]+(?:[A-Z][\w'\-]+[\s\u00a0]+){{1,3}}(?:{_alt(_EN_STREET_TYPES)})\b\.?")
_FR_STREET = re.compile(
    rf"(?:[\s\u00a0]?(?:bis|ter))?,?[\s\u00a0]+(?:{_alt(_FR_STREET_TYPES)})[\s\u00a0]+"
    rf"(?:{_CONNECTORS}[\s\u00a0]*)?{_CAP_NAME}(?:[\s\u00a0]+(?:{_CONNECTORS}[\s\u00a0]+)?{_CAP_NAME}){{0,3}}",
    re.IGNORECASE,
)

_NUMBER_DETAIL = re.compile(rf"{_NUMBER}(?:{_DETAIL}){{0,2}}")

# postcode shapes, tried at a digit run's start; (shape, whether a year-like value needs a cue)
_POSTCODE = re.compile(
    r"(?P<pc>\d{4}-\d{3}|\d{2}-\d{3}|\d{3}[ \u00a0]\d{2}|\d{4}[ \u00a0]?[A-Z]{2}(?![\w])|\d{6}|\d{5}|\d{4})(?!\w|[-./]\d)"
)
_UK_CA_SPACE = r"[ \u00a0]"  # without a cue the space is required ("T2N0M0" is a tumour stage, not Calgary)
_UK_CA_SHAPE = (
    r"(?<![\w])(?:[A-Z]{{1,2}}\d[A-Z\d]?{sp}\d[A-Z]{{2}}|[ABCEGHJ-NPRSTVXY]\d[ABCEGHJ-NPRSTV-Z]{sp}\d"
    r"[ABCEGHJ-NPRSTV-Z]\d)(?![\w])"
)
_UK_CA = re.compile(_UK_CA_SHAPE.format(sp=_UK_CA_SPACE))
_UK_CA_CUED = re.compile(_UK_CA_SHAPE.format(sp=_UK_CA_SPACE + "?"))
_PLACE_AFTER = re.compile(
    r"[,.]?[ \u00a0]*(?:[-–][ \u00a0]*)?(?<=[ \u00a0\-–])[A-ZÀ-ÖØ-ÞĀ-Ž](?:[^\W\d_]+|[ \u00a0][A-ZÀ-ÖØ-ÞĀ-Ž][^\W\d_]+)"
)
_CUE_GAP = re.compile(r"[\s\u00a0:.\-º°]*")
_LINE_START = re.compile(r"(?:^|[\n,;(.]|\s-|\s–)[\s\u00a0]*$")


def _plausible(keyword: str, rest: str) -> bool:
    """A street name written in lower case counts only after a capitalised street word ("Calle puerto principe 18",
    not "la AV era de 20" or "calle principal 3 veces")."""
    first = next((w for w in rest.split() if w[0].isalpha() and w.lower() not in _CONNECTOR_WORDS), "")
    if first[:1].isupper():
        return True
    letters = [c for c in keyword if c.isalpha()]
    return bool(letters) and letters[0].isupper() and not all(c.isupper() for c in letters)


class StreetAddressRecognizer(ScanRecognizer):
    """STREET_ADDRESS: a street with its house number (street type first, a street suffix, or number first)."""

    ENTITY = STREET_ENTITY
    SCAN_KINDS = ("street", "address")
    TIER = PATTERN

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        cands = scan(text)
        out = []
        for start, end in cands.of("street"):
            lo, hi = window(text, end, end + 100)
            m = _KEYWORD_STREET.match(text, lo, hi)
            if m and _plausible(text[start:end], m.group(0)):
                out.append(self.result(start, m.end(), STREET_SCORE))
        for _, end in cands.of("address"):
            lo, hi = window(text, end, end + 90)
            m = _LABELLED.match(text, lo, hi)
            value = m.group(1) if m else ""
            if any(c.isdigit() for c in value) or "s/n" in value.lower() or len(value.split()) >= 2:
                out.append(self.result(m.start(1), m.end(1), STREET_SCORE))
        for start, end in cands.of("digits"):
            if end - start > 8 or not text[start].isdigit():
                continue
            found = self._around_number(text, start, end)
            if found is not None:
                out.append(self.result(*found, STREET_SCORE))
        return out

    @staticmethod
    def _around_number(text: str, start: int, end: int) -> tuple[int, int] | None:
        """The street a house number belongs to: a suffix street before it, a street after it, or a capitalised
        name before it when a postcode and place follow."""
        lo, _ = window(text, start - 60, start)
        before = _SUFFIX_STREET.search(text, lo, start)
        if before:
            m = _NUMBER_DETAIL.match(text, start, min(len(text), start + 30))
            return before.start(), m.end() if m else end
        _, hi = window(text, end, end + 80)
        after = _EN_STREET.match(text, end, hi) or _FR_STREET.match(text, end, hi)
        if after and (start == 0 or not text[start - 1].isalnum()):
            return start, after.end()
        if end - start <= 4 and _POSTCODE_AFTER.match(text, end, hi):
            name = _NAME_BEFORE.search(text, lo, start)
            if name:
                m = _NUMBER_DETAIL.match(text, start, min(len(text), start + 30))
                return name.start(), m.end() if m else end
        return None


def _uncued_postcode_end(text: str, start: int) -> int | None:
    """The end of a postcode starting at `start` that a place name follows, or None."""
    m = _POSTCODE.match(text, start, min(len(text), start + 9))
    if not m:
        return None
    value = m.group("pc")
    if value.isdigit() and len(value) == 6:
        return None  # six digits only after a cue
    lo, hi = window(text, start - 12, m.end() + 30)
    if not _PLACE_AFTER.match(text, m.end(), hi):
        return None
    if len(value) == 4 and (1900 <= int(value) <= 2039 or not _LINE_START.search(text, lo, start)):
        return None  # four digits: a year, or anything not at the start of an address line
    return m.end()


class PostcodeRecognizer(ScanRecognizer):
    """POSTCODE: a postcode shape after a cue, before a place name on an address line, or a British/Canadian one."""

    ENTITY = POSTCODE_ENTITY
    SCAN_KINDS = ("postcode",)
    TIER = PATTERN

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        cands = scan(text)
        out = []
        seen = set()
        for _, cue_end in cands.of("postcode"):
            lo, hi = window(text, cue_end, cue_end + 24)
            gap = _CUE_GAP.match(text, lo, hi)
            p = gap.end()
            m = _POSTCODE.match(text, p, hi) or _UK_CA_CUED.match(text, p, hi)
            if m and (p == 0 or not text[p - 1].isalnum()):
                out.append(self.result(m.start(), m.end(), POSTCODE_SCORE))
                seen.add(m.start())
        for start, end in cands.of("digits"):
            if start > 0 and text[start - 1].isalpha():  # a digit inside a word: British or Canadian shape?
                lo, hi = window(text, start - 2, start + 8)
                for k in range(lo, start):
                    m = _UK_CA.match(text, k, hi)
                    if m:
                        out.append(self.result(m.start(), m.end(), POSTCODE_SCORE))
                        break
                continue
            # any digit group of the cluster may start a postcode ("Aguilar, 90 46017 Valencia")
            for g0, _ in digit_groups(text, *window(text, start, end)):
                if g0 in seen or (g0 > start and not text[g0 - 1].isspace()):
                    continue  # inside a longer number ("02.1234.5678")
                if g0 == start and start > 0 and (text[start - 1] in "-/." or text[start - 1].isalnum()):
                    continue  # a reference such as "FAC-2023-997"
                found = _uncued_postcode_end(text, g0)
                if found is not None:
                    out.append(self.result(g0, found, POSTCODE_SCORE))
                    seen.add(g0)
        return out
