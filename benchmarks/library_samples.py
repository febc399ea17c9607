"""Library packages around real METS files: the ALTO pages they point to, written here (the NLF METS in
../shared/data/alto comes without its ALTO), and small METS/DIDL packages in the other shapes libraries publish.

* `nlf_issue(folder, mets_path, composed_every)`: the real NLF Aamulehti METS with an ALTO page for each of its page
  files; every `composed_every`-th block its articles name is a ComposedBlock of three TextBlocks (as docWorks
  writes them), the others plain TextBlocks; the words come from the demo corpus (Finnish).
* `kitodo_issue(folder)`: a DFG-Viewer/Kitodo-style METS: articles are logical divs without areas, linked to their
  pages by `structLink`, page files in a file group USE="FULLTEXT".
* `didl_issue(folder)`: a Delpher-style DIDL with three page Items whose ALTO are resolver URLs, the ALTO files named
  after their URNs next to it.
"""

from __future__ import annotations

import re
import shutil
import zlib
from pathlib import Path

from pipelines.tools.demo_text import SENTENCES

ALTO_NS = "http://www.loc.gov/standards/alto/ns-v2#"


def _block(bid: str, k: int, lang: str = "fi") -> str:
    sents = SENTENCES[lang]
    k += zlib.crc32(bid.encode())  # a different text for every block ID
    lines = "".join(
        "<TextLine>" + "<SP/>".join(f'<String CONTENT="{w}"/>' for w in sents[(k + j) % len(sents)].split()) +
        "</TextLine>" for j in range(2)
    )  # fmt: skip
    return f'<TextBlock ID="{bid}">{lines}</TextBlock>'


def alto_page(page_id: str, blocks: list[str], composed: set[str], lang: str = "fi") -> str:
    """An ALTO page holding `blocks` (IDs); those in `composed` are ComposedBlocks of three TextBlocks."""
    body = []
    for k, bid in enumerate(blocks):
        if bid in composed:
            inner = "".join(_block(f"{bid}_TB{j}", 3 * k + j, lang) for j in range(3))
            body.append(f'<ComposedBlock ID="{bid}" TYPE="Article">{inner}</ComposedBlock>')
        else:
            body.append(_block(bid, 3 * k, lang))
    return (f'<?xml version="1.0" encoding="UTF-8"?><alto xmlns="{ALTO_NS}"><Layout><Page ID="{page_id}">'
            f'<PrintSpace ID="{page_id}_PS">{"".join(body)}</PrintSpace></Page></Layout></alto>')  # fmt: skip


def nlf_issue(folder: Path, mets_path: Path, composed_every: int = 3) -> Path:
    """The NLF METS copied into `folder` with its ALTO pages written under `folder/alto/`; returns the METS path."""
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / mets_path.name
    shutil.copyfile(mets_path, target)
    xml = mets_path.read_text(encoding="utf-8")
    hrefs = dict(re.findall(r'<file ID="(ALTO\d+)"[^>]*>\s*<FLocat[^>]*xlink:href="file://\./([^"]+)"', xml))
    begins = re.findall(r'FILEID="(ALTO\d+)" BEGIN="(P\d+_TB\d+)"', xml)
    begins += [(f, b) for b, f in re.findall(r'BEGIN="(P\d+_TB\d+)"[^>]*FILEID="(ALTO\d+)"', xml)]
    for n, (fid, href) in enumerate(sorted(hrefs.items()), start=1):
        blocks = sorted({b for f, b in begins if f == fid})
        composed = {b for i, b in enumerate(blocks) if composed_every and i % composed_every == 0}
        out = folder / href
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(alto_page(f"P{n}", blocks, composed), encoding="utf-8")
    return target


def kitodo_issue(folder: Path, articles: int = 3) -> Path:
    """A METS whose articles reach their pages only through structLink; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "fulltext").mkdir(exist_ok=True)
    files, phys, logi, links = [], [], [], []
    for p in range(1, articles + 1):
        (folder / "fulltext" / f"{p:08d}.xml").write_text(
            alto_page(f"PAGE{p}", [f"B{p}_{k}" for k in range(3)], set(), "de"), encoding="utf-8")
        files.append(f'<mets:file ID="FULLTEXT_{p:04d}" MIMETYPE="text/xml"><mets:FLocat LOCTYPE="URL" '
                     f'xlink:href="fulltext/{p:08d}.xml"/></mets:file>')  # fmt: skip
        phys.append(f'<mets:div ID="PHYS_{p:04d}" TYPE="page" ORDER="{p}"><mets:fptr FILEID="FULLTEXT_{p:04d}"/>'
                    "</mets:div>")  # fmt: skip
        logi.append(f'<mets:div ID="LOG_{p:04d}" TYPE="article" LABEL="Artikel {p}"/>')
        links.append(f'<mets:smLink xlink:from="LOG_{p:04d}" xlink:to="PHYS_{p:04d}"/>')
    xml = ('<?xml version="1.0" encoding="UTF-8"?><mets:mets xmlns:mets="http://www.loc.gov/METS/" '
           'xmlns:xlink="http://www.w3.org/1999/xlink"><mets:fileSec><mets:fileGrp USE="FULLTEXT">'
           + "".join(files) + '</mets:fileGrp></mets:fileSec><mets:structMap TYPE="LOGICAL">'
           '<mets:div ID="LOG_0000" TYPE="newspaper_issue" LABEL="Ausgabe">' + "".join(logi) +
           '</mets:div></mets:structMap><mets:structMap TYPE="PHYSICAL"><mets:div ID="PHYS_0000" '
           'TYPE="physSequence">' + "".join(phys) + "</mets:div></mets:structMap><mets:structLink>"
           + "".join(links) + "</mets:structLink></mets:mets>")  # fmt: skip
    path = folder / "kitodo_mets.xml"
    path.write_text(xml, encoding="utf-8")
    return path


def didl_issue(folder: Path, pages: int = 3) -> Path:
    """A Delpher-style DIDL of one issue, its ALTO pages beside it named after their URNs; returns its path."""
    folder.mkdir(parents=True, exist_ok=True)
    items = []
    for p in range(1, pages + 1):
        urn = f"ddd:010097951:mpeg21:p{p:03d}"
        (folder / f"DDD_010097951_mpeg21_p{p:03d}_alto.xml").write_text(
            alto_page(f"P{p}", [f"P{p}_TB{k}" for k in range(2)], set(), "nl"), encoding="utf-8")
        items.append(
            f'<didl:Item dii:Identifier="{urn}"><didl:Component dii:Identifier="{urn}:image">'
            f'<didl:Resource mimeType="image/jp2" ref="http://resolver.kb.nl/resolve?urn={urn}:image"/>'
            f'</didl:Component><didl:Component dii:Identifier="{urn}:alto"><didl:Resource mimeType="text/xml" '
            f'ref="http://resolver.kb.nl/resolve?urn={urn}:alto"/></didl:Component></didl:Item>'
        )  # fmt: skip
    xml = ('<?xml version="1.0" encoding="UTF-8"?><didl:DIDL xmlns:didl="urn:mpeg:mpeg21:2002:02-DIDL-NS" '
           'xmlns:dii="urn:mpeg:mpeg21:2002:01-DII-NS" xmlns:dc="http://purl.org/dc/elements/1.1/">'
           '<didl:Item dii:Identifier="ddd:010097951:mpeg21"><didl:Descriptor><didl:Statement mimeType="text/xml">'
           "<dc:title>Algemeen Handelsblad</dc:title></didl:Statement></didl:Descriptor>"
           + "".join(items) + "</didl:Item></didl:DIDL>")  # fmt: skip
    path = folder / "didl.xml"
    path.write_text(xml, encoding="utf-8")
    return path
