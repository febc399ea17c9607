"""METS and DIDL packages: ComposedBlock areas, structLink-linked articles, file groups under other USE names,
Delpher DIDL issues. The METS is the real NLF one from ../shared/data/alto where its shape matters; the ALTO pages
it points to are written by benchmarks/library_samples.py."""

from __future__ import annotations

import json

from lxml import etree

from benchmarks.library_samples import alto_page, didl_issue, kitodo_issue, nlf_issue
from filters.extract import alto_text, parse_alto
from pipelines.sources.reader import InputFile, read_file, sniff_format


def _read(path):
    spec = InputFile(source_id="lib", path=str(path), rel=path.name, format=sniff_format(str(path)))
    items = list(read_file(spec))
    return [d for k, d in items if k == "doc"], [r for k, r in items if k == "ledger"]


def test_composed_block_areas_keep_all_their_text_blocks(tmp_path, shared):
    mets = nlf_issue(tmp_path, shared / "alto" / "NLF_379973_Aamulehti_1882_METS.xml", composed_every=3)
    docs, rows = _read(mets)
    assert len(docs) == 5 and all(d.record_locator.startswith(mets.name + "#") for d in docs)
    # the words of the blocks the articles name, counted on the ALTO XML itself: all of them are in the documents
    named = set()
    for div in etree.parse(str(mets)).iter("{*}div"):
        if div.get("TYPE") == "ARTICLE":
            named |= {a.get("BEGIN") for a in div.iter("{*}area")}
    words = 0
    for p in (tmp_path / "alto").glob("*.xml"):
        for el in etree.parse(str(p)).iter():
            if el.get("ID") in named:
                words += sum(len(s.get("CONTENT").split()) for s in el.iter("{*}String"))
    composed = sum(1 for p in (tmp_path / "alto").glob("*.xml") for _ in etree.parse(str(p)).iter("{*}ComposedBlock"))
    assert composed >= 5 and words > 1000
    assert sum(len(d.text.split()) for d in docs) == words
    assert not [r for r in rows if "name a block" in r["reason"]]


def test_area_text_of_a_composed_block_and_a_reading_order_naming_it():
    xml = alto_page("P1", ["CB1", "TB9"], {"CB1"}, "en").replace(
        "<Layout>", '<Layout><ReadingOrder><OrderedGroup ID="g"><ElementRef ID="r1" REF="TB9"/>'
        '<ElementRef ID="r2" REF="CB1"/></OrderedGroup></ReadingOrder>')  # fmt: skip
    page = parse_alto(xml.encode())[0]
    assert list(page.blocks) == ["TB9", "CB1_TB0", "CB1_TB1", "CB1_TB2"]
    assert page.area_text("CB1") == "\n\n".join(page.blocks[f"CB1_TB{j}"] for j in range(3))
    assert set(page.area_text("P1_PS").split("\n\n")) == set(page.blocks.values())  # the PrintSpace: all blocks
    assert page.area_text("nope") is None


def test_structlink_articles_are_separate_documents(tmp_path):
    mets = kitodo_issue(tmp_path, articles=3)
    docs, _ = _read(mets)
    assert [d.record_locator for d in docs] == [f"kitodo_mets.xml#LOG_{i:04d}" for i in (1, 2, 3)]
    pages = [alto_text((tmp_path / "fulltext" / f"{i:08d}.xml").read_bytes()) for i in (1, 2, 3)]
    assert [d.text for d in docs] == pages and len(set(pages)) == 3


def _mets_with_group(folder, use: str, content: str) -> None:
    (folder / "p1.xml").write_text(content, encoding="utf-8")
    (folder / "issue_mets.xml").write_text(
        '<mets xmlns="http://www.loc.gov/METS/" xmlns:xlink="http://www.w3.org/1999/xlink"><fileSec>'
        '<fileGrp USE="IMAGES"><file ID="IMG1" MIMETYPE="image/tiff"><FLocat xlink:href="p1.tif"/></file></fileGrp>'
        f'<fileGrp USE="{use}"><file ID="F1" MIMETYPE="text/xml"><FLocat xlink:href="p1.xml"/></file></fileGrp>'
        '</fileSec><structMap TYPE="PHYSICAL"><div TYPE="page"><fptr FILEID="F1"/></div></structMap></mets>',
        encoding="utf-8")  # fmt: skip


def test_file_group_under_another_use_is_read_when_its_files_are_alto(tmp_path):
    page = alto_page("P1", ["B1", "B2"], set(), "sv")
    _mets_with_group(tmp_path, "DocWorks XML", page)
    docs, rows = _read(tmp_path / "issue_mets.xml")
    assert len(docs) == 1 and docs[0].text == alto_text(page.encode())
    note = [r for r in rows if "file group USE='DocWorks XML'" in r["reason"]]
    assert note and "read as ALTO text (recognised by content; 1 file(s))" in note[0]["reason"]


def test_file_group_that_is_not_alto_is_a_ledger_row_not_silence(tmp_path):
    _mets_with_group(tmp_path, "Transcripts", "<TEI><text><body><p>not alto</p></body></text></TEI>")
    docs, rows = _read(tmp_path / "issue_mets.xml")
    assert not docs
    note = next(r for r in rows if r["stage"] == "read")
    assert note["decision"] == "dropped" and "USE='Transcripts' not read: its files are not ALTO" in note["reason"]
    file_row = next(r for r in rows if r["stage"] == "input")
    assert file_row["decision"] == "error" and "METS lists no ALTO text file" in file_row["reason"]
    assert json.loads(note["detail"]) == {"files": 1}


def test_didl_issue_groups_its_alto_pages_and_claims_them(tmp_path):
    from pipelines.run import plan_inputs
    from schemas.policy import load_policy

    didl = didl_issue(tmp_path / "kb", pages=3)
    assert sniff_format(str(didl)) == "mets"
    docs, rows = _read(didl)
    pages = [alto_text((tmp_path / "kb" / f"DDD_010097951_mpeg21_p{p:03d}_alto.xml").read_bytes()) for p in (1, 2, 3)]
    assert len(docs) == 1 and docs[0].text == "\n\n".join(pages)
    assert [r["reason"] for r in rows] == ["1 record(s)"]
    from pathlib import Path

    policy = load_policy(Path(__file__).resolve().parent.parent / "policies" / "demo-eu.yaml")
    planned = plan_inputs(policy, [f"kb={tmp_path / 'kb'}"])
    assert [f.rel for f in planned] == ["didl.xml"] and len(planned[0].members) == 3
