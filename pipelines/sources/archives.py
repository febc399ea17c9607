"""A tolerant WARC/ARC record reader: record boundaries found here, each record parsed by warcio.

warcio trusts every declared length: one wrong `Content-Length` (a 2008 Common Crawl ARC whose `filedesc://` record
counts the separator newline, a record cut short by a crawler) makes it lose sync, and everything after is gone. Here a
declared length is trusted only when it ends on a record boundary (blank lines, then the next record header or the
end of the data). When it does not, the record runs to the next record header found by scanning (a `WARC/1.x` line
or an ARC URL-record line), and bytes that belong to no record are skipped to the next header. Every such repair is
reported to the caller, which turns it into a ledger row.

Gzip: each member is decompressed on its own (one record per member is the norm; a whole file compressed as one
member is read too, then held in memory). A member that does not decompress is skipped to the next gzip header. A
member is held in memory up to `max_member_bytes` (the policy's `extraction.max_record_bytes`): past that (a gzip
bomb, or a whole big file in one member) the rest of it is skipped to the next gzip header, and the file stops once it
decompresses to more than `max_decompressed_bytes` in all. A record cut by the end of the data (a truncated file, a
member cut short) is reported as `truncated` with the bytes missing; in a member that ended cleanly, a declared length
that runs past the member's end is a wrong length, repaired like any other. Uncompressed files are memory-mapped, not
read into memory.

Record locators are `OFFSET` (the byte offset of the record in an uncompressed file, or of its gzip member) and
`MEMBER+INNER` for a record that is not the first one of its gzip member; they are the offsets warcio reports for
well-formed files, so document ids do not change for them.
"""

from __future__ import annotations

import io
import mmap
import re
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache

# a WARC record starts with its version line; an ARC record with `URL IP DATE MIME LENGTH` (v1) on one line
_HEADER = re.compile(
    rb"WARC/(?:1\.[01]|0\.1[78])\r?\n"
    rb"|(?:filedesc|https?|ftp|dns|urn|file)[:][^\s]* \d{1,3}(?:\.\d{1,3}){3} \d{12,14} \S* \d+\r?\n",
    re.IGNORECASE,
)
_LINE_START_HEADER = re.compile(rb"(?<=\n)(?:" + _HEADER.pattern + rb")", re.IGNORECASE)
_CONTENT_LENGTH = re.compile(rb"(?im)^(content-length:[ \t]*)(\d+)")
_GZIP_MAGIC = b"\x1f\x8b\x08"
_RESPONSE = re.compile(rb"(?im)^warc-type:[ \t]*response")
_TARGET_URI = re.compile(rb"(?im)^warc-target-uri:")


@dataclass
class Repair:
    """Something the reader had to work around: `kind` is `skipped` (bytes that are no record, not read), `truncated`
    (a record cut by the end of the data, not read) or `length` (a record whose declared length was wrong, read up to
    the next record header instead)."""

    locator: str
    kind: str
    reason: str
    nbytes: int = 0


@dataclass
class RawRecord:
    """One record's bytes (header block with a length that matches them, then the content) and its locator."""

    locator: str
    data: bytes
    fmt: str  # warc or arc


_CHUNK = 1 << 20


class BudgetExceeded(Exception):
    """More bytes came out of a file's decompression than the policy allows (`extraction.max_decompressed_bytes`)."""


def _members(data, budget: int, member_cap: int) -> Iterator[tuple[int, bytes | mmap.mmap, str | None, bool]]:
    """(compressed offset, decompressed bytes, damage, complete) for every gzip member; a plain file is one member at
    0. `complete` says the bytes end where the member ends (its records cannot run past it). A member is decompressed
    up to `member_cap` bytes, the rest of it skipped; raises BudgetExceeded once the members decompress to more than
    `budget` bytes in all (a gzip bomb)."""
    if data[:3] != _GZIP_MAGIC:
        yield 0, data, None, False
        return
    view = memoryview(data)
    try:
        yield from _gzip_members(data, view, len(data), budget, member_cap)
    finally:
        view.release()


def _gzip_members(data, view: memoryview, n: int, budget: int, member_cap: int):
    pos = 0
    while pos < n:
        d, parts, p, size, room = zlib.decompressobj(31), [], pos, 1 << 14, member_cap
        try:
            while not d.eof and p < n:
                # fed in growing chunks of a zero-copy view: `unused_data` stays small, the file is never copied
                # (the slice is a temporary: no view of the file outlives the call, so the map can always close)
                chunk = min(size, n - p)
                piece = d.decompress(view[p : p + size], min(budget, room) + 1)  # never past a limit, even at once
                budget, room = budget - len(piece), room - len(piece)
                if budget < 0:
                    raise BudgetExceeded
                parts.append(piece)
                if room < 0:
                    p += chunk - len(d.unconsumed_tail)
                    break
                p = min(n, p + size)
                size = min(size * 4, _CHUNK)
        except zlib.error as exc:
            nxt = data.find(_GZIP_MAGIC, pos + 1)
            end = nxt if nxt >= 0 else n
            yield pos, b"", (f"gzip member does not decompress ({exc}); {end - pos} byte(s) skipped to the next "
                             "member"), False  # fmt: skip
            pos = end
            continue
        out = b"".join(parts)
        if room < 0:
            nxt = data.find(_GZIP_MAGIC, p)
            end = nxt if nxt >= 0 else n
            yield pos, out, (f"gzip member decompresses to more than {member_cap:,} bytes (policy extraction."
                             f"max_record_bytes); its first {member_cap:,} were read, the rest of it skipped to the "
                             f"next member ({end - pos} compressed byte(s) in all)"), False  # fmt: skip
            pos = end
            continue
        if not d.eof:
            # the record it holds reports the missing bytes; a row of its own only when nothing came out
            yield pos, out, None if out else "gzip member is truncated (the file ends inside it)", False
            return
        yield pos, out, None, True
        pos = p - len(d.unused_data)
        while pos < n and data[pos] in (0, 0x0A, 0x0D):  # padding some writers leave between members
            pos += 1


def _skip_blank(buf, pos: int) -> int:
    n = len(buf)
    while pos < n and buf[pos] in (0x0A, 0x0D):
        pos += 1
    return pos


def _next_header(buf, pos: int) -> int:
    """Offset of the next record header that starts a line at or after `pos`, or -1."""
    if (pos == 0 or buf[pos - 1] == 0x0A) and _HEADER.match(buf, pos):
        return pos
    m = _LINE_START_HEADER.search(buf, max(pos, 1))
    return m.start() if m else -1


def _at_boundary(buf, pos: int) -> bool:
    pos = _skip_blank(buf, pos)
    return pos >= len(buf) or bool(_HEADER.match(buf, pos))


def _parse_header(buf, pos: int) -> tuple[str, int, int, bytes] | None:
    """(format, content start, declared length, header bytes) of the record at `pos`, or None if unparseable."""
    window = buf[pos : pos + 65536]
    if window[:5] == b"WARC/":  # WARC 1.0, 1.1 and the drafts 0.17/0.18 some 2008 crawls wrote
        end, sep = window.find(b"\r\n\r\n"), 4
        if end < 0:
            end, sep = window.find(b"\n\n"), 2
        if end < 0:
            return None
        head = window[: end + sep]
        m = _CONTENT_LENGTH.search(head)
        return "warc", pos + end + sep, int(m.group(2)) if m else 0, head
    eol = window.find(b"\n")
    if eol < 0:
        return None
    line = window[: eol + 1]
    return "arc", pos + eol + 1, int(line.rstrip().rsplit(b" ", 1)[1]), line


def _with_length(fmt: str, head: bytes, length: int) -> bytes:
    if fmt == "warc":
        return _CONTENT_LENGTH.sub(rb"\g<1>" + str(length).encode(), head, count=1)
    return head.rstrip(b"\r\n").rsplit(b" ", 1)[0] + b" " + str(length).encode() + b"\n"


def _split(buf, base: str, gz: bool, complete: bool = False) -> Iterator[RawRecord | Repair]:
    """Records of one decompressed member (or a whole uncompressed file) in order, with the repairs made; `complete`
    when `buf` is a whole gzip member (its end is a record boundary, not a cut)."""
    n = len(buf)
    pos = _skip_blank(buf, 0)
    while pos < n:
        loc = (f"{base}+{pos}" if pos else base) if gz else str(pos)
        header = _HEADER.match(buf, pos)
        parsed = _parse_header(buf, pos) if header else None
        if parsed is None:
            nxt = _next_header(buf, pos + 1)
            if header and nxt < 0 and not complete:
                yield Repair(loc, "truncated", f"record truncated: the data ends inside its header block ({n - pos} "
                             "byte(s))", n - pos)  # fmt: skip
                return
            end = nxt if nxt >= 0 else n
            # never quote the bytes: they may be a page's text (the ledger holds no content)
            what = "a WARC version this reader does not know" if buf[pos : pos + 5] == b"WARC/" else "no record header"
            where = f"skipped to the next record header at offset {nxt}" if nxt >= 0 else "skipped to the end"
            yield Repair(loc, "skipped", f"{end - pos} byte(s) are not a WARC/ARC record ({what}); {where}",
                         end - pos)  # fmt: skip
            pos = end
            continue
        fmt, start, declared, head = parsed
        end = start + declared
        if end <= n and _at_boundary(buf, end):
            yield RawRecord(loc, head + buf[start:end], fmt)
            pos = _skip_blank(buf, end)
            continue
        nxt = _next_header(buf, start)
        if nxt < 0 and end > n and not complete:
            # a record cut short by the end of the data (never quoted: it may hold a page's text)
            yield Repair(loc, "truncated", f"record truncated: {end - n} byte(s) missing of the declared "
                         "Content-Length", end - n)  # fmt: skip
            return
        boundary = nxt if nxt >= 0 else n
        body_end = boundary
        # the separator after a record is not its content: CRLF CRLF after WARC records, one newline after ARC ones
        trail = b"\r\n\r\n" if fmt == "warc" else b"\n"
        if head.startswith(b"filedesc:"):
            trail = b""  # an ARC file header's length covers its version block; the newline after it is its own
        if trail and buf[body_end - len(trail) : body_end] == trail and body_end - len(trail) >= start:
            body_end -= len(trail)
        actual = body_end - start
        yield Repair(loc, "length", f"declared length {declared} does not end at a record boundary; read the "
                     f"{actual} byte(s) up to the next record header", abs(actual - declared))  # fmt: skip
        yield RawRecord(loc, _with_length(fmt, head, actual) + buf[start:body_end], fmt)
        pos = _skip_blank(buf, boundary)


def raw_records(path: str, max_decompressed_bytes: int = 16 << 30,
                max_member_bytes: int = 64 << 20) -> Iterator[RawRecord | Repair]:  # fmt: skip
    """Every record of a WARC or ARC file (gzipped or not), in file order, with the repairs that were needed.
    Never raises for damaged content; an unreadable file raises OSError; BudgetExceeded once the file decompresses
    to more than `max_decompressed_bytes` (the records before are yielded first). A gzip member is read up to
    `max_member_bytes` (see the module's docstring)."""
    with open(path, "rb") as f:
        try:
            data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
        except ValueError:  # an empty file cannot be mapped: it holds no record
            return
        with data:
            gz = data[:3] == _GZIP_MAGIC
            for offset, buf, damage, complete in _members(data, max_decompressed_bytes, max_member_bytes):
                if damage:
                    yield Repair(str(offset), "skipped", damage, 0)
                for item in _split(buf, str(offset), gz, complete) if len(buf) else ():
                    if damage and isinstance(item, Repair) and item.kind == "truncated":
                        continue  # a member cut at the limit: its own row says why its last record is cut
                    yield item


@lru_cache(maxsize=1)
def _default_loader():
    from warcio.recordloader import ArcWarcRecordLoader

    return ArcWarcRecordLoader(arc2warc=True)


def parse_record(raw: RawRecord, loader=None):
    """The warcio record (`ArcWarcRecord`) of one raw record, and whether its HTTP headers were parsed from its block
    (False for a block that is not an HTTP message); raises warcio's errors for a header it cannot parse."""
    loader = loader or _default_loader()
    if raw.fmt == "warc" and _RESPONSE.search(raw.data, 0, 65536) and not _TARGET_URI.search(raw.data, 0, 65536):
        raise ValueError("response record has no WARC-Target-URI header")
    http = block_is_http(raw)
    record = loader.parse_record_stream(io.BytesIO(raw.data), known_format=raw.fmt, no_record_parse=not http)
    return record, http


def block_is_http(raw: RawRecord) -> bool:
    """Whether the record's block starts with an HTTP message. A `response` whose block does not (a Wayback-style
    WARC with the HTTP headers merged into the WARC header block) must not be parsed as HTTP: warcio would take the
    first line of the page for a status line."""
    head = _parse_header(raw.data, 0)
    if head is None:
        return False
    start = head[1]
    return raw.data[start : start + 5].upper() == b"HTTP/"


# the crawler's own log kept as a record: wget (`--DATE TIME--  URL`, "Resolving", "HTTP request sent"), wpull
# (`DATE TIME,ms - wpull.`), Heritrix crawl.log lines (`ISO-DATE STATUS SIZE URL`)
_LOG_LINE = re.compile(
    rb"^(?:--\d{4}-\d\d-\d\d \d\d:\d\d:\d\d--  \S"
    rb"|Resolving \S|Connecting to \S|HTTP request sent, awaiting response"
    rb"|\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} - (?:wpull|INFO|WARNING|ERROR|DEBUG)"
    rb"|\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z +-?\d+ +\d+ \S+)",
    re.MULTILINE,
)
WEB_SCHEMES = ("http:", "https:", "ftp:")


def looks_like_crawler_log(body: bytes) -> bool:
    """True when at least 3 of the first 40 lines of `body` are lines a crawler writes to its log."""
    head = body[:8192]
    return len(_LOG_LINE.findall(head)) >= 3 or (head.count(b"\n") < 3 and bool(_LOG_LINE.match(head)))


def non_document_kind(rec_type: str, uri: str | None, ctype: str) -> str | None:
    """Why a record is not a document, as a short kind for the ledger's count (None when it may be one): the
    record types that describe a crawl rather than capture content, and resources whose URI is not a web address
    (a crawler's log or metadata, e.g. `urn:X-wget:log`, `metadata://…`)."""
    if rec_type in ("warcinfo", "request", "metadata", "revisit", "continuation"):
        return rec_type
    if rec_type == "resource" and not (uri or "").lower().startswith(WEB_SCHEMES):
        return "resource (crawler log or metadata, no web URI)"
    if rec_type not in ("response", "resource", "conversion"):
        return rec_type or "unknown record type"
    return None
