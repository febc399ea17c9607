"""One linear candidate scan per text, shared by Terroir's pattern recognizers (phones, cards, IBANs, dates of birth,
addresses, postcodes, personal URLs).

Stock Presidio runs every recognizer's regex over the whole text, and libphonenumber's matcher once per region.
Here a single pass over the lower-cased text (`scan(text)`, one compiled pattern) finds every place where one of
these types could start, as (kind, start, end) candidates:

- "digits": a cluster of digit runs joined by at most three separator characters (space, no-break space, "-", "/",
  parentheses, a "." not followed by whitespace), with a leading "+" or "(" when there is one: phone numbers, cards, numeric dates,
  postcodes all lie inside one;
- "iban": two letters, two digits (a space between them allowed) and at least ten more letters or digits
  (separators allowed), found without
  consuming the text, so its digits also form a "digits" candidate;
- "url": a URL with a scheme or a "www." host; "host": the ".tld/" of a host name followed by a path (the
  recognizer extends it backwards to the host's start);
- "street": a street-type word that comes before the name ("Calle", "Avda.", "rue", "Via"); streets named by a
  suffix or a number first ("Hauptstraße 5", "221 Baker Street", "12 rue …") are found from their house number's
  "digits" candidate;
- "birth", "postcode" and "address": cue words ("fecha de nacimiento", "geboren", "C.P.", "PLZ"; address labels
  with their colon: "Domicilio:", "Anschrift:").

Each recognizer then looks only at its candidates and a bounded window around each, so the work per text is one
pass plus a constant per candidate: linear in the text's length. The scan is cached for the last text seen (the
same string object), so the recognizers of one analysis share it; `stats()` counts scans and the characters the
recognizers' windows examined, which `tests/test_pii_recognizers.py` uses to check linear growth.
"""

from __future__ import annotations

import re
import threading
from dataclasses import dataclass, field

from presidio_analyzer import EntityRecognizer, RecognizerResult

from filters.national_ids.recognizer import VALIDATED

# birth cues, lower case, in the policies' languages (matched case-insensitively at a word start)
BIRTH_CUES = (
    # Spanish, Catalan, Portuguese, Galician
    "fecha de nacimiento", "f. de nacimiento", "f. nac", "fec. nac", "nacimiento", "nacido el", "nacida el",
    "nacido", "nacida", "nació el", "nació", "data de naixement", "nascut", "nascuda", "data de nascimento",
    "nascido em", "nascida em", "nascido", "nascida", "nado o", "nada o",
    # English
    "date of birth", "birth date", "birthdate", "date of birth:", "d.o.b", "dob", "born on", "born", "birthday",
    # German, Dutch
    "geburtsdatum", "geb.-datum", "geburtstag", "geboren am", "geboren", "geb.", "geboortedatum", "geboren op",
    # French, Italian
    "date de naissance", "né le", "née le", "né(e) le", "né", "née", "data di nascita", "nato il", "nata il",
    "nato a", "nata a", "nato", "nata",
    # Nordic, Finnish, Polish, Czech
    "födelsedatum", "född den", "född", "fødselsdato", "født den", "født", "fæddur", "syntymäaika",
    "syntymäpäivä", "syntynyt", "data urodzenia", "urodzony", "urodzona", "datum narození", "narozen", "narozena",
    # Japanese, Chinese, Korean
    "生年月日", "出生日期", "出生于", "生日", "생년월일",
)  # fmt: skip
ADDRESS_CUES = (
    "domicilio", "dirección postal", "dirección", "address", "home address", "postal address", "adresse",
    "anschrift", "wohnadresse", "indirizzo", "residenza", "adres", "woonadres", "morada", "endereço", "adress",
    "osoite", "adresa",
)  # fmt: skip
POSTCODE_CUES = (
    "código postal", "cod. postal", "c.p.", "c.p", "cp", "postcode", "post code", "postal code", "zip code", "zip",
    "postleitzahl", "plz", "code postal", "cap", "c.a.p.", "postcode:", "postnummer", "postinumero", "kod pocztowy",
)  # fmt: skip
_STREET_WORDS = (
    # Spanish, Catalan, Galician, Portuguese
    "calle", "c/", "c/.", "c./", "c.", "cl.", "avenida", "avda.", "avda", "av.", "av/", "av,", "paseo", "pº",
    "p/", "po", "plaza", "pza.", "pz.", "pl.", "plaça", "camino", "carretera", "ctra.", "ronda", "travesía",
    "glorieta", "urbanización", "urb.", "carrer", "passeig", "pasaje", "paraje", "bulevar", "rúa", "rua",
    "avinguda", "travessa", "praça",
    # French, Italian
    "rue", "avenue", "boulevard", "bd", "allée", "chemin", "impasse", "place", "quai", "route", "via", "viale",
    "piazza", "piazzale", "corso", "vicolo", "strada", "località",
    # Polish, others
    "ulica", "ul.", "aleja", "al.",
)  # fmt: skip


def _alternation(words) -> str:
    """Longest first, so "fecha de nacimiento" wins over "nacimiento" at the same place."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=lambda w: (-len(w), w)))


# between the digit groups of one number: spaces, dashes, slashes, parentheses, or a dot not followed by whitespace
# (a full stop ends the number: "19/9/2023. 2060 382 9258" is a date and another number)
_SEP = r"(?:[ \u00a0\-/()]|\.(?!\s))"
# The scan runs on the lower-cased text with the standard library's `re` (case-sensitive literal alternations are
# several times faster there than case-insensitive ones); patterns here are therefore written in lower case.
# cue words: each alternative is needed only by the recognizer that reads it, and the long alternations are most of
# the scan's cost, so the scan holds those of the recognizers built in this process (`require`). Removing a cue
# alternative changes no candidate of another kind: cues are whole words without digits.
_CUES = {
    "birth": rf"(?P<birth>(?:{_alternation(BIRTH_CUES)})(?!\w))",
    "postcode": rf"(?P<postcode>(?:{_alternation(POSTCODE_CUES)})(?!\w))",
    "street": rf"(?P<street>(?:{_alternation(_STREET_WORDS)})(?=[\s\u00a0])|c/(?=[^\W\d_]))",
    "address": rf"(?P<address>(?:{_alternation(ADDRESS_CUES)})[ \u00a0]*:)",
}


def _compile(cues) -> re.Pattern:
    return re.compile(
        r"(?<![\w@.])(?:"  # at a word start: one look-ahead test per position elsewhere keeps the scan fast
        r"(?=(?P<iban>[a-z]{2}[ \u00a0]?\d{2}(?:[ \u00a0.\-]{0,2}[a-z0-9]){10,34}))"
        r"|(?P<url>(?:(?:https?|ftp)://|www\d{0,3}\.)[^\s<>\"'()\[\]{}]{2,400})"
        + "".join(f"|{_CUES[k]}" for k in _CUES if k in cues)
        + r")"
        # a digit, "+digit", "(digit" or "(+digit" first: the same numbers as an optional prefix before the digits,
        # but the regex engine can skip positions that start none of them (about a third of the scan's time)
        rf"|(?P<digits>(?:\d|\+\d|\(\+?\d)\d*(?:{_SEP}{{1,3}}\d+)*\)?)"
        r"|(?P<host>\.[a-z]{2,12}/(?=[^\s<>\"'()\[\]{}]))"
    )


_ACTIVE_CUES: frozenset[str] = frozenset()
SCAN = _compile(_ACTIVE_CUES)


def require(kinds) -> None:
    """Make the scan find candidates of `kinds` from now on (recognizers call it when built; it only ever grows)."""
    global SCAN, _ACTIVE_CUES
    wanted = _ACTIVE_CUES | (frozenset(kinds) & _CUES.keys())
    if wanted != _ACTIVE_CUES:
        _ACTIVE_CUES, SCAN = wanted, _compile(wanted)  # a result scanned before is not reused (`scan`)


KINDS = ("iban", "url", "birth", "postcode", "address", "street", "digits", "host")


@dataclass
class Candidates:
    """The candidates of one text, per kind, as (start, end) in text order."""

    text: str
    spans: dict[str, list[tuple[int, int]]] = field(default_factory=dict)
    pattern: object = None  # the scan that found them

    def of(self, kind: str) -> list[tuple[int, int]]:
        return self.spans.get(kind, [])


class _Stats(threading.local):
    def __init__(self) -> None:
        self.scans = 0
        self.examined = 0
        self.last: Candidates | None = None


_STATS = _Stats()


def scan(text: str) -> Candidates:
    """The candidates of `text` (one pass; the last text's result is reused when the same string comes again)."""
    last, pattern = _STATS.last, SCAN
    if last is not None and last.text is text and last.pattern is pattern:
        return last
    spans: dict[str, list[tuple[int, int]]] = {k: [] for k in KINDS}
    for m in pattern.finditer(_lowered(text)):
        kind = m.lastgroup
        if kind is not None:
            spans[kind].append(m.span(kind))
    _STATS.scans += 1
    found = _STATS.last = Candidates(text, spans, pattern)
    return found


def per_digit_cluster(text: str, min_chars: int, cluster) -> list:
    """Every result of `cluster(text, start, end)` over the "digits" candidates at least `min_chars` long."""
    out: list = []
    for start, end in scan(text).of("digits"):
        if end - start >= min_chars:
            out.extend(cluster(text, start, end))
    return out


def _lowered(text: str) -> str:
    """`text` in lower case, character for character (a character whose lower case is longer stays as it is)."""
    low = text.lower()
    if len(low) == len(text):
        return low
    # U+0130 (İ) is the one character whose lower case is two: keep it, lower the rest at C speed
    if "\ue000" not in text:
        return text.replace("\u0130", "\ue000").lower().replace("\ue000", "\u0130")
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)


def examined(chars: int) -> None:
    """Record that a recognizer examined `chars` characters around a candidate (for the linearity test)."""
    _STATS.examined += chars


def stats() -> tuple[int, int]:
    """(scans run, characters examined around candidates) in this thread so far."""
    return _STATS.scans, _STATS.examined


def window(text: str, start: int, end: int) -> tuple[int, int]:
    """A bounded window: `text[start:end]` clipped to the text, counted in `stats()`."""
    start, end = max(0, start), min(len(text), end)
    examined(end - start)
    return start, end


def digit_groups(text: str, lo: int, hi: int) -> list[tuple[int, int]]:
    """The maximal digit runs of text[lo:hi]."""
    groups, i = [], lo
    while i < hi:
        if text[i].isdigit():
            j = i + 1
            while j < hi and text[j].isdigit():
                j += 1
            groups.append((i, j))
            i = j
        else:
            i += 1
    return groups


def delimited(text: str, groups, first: int, last: int) -> bool:
    """Whether groups first..last stand apart from their neighbours: the separator next to them differs from the
    ones inside, or is wider ("2024-118" in "2024-118-3391" does not; "91 234 56 78 / 612 34 56 78" does)."""
    inside = [text[groups[g][1] : groups[g + 1][0]] for g in range(first, last)]
    chars = set("".join(inside))
    widest = max(map(len, inside), default=0)
    for g in (first - 1, last):
        if 0 <= g < len(groups) - 1:
            gap = text[groups[g][1] : groups[g + 1][0]]
            if not (set(gap) - chars or len(gap) > widest):
                return False
    return True


class ScanRecognizer(EntityRecognizer):
    """Base of Terroir's recognizers that read the shared scan: one entity, no model to load."""

    ENTITY = ""
    SCAN_KINDS: tuple[str, ...] = ()  # the candidate kinds this recognizer reads
    TIER = VALIDATED  # the confidence tier of every hit (see `filters.national_ids`); PATTERN where nothing is checked

    def __init__(self, supported_language: str = "en", context: tuple[str, ...] = (), name: str | None = None):
        require(self.SCAN_KINDS)
        super().__init__(
            supported_entities=[self.ENTITY],
            name=name or type(self).__name__,
            supported_language=supported_language,
            context=list(context),
        )

    def load(self) -> None:
        pass

    def tier(self, value: str) -> str:
        """The confidence tier of a hit: the class's `TIER`."""
        return self.TIER

    def result(self, start: int, end: int, score: float) -> RecognizerResult:
        meta = {RecognizerResult.RECOGNIZER_NAME_KEY: self.name, RecognizerResult.RECOGNIZER_IDENTIFIER_KEY: self.id}
        return RecognizerResult(self.ENTITY, start, end, score, None, meta)
