"""Project Gutenberg's header and licence are cut off at extraction, on texts written for these tests."""

from __future__ import annotations

from filters.document import Document
from filters.extract import strip_gutenberg
from pipelines.stages.builtin import ExtractStage
from pipelines.stages.residency import ResidencyStage
from schemas.policy import load_policy

BODY = "CHAPTER I.\r\n\r\nIt was a dark night, and the wind rose over the moor.\r\n\r\nTHE END"
FILE = (
    "The Project Gutenberg eBook of A Test, by Nobody\r\n\r\nThis eBook is for the use of anyone anywhere.\r\n\r\n"
    "*** START OF THE PROJECT GUTENBERG EBOOK A TEST ***\r\n\r\n" + BODY + "\r\n\r\n"
    "*** END OF THE PROJECT GUTENBERG EBOOK A TEST ***\r\n\r\nSection 1. General Terms of Use ...\r\n"
)


def test_the_text_between_the_markers_is_kept():
    body, removed = strip_gutenberg(FILE)
    assert body == BODY and removed == len(FILE) - len(BODY)
    # older files: THIS PROJECT, no space after the asterisks, a title wrapped onto a second line
    old = ("***START OF THIS PROJECT GUTENBERG EBOOK A LONG\nTITLE***\n\nThe body.\n\n"
           "***END OF THIS PROJECT GUTENBERG EBOOK A LONG TITLE***\nLicence.")  # fmt: skip
    assert strip_gutenberg(old)[0] == "The body."


def test_texts_without_both_markers_are_left_alone():
    assert strip_gutenberg("A page about the Project Gutenberg licence and its terms.") is None
    assert strip_gutenberg(FILE.split("*** END")[0]) is None  # no END line
    end_first = "*** END OF THE PROJECT GUTENBERG EBOOK X ***\nText\n*** START OF THE PROJECT GUTENBERG EBOOK X ***\n"
    assert strip_gutenberg(end_first) is None
    quoted = "The file says *** START OF THE PROJECT GUTENBERG EBOOK X *** and later *** END OF THE PROJECT ..."
    assert strip_gutenberg(quoted) is None  # markers must begin a line


def _stage(tmp_path, extra: str = ""):
    p = tmp_path / "p.yaml"
    p.write_text("policy_id: t\nresidency:\n  regions:\n    eu: {jurisdictions: [SE], storage: shards/eu}\n"
                 "sources:\n  books: {jurisdiction: SE, license: CC0-1.0}\n" + extra)  # fmt: skip
    policy = load_policy(p)
    stage = ExtractStage(policy, ResidencyStage(policy))
    stage.setup()
    return stage


def _doc(text: str) -> Document:
    return Document(doc_id="d1", source_id="books", source_type="jsonl", input_path="b.jsonl", record_locator="1",
                    text=text)  # fmt: skip


def test_extraction_cuts_the_boilerplate_off_and_says_so(tmp_path):
    stage = _stage(tmp_path)
    doc = _doc(FILE)
    d = stage.decide(doc)
    assert doc.text == BODY
    assert d.decision == "kept" and d.reason == f"{len(BODY)} chars; Project Gutenberg header and licence cut off"
    assert d.detail == {"boilerplate_chars": len(FILE.strip()) - len(BODY)}  # counted on the stripped text
    plain = _doc("An ordinary page with enough words in it to pass the floor of fifty characters.")
    d2 = stage.decide(plain)
    assert d2.reason == f"{len(plain.text)} chars" and d2.detail is None and plain.text.startswith("An ordinary")


def test_the_policy_can_keep_the_boilerplate(tmp_path):
    stage = _stage(tmp_path, "extraction: {strip_gutenberg: false}\n")
    doc = _doc(FILE)
    assert stage.decide(doc).reason == f"{len(FILE.strip())} chars" and doc.text == FILE.strip()
