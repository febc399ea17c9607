"""Every record of a damaged archive is read or gets a ledger row: lying lengths, mid-file corruption, truncation and
gzip bombs, on real files from ../shared/data/warc damaged here byte by byte, and on records written for the test."""

from __future__ import annotations

import gzip
import json
import struct
import subprocess
import sys
import time
import zlib
from pathlib import Path

import pytest

from benchmarks.archive_samples import _warc
from pipelines.sources.reader import InputFile, read_file

REPO = Path(__file__).resolve().parent.parent
REAL = "resiliparse-cc-multilingual.warc.gz"  # 50 gzip members, 16 pages among requests and metadata


def _read(path: Path, **limits):
    spec = InputFile(source_id="s", path=str(path), rel=path.name, format="warc", **limits)
    items = list(read_file(spec))
    return [d for k, d in items if k == "doc"], [r for k, r in items if k == "ledger"]


def _errors(rows):
    return [r for r in rows if r["decision"] == "error" and r["stage"] == "read"]


def _file_row(rows):
    return next(r for r in rows if r["stage"] == "input")


def _page(i: int, length_delta: int = 0) -> bytes:
    body = f"Harbour notice {i}: the ferry leaves at nine, the market opens at six.\n".encode() * 6
    return _warc([("WARC-Type", "resource"), ("WARC-Target-URI", f"http://harbour.example/{i}"),
                  ("Content-Type", "text/plain")], body, length_delta)  # fmt: skip


# ---------------------------------------------------------------- (a) a lying Content-Length


@pytest.mark.parametrize("delta", [-40, -7, 7, 40, 5000])
@pytest.mark.parametrize("gz", [False, True], ids=["warc", "warc.gz"])
def test_a_lying_content_length_loses_no_record(tmp_path, delta, gz):
    """Record 1 declares a length `delta` bytes off (shorter or longer than its real block): it is read up to the
    next record, with a `kept` row saying so, and every record after it is read. (A length off only by newlines around the
    record separator ends on a record boundary and is read as declared: nothing but a newline is lost or added.)"""
    recs = [_page(0), _page(1, delta), _page(2), _page(3)]
    p = tmp_path / ("lying.warc.gz" if gz else "lying.warc")
    p.write_bytes(b"".join(gzip.compress(r, mtime=0) for r in recs) if gz else b"".join(recs))
    docs, rows = _read(p)
    assert [d.url for d in docs] == [f"http://harbour.example/{i}" for i in range(4)]
    assert docs[1].text == docs[2].text.replace("notice 2", "notice 1")  # the lying record whole, nothing more
    repaired = [r for r in rows if r["reason"].startswith("declared length")]
    assert [r["doc_id"] for r in repaired] == [docs[1].doc_id] and repaired[0]["decision"] == "kept"
    assert not _errors(rows) and _file_row(rows)["reason"] == "4 record(s)"


def test_a_length_running_past_the_end_of_a_plain_file_is_an_error_row(tmp_path):
    """The last record of a plain WARC declares more bytes than the file has: nothing tells a lie from a cut, so it
    is a `truncated` error row naming the file and the record's offset; the records before it are read."""
    recs = [_page(0), _page(1), _page(2, 300)]
    p = tmp_path / "last-lies.warc"
    p.write_bytes(b"".join(recs))
    docs, rows = _read(p)
    assert [d.url[-1] for d in docs] == ["0", "1"]
    [err] = _errors(rows)
    assert err["reason"].startswith("record truncated") and err["input_path"] == p.name
    assert json.loads(err["detail"]) == {"offset": len(recs[0]) + len(recs[1])}


# ---------------------------------------------------------------- (b) mid-file corruption of a real .warc.gz


def _members(data: bytes) -> list[int]:
    """Offsets of the real gzip members of a clean file (each decompresses up to the next)."""
    out, pos = [], 0
    while pos < len(data):
        out.append(pos)
        d = zlib.decompressobj(31)
        d.decompress(data[pos:])
        pos = len(data) - len(d.unused_data)
    return out


@pytest.mark.parametrize(("where", "nbytes"), [(0.5, 200), (0.33, 4000), (0.9, 40)])
def test_mid_file_corruption_loses_only_the_damaged_members(shared, tmp_path, where, nbytes):
    """Bytes overwritten in the middle of a real multi-member .warc.gz: every record whose gzip member lies outside
    the damage is read as from the clean file; the damaged span gets an error row naming its offset."""
    clean = (shared / "warc" / REAL).read_bytes()
    ref_docs, _ = _read(shared / "warc" / REAL)
    members = _members(clean)
    at = int(len(clean) * where)
    damaged = bytearray(clean)
    damaged[at : at + nbytes] = b"\xa5" * nbytes
    p = tmp_path / REAL
    p.write_bytes(bytes(damaged))
    docs, rows = _read(p)

    def member_of(doc) -> int:
        return int(doc.record_locator.rsplit("@", 1)[1].split("+")[0])

    first_hit = max(m for m in members if m <= at)
    last_hit = max(m for m in members if m < at + nbytes)
    hit = {m for m in members if first_hit <= m <= last_hit}
    expected = [(d.url, d.text, d.html) for d in ref_docs if member_of(d) not in hit]
    assert [(d.url, d.text, d.html) for d in docs] == expected  # nothing from a damaged member, all else as it was
    assert len(docs) < len(ref_docs)
    errors = _errors(rows)
    assert errors and all(r["input_path"] == REAL for r in errors)
    assert json.loads(errors[0]["detail"])["offset"] == first_hit
    assert "gzip member does not decompress" in errors[0]["reason"]
    assert _file_row(rows)["reason"] == f"{len(docs)} record(s), {len(errors)} damaged"


# ---------------------------------------------------------------- (c) a truncated final record


def _last_record_offset(path: Path) -> int:
    from pipelines.sources.archives import RawRecord, raw_records

    return int([r for r in raw_records(str(path)) if isinstance(r, RawRecord)][-1].locator.split("+")[0])


@pytest.mark.parametrize("cut", ["payload", "header", "gzip-header"])
def test_a_truncated_warc_gz_names_the_cut_record(shared, tmp_path, cut):
    clean = (shared / "warc" / REAL).read_bytes()
    last = _last_record_offset(shared / "warc" / REAL)
    tail = gzip.decompress(clean[last:])
    body_at = tail.index(b"\r\n\r\n") + 4
    if cut == "gzip-header":
        data = clean[: last + 5]  # inside the gzip header of the last member
    else:
        # compress again up to the cut, without the end of the stream: a file cut inside its last member
        keep = body_at + 10 if cut == "payload" else body_at // 2
        c = zlib.compressobj(9, zlib.DEFLATED, 31)
        data = clean[:last] + c.compress(tail[:keep]) + c.flush(zlib.Z_SYNC_FLUSH)
    p = tmp_path / REAL
    p.write_bytes(data)
    ref_docs, _ = _read(shared / "warc" / REAL)
    docs, rows = _read(p)
    assert [d.url for d in docs] == [d.url for d in ref_docs if not d.record_locator.endswith(f"@{last}")]
    [err] = _errors(rows)
    assert err["input_path"] == REAL and json.loads(err["detail"]) == {"offset": last}
    expect = {"payload": "record truncated: ", "header": "record truncated: the data ends inside its header block",
              "gzip-header": "gzip member is truncated"}[cut]  # fmt: skip
    assert err["reason"].startswith(expect)
    assert _file_row(rows)["decision"] == "kept"


@pytest.mark.parametrize("cut", ["payload", "header"])
def test_a_truncated_plain_warc_names_the_cut_record(shared, tmp_path, cut):
    plain = gzip.decompress((shared / "warc" / REAL).read_bytes())
    src = tmp_path / "clean.warc"
    src.write_bytes(plain)
    ref_docs, _ = _read(src)
    last = _last_record_offset(src)
    body_at = plain.index(b"\r\n\r\n", last) + 4
    p = tmp_path / "cut.warc"
    p.write_bytes(plain[: body_at + 10 if cut == "payload" else (last + body_at) // 2])
    docs, rows = _read(p)
    assert [d.url for d in docs] == [d.url for d in ref_docs if d.record_locator != f"clean.warc@{last}"]
    [err] = _errors(rows)
    assert err["input_path"] == "cut.warc" and json.loads(err["detail"]) == {"offset": last}
    assert err["reason"].startswith("record truncated")


def test_real_truncated_samples_name_the_offset(shared):
    for name in ("resiliparse-clipped-truncated.warc.gz", "solrwayback-truncated.warc.gz"):
        _, rows = _read(shared / "warc" / name)
        errs = [r for r in _errors(rows) if r["reason"].startswith("record truncated")]
        assert errs and all("offset" in json.loads(r["detail"]) and r["input_path"] == name for r in errs), name


# ---------------------------------------------------------------- (d) gzip bombs

_CHUNK = 16 << 20


def _zeros_crc(crc: int, n: int) -> int:
    """zlib.crc32 of `n` zero bytes after `crc` (n a power-of-two multiple of 1 MiB), without feeding them all: the
    step over L zeros is affine in the CRC, so its 32 columns are squared up from L = 1 MiB."""
    step, zero = 1 << 20, bytes(1 << 20)
    const = zlib.crc32(zero, 0)
    cols = [zlib.crc32(zero, 1 << i) ^ const for i in range(32)]

    def apply(cols, const, x):
        for i in range(32):
            if x >> i & 1:
                const ^= cols[i]
        return const

    while step < n:
        c2 = apply(cols, const, const)
        cols, const, step = [apply(cols, const, apply(cols, const, 1 << i)) ^ c2 for i in range(32)], c2, step * 2
    assert step == n
    return apply(cols, const, crc)


def zeros_gzip(prefix: bytes, zeros: int) -> bytes:
    """One valid gzip member holding `prefix` then `zeros` zero bytes, made by streaming zeros through zlib without
    ever holding them: after a full flush zlib starts afresh, so every 16 MiB of zeros compresses to the same bytes."""
    c = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = c.compress(prefix) + c.flush(zlib.Z_FULL_FLUSH)
    piece = c.compress(bytes(_CHUNK)) + c.flush(zlib.Z_FULL_FLUSH)
    final = c.flush(zlib.Z_FINISH)[:-8]  # the last (empty) block; the trailer is computed for all the zeros
    crc = _zeros_crc(zlib.crc32(prefix), zeros)
    return head + piece * (zeros // _CHUNK) + final + struct.pack("<II", crc, (len(prefix) + zeros) & 0xFFFFFFFF)


def test_the_bomb_builder_makes_a_valid_gzip():
    small = zeros_gzip(b"WARC", 32 << 20)
    out = gzip.decompress(small)
    assert out[:4] == b"WARC" and len(out) == 4 + (32 << 20) and out.count(0) == 32 << 20


def _bomb_warc(tmp_path: Path, zeros: int = 8 << 30) -> Path:
    """A .warc.gz of a page, a resource record of `zeros` zero bytes in a member of its own (8 GiB in about 8 MB),
    and another page."""
    head = ("WARC/1.0\r\nWARC-Type: resource\r\nWARC-Target-URI: http://harbour.example/bomb\r\n"
            f"Content-Type: text/plain\r\nContent-Length: {zeros}\r\n\r\n").encode()  # fmt: skip
    p = tmp_path / "bomb.warc.gz"
    with open(p, "wb") as f:
        f.write(gzip.compress(_page(0), mtime=0))
        f.write(zeros_gzip(head, zeros))
        f.write(gzip.compress(_page(2), mtime=0))
    return p


_CHILD = """
import json, resource, sys, time
from pipelines.sources.reader import InputFile, read_file
t0 = time.monotonic()
limits = json.loads(sys.argv[2])
items = list(read_file(InputFile(source_id="s", path=sys.argv[1], rel="bomb.warc.gz", format="warc", **limits)))
print(json.dumps({"seconds": time.monotonic() - t0, "max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
                  "docs": [d.url for k, d in items if k == "doc"], "rows": [r for k, r in items if k == "ledger"]}))
"""


def _read_in_child(path: Path, **limits) -> dict:
    res = subprocess.run([sys.executable, "-c", _CHILD, str(path), json.dumps(limits)], cwd=REPO, capture_output=True,
                         text=True, timeout=300, check=False)  # fmt: skip
    assert res.returncode == 0, res.stderr[-2000:]
    return json.loads(res.stdout.splitlines()[-1])


def test_a_gzip_bomb_member_is_cut_at_the_record_limit(tmp_path):
    """8 GiB of zeros in one 8 MB member, read with the default limits: the member stops at
    `extraction.max_record_bytes` (64 MiB), the pages on both sides are read, the bomb has error rows, in seconds
    and with bounded memory (one capped member, not 8 GiB)."""
    p = _bomb_warc(tmp_path)
    assert p.stat().st_size < 10_000_000
    got = _read_in_child(p)
    assert got["docs"] == ["http://harbour.example/0", "http://harbour.example/2"]
    [err] = [r for r in got["rows"] if r["decision"] == "error"]  # one row for the one record lost
    assert err["reason"].startswith("gzip member decompresses to more than 67,108,864 bytes")
    assert json.loads(err["detail"]) == {"offset": len(gzip.compress(_page(0), mtime=0))}
    assert got["seconds"] < 60 and got["max_rss_kb"] < 1_000_000, got


def test_a_gzip_bomb_stops_the_file_at_the_decompression_limit(tmp_path):
    """With a record limit above the file's decompression budget, the budget ends the file: the page before the
    bomb is kept, the file gets an error row naming `max_decompressed_bytes`, memory stays near the budget."""
    p = _bomb_warc(tmp_path)
    got = _read_in_child(p, max_decompressed_bytes=256 << 20, max_record_bytes=4 << 30)
    assert got["docs"] == ["http://harbour.example/0"]
    file_row = next(r for r in got["rows"] if r["stage"] == "input")
    assert file_row["decision"] == "error" and "max_decompressed_bytes" in file_row["reason"]
    assert "1 record(s) read before it were kept" in file_row["reason"]
    assert got["seconds"] < 60 and got["max_rss_kb"] < 1_500_000, got


def test_a_content_encoding_bomb_is_cut_at_the_record_limit(tmp_path):
    """An HTTP response whose `Content-Encoding: gzip` body inflates to 8 GiB (the record itself is small): its
    decoding stops at `extraction.max_record_bytes` with an error row; the next page is read."""
    body = zeros_gzip(b"", 8 << 30)
    http = (b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
            b"Content-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)  # fmt: skip
    rec = _warc([("WARC-Type", "response"), ("WARC-Target-URI", "http://harbour.example/bomb"),
                 ("Content-Type", "application/http; msgtype=response")], http)  # fmt: skip
    p = tmp_path / "bomb.warc.gz"
    p.write_bytes(gzip.compress(rec, mtime=0) + gzip.compress(_page(2), mtime=0))
    assert p.stat().st_size < 1_000_000
    got = _read_in_child(p)
    assert got["docs"] == ["http://harbour.example/2"]
    [err] = [r for r in got["rows"] if r["decision"] == "error"]
    assert "decodes to more than 67,108,864 bytes (policy extraction.max_record_bytes)" in err["reason"]
    assert got["seconds"] < 60 and got["max_rss_kb"] < 1_000_000, got


@pytest.mark.slow
def test_a_run_over_a_gzip_bomb_finishes_with_error_rows(tmp_path, shared):
    """A real `terroir run` over the bomb beside real TEI: it publishes the TEI and the pages, in seconds, and the
    ledger says what happened to the bomb."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    web = tmp_path / "web"
    web.mkdir()
    _bomb_warc(web)
    policy = tmp_path / "policy.yaml"
    policy.write_text("""
policy_id: bomb-test
residency:
  regions:
    eu: {jurisdictions: [SE, DE], storage: shards/eu}
sources:
  web: {jurisdiction: SE, license: CC0-1.0}
  tei: {jurisdiction: SE, license: CC0-1.0}
admission: {default_min_lang_score: 0.0}
extraction: {min_chars: 10}
quality: {enabled: false}
""")
    out = tmp_path / "out"
    t0 = time.monotonic()
    res = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--policy", str(policy), "--output", str(out),
                          "--workers", "1", "--input", f"web={web}", "--input", f"tei={shared / 'tei'}"],
                         cwd=REPO, capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert res.returncode == 0, res.stderr[-3000:]
    assert time.monotonic() - t0 < 240
    ledger = pa.concat_tables([pq.read_table(p) for p in sorted((out / "ledger").glob("*.parquet"))]).to_pylist()
    bomb = [r for r in ledger if r["input_path"] == "bomb.warc.gz"]
    [err] = [r for r in bomb if r["decision"] == "error"]
    assert err["stage"] == "read" and "max_record_bytes" in err["reason"]
    pages = {r["doc_id"] for r in bomb if r["stage"] == "pii" and r["decision"] == "kept"}
    gated = {r["doc_id"] for r in ledger if r["stage"] == "gate" and r["decision"] == "kept"}
    assert len(pages) == 2 and pages <= gated  # both pages went through every stage and were published
    assert [r["reason"] for r in bomb if r["stage"] == "input"] == ["2 record(s), 1 damaged"]
