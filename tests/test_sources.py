"""Sources on real web archives: WARC and ARC, payload decoding, charsets, damaged files, JSONL and Parquet dumps."""

from __future__ import annotations

import gzip
import io
import json

import brotli
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.sources.reader import InputFile, read_file, sniff_format


def _read(path, fmt=None, source_id="s", **kw):
    spec = InputFile(source_id=source_id, path=str(path), rel=path.name, format=fmt or sniff_format(str(path)), **kw)
    items = list(read_file(spec))
    docs = [d for k, d in items if k == "doc"]
    rows = [r for k, r in items if k == "ledger"]
    return docs, rows


def _file_row(rows):
    file_rows = [r for r in rows if r["stage"] == "input"]
    assert len(file_rows) == 1, rows
    return file_rows[0]


def test_arc_gz_is_read_as_warc(shared):
    docs, rows = _read(shared / "warc" / "example.arc.gz")
    assert len(docs) == 1 and docs[0].url == "http://example.com/"
    assert "Example Domain" in docs[0].html
    assert _file_row(rows)["decision"] == "kept"


def test_chunked_and_gzip_content_encoding_are_decoded(shared):
    docs, _ = _read(shared / "warc" / "solrwayback-gzip-chunked.warc.gz")
    assert len(docs) == 1
    assert "<html" in docs[0].html.lower()
    docs, _ = _read(shared / "warc" / "example-iana.org-chunked.warc")
    assert "<html" in docs[0].html.lower() and "IANA" in docs[0].html


def test_brotli_content_encoding_is_decoded(tmp_path):
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    html = "<html><body><p>Brotli-komprimierte Seite über den Hafen.</p></body></html>".encode()
    body = brotli.compress(html)
    path = tmp_path / "br.warc.gz"
    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=True)
        http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                                           ("Content-Encoding", "br")], protocol="HTTP/1.1")  # fmt: skip
        w.write_record(w.create_warc_record("https://hafen.de/", "response", payload=io.BytesIO(body),
                                            http_headers=http))  # fmt: skip
    docs, _ = _read(path)
    assert docs[0].html == html.decode()


def test_charsets_from_header_and_meta_are_honoured(shared):
    docs, _ = _read(shared / "warc" / "resiliparse-cc-multilingual.warc.gz")
    assert len(docs) == 16
    cyrillic = [d for d in docs if "charset=windows-1251" in d.http_headers.get("content-type", "")]
    assert cyrillic and any("\u0430" <= c <= "\u044f" for c in cyrillic[0].html)
    docs, _ = _read(shared / "warc" / "resiliparse-clueweb-quirk-eucjp.warc.gz")
    assert len(docs) == 29
    # EUC-JP pages decode to Japanese, not mojibake
    assert sum(any("\u3040" <= c <= "\u30ff" for c in d.html) for d in docs) >= 20


def test_wet_conversion_records_are_text(shared):
    docs, _ = _read(shared / "warc" / "whirlwind.warc.wet.gz")
    assert len(docs) == 1 and docs[0].html is None and "Escopete" in docs[0].text


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("resiliparse-clipped-truncated.warc.gz", "record truncated"),
        ("solrwayback-truncated.warc.gz", "record truncated"),
        ("webarchive-commons-link-extraction.warc", "response record has no WARC-Target-URI"),
    ],
)
def test_damaged_archives_become_error_rows(shared, name, reason):
    _docs, rows = _read(shared / "warc" / name)
    errors = [r for r in rows if r["decision"] == "error"]
    assert errors and any(reason in r["reason"] for r in errors), rows
    assert all(r["stage"] in ("read", "input") and r["doc_id"] for r in errors)


def test_records_before_and_after_damage_are_kept(shared):
    # a record without a target URI is an error row; the reader goes on to the records after it
    docs, rows = _read(shared / "warc" / "webarchive-commons-link-extraction.warc")
    assert len(docs) == 6
    assert _file_row(rows)["reason"] == "6 record(s), 1 damaged"


def test_doc_ids_are_stable_across_reads(shared):
    a, _ = _read(shared / "warc" / "resiliparse-cc-multilingual.warc.gz")
    b, _ = _read(shared / "warc" / "resiliparse-cc-multilingual.warc.gz")
    assert [d.doc_id for d in a] == [d.doc_id for d in b]
    assert len({d.doc_id for d in a}) == len(a)


def test_jsonl_with_bad_lines(tmp_path):
    p = tmp_path / "dump.jsonl.gz"
    lines = [json.dumps({"id": "a", "body": "first text"}), "{broken", json.dumps([1, 2]),
             json.dumps({"id": "b", "body": 5}), json.dumps({"id": "c", "body": "third"})]  # fmt: skip
    p.write_bytes(gzip.compress("\n".join(lines).encode()))
    docs, rows = _read(p, text_field="body", id_field="id")
    assert [d.text for d in docs] == ["first text", "third"]
    assert [d.record_locator for d in docs] == ["dump.jsonl.gz#a", "dump.jsonl.gz#c"]
    reasons = [r["reason"] for r in rows if r["decision"] == "error"]
    assert any("line 2: invalid JSON" in r for r in reasons)
    assert any("line 3: expected a JSON object" in r for r in reasons)
    assert any("'body' is int" in r for r in reasons)
    assert "2 record(s), 3 damaged" == _file_row(rows)["reason"]


def test_parquet_dump_with_configurable_text_column(tmp_path):
    p = tmp_path / "dump.parquet"
    pq.write_table(pa.table({"content": ["eins", "zwei"], "link": ["https://a.de/1", None]}), p)
    docs, rows = _read(p, text_field="content", url_field="link")
    assert [(d.text, d.url) for d in docs] == [("eins", "https://a.de/1"), ("zwei", None)]
    docs, rows = _read(p, text_field="missing")
    assert not docs and "has no column 'missing'" in _file_row(rows)["reason"]


def test_unknown_files_are_recorded_not_read(shared):
    docs, rows = _read(shared / "alto" / "chronam_ocr.txt")
    assert not docs and _file_row(rows)["decision"] == "dropped"
