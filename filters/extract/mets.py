"""METS structure: which ALTO files belong to an issue, in page order, and which text blocks form each article."""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

from filters.extract.xmlutil import ExtractionError, descendants, local, parse_xml, xlink_href

ARTICLE_TYPES = {"ARTICLE", "ADVERTISEMENT", "ILLUSTRATION", "OBITUARY", "LETTER", "CHAPTER"}
TEXT_USES = {"TEXT", "ALTO", "OCR", "FULLTEXT"}


@dataclass
class MetsGroup:
    """One output document: an article (blocks listed) or, without articles, the whole issue (pages in order)."""

    group_id: str
    label: str
    kind: str  # article or issue
    # (ALTO file ID, block ID or None for the whole page), in reading order
    parts: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass
class MetsDocument:
    files: dict[str, str]  # ALTO file ID → href as written
    page_order: list[str]  # ALTO file IDs in physical order
    groups: list[MetsGroup]
    title: str | None = None


def href_to_relpath(href: str) -> str:
    """`file://./alto/00001.xml` or `alto/00001.xml` → `alto/00001.xml` (relative to the METS file)."""
    u = urlparse(href)
    if u.scheme in ("file", ""):
        path = unquote((u.netloc or "") + u.path) if u.scheme == "file" else unquote(href)
        return path[2:] if path.startswith("./") else path.lstrip("/") if u.netloc == "." else path
    raise ExtractionError(f"METS file reference uses unsupported scheme {u.scheme!r}")


def is_mets(data: bytes) -> bool:
    head = data[:2048]
    return b"<mets" in head or b":mets" in head


def parse_mets(data: bytes) -> MetsDocument:
    root = parse_xml(data, "METS")
    if local(root) != "mets":
        raise ExtractionError(f"not a METS document: root element is <{local(root)}>")
    files: dict[str, str] = {}
    for grp in descendants(root, "fileGrp"):
        if (grp.get("USE") or "").upper() not in TEXT_USES:
            continue
        for f in descendants(grp, "file"):
            for loc in descendants(f, "FLocat"):
                href = xlink_href(loc)
                if href and f.get("ID"):
                    files[f.get("ID")] = href
    page_order: list[str] = []
    logical = None
    for sm in descendants(root, "structMap"):
        kind = (sm.get("TYPE") or "").upper()
        if kind == "PHYSICAL":
            for area in descendants(sm, "area"):
                fid = area.get("FILEID")
                if fid in files and fid not in page_order:
                    page_order.append(fid)
        elif kind == "LOGICAL":
            logical = sm
    page_order += [fid for fid in files if fid not in page_order]

    groups: list[MetsGroup] = []
    title = None
    if logical is not None:
        for div in descendants(logical, "div"):
            if title is None and div.get("LABEL"):
                title = div.get("LABEL")
            if (div.get("TYPE") or "").upper() not in ARTICLE_TYPES:
                continue
            parts = [(a.get("FILEID"), a.get("BEGIN")) for a in descendants(div, "area") if a.get("FILEID") in files]
            if parts:
                gid = div.get("ID") or f"article{len(groups) + 1}"
                groups.append(MetsGroup(group_id=gid, label=div.get("LABEL") or "", kind="article", parts=parts))
    if not groups and page_order:
        groups.append(MetsGroup(group_id="issue", label=title or "", kind="issue", parts=[(f, None) for f in page_order]))
    return MetsDocument(files=files, page_order=page_order, groups=groups, title=title)
