"""ALTO (v1 to v4) page text: words from `String/@CONTENT`, hyphenated line ends joined, blocks in reading order."""

from __future__ import annotations

from dataclasses import dataclass, field

from filters.extract.xmlutil import ExtractionError, descendants, local, parse_xml

_BLOCKS = ("TextBlock",)
# elements that group TextBlocks: a METS area may point to one of them instead of a TextBlock
_CONTAINERS = ("ComposedBlock", "PrintSpace", "TopMargin", "BottomMargin", "LeftMargin", "RightMargin")


@dataclass(frozen=True)
class AltoPage:
    page_id: str
    blocks: dict[str, str]  # block ID → text, in reading order (dicts keep insertion order)
    # ComposedBlock (or PrintSpace, margin) ID → IDs of the TextBlocks inside it, nested ones included, in order
    containers: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def area_text(self, area_id: str) -> str | None:
        """Text of the block or container `area_id` (a METS area's BEGIN), or None if the page has no such ID."""
        if area_id in self.blocks:
            return self.blocks[area_id]
        if area_id in self.containers:
            return "\n\n".join(t for b in self.containers[area_id] if (t := self.blocks.get(b)))
        return None

    @property
    def text(self) -> str:
        return "\n\n".join(t for t in self.blocks.values() if t)


def _line_tokens(line) -> list[tuple[str, str | None, bool]]:
    """(content, subs_type, is_hyp_marker) for each String/HYP of a TextLine."""
    out = []
    for el in line:
        name = local(el)
        if name == "String":
            content = el.get("CONTENT") or ""
            out.append((content, el.get("SUBS_TYPE"), False))
        elif name == "HYP":
            out.append(("", None, True))
    return out


def _block_text(block) -> str:
    lines: list[list[str]] = []
    carry = False  # previous line ended in a hyphenation whose second part starts this line
    for line in descendants(block, "TextLine"):
        toks = _line_tokens(line)
        words: list[str] = []
        ends_hyphenated = bool(toks) and (toks[-1][2] or toks[-1][1] == "HypPart1")
        for i, (content, subs, is_hyp) in enumerate(toks):
            if is_hyp or not content:
                continue
            if carry and not words and lines and lines[-1]:
                # first word of this line completes the hyphenated word at the end of the previous one
                lines[-1][-1] = lines[-1][-1] + content
                carry = False
                continue
            words.append(content)
        if ends_hyphenated and words and words[-1][-1:] in ("-", "\u00ac", "\u2010", "\u00ad"):
            words[-1] = words[-1][:-1]  # some producers keep the hyphen in CONTENT as well as in <HYP>
        carry = ends_hyphenated
        lines.append(words)
    return "\n".join(" ".join(w) for w in lines if w)


def _reading_order(root) -> list[str]:
    ids: list[str] = []
    for ro in descendants(root, "ReadingOrder"):
        for ref in ro.iter():
            if local(ref) == "ElementRef" and ref.get("REF"):
                ids.append(ref.get("REF"))
    return ids


def parse_alto(data: bytes) -> list[AltoPage]:
    """Return the pages of an ALTO document. Raises `ExtractionError` for malformed XML or a non-ALTO root."""
    root = parse_xml(data, "ALTO")
    if local(root) != "alto":
        raise ExtractionError(f"not an ALTO document: root element is <{local(root)}>")
    pages = []
    order = _reading_order(root)
    for i, page in enumerate(descendants(root, "Page")):
        blocks_in_doc = [b for b in page.iter() if local(b) in _BLOCKS]
        by_id = {b.get("ID") or f"_b{j}": b for j, b in enumerate(blocks_in_doc)}
        ids_of = {id(b): bid for bid, b in by_id.items()}
        containers = {c.get("ID"): tuple(ids_of[id(b)] for b in c.iter() if id(b) in ids_of)
                      for c in page.iter() if local(c) in _CONTAINERS and c.get("ID")}  # fmt: skip
        ordered: list[str] = []
        for ref in order:  # a reading order may name a ComposedBlock: its TextBlocks, in their order
            for bid in containers.get(ref, (ref,)):
                if bid in by_id and bid not in ordered:
                    ordered.append(bid)
        placed = set(ordered)
        ordered += [bid for bid in by_id if bid not in placed]
        blocks = {bid: _block_text(by_id[bid]) for bid in ordered}
        pages.append(AltoPage(page_id=page.get("ID") or f"page{i + 1}", blocks=blocks, containers=containers))
    if not pages:
        raise ExtractionError("ALTO document has no <Page> element")
    return pages


def alto_text(data: bytes) -> str:
    """Plain text of all pages of an ALTO document, pages separated by a blank line."""
    return "\n\n".join(p.text for p in parse_alto(data) if p.text)
