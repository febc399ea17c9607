"""Small web archives with the quirks real archives have, written byte by byte (no archive library involved).

* `cc2008_arc`: a 2008-style Common Crawl ARC (gzip member per record, ARC v1) whose `filedesc://` record declares a
  length one byte longer than its version block, so a strict reader eats the first byte of the next record.
* `wayback_merged_warc`: a Wayback-style WARC whose `response` records carry the HTTP headers inside the WARC header
  block (`Content-Type: text/html`, no `HTTP/1.x` status line in the block), so a strict reader takes the first line
  of the HTML for an HTTP status line.
* `crawler_log_warc`: a WARC as wget/wpull write it: warcinfo, request/response pairs, metadata records and the
  crawler's own log as `resource` records (`text/plain`), plus one damaged record in the middle.

Used by tests/test_archive_reader.py and by benchmarks/bench_archives.py; the page texts come from the demo corpus.
"""

from __future__ import annotations

import gzip
import hashlib

from pipelines.tools.demo_text import SENTENCES

LANGS = ("en", "de", "fr", "fi", "nl")


def page_html(i: int) -> bytes:
    """An HTML page of six demo sentences, different for every `i`."""
    lang = LANGS[i % len(LANGS)]
    sents = SENTENCES[lang]
    body = " ".join(sents[(i + k) % len(sents)] for k in range(6))
    return (f"<!DOCTYPE html>\n<html lang=\"{lang}\"><head><meta charset=\"utf-8\"><title>Seite {i}</title></head>"
            f"<body><h1>Nachricht {i}</h1><p>{body}</p></body></html>\n").encode()  # fmt: skip


def _http(body: bytes, ctype: str = "text/html; charset=utf-8") -> bytes:
    head = f"HTTP/1.1 200 OK\r\nContent-Type: {ctype}\r\nContent-Length: {len(body)}\r\nServer: demo\r\n\r\n"
    return head.encode() + body


def _ts(i: int) -> str:
    return f"200802{10 + i // 3600 % 18:02d}{i // 60 % 24:02d}{i % 60:02d}00"[:14]


def cc2008_arc(n: int = 145, off_by: int = 1, member_per_record: bool = False) -> bytes:
    """ARC v1, gzipped as one stream (or one member per record); the filedesc length is `off_by` bytes too large,
    i.e. it counts the newline that separates the file header from the first record."""
    version = b"1 0 Alexa Internet\nURL IP-address Archive-date Content-type Archive-length\n"
    head = f"filedesc://1203000000000_0.arc 0.0.0.0 20080214120000 text/plain {len(version) + off_by}\n".encode()
    records = [head + version + b"\n"]
    for i in range(n):
        block = _http(page_html(i))
        line = f"http://www.example{i % 7}.com/news/{i}.html 10.0.{i % 250}.{i % 200} {_ts(i)} text/html {len(block)}"
        records.append(line.encode() + b"\n" + block + b"\n")
    if member_per_record:
        return b"".join(gzip.compress(r, mtime=0) for r in records)
    return gzip.compress(b"".join(records), mtime=0)


def _warc(headers: list[tuple[str, str]], block: bytes, length_delta: int = 0) -> bytes:
    lines = ["WARC/1.0", *(f"{k}: {v}" for k, v in headers), f"Content-Length: {len(block) + length_delta}"]
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + block + b"\r\n\r\n"


def _rid(*parts: object) -> str:
    return "<urn:uuid:" + hashlib.sha1(repr(parts).encode()).hexdigest()[:32] + ">"


def wayback_merged_warc(n: int = 128, gz: bool = True) -> bytes:
    """`response` records whose block is the bare HTML: the HTTP headers were merged into the WARC header block."""
    out = []
    for i in range(n):
        headers = [("WARC-Type", "response"), ("WARC-Target-URI", f"http://archive.example.org/page/{i}"),
                   ("WARC-Date", f"2009-03-{1 + i % 28:02d}T10:00:00Z"), ("WARC-Record-ID", _rid("wb", i)),
                   ("Content-Type", "text/html; charset=utf-8"), ("X-Robots-Tag", "index")]  # fmt: skip
        rec = _warc(headers, page_html(i))
        out.append(gzip.compress(rec, mtime=0) if gz else rec)
    return b"".join(out)


WGET_LOG = (
    "--2024-05-01 10:00:00--  http://site.example/\nResolving site.example... 192.0.2.1\n"
    "Connecting to site.example|192.0.2.1|:80... connected.\nHTTP request sent, awaiting response... 200 OK\n"
    "Length: 1234 (1.2K) [text/html]\nSaving to: 'index.html'\n\n"
) * 20


def crawler_log_warc(n: int = 20, damaged_at: int | None = 10) -> bytes:
    """A wget/wpull-style WARC: warcinfo, request+response per page, metadata, the crawl log as `resource` records;
    record `damaged_at` has a Content-Length 40 bytes too small (the reader must find the next record)."""
    recs = [_warc([("WARC-Type", "warcinfo"), ("WARC-Record-ID", _rid("info")), ("Content-Type",
                  "application/warc-fields")], b"software: Wget/1.21.4\r\nformat: WARC File Format 1.0\r\n")]  # fmt: skip
    for i in range(n):
        uri = f"http://site.example/p/{i}"
        req = f"GET /p/{i} HTTP/1.1\r\nHost: site.example\r\n\r\n".encode()
        recs.append(_warc([("WARC-Type", "request"), ("WARC-Target-URI", uri), ("WARC-Record-ID", _rid("q", i)),
                           ("Content-Type", "application/http;msgtype=request")], req))  # fmt: skip
        resp = _warc([("WARC-Type", "response"), ("WARC-Target-URI", uri), ("WARC-Record-ID", _rid("r", i)),
                      ("WARC-Date", "2024-05-01T10:00:00Z"), ("Content-Type", "application/http;msgtype=response")],
                     _http(page_html(i)), length_delta=-40 if i == damaged_at else 0)  # fmt: skip
        recs.append(resp)
        recs.append(_warc([("WARC-Type", "metadata"), ("WARC-Target-URI", uri), ("WARC-Record-ID", _rid("m", i)),
                           ("Content-Type", "application/warc-fields")], b"outlink: http://site.example/\r\n"))  # fmt: skip
    for name, tool in (("wget.log", "wget"), ("wpull.log", "wpull")):
        recs.append(_warc([("WARC-Type", "resource"), ("WARC-Target-URI", f"urn:X-{tool}:log"),
                           ("WARC-Record-ID", _rid(name)), ("Content-Type", "text/plain")],
                          WGET_LOG.encode()))  # fmt: skip
    return b"".join(recs)
