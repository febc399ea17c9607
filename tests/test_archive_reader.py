"""Tolerant WARC/ARC reading: archives with the quirks of real crawls (written byte by byte in
benchmarks/archive_samples.py) and the real files in ../shared/data/warc."""

from __future__ import annotations

import gzip
import json

from benchmarks.archive_samples import WGET_LOG, _warc, cc2008_arc, crawler_log_warc, page_html, wayback_merged_warc
from pipelines.sources.archives import RawRecord, Repair, looks_like_crawler_log, raw_records
from pipelines.sources.reader import InputFile, read_file


def _read(path):
    spec = InputFile(source_id="s", path=str(path), rel=path.name, format="warc")
    items = list(read_file(spec))
    return [d for k, d in items if k == "doc"], [r for k, r in items if k == "ledger"]


def test_arc_with_filedesc_length_off_by_one_is_read_whole(tmp_path):
    p = tmp_path / "cc-2008.arc.gz"
    p.write_bytes(cc2008_arc(145, off_by=1))
    docs, rows = _read(p)
    assert len(docs) == 145
    assert docs[0].url == "http://www.example0.com/news/0.html" and "Nachricht 0" in docs[0].html
    assert docs[0].collected_at.startswith("2008-02")
    assert [r["reason"] for r in rows if r["stage"] == "input"] == ["145 record(s)"]
    assert any(r["reason"] == "1 warcinfo record(s): not documents" for r in rows)
    # two bytes off: the file header runs into the first record; it is cut at the record's header line
    p.write_bytes(cc2008_arc(20, off_by=2))
    docs, rows = _read(p)
    assert len(docs) == 20 and docs[0].url.endswith("/news/0.html")


def test_wayback_warc_with_http_headers_merged_into_the_warc_block(tmp_path):
    p = tmp_path / "wayback.warc.gz"
    p.write_bytes(wayback_merged_warc(128))
    docs, rows = _read(p)
    assert len(docs) == 128
    assert docs[5].html == page_html(5).decode()  # the whole page: no line of it taken for an HTTP status
    assert docs[5].http_headers["content-type"].startswith("text/html")
    assert docs[5].http_headers["x-robots-tag"] == "index"
    assert not [r for r in rows if r["reason"].startswith("HTTP status")]
    assert any("128 response with its HTTP headers merged" in r["reason"] for r in rows)


def test_crawler_records_are_counted_not_read_and_a_bad_length_is_repaired(tmp_path):
    p = tmp_path / "wget.warc"
    p.write_bytes(crawler_log_warc(20, damaged_at=10))
    docs, rows = _read(p)
    assert len(docs) == 20 and all(d.url.startswith("http://site.example/p/") for d in docs)
    assert not any("Resolving" in (d.html or d.text) for d in docs)
    details = [json.loads(r["detail"]) for r in rows if r["detail"]]
    skipped = {d["record_type"]: d["records"] for d in details if "record_type" in d}
    assert skipped == {"warcinfo": 1, "request": 20, "metadata": 20,
                       "resource (crawler log or metadata, no web URI)": 2}  # fmt: skip
    # the record with a Content-Length 40 bytes short is read up to the next record, whole
    damaged = next(d for d in docs if d.url.endswith("/p/10"))
    assert damaged.html.rstrip().endswith("</html>")
    repaired = [r for r in rows if r["reason"].startswith("declared length")]
    assert len(repaired) == 1 and repaired[0]["doc_id"] == damaged.doc_id and repaired[0]["decision"] == "kept"


def test_crawler_log_with_a_web_uri_is_not_a_document(tmp_path):
    log = _warc([("WARC-Type", "resource"), ("WARC-Target-URI", "http://site.example/crawl.log"),
                 ("Content-Type", "text/plain")], WGET_LOG.encode())  # fmt: skip
    page = _warc([("WARC-Type", "resource"), ("WARC-Target-URI", "http://site.example/notes.txt"),
                  ("Content-Type", "text/plain")], b"The harbour opens at six. Boats leave at nine.\n")  # fmt: skip
    p = tmp_path / "mixed.warc"
    p.write_bytes(log + page)
    docs, rows = _read(p)
    assert [d.url for d in docs] == ["http://site.example/notes.txt"]
    assert any(r["reason"] == "1 resource (crawler log, text/plain) record(s): not documents" for r in rows)
    assert looks_like_crawler_log(WGET_LOG.encode()) and not looks_like_crawler_log(page)


def test_garbage_between_records_is_skipped_with_an_error_row(tmp_path):
    recs = [_warc([("WARC-Type", "resource"), ("WARC-Target-URI", f"http://a.example/{i}"),
                   ("Content-Type", "text/plain")], f"page {i} of the harbour news\n".encode()) for i in range(3)]  # fmt: skip
    p = tmp_path / "garbage.warc.gz"
    junk = b"\x00\x01 this is not a record\nnor this\n"
    p.write_bytes(gzip.compress(recs[0], mtime=0) + gzip.compress(junk + recs[1], mtime=0) + gzip.compress(recs[2]))
    docs, rows = _read(p)
    assert [d.url for d in docs] == [f"http://a.example/{i}" for i in range(3)]
    errors = [r for r in rows if r["decision"] == "error"]
    assert len(errors) == 1 and f"{len(junk)} byte(s) are not a WARC/ARC record" in errors[0]["reason"]
    assert _file_reason(rows) == "3 record(s), 1 damaged"


def test_corrupt_gzip_member_is_skipped_to_the_next_member(tmp_path):
    members = [gzip.compress(_warc([("WARC-Type", "resource"), ("WARC-Target-URI", f"http://a.example/{i}"),
                                    ("Content-Type", "text/plain")], b"harbour news " * 20), mtime=0)
               for i in range(3)]  # fmt: skip
    bad = bytearray(members[1])
    bad[20:40] = b"\xff" * 20  # damage the deflate stream
    p = tmp_path / "corrupt.warc.gz"
    p.write_bytes(members[0] + bytes(bad) + members[2])
    docs, rows = _read(p)
    assert [d.url for d in docs] == ["http://a.example/0", "http://a.example/2"]
    assert any("gzip member does not decompress" in r["reason"] for r in rows if r["decision"] == "error")


def test_raw_records_locators_are_the_offsets_warcio_reports(shared):
    from warcio.archiveiterator import ArchiveIterator

    for name in ("example.warc.gz", "example-iana.org-chunked.warc", "resiliparse-cc-multilingual.warc.gz"):
        path = shared / "warc" / name
        with open(path, "rb") as f:
            it = ArchiveIterator(f, arc2warc=True)
            theirs = []
            for rec in it:
                rec.content_stream().read()
                theirs.append(str(it.get_record_offset()))
        ours = [r.locator for r in raw_records(str(path)) if isinstance(r, RawRecord)]
        assert ours == theirs, name
        assert not [r for r in raw_records(str(path)) if isinstance(r, Repair)]


def test_real_archives_lost_to_a_strict_reader_are_recovered(shared):
    # warcio stops at the fifth record (a record not followed by its blank lines); the four after it are read now
    docs, rows = _read(shared / "warc" / "webarchive-commons-link-extraction.warc")
    assert len(docs) == 6
    assert any("no WARC-Target-URI" in r["reason"] for r in rows if r["decision"] == "error")
    # a whole file gzipped as one stream ("non-chunked"): warcio refuses it, its response is read here
    docs, rows = _read(shared / "warc" / "example-bad-non-chunked.warc.gz")
    assert len(docs) == 1 and docs[0].url == "http://example.com/" and "Example Domain" in docs[0].html


def _file_reason(rows):
    return next(r["reason"] for r in rows if r["stage"] == "input")


def test_decompression_is_bounded_by_the_policy(tmp_path):
    p = tmp_path / "wayback.warc.gz"
    p.write_bytes(wayback_merged_warc(50))
    ten = len(gzip.decompress(wayback_merged_warc(10)))  # the first ten records: the same bytes as in the file
    spec = InputFile(source_id="s", path=str(p), rel=p.name, format="warc", max_decompressed_bytes=ten + 10)
    items = list(read_file(spec))
    docs = [d for k, d in items if k == "doc"]
    file_row = next(r for k, r in items if k == "ledger" and r["stage"] == "input")
    assert len(docs) == 10 and file_row["decision"] == "error"
    assert "max_decompressed_bytes" in file_row["reason"] and "10 record(s) read before it were kept" in file_row["reason"]
