"""Pure per-document logic in filters/: language ID, PII redaction, residency, rights, hashing."""

from __future__ import annotations

import pytest

from filters.document import content_hash, make_doc_id
from filters.langid import LanguageIdentifier
from filters.pii.engine import PiiRedactor
from filters.pii.resolve import PiiHit, resolve_overlaps
from filters.residency import origin_jurisdiction, registrable_domain
from filters.rights import web_rights


@pytest.fixture(scope="module")
def lid():
    return LanguageIdentifier()


@pytest.fixture(scope="module")
def redactor():
    return PiiRedactor(("en", "sv", "de"), ("EMAIL_ADDRESS", "IBAN_CODE", "CREDIT_CARD", "IP_ADDRESS"), ("SE",))


def test_langid_single_and_batch_agree_on_real_sentences(lid, shared):
    rows = [line.split("\t") for line in (shared / "langid" / "ud_test_sentences.tsv").read_text().splitlines()[1:]]
    picked = {}
    for lang, _, _, text in rows:
        if lang in ("sv", "de", "fi", "ja", "ru") and len(text) > 60:
            picked.setdefault(lang, text)
    batch = lid.predict_batch(list(picked.values()))
    for (lang, text), got in zip(picked.items(), batch):
        assert lid.predict(text) == got
        assert got[0] == lang and 0.5 < got[1] <= 1.0


def test_langid_on_text_without_letters(lid):
    assert lid.predict("12345 ... 678") == ("und", 0.0)


def test_redaction_replaces_values_by_typed_placeholders(redactor):
    text = ("Skriv till anna.berg@hamnbladet.se eller betala till SE45 5000 0000 0583 9825 7466 "
            "med kort 4111 1111 1111 1111; servern 192.168.10.5 loggar allt.")  # fmt: skip
    out, counts = redactor.redact(text, "sv")
    assert counts == {"CREDIT_CARD": 1, "EMAIL_ADDRESS": 1, "IBAN_CODE": 1, "IP_ADDRESS": 1}
    for raw in ("anna.berg@hamnbladet.se", "SE45 5000", "4111 1111", "192.168.10.5"):
        assert raw not in out
    assert "<EMAIL_ADDRESS>" in out and "<IBAN_CODE>" in out and "<CREDIT_CARD>" in out


def test_invalid_checksums_are_not_redacted(redactor):
    _out, counts = redactor.redact("Kort 4111 1111 1111 1112 och IBAN SE45 5000 0000 0583 9825 7467.", "sv")
    assert counts == {}


def test_country_recognizer_enabled_by_policy(redactor):
    out, counts = redactor.redact("Personnummer 19811218-9876 finns i akten.", "sv")
    assert "SE_PERSONNUMMER" in counts and "9876" not in out


def test_text_without_digits_or_at_sign_is_not_analysed(redactor):
    assert redactor.find("Ingen persondata här, bara ord.", "sv") == []


def test_overlaps_resolved_by_score_then_length():
    hits = [PiiHit(0, 10, "PHONE_NUMBER", 0.4), PiiHit(0, 10, "UK_NHS", 0.5), PiiHit(5, 20, "CREDIT_CARD", 0.5),
            PiiHit(30, 35, "EMAIL_ADDRESS", 1.0)]  # fmt: skip
    assert [h.entity_type for h in resolve_overlaps(hits)] == ["CREDIT_CARD", "EMAIL_ADDRESS"]


@pytest.mark.parametrize(
    ("url", "declared", "expected"),
    [
        ("https://www.hamnbladet.se/a", None, ("SE", "cctld")),
        ("https://news.bbc.co.uk/x", None, ("GB", "cctld")),
        ("https://example.com/", None, (None, "none")),
        ("https://europa.eu/", None, (None, "none")),
        ("http://10.0.0.1/", None, (None, "none")),
        ("https://example.com/", "FI", ("FI", "registry")),
        (None, None, (None, "none")),
    ],
)
def test_origin_jurisdiction_evidence_order(url, declared, expected):
    assert origin_jurisdiction(url, declared) == expected


def test_registrable_domain_offline():
    assert registrable_domain("https://a.b.news.bbc.co.uk/x") == "bbc.co.uk"
    assert registrable_domain("https://www.hamnbladet.se/") == "hamnbladet.se"


@pytest.mark.parametrize(
    ("headers", "html", "expected"),
    [
        ({"tdm-reservation": "1"}, None, ("reserved", "tdmrep-header")),
        ({"tdm-reservation": "0"}, '<meta name="tdm-reservation" content="1">', ("allowed", "tdmrep-header")),
        ({}, '<head><meta name="tdm-reservation" content="1"></head>', ("reserved", "tdmrep-meta")),
        ({"x-robots-tag": "noindex, noai"}, None, ("reserved", "x-robots-tag-noai")),
        ({"content-usage": "train-ai=n"}, None, ("reserved", "content-usage-train-ai-n")),
        ({}, '<meta name="robots" content="noai, noimageai">', ("reserved", "meta-robots-noai")),
        ({"tdm-reservation": "maybe"}, None, ("unknown", "tdmrep-header-invalid-value")),
        ({}, "<p>nothing</p>", ("allowed", "no-reservation-signal")),
    ],
)
def test_rights_signals(headers, html, expected):
    assert web_rights(headers, html) == expected


def test_ids_and_hashes_are_stable():
    assert make_doc_id("web", "a.warc.gz@10") == make_doc_id("web", "a.warc.gz@10")
    assert make_doc_id("web", "a.warc.gz@10") != make_doc_id("web2", "a.warc.gz@10")
    assert content_hash("Hello   World\n") == content_hash("hello world")
