"""Text extraction from ALTO, METS and TEI, on the real library files in ../shared/data."""

from __future__ import annotations

import difflib
import itertools

import pytest
from lxml import etree

from filters.extract import ExtractionError, alto_text, parse_mets, tei_text


def _words(s: str) -> list[str]:
    return s.split()


def test_chronam_alto_matches_library_of_congress_reference(shared):
    xml = (shared / "alto" / "chronam_ocr.xml").read_bytes()
    ours = _words(alto_text(xml))
    ref = _words((shared / "alto" / "chronam_ocr.txt").read_text(encoding="utf-8"))
    # The LoC reference keeps hyphenated words split across lines ("Har" / "bor"); we join them, as the issue asks.
    # Apply the same joins to the reference, taking them from the ALTO's own HypPart1/HypPart2 markup.
    root = etree.fromstring(xml)
    strings = [el for el in root.iter() if etree.QName(el).localname == "String"]
    joins = [(a.get("CONTENT"), b.get("CONTENT")) for a, b in itertools.pairwise(strings)
             if a.get("SUBS_TYPE") == "HypPart1" and b.get("SUBS_TYPE") == "HypPart2"]  # fmt: skip
    assert len(joins) > 50
    joined, i = [], 0
    pending = list(joins)
    while i < len(ref):
        if pending and i + 1 < len(ref) and (ref[i], ref[i + 1]) == pending[0]:
            joined.append(ref[i] + ref[i + 1])
            pending.pop(0)
            i += 2
            continue
        joined.append(ref[i])
        i += 1
    ratio = difflib.SequenceMatcher(None, ours, joined, autojunk=False).ratio()
    assert ratio >= 0.98, ratio
    # and the hyphenation was really joined in our text
    assert "Harbor" in ours and "Har" not in ours


def test_alto_hyphen_with_hyp_element_only_is_joined():
    xml = b"""<alto xmlns="http://www.loc.gov/standards/alto/ns-v3#"><Layout><Page ID="P1"><PrintSpace>
    <TextBlock ID="B1"><TextLine><String CONTENT="the"/><SP/><String CONTENT="compli-"/><HYP CONTENT="-"/></TextLine>
    <TextLine><String CONTENT="cated"/><SP/><String CONTENT="case"/></TextLine></TextBlock>
    <TextBlock ID="B0"><TextLine><String CONTENT="headline"/></TextLine></TextBlock>
    </PrintSpace></Page></Layout></alto>"""
    text = alto_text(xml)
    assert "complicated" in text.split()
    assert text.index("the") < text.index("headline")  # document order without a ReadingOrder


def test_alto_reading_order_is_honoured():
    xml = b"""<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#"><Layout>
    <ReadingOrder><OrderedGroup ID="g"><ElementRef ID="r1" REF="B2"/><ElementRef ID="r2" REF="B1"/></OrderedGroup>
    </ReadingOrder><Page ID="P1"><PrintSpace>
    <TextBlock ID="B1"><TextLine><String CONTENT="second"/></TextLine></TextBlock>
    <TextBlock ID="B2"><TextLine><String CONTENT="first"/></TextLine></TextBlock>
    </PrintSpace></Page></Layout></alto>"""
    assert alto_text(xml).split() == ["first", "second"]


@pytest.mark.parametrize(
    ("name", "first_words"),
    [
        ("testAltos_0_testAlto.xml", "Brann- og annen skadetrygd"),
        ("testAltos_1_testAltoWithSubsContent.xml", "very intelligent would mean nothing at all to our"),
        ("testAltos_2_testAltoWithNoMargins.xml", "Hos andre er Aarsagen uden Tvivl den, at man har stolet"),
    ],
)
def test_norwegian_alto_pages_start_with_their_first_words(shared, name, first_words):
    text = alto_text((shared / "alto" / name).read_bytes())
    assert " ".join(text.split()).startswith(first_words)


def test_alto_with_blank_line_before_declaration_is_a_readable_error(shared):
    with pytest.raises(ExtractionError, match="XML declaration allowed only at the start"):
        alto_text((shared / "alto" / "wiremock_alto_letter_to_Undset.xml").read_bytes())


def test_malformed_xml_is_a_readable_error():
    with pytest.raises(ExtractionError, match="not well-formed ALTO XML"):
        alto_text(b"<alto><Layout><Page></Layout></alto>")


def test_mets_articles_from_nlf_issue(shared):
    mets = parse_mets((shared / "alto" / "NLF_379973_Aamulehti_1882_METS.xml").read_bytes())
    assert mets.page_order == ["ALTO00001", "ALTO00002", "ALTO00003", "ALTO00004"]
    assert mets.groups and all(g.kind == "article" for g in mets.groups)
    assert all(fid in mets.files for g in mets.groups for fid, _ in g.parts)


def test_tei_body_not_header(shared):
    text, meta = tei_text((shared / "tei" / "buechner-woyzeck.xml").read_bytes())
    assert meta["lang"] == "ger" or meta["lang"].startswith("de") or meta["lang"]
    assert "Woyzeck" in text
    header = etree.fromstring((shared / "tei" / "buechner-woyzeck.xml").read_bytes())
    ns = {"t": "http://www.tei-c.org/ns/1.0"}
    # text that is only in the header (publication statement) must not leak into the body text
    pub = " ".join(header.find(".//t:teiHeader//t:publicationStmt", ns).itertext()).split()
    assert pub and " ".join(pub[:6]) not in " ".join(text.split())


def test_tei_drops_notes_and_keeps_speaker_lines():
    xml = b"""<TEI xmlns="http://www.tei-c.org/ns/1.0"><teiHeader><fileDesc><titleStmt><title>T</title></titleStmt>
    </fileDesc></teiHeader><text><body><div><sp><speaker>FAUST.</speaker><l>Habe nun, ach!</l>
    <note>editorial</note></sp></div></body></text></TEI>"""
    text, meta = tei_text(xml)
    assert text.splitlines() == ["FAUST.", "Habe nun, ach!"]
    assert meta["title"] == "T"
