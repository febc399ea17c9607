"""DIDL (MPEG-21 Digital Item Declaration) packages as Delpher (KB, the Dutch national library) serves newspapers:
one DIDL XML per issue, an Item per page whose Components hold Resources (the page image, its ALTO) and an Item per
article. The ALTO resources, in the order the DIDL lists them, are the pages of one issue document."""

from __future__ import annotations

from filters.extract.mets import MetsDocument, MetsGroup
from filters.extract.xmlutil import ExtractionError, descendants, local, parse_xml

_XML_TYPES = ("text/xml", "application/xml", "application/alto+xml")


def is_didl(data: bytes) -> bool:
    head = data[:2048]
    return b"<didl:DIDL" in head or b"<DIDL" in head or b"mpeg21:2002:02-DIDL-NS" in head


def _identifier(el) -> str:
    for k, v in el.attrib.items():
        if k.rsplit("}", 1)[-1] == "Identifier":
            return v
    return el.get("id") or el.get("ID") or ""


def parse_didl(data: bytes) -> MetsDocument:
    """The ALTO resources of a DIDL package as a `MetsDocument` with one issue group, pages in listed order.

    A Resource counts as ALTO when its component identifier or its `ref` says `alto`, or its MIME type is XML and
    its `ref` names an `.xml` file; images and article-level text are left out. Raises `ExtractionError` for XML
    that is not DIDL."""
    root = parse_xml(data, "DIDL")
    if local(root) != "DIDL":
        raise ExtractionError(f"not a DIDL document: root element is <{local(root)}>")
    files: dict[str, str] = {}
    for comp in descendants(root, "Component"):
        cid = _identifier(comp)
        for res in descendants(comp, "Resource"):
            ref = res.get("ref") or ""
            mime = (res.get("mimeType") or res.get("mimetype") or "").lower()
            says_alto = "alto" in cid.lower() or "alto" in ref.lower()
            if not ref or not (says_alto or (mime in _XML_TYPES and ref.lower().endswith(".xml"))):
                continue
            fid = cid or f"resource{len(files) + 1}"
            if fid in files:
                fid = f"{fid}#{len(files) + 1}"
            files[fid] = ref
    title = None
    for el in root.iter():
        if local(el) == "title" and (el.text or "").strip():
            title = el.text.strip()
            break
    order = list(files)
    groups = [MetsGroup(group_id="issue", label=title or "", kind="issue", parts=[(f, None) for f in order])]
    return MetsDocument(files=files, page_order=order, groups=groups if order else [], title=title)
