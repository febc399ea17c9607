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

from filters.origin.content import content_signals
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


def contact_signals(markup: str | None, countries: tuple[str, ...], weights) -> list[Signal]:
    """Content signals of the page's contact markup (no language signal: the language is weighed once, later)."""
    text = contact_text(markup)
    if not text:
        return []
    found = content_signals(text, page_language(markup), countries, {**weights, "language": 0.0})
    return [Signal(s.name, s.country, f"{s.value} (page footer)"[:60], s.weight) for s in found]
