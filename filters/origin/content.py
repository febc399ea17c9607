"""Content signals, read from the extracted text: phone numbers (libphonenumber, through `phonenumbers`), postal
addresses of the policy's countries, IBAN country codes (ISO 13616 check through python-stdnum), single-country
currencies, and the document's language (weak on its own: Spanish is not Spain).

Residency runs before the PII stage, so these are light scans of their own: one pass finds the text's digit runs,
and each detector looks only around them (a pattern anchored there, then a maintained library to validate), which
keeps the cost to a fraction of a millisecond a page. Long texts are read at their first 20,000 and last 5,000
characters, where pages carry their contact lines. No value found is ever recorded: a phone becomes its calling
code, an address its postcode format, an IBAN its country code.
"""

from __future__ import annotations

import re
import string
from functools import lru_cache

from filters.origin.addresses import FORMATS as SCRIPT_FORMATS
from filters.origin.addresses import address_country
from filters.origin.countries import CURRENCIES, CURRENCY_WORDS, LANG_COUNTRIES, POSTAL_PREFIXES
from filters.origin.model import Signal

_RUN = re.compile(r"\d+")
_HEAD, _TAIL = 20_000, 5_000
_INTL_PHONE = re.compile(r"(?:\+|00)([1-9]\d{0,2})[\s.\-/]*(?:\(0\))?[\s.\-/]*\(?\d[\d\s.\-/()]{4,15}\d")
_NATIONAL_NUMBER = re.compile(r"\(?0\d[\d\s.\-/()]{5,14}\d")
#: a national number without a trunk 0 (Spain, Portugal, Poland, Czechia, Denmark, Norway, Iceland; Russia's trunk 8)
_NATIONAL_NO_TRUNK = re.compile(r"[1-9][\d\s.\-/()]{5,16}\d")
_PHONE_WORDS = ("tel", "tél", "phone", "puh", "tfn", "tlf", "telefon", "téléphone", "telefono", "teléfono",
                "telefoon", "sími", "тел", "電話", "전화", "هاتف", "โทร", "điện thoại", "फ़ोन", "फोन", "दूरभाष",
                "fax")  # fmt: skip
#: a phone label right before the number (lower-cased text): without a trunk 0, nothing else marks a phone number
_PHONE_LABEL = re.compile(r"(?<![a-zа-яё])(?:tel|tlf|tfn|tfno|telf|telefon|telefone|telefono|teléfono|phone|sími|"
                          r"тел|телефон)\.?\s*(?:nr\.?\s*)?[:.]?\s*\Z")  # fmt: skip
#: street words per country; the postcode must follow within a short window (house number, comma)
_STREETS: dict[str, tuple[str, ...]] = {
    "DE": ("straße", "strasse", "str.", "weg", "platz", "allee", "gasse", "damm", "ring"),
    "AT": ("straße", "strasse", "gasse", "platz", "weg"),
    "CH": ("strasse", "gasse", "platz", "weg", "rue", "via"),
    "FR": ("rue", "avenue", "boulevard", "bd", "place", "chemin", "allée", "impasse", "quai"),
    "BE": ("rue", "avenue", "straat", "laan", "plein"),
    "LU": ("rue", "avenue", "boulevard"),
    "IT": ("via", "viale", "piazza", "corso", "largo"),
    "ES": ("calle", "c/", "avenida", "avda.", "plaza", "paseo", "carrer"),
    "PT": ("rua", "avenida", "travessa", "praça", "largo"),
    "NL": ("straat", "laan", "weg", "plein", "gracht", "kade"),
    "SE": ("gatan", "vägen", "gata", "väg", "torget", "gränd"),
    "FI": ("katu", "tie", "kuja", "polku", "tori"),
    "DK": ("gade", "vej", "allé", "torv", "plads"),
    "NO": ("gate", "gata", "veien", "vei", "vegen", "plass"),
    "PL": ("ul.", "ulica", "al.", "aleja", "plac"),
    "CZ": ("ulice", "nám.", "náměstí", "třída"),
    "HU": ("utca", "út", "tér", "körút"),
    "TR": ("cad.", "caddesi", "sok.", "sokak", "sokağı", "mah.", "mahallesi", "bulvarı", "blv."),
    "IS": ("vegur", "gata", "stræti", "braut", "stígur", "torg"),
}
_POSTCODES: dict[str, str] = {
    "DE": r"\d{5}", "FR": r"\d{5}", "IT": r"\d{5}", "ES": r"\d{5}", "FI": r"\d{5}", "TR": r"\d{5}", "IS": r"[1-9]\d{2}",
    "AT": r"\d{4}", "CH": r"\d{4}", "BE": r"\d{4}", "LU": r"\d{4}", "DK": r"\d{4}", "NO": r"\d{4}", "HU": r"\d{4}",
    "NL": r"\d{4}\s?[A-Z]{2}", "SE": r"\d{3}\s\d{2}", "CZ": r"\d{3}\s\d{2}", "PL": r"\d{2}-\d{3}", "PT": r"\d{4}-\d{3}",
}  # fmt: skip
_CAPITAL = r"[A-ZÀ-ÖØ-ÞĀ-ŽŁŚŻ]"
_AFTER_POSTCODE = re.compile(r"\s+" + _CAPITAL)
_GB_POSTCODE = re.compile(r"[A-Z]{1,2}\d[A-Z\d]? \d[ABD-HJLNP-UW-Z]{2}(?![A-Za-z])")
_JP_POSTCODE = re.compile(r"〒\s?\d{3}-\d{4}")
#: anything shaped like one of the postcode formats above, then a capitalized place name (anchored at a digit run;
#: a bare 3-digit postcode, Iceland's, only before a word in lower case after its capital: not "130 NOK")
_POSTCODE_CANDIDATE = re.compile(
    r"(\d{2}-\d{3}|\d{4}-\d{3}|\d{3}\s\d{2}|\d{4}\s?[A-Z]{2}(?![a-z])|\d{4,5}|\d{3}(?=\s+\S[a-zß-ÿ]))\s+" + _CAPITAL
)
_HOUSE_NUMBER = re.compile(r"\d{1,4}")
_NOT_A_POSTCODE = frozenset(".+-/_" + string.ascii_letters)  # 1.12345, +12345, DE12345: not a postcode
_IBAN = re.compile(r"[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![A-Za-z0-9])")


def _bounded(text: str) -> str:
    return text if len(text) <= _HEAD + _TAIL else text[:_HEAD] + "\n" + text[-_TAIL:]


def digit_runs(text: str) -> list[tuple[int, int]]:
    """(start, end) of every run of digits: the one scan of the text that all detectors share."""
    return [m.span() for m in _RUN.finditer(text)]


def _word_before(text: str, s: int) -> bool:
    """Is the character before position `s` part of a word (so a match starting at `s` is not a token start)?"""
    return s > 0 and (text[s - 1].isalnum() or text[s - 1] in "_-")


@lru_cache(maxsize=64)
def _script_countries(countries: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(cc for cc in countries if cc in SCRIPT_FORMATS or cc == "KR")


@lru_cache(maxsize=64)
def _formats(countries: tuple[str, ...]) -> tuple[tuple[str, re.Pattern, tuple[str, ...]], ...]:
    return tuple((cc, re.compile(_POSTCODES[cc]), _street_words(_STREETS[cc])) for cc in countries if cc in _POSTCODES)


def _street_words(words: tuple[str, ...]) -> re.Pattern:
    """A street word at the start of a word (via, rue, ul.) or at its end (Satamakatu, Storgatan): not inside one
    (the "tori" of "Vittoria")."""
    alt = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?<![^\W\d_])(?:{alt})|(?:{alt})(?![^\W\d_])")


def _nearest_street(before: str, code: str, formats) -> str | None:
    """The country whose postcode format `code` has and whose street word stands nearest before it: the prose before
    an address may hold another country's street word ("…la partie… Via Roma 4, 45447 Genova"); a tie names none."""
    best, at = [], -1
    for cc, pc, streets in formats:
        if not pc.fullmatch(code):
            continue
        pos = max((m.start() for m in streets.finditer(before)), default=-1)
        if pos >= 0 and pos >= at:
            best, at = ([*best, cc] if pos == at else [cc]), pos
    return best[0] if len(best) == 1 else None


def postal_signals(text: str, countries: tuple[str, ...], weight: float, runs=None) -> list[Signal]:
    """Addresses of the policy's `countries`: a street word and a house number shortly before the country's
    postcode format and a capitalized place name; a country-prefixed postcode (D-10115); GB and JP postcodes; the
    postcode-last and labelled formats of `filters.origin.addresses` (CN, IN, ID, KR, RU, SA, TH, VN)."""
    if weight <= 0:
        return []
    runs = digit_runs(text) if runs is None else runs
    found: dict[str, str] = {}
    formats = _formats(tuple(sorted(countries)))
    script = _script_countries(tuple(sorted(countries)))
    want_gb = "GB" in countries
    for s, e in runs:
        n = e - s
        if want_gb and n <= 2 and s > 0 and text[s - 1].isupper() and "GB" not in found:
            for start in (s - 2, s - 1):
                if start >= 0 and not _word_before(text, start) and _GB_POSTCODE.match(text, start):
                    found["GB"] = "GB postcode format"
                    break
        if n < 2 or n > 6:
            continue
        if n >= 5 and script and text[s - 1 : s] not in _NOT_A_POSTCODE:
            cc = address_country(text, s, e, script)
            if cc:
                found.setdefault(cc, f"{cc} address format")
                continue
        if n > 5:
            continue
        if s >= 2 and text[s - 1] == "-" and text[s - 2].isupper() and _AFTER_POSTCODE.match(text, e):
            start = s - 3 if s >= 3 and text[s - 3].isupper() else s - 2
            cc = POSTAL_PREFIXES.get(text[start : s - 1])
            if cc in countries and not _word_before(text, start):
                found.setdefault(cc, f"{text[start : s - 1]}- prefixed postcode")
                continue
        if not formats or _word_before(text, s):
            continue
        m = _POSTCODE_CANDIDATE.match(text, s)
        if not m:
            continue
        before = text[max(0, s - 60) : s].lower()
        if not _HOUSE_NUMBER.search(before):
            continue
        cc = _nearest_street(before, m.group(1), formats)
        if cc and cc not in found:
            found[cc] = f"street + {cc} postcode format"
    if "JP" in countries and "〒" in text and _JP_POSTCODE.search(text):
        found.setdefault("JP", "JP postcode format")
    return [Signal("postal_address", cc, v, weight) for cc, v in sorted(found.items())]


_LAST_GROUP = re.compile(r"[\s.\-/()]+\d+\Z")


def _shorter(raw: str):
    """The number as matched, then without its last one or two digit groups: a phone number followed by a price or
    a quantity ("Tel +354 410 1234 880 ISK") is matched with it."""
    yield raw
    for _ in range(2):
        cut = _LAST_GROUP.sub("", raw)
        if cut == raw or sum(ch.isdigit() for ch in cut) < 6:
            return
        raw = cut
        yield raw


def _valid_for(raw: str, cc: str) -> bool:
    import phonenumbers

    try:
        return phonenumbers.is_valid_number_for_region(phonenumbers.parse(raw, cc), cc)
    except phonenumbers.NumberParseException:
        return False


def phone_signals(text: str, lang: str | None, countries: tuple[str, ...], weight: float, runs=None) -> list[Signal]:
    """Numbers with a country prefix (any country), and national-format numbers after a phone word, tried against
    the policy's countries that speak the document's language (counted only when exactly one accepts them)."""
    if weight <= 0:
        return []
    runs = digit_runs(text) if runs is None else runs
    if not runs:
        return []
    import phonenumbers

    speakers = [c for c in countries if c in LANG_COUNTRIES.get(lang or "", ())]
    found: dict[str, str] = {}
    for s, e in runs:
        start = None
        if s > 0 and text[s - 1] == "+" and not _word_before(text, s - 1) and (s < 2 or text[s - 2] != "+"):
            start = s - 1
        elif text.startswith("00", s) and e - s <= 5 and not _word_before(text, s):
            start = s
        if start is not None:
            m = _INTL_PHONE.match(text, start)
            for raw in _shorter(m.group(0)) if m else ():
                try:
                    num = phonenumbers.parse("+" + raw[2:] if raw.startswith("00") else raw)
                except phonenumbers.NumberParseException:
                    break
                if phonenumbers.is_valid_number(num):
                    cc = phonenumbers.region_code_for_number(num)
                    if cc and cc != "001":
                        found.setdefault(cc, f"+{num.country_code}")
                    break
            continue
        if speakers and text[s] == "0" and not _word_before(text, s):
            context = text[max(0, s - 24) : s].lower()
            if not any(w in context for w in _PHONE_WORDS):
                continue
            m = _NATIONAL_NUMBER.match(text, s - 1 if s > 0 and text[s - 1] == "(" else s)
        elif speakers and not _word_before(text, s) and _PHONE_LABEL.search(text[max(0, s - 16) : s].lower()):
            m = _NATIONAL_NO_TRUNK.match(text, s)
        else:
            continue
        ok = []
        for raw in _shorter(m.group(0)) if m else ():
            # valid for the region, not just valid: +7 numbers parse for KZ too, +1 for every NANP country
            ok = [cc for cc in speakers if _valid_for(raw, cc)]
            if ok:
                break
        if len(ok) == 1:
            found.setdefault(ok[0], f"national format ({ok[0]})")
    return [Signal("phone", cc, v, weight) for cc, v in sorted(found.items())]


def iban_signals(text: str, weight: float, runs=None) -> list[Signal]:
    if weight <= 0:
        return []
    runs = digit_runs(text) if runs is None else runs
    found = set()
    for s, e in runs:
        if (
            e - s >= 2
            and s >= 2
            and text[s - 2 : s].isascii()
            and text[s - 2 : s].isupper()
            and text[s - 2 : s].isalpha()
        ):
            if _word_before(text, s - 2):
                continue
            m = _IBAN.match(text, s - 2)
            if m:
                from stdnum import iban

                if iban.is_valid(m.group(0)):
                    found.add(m.group(0)[:2])
    return [Signal("iban", cc, f"IBAN {cc}", weight) for cc in sorted(found)]


_CURRENCY_LENGTHS = sorted({len(k) for k in CURRENCIES}, reverse=True)


_CURRENCY_WORD = re.compile(
    r"[ \u00a0]?(" + "|".join(sorted(CURRENCY_WORDS, key=len, reverse=True)) + r")(?![^\W\d_])"
)


def _currency_word(text: str, e: int, lang: str | None) -> tuple[str, str] | None:
    """(country, word) of a currency word right after the amount ending at `e`, when it names one country (for the
    page's language)."""
    m = _CURRENCY_WORD.match(text, e)
    if not m:
        return None
    users = CURRENCY_WORDS[m.group(1)]
    if len(users) > 1:
        users = tuple(c for c in users if c in LANG_COUNTRIES.get(lang or "", ()))
    return (users[0], m.group(1)) if len(users) == 1 else None


def currency_signals(text: str, weight: float, runs=None, lang: str | None = None) -> list[Signal]:
    """Single-country currency tokens next to an amount (`SEK 120`, `120 zł`, `£5`), and currency words after it
    (`20 kroner` on a Norwegian page)."""
    if weight <= 0:
        return []
    runs = digit_runs(text) if runs is None else runs
    found: dict[str, str] = {}
    for s, e in runs:
        if e < len(text) and text[e] in " \u00a0TLkzfry人र" and (hit := _currency_word(text, e, lang)):
            found.setdefault(*hit)
            continue
        before = text[max(0, s - 5) : s].rstrip()
        after = text[e : e + 5].lstrip()
        for n in _CURRENCY_LENGTHS:
            tok = before[-n:]
            if len(tok) == n and tok in CURRENCIES and not (tok[0].isalpha() and before[-n - 1 : -n].isalpha()):
                found.setdefault(CURRENCIES[tok], tok)
                break
            tok = after[:n]
            if len(tok) == n and tok in CURRENCIES and not (tok[-1].isalpha() and after[n : n + 1].isalpha()):
                found.setdefault(CURRENCIES[tok], tok)
                break
    return [Signal("currency", cc, tok, weight) for cc, tok in sorted(found.items())]


def language_signal(lang: str | None, countries: tuple[str, ...], weight: float) -> list[Signal]:
    """The language points to a country only when exactly one of the policy's jurisdictions speaks it; even then
    it is too weak to place a document alone (Spanish is not Spain)."""
    if weight <= 0 or not lang:
        return []
    hits = [c for c in countries if c in LANG_COUNTRIES.get(lang, ())]
    return [Signal("language", hits[0], lang, weight)] if len(hits) == 1 else []


def content_signals(text: str, lang: str | None, countries: tuple[str, ...], weights) -> list[Signal]:
    text = _bounded(text)
    runs = digit_runs(text)
    return (
        phone_signals(text, lang, countries, weights.get("phone", 0.0), runs)
        + postal_signals(text, countries, weights.get("postal_address", 0.0), runs)
        + iban_signals(text, weights.get("iban", 0.0), runs)
        + currency_signals(text, weights.get("currency", 0.0), runs, lang)
        + language_signal(lang, countries, weights.get("language", 0.0))
    )
