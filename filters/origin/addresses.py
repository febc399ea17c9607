"""Postal addresses whose shape is not the European "street number, postcode Place": the postcode sits at the end
of the line after the city (India, Indonesia, Saudi Arabia, Thailand, Vietnam), after a label (China's 邮编, Korea's
우편번호), in parentheses before the address (Korea), or on either side of the city with a comma (Russia).

Each format is a postcode shape plus words of the country's own address vocabulary in its own script near it; a
bare number of the right length never counts (a population figure, a price, a year range). Called by
`filters.origin.content.postal_signals` for each digit run of 5 or 6 digits, so it costs nothing on pages without
one. The signal records the format, never the postcode.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_WINDOW = 80  # characters before the postcode searched for the address words


@dataclass(frozen=True)
class AddressFormat:
    """`code`: the postcode (full match of the digit run); `words`: address vocabulary searched (lower-cased) near
    it; `before`: what must end the text just before it (a label, a bracket, a city in the country's script);
    `capitalized`: that city is a capitalized word; the postcode ends the address line (no word follows it), or is
    followed by `after`; `label`: a postcode label (lower-cased) that may stand in for `before` and the line end."""

    code: re.Pattern
    words: re.Pattern
    before: re.Pattern
    capitalized: bool = False
    after: re.Pattern | None = None
    label: re.Pattern | None = None


def _f(code: str, words: str, before: str, capitalized: bool = False, after: str | None = None,
       label: str | None = None) -> AddressFormat:  # fmt: skip
    return AddressFormat(re.compile(code), re.compile(words), re.compile(f"(?:{before})\\Z"), capitalized,
                         re.compile(after) if after else None,
                         re.compile(f"(?:{label})\\s*[:：.-]?\\s*\\Z") if label else None)  # fmt: skip


_LAST_WORD = re.compile(r"(\S+)\s\Z")
FORMATS: dict[str, AddressFormat] = {
    # Russia: 6-digit индекс starting 1-6, set off by a comma: "ул. Тверская, д. 7, Москва, 125009" or
    # "125009, г. Москва, ул. Тверская"
    "RU": _f(r"[1-6]\d{5}", r"(?:^|[\s,])(?:ул\.|улица|просп\.|проспект|пр-т|пер\.|переулок|наб\.|набережная|шоссе|"
             r"бульвар|б-р|пл\.|площадь)(?=[\s\d,])", r"[,:]\s*|\n|^", after=",",
             label="индекс|почтовый индекс"),
    # China: 6-digit 邮政编码 after its label, or closing an address that names a city and a numbered street
    "CN": _f(r"[0-8]\d{5}", r"[市省区县]", r"[路街道巷弄里]\d{1,5}号\s*[,，]?\s*", label="邮编|邮政编码"),
    # India: 6-digit PIN (first digit 1-9) after the city, often "- ", or after its label; with an Indian address word
    "IN": _f(r"[1-9]\d{5}", r"\b(?:marg|nagar|pin|pincode|pin code)\b|मार्ग|नगर|पिन|रोड|सेक्टर|गली|कॉलोनी",
             r"[^\W\d_][\w\u0900-\u097f]*\s?[-–]?\s", label=r"\bpin|\bpin code|\bpincode|पिन|पिन कोड"),
    # Indonesia: 5-digit kode pos after the city (or its label), on a "Jl./Jalan" street line
    "ID": _f(r"[1-9]\d{4}", r"(?:^|\W)(?:jl\.|jln\.|jalan\s)", r"[A-Z][a-z]+\s", label="kode pos"),
    # Saudi Arabia: 5-digit postal code after the city (Arabic script), with a road, street, district or P.O. box
    "SA": _f(r"[1-9]\d{4}", r"طريق|شارع|(?:^|\s)حي\s|ص\.\s?ب|الرمز البريدي", r"[\u0621-\u064a]\s",
             label="الرمز البريدي"),
    # Thailand: 5-digit postcode after the province (Thai script), with a road, soi, subdistrict or district word
    "TH": _f(r"[1-9]\d{4}", r"ถนน|ซอย|แขวง|เขต|ตำบล|อำเภอ|จังหวัด", r"[\u0e01-\u0e4f]\s?", label="รหัสไปรษณีย์"),
    # Vietnam: 5-digit mã bưu chính (6 digits before 2018) after a capitalized city, with a street or ward word
    "VN": _f(r"\d{5,6}", r"đường|phố|phường|quận|huyện|thị xã|tỉnh|tp\.", r"[^\W\d_]+\s", capitalized=True,
             label="mã bưu chính|mã bưu điện"),
}  # fmt: skip
# Korea: 5-digit 우편번호 (since 2015) in brackets before the address or after its label, beside a road address
_KR_WORDS = re.compile(r"[가-힣]+(?:시|도)\s+[가-힣]+(?:구|군|시)")
_KR_LABEL = re.compile(r"(?:우편번호|\(우\)|우\))\s*[:：]?\s*\Z")


def _line_ends(text: str, e: int) -> bool:
    rest = text[e : e + 3].lstrip(" ")
    return not rest or not (rest[0].isalnum() or rest[0] in "-/")


def _korean(text: str, s: int, e: int) -> bool:
    bracketed = text[s - 1 : s] == "(" and text[e : e + 1] == ")"
    if not bracketed and not _KR_LABEL.search(text[max(0, s - 12) : s]):
        return False
    return bool(_KR_WORDS.search(text[max(0, s - 60) : e + 60]))


def address_country(text: str, s: int, e: int, countries: tuple[str, ...]) -> str | None:
    """The one policy country whose address format the digit run text[s:e] closes or opens, else None."""
    run = text[s:e]
    hits = []
    for cc in countries:
        if cc == "KR":
            if len(run) == 5 and _korean(text, s, e):
                hits.append(cc)
            continue
        f = FORMATS.get(cc)
        if f is None or not f.code.fullmatch(run):
            continue
        before = text[max(0, s - 24) : s]
        if f.label is None or not f.label.search(before.lower()):
            if not (_line_ends(text, e) or (f.after is not None and f.after.match(text, e))):
                continue
            if not f.before.search(before):
                continue
            if f.capitalized and not ((m := _LAST_WORD.search(before)) and m.group(1)[0].isupper()):
                continue
        if f.words.search(text[max(0, s - _WINDOW) : e + 40].lower()):
            hits.append(cc)
    return hits[0] if len(hits) == 1 else None
