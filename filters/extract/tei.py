"""TEI P5 text: the `<text>` element (front, body, back), never the `<teiHeader>`; one block element per line."""

from __future__ import annotations

import re

from filters.extract.xmlutil import ExtractionError, children, local, parse_xml

# Elements whose text forms one line of output; containers (div, sp, lg) add paragraph breaks around them.
_LINE_ELEMENTS = {"p", "l", "head", "stage", "speaker", "ab", "item", "label", "quote", "trailer", "byline", "dateline",
                  "opener", "closer", "salute", "signed", "docTitle", "titlePart", "castItem", "role", "roleDesc"}
_CONTAINERS = {"div", "div1", "div2", "div3", "sp", "lg", "list", "castList", "castGroup", "front", "body", "back",
               "titlePage", "floatingText", "group"}
_SKIP = {"note", "fw", "pb", "lb", "cb", "milestone", "figure", "teiHeader", "facsimile"}
_WS = re.compile(r"\s+")


def _flat(el) -> str:
    parts = []
    if el.text:
        parts.append(el.text)
    for c in el:
        if local(c) not in _SKIP:
            parts.append(_flat(c))
        if c.tail:
            parts.append(c.tail)
    return "".join(parts)


def _walk(el, out: list[str]) -> None:
    name = local(el)
    if name in _SKIP or not name:
        return
    if name in _LINE_ELEMENTS:
        line = _WS.sub(" ", _flat(el)).strip()
        if line:
            out.append(line)
        return
    if name in _CONTAINERS and out and out[-1] != "":
        out.append("")
    for c in el:
        _walk(c, out)
    if name in _CONTAINERS and out and out[-1] != "":
        out.append("")


def tei_text(data: bytes) -> tuple[str, dict[str, str]]:
    """Return (text, metadata) of a TEI document; metadata holds the title and language from the header."""
    root = parse_xml(data, "TEI")
    if local(root) not in ("TEI", "TEI.2", "teiCorpus"):
        raise ExtractionError(f"not a TEI document: root element is <{local(root)}>")
    texts = [c for c in root.iter() if local(c) == "text"]
    if not texts:
        raise ExtractionError("TEI document has no <text> element")
    out: list[str] = []
    for c in texts[0]:
        _walk(c, out)
    text = "\n".join(out).strip()
    text = re.sub(r"\n{3,}", "\n\n", text)
    meta: dict[str, str] = {}
    for el in root.iter():
        n = local(el)
        if n == "title" and "title" not in meta:
            meta["title"] = _WS.sub(" ", _flat(el)).strip()
        if n == "language" and el.get("ident") and "lang" not in meta:
            meta["lang"] = el.get("ident")
    lang_attr = root.get("{http://www.w3.org/XML/1998/namespace}lang")
    if lang_attr:
        meta["lang"] = lang_attr
    if not children(texts[0], "body") and not text:
        raise ExtractionError("TEI <text> has no body text")
    return text, meta
