"""Dates of birth: a calendar date just after a birth cue, in the policies' languages.

`DateOfBirthRecognizer` (DATE_OF_BIRTH) reads the "birth" candidates of the shared scan (`filters.pii.recognizers.scan.BIRTH_CUES`:
"fecha de nacimiento", "nacido el", "date of birth", "born", "geboren am", "né le", "nato il", "född",
"syntynyt", "生年月日", …) and looks for the first date in the 60 characters after the cue: numeric
("11/02/1970", "11.02.1970", "1970-02-11", "11-02-70"), with a month name in any of the policies' languages
("11 de febrero de 1970", "11. Februar 1970", "February 11, 1970", "11 févr. 1970") or in CJK form
("1970年2月11日"). The date must exist on the calendar (day-month or month-day order); a year alone ("born in 1970")
or a date far from the cue is not a date of birth. Other dates (admissions, events) are not personal data on
their own and are left alone. Score 0.85, "pattern" tier.
"""

from __future__ import annotations

import datetime as dt
import re

from presidio_analyzer import RecognizerResult

from filters.national_ids.recognizer import PATTERN
from filters.pii.recognizers.scan import ScanRecognizer, scan, window

ENTITY = "DATE_OF_BIRTH"
SCORE = 0.85
REACH = 60  # characters after the cue in which the date must start

# month names and abbreviations → month number (lower case)
_MONTHS: dict[str, int] = {}
for _n, _names in enumerate(
    (
        "january enero janvier januar gennaio janeiro januari januar tammikuu styczeń stycznia jan ene janv jän gen",
        "february febrero février februar febbraio fevereiro februari februar helmikuu luty lutego feb febr fév févr",
        "march marzo mars märz marzo março maart mars maaliskuu marzec marca mar mär mrt",
        "april abril avril april aprile abril april huhtikuu kwiecień kwietnia apr abr avr",
        "may mayo mai mai maggio maio mei maj toukokuu maj maja mag",
        "june junio juin juni giugno junho juni kesäkuu czerwiec czerwca jun giu",
        "july julio juillet juli luglio julho juli heinäkuu lipiec lipca jul juil lug",
        "august agosto août august agosto agosto augustus augusti elokuu sierpień sierpnia aug ago aoû",
        "september septiembre setiembre septembre september settembre setembro syyskuu wrzesień września sep sept set",
        "october octubre octobre oktober ottobre outubro oktober lokakuu październik października oct okt ott out",
        "november noviembre novembre november novembre novembro marraskuu listopad listopada nov",
        "december diciembre décembre dezember dicembre dezembro december joulukuu grudzień grudnia dec dic déc dez",
    ),
    start=1,
):
    for _name in _names.split():
        _MONTHS.setdefault(_name, _n)
_MONTH = "|".join(re.escape(m) for m in sorted(_MONTHS, key=len, reverse=True))
_DAY_SUFFIX = r"(?:st|nd|rd|th|er|º|°|\.)?"
_DATE = re.compile(
    r"(?<![\w.,/-])(?:"
    rf"(?P<d1>\d{{1,2}})\s?(?P<s1>[./-])\s?(?P<m1>\d{{1,2}})\s?(?P=s1){{1,2}}\s?(?P<y1>\d{{4}}|\d{{2}})(?![\d])"
    rf"|(?P<y2>\d{{4}})-(?P<m2>\d{{1,2}})-(?P<d2>\d{{1,2}})(?!\d)"
    rf"|(?P<d3>\d{{1,2}}){_DAY_SUFFIX}\s*(?:de\s+|of\s+)?(?P<m3>{_MONTH})\.?,?\s*(?:de\s+|del\s+)?(?P<y3>\d{{4}})(?!\d)"
    rf"|(?P<m4>{_MONTH})\.?\s+(?P<d4>\d{{1,2}}){_DAY_SUFFIX},?\s+(?P<y4>\d{{4}})(?!\d)"
    rf"|(?P<y5>\d{{4}})\s?年\s?(?P<m5>\d{{1,2}})\s?月\s?(?P<d5>\d{{1,2}})\s?日"
    rf"|(?P<y6>\d{{4}})\.\s?(?P<m6>\d{{1,2}})\.\s?(?P<d6>\d{{1,2}})\.?(?!\d)"
    r")",
    re.IGNORECASE,
)


def _year(value: str) -> int:
    y = int(value)
    if len(value) == 2:
        y += 1900 if y > dt.date.today().year % 100 else 2000
    return y


def _exists(year: int, month: int, day: int) -> bool:
    try:
        dt.date(year, month, day)
    except ValueError:
        return False
    return 1850 <= year <= dt.date.today().year


def calendar_date(m: re.Match) -> bool:
    """Whether a `_DATE` match names a day that exists (numeric dates: day-month or month-day order)."""
    g = m.groupdict()
    if g["d1"]:
        y, a, b = _year(g["y1"]), int(g["d1"]), int(g["m1"])
        return _exists(y, b, a) or _exists(y, a, b)
    for k in "23456":
        if g[f"y{k}"]:
            month = g[f"m{k}"]
            month_no = int(month) if month.isdigit() else _MONTHS.get(month.lower().rstrip("."), 0)
            return _exists(int(g[f"y{k}"]), month_no, int(g[f"d{k}"]))
    return False


_YEAR = re.compile(r"(?<!\d)(?:1[89]|20)\d\d(?!\d)")


def _plain_gap(gap: str) -> bool:
    """Whether the text between a cue and a date keeps them together: no line break, clause or sentence end, no
    year, and no other label ("Fecha de nacimiento: . Fecha de ingreso: 17/04/2014" is an admission date)."""
    if "\n" in gap or ";" in gap or ". " in gap or _YEAR.search(gap):
        return False  # another line, clause, sentence or year lies between them
    colon = gap.find(":", 3)
    return colon < 0 or gap[:colon].rstrip().endswith(")")


class DateOfBirthRecognizer(ScanRecognizer):
    """DATE_OF_BIRTH: the first calendar date within 60 characters after a birth cue."""

    ENTITY = ENTITY
    SCAN_KINDS = ("birth",)
    TIER = PATTERN

    def analyze(self, text: str, entities, nlp_artifacts=None) -> list[RecognizerResult]:
        out = []
        for _, cue_end in scan(text).of("birth"):
            lo, hi = window(text, cue_end, cue_end + REACH + 40)
            for m in _DATE.finditer(text, lo, hi):
                if m.start() - lo > REACH or not _plain_gap(text[lo : m.start()]):
                    break
                if calendar_date(m):
                    out.append(self.result(m.start(), m.end(), SCORE))
                    break
        return out
