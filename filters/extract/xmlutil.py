"""Namespace-agnostic XML helpers shared by the ALTO, METS and TEI extractors."""

from __future__ import annotations

from lxml import etree


class ExtractionError(ValueError):
    """A record that cannot be turned into text; the message is the reason written to the ledger."""


_PARSER = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=True, remove_comments=True)


def parse_xml(data: bytes, what: str) -> etree._Element:
    """Parse strictly; a malformed document raises `ExtractionError` with the parser's line and message."""
    try:
        return etree.fromstring(data, parser=_PARSER)
    except etree.XMLSyntaxError as exc:
        raise ExtractionError(f"not well-formed {what} XML: {exc.msg} (line {exc.lineno})") from None


def local(el) -> str:
    tag = el.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def children(el, name: str):
    return [c for c in el if local(c) == name]


def descendants(el, name: str):
    return [c for c in el.iter() if local(c) == name]


def xlink_href(el) -> str | None:
    for k, v in el.attrib.items():
        if k.rsplit("}", 1)[-1] == "href":
            return v
    return None
