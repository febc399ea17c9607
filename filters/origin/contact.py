"""Contact details in the markup that text extraction drops: `<footer>`, `<address>` and `tel:` links.

A site's imprint (postal address, telephone) usually sits in the page footer, which main-content extraction removes
as boilerplate; the content signals (`filters.origin.content`) never see it. This module takes the visible text of
those elements from the raw HTML so the same phone, postcode, IBAN and currency scans run over it. The signals keep
their names (a footer phone is a `phone` signal, one witness with the article's phone: the combiner counts a family
once), and their value says where they were found, so a ledger row explains itself.

Plain regular expressions over a bounded slice of the page: no parser, no network.
"""

from __future__ import annotations

import html as html_lib
import re

from filters.origin.content import content_signals, phone_signals
from filters.origin.model import Signal

_PAGE_LIMIT = 1 << 20  # characters of markup looked at; a footer sits near the end, so the slice is the tail
_TEXT_LIMIT = 4096  # characters of contact text kept
_BLOCK = re.compile(r"<(footer|address)\b[^>]{0,500}>(.*?)</\1\s*>", re.IGNORECASE | re.DOTALL)
_TEL = re.compile(r"""href\s*=\s*["']tel:([+\d][\d\s().\-/%]{4,30})["']""", re.IGNORECASE)
_TAGS = re.compile(r"<[^>]{0,2000}>")
_SPACE = re.compile(r"\s+")
_LANG = re.compile(r"<html\b[^>]{0,2000}?\blang\s*=\s*[\"']?([A-Za-z]{2,3})", re.IGNORECASE)


def contact_text(markup: str | None) -> str:
    """The visible text of the page's `<footer>` and `<address>` elements and its `tel:` links, space-separated."""
    if not markup:
        return ""
    page = markup if len(markup) <= _PAGE_LIMIT else markup[-_PAGE_LIMIT:]
    lowered = page.lower()
    if "<footer" not in lowered and "<address" not in lowered and "tel:" not in lowered:
        return ""
    parts = []
    for _kind, inner in _BLOCK.findall(page):
        parts.append(html_lib.unescape(_TAGS.sub(" ", inner)))
    for number in _TEL.findall(page):
        parts.append("Tel " + html_lib.unescape(number).replace("%20", " "))
    return _SPACE.sub(" ", " ".join(parts)).strip()[:_TEXT_LIMIT]


def page_language(markup: str | None) -> str | None:
    """The primary language subtag of `<html lang>` (lower case), used to read national-format phone numbers."""
    if not markup:
        return None
    m = _LANG.search(markup[:65536])
    return m.group(1).lower() if m else None


class PageSignals(list):
    """The signals of the archived response, plus the page's contact text and the `<html lang>` it was read with:
    a national-format phone number needs the page's language, and a theme's default `lang="en-US"` is often not
    it, so the contact text is read again once language ID has run (`footer_phones`). Held in memory for the
    current document only; never written."""

    def __init__(self, signals=(), contact: str = "", lang: str | None = None) -> None:
        super().__init__(signals)
        self.contact = contact
        self.lang = lang


def _footer(found: list[Signal]) -> list[Signal]:
    return [Signal(s.name, s.country, f"{s.value} (page footer)"[:60], s.weight) for s in found]


def text_signals(text: str, lang: str | None, countries: tuple[str, ...], weights) -> list[Signal]:
    """Content signals of contact text (no language signal: the language is weighed once, later)."""
    if not text:
        return []
    return _footer(content_signals(text, lang, countries, {**weights, "language": 0.0}))


def contact_signals(markup: str | None, countries: tuple[str, ...], weights) -> list[Signal]:
    """Content signals of the page's contact markup, phone numbers read in the language of `<html lang>`."""
    return text_signals(contact_text(markup), page_language(markup), countries, weights)


def footer_phones(page: list[Signal] | None, lang: str | None, countries: tuple[str, ...], weights) -> list[Signal]:
    """Phone signals of the page's contact text read in the detected language `lang`, when that is not the language
    the page was read with; only countries the page's phone signals do not already name."""
    contact, read_with = getattr(page, "contact", ""), getattr(page, "lang", None)
    if not contact or not lang or lang == read_with:
        return []
    have = {s.country for s in page or () if s.name == "phone"}
    found = phone_signals(contact, lang, countries, weights.get("phone", 0.0))
    return [s for s in _footer(found) if s.country not in have]
