"""METS structure: which ALTO files belong to an issue, in page order, and which text blocks form each article.

File groups are recognised by their `USE` (any word of TEXT, ALTO, OCR, FULLTEXT: `Text`, `ocr-alto`,
`FULLTEXT_ALTO`); groups of images are ignored; any other group is returned in `MetsDocument.other_groups` so the
reader can look inside its files (an ALTO group under an unusual name is still read) or say why it was ignored.

Articles are logical divs of an article type. Their parts are the areas under them (a TextBlock, or a ComposedBlock
whose TextBlocks are all taken), or, for a div without areas, the pages `structLink` links it to (`smLink` from the
logical div to physical divs, as the DFG-Viewer/Kitodo profile writes METS): each article is then its own document.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import unquote, urlparse

from filters.extract.xmlutil import ExtractionError, descendants, local, parse_xml, xlink_href

ARTICLE_TYPES = {"ARTICLE", "ADVERTISEMENT", "ILLUSTRATION", "OBITUARY", "LETTER", "CHAPTER"}
TEXT_USES = {"TEXT", "ALTO", "OCR", "FULLTEXT"}
_IMAGE_USES = {"IMAGES", "IMAGE", "IMG", "MASTER", "THUMBS", "THUMBNAIL", "THUMBNAILS", "MIN", "MAX", "DEFAULT",
               "PRESENTATION", "PRESERVATION", "DOWNLOAD", "PDF", "TARGET", "RETAINED", "AUDIO", "VIDEO"}  # fmt: skip
_WORDS = re.compile(r"[A-Z0-9]+")


@dataclass
class MetsGroup:
    """One output document: an article (blocks listed) or, without articles, the whole issue (pages in order)."""

    group_id: str
    label: str
    kind: str  # article or issue
    # (ALTO file ID, block ID or None for the whole page), in reading order
    parts: list[tuple[str, str | None]] = field(default_factory=list)


@dataclass
class FileGroup:
    """A file group whose `USE` names neither text nor images: its files, for the reader to look inside."""

    use: str
    files: dict[str, str]  # file ID → href
    mimetypes: tuple[str, ...]


@dataclass
class MetsDocument:
    files: dict[str, str]  # ALTO file ID → href as written
    page_order: list[str]  # ALTO file IDs in physical order
    groups: list[MetsGroup]
    title: str | None = None
    other_groups: list[FileGroup] = field(default_factory=list)


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


def use_kind(use: str, mimetypes: tuple[str, ...] = ()) -> str:
    """`text`, `image` or `other` for a file group's USE value (and its files' MIME types)."""
    words = set(_WORDS.findall(use.upper()))
    if mimetypes and all(m.startswith(("image/", "audio/", "video/")) for m in mimetypes):
        return "image"  # before the words: OCR-D names its image groups OCR-D-IMG
    if words & TEXT_USES:
        return "text"
    return "image" if words & _IMAGE_USES else "other"


def _group_files(grp) -> dict[str, str]:
    files = {}
    for f in descendants(grp, "file"):
        for loc in descendants(f, "FLocat"):
            href = xlink_href(loc)
            if href and f.get("ID"):
                files[f.get("ID")] = href
    return files


def _file_ids(div, files: dict[str, str]) -> list[tuple[str, str | None]]:
    """(file ID, BEGIN or None) of the areas under `div`, and of its fptrs that name a file directly."""
    parts = []
    for el in div.iter():
        name = local(el)
        if name == "area" and el.get("FILEID") in files:
            parts.append((el.get("FILEID"), el.get("BEGIN")))
        elif name == "fptr" and el.get("FILEID") in files:
            parts.append((el.get("FILEID"), None))
    return parts


def parse_mets(data: bytes) -> MetsDocument:
    root = parse_xml(data, "METS")
    if local(root) != "mets":
        raise ExtractionError(f"not a METS document: root element is <{local(root)}>")
    files: dict[str, str] = {}
    other: list[FileGroup] = []
    for grp in descendants(root, "fileGrp"):
        if any(local(c) == "fileGrp" for c in grp):
            continue  # a group of groups: its inner groups are looked at one by one
        mimes = tuple(sorted({f.get("MIMETYPE") or "" for f in descendants(grp, "file")} - {""}))
        kind = use_kind(grp.get("USE") or "", mimes)
        if kind == "text":
            files.update(_group_files(grp))
        elif kind == "other":
            other.append(FileGroup(use=grp.get("USE") or "", files=_group_files(grp), mimetypes=mimes))
    doc = MetsDocument(files=files, page_order=[], groups=[], other_groups=other)
    return build_structure(root, doc)


def build_structure(root, doc: MetsDocument) -> MetsDocument:
    """Fill `page_order`, `groups` and `title` of `doc` from the structMaps and structLink of `root`; called again
    by the reader when it adopts another file group as the text."""
    files = doc.files
    page_order: list[str] = []
    logical = None
    physical_parts: dict[str, list[tuple[str, str | None]]] = {}  # physical div ID → its text files
    for sm in descendants(root, "structMap"):
        kind = (sm.get("TYPE") or "").upper()
        if kind == "PHYSICAL":
            for fid, _ in _file_ids(sm, files):
                if fid not in page_order:
                    page_order.append(fid)
            for div in descendants(sm, "div"):
                if div.get("ID"):
                    physical_parts[div.get("ID")] = [(fid, None) for fid, _ in _file_ids(div, files)]
        elif kind == "LOGICAL":
            logical = sm
    page_order += [fid for fid in files if fid not in page_order]
    links: dict[str, list[str]] = {}
    for link in descendants(root, "smLink"):
        attrs = {k.rsplit("}", 1)[-1]: v for k, v in link.attrib.items()}
        if attrs.get("from") and attrs.get("to"):
            links.setdefault(attrs["from"], []).append(attrs["to"])

    groups: list[MetsGroup] = []
    title = None
    if logical is not None:
        for div in descendants(logical, "div"):
            if title is None and div.get("LABEL"):
                title = div.get("LABEL")
            if (div.get("TYPE") or "").upper() not in ARTICLE_TYPES:
                continue
            parts = [(f, b) for f, b in _file_ids(div, files)]
            if not parts:  # linked to its pages through structLink
                for target in links.get(div.get("ID") or "", []):
                    parts += [p for p in physical_parts.get(target, []) if p not in parts]
            if parts:
                gid = div.get("ID") or f"article{len(groups) + 1}"
                groups.append(MetsGroup(group_id=gid, label=div.get("LABEL") or "", kind="article", parts=parts))
    if not groups and page_order:
        groups.append(MetsGroup(group_id="issue", label=title or "", kind="issue", parts=[(f, None) for f in page_order]))
    doc.page_order, doc.groups, doc.title = page_order, groups, title
    return doc


def adopt_group(data: bytes, doc: MetsDocument, group: FileGroup) -> MetsDocument:
    """`doc` with `group`'s files taken as its text files (a group the reader found to hold ALTO)."""
    doc.files.update(group.files)
    doc.other_groups = [g for g in doc.other_groups if g is not group]
    return build_structure(parse_xml(data, "METS"), doc)
