"""Content signals, read from the extracted text: phone numbers (libphonenumber, through `phonenumbers`), postal
addresses of the policy's countries, IBAN country codes (ISO 13616 check through python-stdnum), single-country
currencies, and the document's language (weak on its own: Spanish is not Spain).

Residency runs before the PII stage, so these are light scans of their own: a regular expression finds candidates,
a maintained library validates them. No value found is ever recorded: a phone becomes its calling code, an address
its postcode format, an IBAN its country code.
"""

from __future__ import annotations

import re
from functools import lru_cache

from filters.origin.countries import CURRENCIES, LANG_COUNTRIES, POSTAL_PREFIXES
from filters.origin.model import Signal

_INTL_PHONE = re.compile(r"(?<![\w+])(?:\+|00)([1-9]\d{0,2})[\s.\-/]*(?:\(0\))?[\s.\-/]*\(?\d[\d\s.\-/()]{4,15}\d")
_NATIONAL_PHONE = re.compile(
    r"(?i)(?:tel|tél|phone|puh|tfn|telefon|téléphone|telefono|teléfono|telefoon|電話|전화|fax)[a-zé.]*\s*:?\s*"
    r"(\(?0\d[\d\s.\-/()]{5,14}\d)"
)
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
}
_POSTCODES: dict[str, str] = {
    "DE": r"\d{5}", "FR": r"\d{5}", "IT": r"\d{5}", "ES": r"\d{5}", "FI": r"\d{5}",
    "AT": r"\d{4}", "CH": r"\d{4}", "BE": r"\d{4}", "LU": r"\d{4}", "DK": r"\d{4}", "NO": r"\d{4}", "HU": r"\d{4}",
    "NL": r"\d{4}\s?[A-Z]{2}", "SE": r"\d{3}\s\d{2}", "CZ": r"\d{3}\s\d{2}", "PL": r"\d{2}-\d{3}", "PT": r"\d{4}-\d{3}",
}  # fmt: skip
_CAPITAL = r"[A-ZÀ-ÖØ-ÞĀ-ŽŁŚŻ]"
#: postcodes distinctive enough to count without a street word
_STANDALONE: dict[str, re.Pattern] = {
    "GB": re.compile(r"\b(?:[A-Z]{1,2}\d[A-Z\d]?) \d[ABD-HJLNP-UW-Z]{2}\b"),
    "JP": re.compile(r"〒\s?\d{3}-\d{4}"),
}
_PREFIXED = re.compile(r"\b([A-Z]{1,2})-(\d{4,5})\s+" + _CAPITAL)
_IBAN = re.compile(r"\b([A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?)\b")


@lru_cache(maxsize=64)
def _street_regex(countries: tuple[str, ...]) -> tuple[re.Pattern | None, dict[str, tuple[str, ...]]]:
    words: dict[str, list[str]] = {}
    for cc in countries:
        for w in _STREETS.get(cc, ()):
            words.setdefault(w, []).append(cc)
    if not words:
        return None, {}
    alt = "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))
    return re.compile(rf"(?i)({alt})(?=[\s\d,])"), {w: tuple(v) for w, v in words.items()}


@lru_cache(maxsize=64)
def _postcode_after(cc: str) -> re.Pattern:
    return re.compile(rf"^[^\n]{{0,40}}?\d{{1,4}}[a-zA-Z]?(?:[\s,/-]+\w{{0,12}})?[\s,]+(?:[A-Z]{{1,2}}-)?"
                      rf"{_POSTCODES[cc]}\s+{_CAPITAL}")  # fmt: skip


def postal_signals(text: str, countries: tuple[str, ...], weight: float) -> list[Signal]:
    """Addresses of the policy's `countries`: a street word, a house number, then the country's postcode format."""
    if weight <= 0:
        return []
    found: dict[str, str] = {}
    for m in _PREFIXED.finditer(text):
        cc = POSTAL_PREFIXES.get(m.group(1))
        if cc in countries:
            found.setdefault(cc, f"{m.group(1)}- prefixed postcode")
    for cc, rx in _STANDALONE.items():
        if cc in countries and rx.search(text):
            found.setdefault(cc, f"{cc} postcode format")
    street, owners = _street_regex(tuple(sorted(c for c in countries if c in _POSTCODES)))
    if street is not None:
        for m in street.finditer(text):
            window = text[m.end() : m.end() + 80]
            hits = [cc for cc in owners[m.group(1).lower()] if cc not in found and _postcode_after(cc).search(window)]
            if len(hits) == 1:
                found[hits[0]] = f"street + {hits[0]} postcode format"
    return [Signal("postal_address", cc, v, weight) for cc, v in sorted(found.items())]


def phone_signals(text: str, lang: str | None, countries: tuple[str, ...], weight: float) -> list[Signal]:
    """Numbers with a country prefix (any country), and national-format numbers after a phone word, tried against
    the policy's countries that speak the document's language (counted only when exactly one accepts them)."""
    if weight <= 0 or not any(ch.isdigit() for ch in text):
        return []
    import phonenumbers

    found: dict[str, str] = {}
    for m in _INTL_PHONE.finditer(text):
        try:
            num = phonenumbers.parse("+" + m.group(0).lstrip("+0") if m.group(0).startswith("00") else m.group(0))
        except phonenumbers.NumberParseException:
            continue
        if phonenumbers.is_valid_number(num):
            cc = phonenumbers.region_code_for_number(num)
            if cc and cc != "001":
                found.setdefault(cc, f"+{num.country_code}")
    speakers = [c for c in countries if c in LANG_COUNTRIES.get(lang or "", ())]
    if speakers:
        for m in _NATIONAL_PHONE.finditer(text):
            ok = []
            for cc in speakers:
                try:
                    if phonenumbers.is_valid_number(phonenumbers.parse(m.group(1), cc)):
                        ok.append(cc)
                except phonenumbers.NumberParseException:
                    continue
            if len(ok) == 1:
                found.setdefault(ok[0], f"national format ({ok[0]})")
    return [Signal("phone", cc, v, weight) for cc, v in sorted(found.items())]


def iban_signals(text: str, weight: float) -> list[Signal]:
    if weight <= 0:
        return []
    from stdnum import iban

    found = set()
    for m in _IBAN.finditer(text):
        if iban.is_valid(m.group(1)):
            found.add(m.group(1)[:2])
    return [Signal("iban", cc, f"IBAN {cc}", weight) for cc in sorted(found)]


_CURRENCY = re.compile(
    "(?:(?<![A-Za-z])("
    + "|".join(re.escape(k) for k in sorted(CURRENCIES, key=len, reverse=True))
    + r")\s?\d|\d\s?("
    + "|".join(re.escape(k) for k in sorted(CURRENCIES, key=len, reverse=True))
    + r")(?![A-Za-z]))"
)


def currency_signals(text: str, weight: float) -> list[Signal]:
    if weight <= 0:
        return []
    found = {}
    for m in _CURRENCY.finditer(text):
        tok = m.group(1) or m.group(2)
        found.setdefault(CURRENCIES[tok], tok)
    return [Signal("currency", cc, tok, weight) for cc, tok in sorted(found.items())]


def language_signal(lang: str | None, countries: tuple[str, ...], weight: float) -> list[Signal]:
    """The language points to a country only when exactly one of the policy's jurisdictions speaks it; even then
    it is too weak to place a document alone (Spanish is not Spain)."""
    if weight <= 0 or not lang:
        return []
    hits = [c for c in countries if c in LANG_COUNTRIES.get(lang, ())]
    return [Signal("language", hits[0], lang, weight)] if len(hits) == 1 else []


def content_signals(text: str, lang: str | None, countries: tuple[str, ...], weights) -> list[Signal]:
    return (
        phone_signals(text, lang, countries, weights.get("phone", 0.0))
        + postal_signals(text, countries, weights.get("postal_address", 0.0))
        + iban_signals(text, weights.get("iban", 0.0))
        + currency_signals(text, weights.get("currency", 0.0))
        + language_signal(lang, countries, weights.get("language", 0.0))
    )
