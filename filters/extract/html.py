"""HTML to text behind one interface, so a faster extractor can replace the default without touching the pipeline.

Also holds payload decoding: charset from the HTTP header, then the HTML `<meta>`, then byte-level detection.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod

_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", re.IGNORECASE)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_.:-]+)", re.IGNORECASE)


def _usable(enc: str | None) -> str | None:
    import codecs

    if not enc:
        return None
    try:
        return codecs.lookup(enc).name
    except LookupError:
        return None


def decode_payload(body: bytes, content_type: str | None) -> tuple[str, str]:
    """Decode an HTML or text payload; returns (text, encoding used). Never raises on bad bytes."""
    candidates = []
    if content_type:
        m = _HEADER_CHARSET.search(content_type)
        if m:
            candidates.append(m.group(1))
    m = _META_CHARSET.search(body[:4096])
    if m:
        candidates.append(m.group(1).decode("ascii", "ignore"))
    for enc in candidates:
        name = _usable(enc)
        if name:
            # gb2312 pages routinely use gbk characters; decode with the superset
            name = "gb18030" if name in ("gb2312", "gbk") else name
            try:
                return body.decode(name), name
            except UnicodeDecodeError:
                continue
    try:
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    from resiliparse.parse.encoding import bytes_to_str, detect_encoding

    enc = detect_encoding(body)
    return bytes_to_str(body, enc), enc


class HtmlExtractor(ABC):
    """Turns one HTML page into its main text. Returns "" when a page has no main text; never raises."""

    name: str = "base"

    @abstractmethod
    def extract(self, html: str) -> str: ...


class TrafilaturaExtractor(HtmlExtractor):
    """datatrove's Trafilatura settings (favour precision, no comments)."""

    name = "trafilatura"

    def __init__(self) -> None:
        from datatrove.pipeline.extractors import Trafilatura

        # trafilatura's `deduplicate` keeps a cache across documents, which would make a page's text depend on
        # which pages the same worker saw before it; Terroir deduplicates itself, deterministically.
        self._impl = Trafilatura(favour_precision=True, deduplicate=False, timeout=10)

    def extract(self, html: str) -> str:
        try:
            return self._impl.extract(html) or ""
        except Exception:  # noqa: BLE001 - trafilatura raises assorted parser errors on broken markup
            return ""


class ResiliparseExtractor(HtmlExtractor):
    """Resiliparse's main-content extraction: an order of magnitude faster than trafilatura on web pages."""

    name = "resiliparse"

    def extract(self, html: str) -> str:
        from resiliparse.extract.html2text import extract_plain_text

        try:
            return extract_plain_text(html, main_content=True, alt_texts=False, links=False, list_bullets=False)
        except Exception:  # noqa: BLE001
            return ""


EXTRACTORS: dict[str, type[HtmlExtractor]] = {
    "trafilatura": TrafilaturaExtractor,
    "resiliparse": ResiliparseExtractor,
}


def get_extractor(name: str) -> HtmlExtractor:
    try:
        return EXTRACTORS[name]()
    except KeyError:
        raise ValueError(f"unknown HTML extractor {name!r}; choose one of {sorted(EXTRACTORS)}") from None
