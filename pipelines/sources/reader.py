"""Sources: turn one input file into documents and ledger rows. Plain Python, called by a Beam DoFn.

Formats: WARC and ARC (gzipped or not), ALTO (one document per page), METS with its ALTO files (one document per
article, or per issue when the METS lists no articles), TEI P5, JSONL and Parquet dumps. A corrupt record or file
becomes an `error` ledger row with a readable reason; what was read before the damage is kept.
"""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filters.document import Document, make_doc_id
from filters.extract import (
    ExtractionError,
    decode_payload,
    is_mets,
    parse_alto,
    tei_text,
)
from filters.extract.didl import is_didl
from pipelines.sources.archives import (
    BudgetExceeded,
    Repair,
    looks_like_crawler_log,
    non_document_kind,
    parse_record,
    raw_records,
)
from schemas.files import sha256_of as file_sha256  # noqa: F401 - also this module's interface
from schemas.ledger import ledger_row

WARC_SUFFIXES = (".warc", ".warc.gz", ".arc", ".arc.gz", ".wet.gz", ".wat.gz")
JSONL_SUFFIXES = (".jsonl", ".jsonl.gz", ".ndjson", ".json.gz")
KEPT_HEADERS = ("content-type", "x-robots-tag", "tdm-reservation", "tdm-policy", "content-usage", "link",
                "content-language")
HTML_TYPES = ("text/html", "application/xhtml+xml")
TEXT_TYPES = ("text/plain",)


@dataclass(frozen=True)
class InputFile:
    """One file to read: `rel` is its path relative to the input root the user named (stable across machines)."""

    source_id: str
    path: str
    rel: str
    format: str  # warc, alto, mets, tei, jsonl, parquet, unknown
    text_field: str = "text"
    id_field: str | None = None
    url_field: str | None = "url"
    members: tuple[str, ...] = ()  # for a METS file: the ALTO files it groups (absolute paths)
    max_record_bytes: int = 64 << 20  # policy extraction.max_record_bytes
    max_decompressed_bytes: int = 16 << 30  # policy extraction.max_decompressed_bytes


def sniff_format(path: str) -> str:
    name = path.lower()
    if name.endswith(WARC_SUFFIXES):
        return "warc"
    if name.endswith(JSONL_SUFFIXES):
        return "jsonl"
    if name.endswith(".parquet"):
        return "parquet"
    if name.endswith(".xml"):
        try:
            with open(path, "rb") as f:
                head = f.read(4096)
        except OSError:
            return "unknown"
        if is_mets(head) or is_didl(head):
            return "mets"  # a package of ALTO pages: METS, or DIDL as Delpher serves it
        if b"<alto" in head:
            return "alto"
        if b"<TEI" in head or b"<tei" in head:
            return "tei"
        return "xml"
    return "unknown"




def _file_row(spec: InputFile, decision: str, reason: str, **detail) -> dict:
    size = os.path.getsize(spec.path) if os.path.exists(spec.path) else 0
    return ledger_row(
        make_doc_id(spec.source_id, f"file:{spec.rel}"), "input", decision, reason, spec.source_id, spec.rel,
        detail={"format": spec.format, **detail}, nbytes=size,
    )  # fmt: skip


def _record_error(spec: InputFile, locator: str, reason: str, detail: dict | None = None) -> dict:
    return ledger_row(make_doc_id(spec.source_id, locator), "read", "error", reason, spec.source_id, spec.rel, detail)


def read_file(spec: InputFile) -> Iterator[tuple[str, object]]:
    """Yield ("doc", Document) and ("ledger", row) pairs; exactly one file-level ledger row (stage `input`) per file,
    last; record-level problems are `read` rows."""
    readers = {
        "warc": _read_warc,
        "alto": _read_alto,
        "mets": _read_mets,
        "didl": _read_mets,  # the same reader: a package of ALTO pages
        "tei": _read_tei,
        "jsonl": _read_jsonl,
        "parquet": _read_parquet,
    }
    reader = readers.get(spec.format)
    if reader is None:
        kind = "XML of no supported vocabulary (ALTO, METS, TEI)" if spec.format == "xml" else "unsupported file format"
        yield "ledger", _file_row(spec, "dropped", f"{kind} ({Path(spec.rel).suffix or 'no extension'})")
        return
    stats = {"records": 0, "errors": 0}
    fatal = None
    seen: set[str] = set()
    try:
        for kind, item in reader(spec):
            if kind == "doc":
                stats["records"] += 1
                if item.doc_id in seen:
                    yield "ledger", _reidentify(spec, item, seen)
                    stats["reidentified"] = stats.get("reidentified", 0) + 1
                seen.add(item.doc_id)
            elif item.get("decision") == "error":
                stats["errors"] += 1
            yield kind, item
    except ExtractionError as exc:
        fatal = str(exc)
    except Exception as exc:  # noqa: BLE001 - any damage ends this file, never the run
        fatal = f"{type(exc).__name__}: {_first_line(exc)}"
    if fatal is not None:
        kept = f"; {stats['records']} record(s) read before it were kept" if stats["records"] else ""
        yield "ledger", _file_row(spec, "error", f"{fatal}{kept}", **stats)
    elif stats["errors"]:
        yield "ledger", _file_row(spec, "kept", f"{stats['records']} record(s), {stats['errors']} damaged", **stats)
    else:
        yield "ledger", _file_row(spec, "kept", f"{stats['records']} record(s)", **stats)


def _reidentify(spec: InputFile, doc: Document, seen: set[str]) -> dict:
    """A record whose id an earlier record of the same file already has (a dump's repeated id field, a METS that lists
    one article twice) gets a new id, deterministic for the file: its locator with the occurrence number appended
    (`dump.jsonl#42~2`). Both records go on; the ledger says which one was renamed, with the first one's doc_id.
    Files are read one at a time and their locators start with their own path, so ids are unique across files."""
    original = doc.doc_id
    n = 2
    while make_doc_id(spec.source_id, f"{doc.record_locator}~{n}") in seen:
        n += 1
    doc.record_locator = f"{doc.record_locator}~{n}"
    doc.doc_id = make_doc_id(spec.source_id, doc.record_locator)
    return ledger_row(doc.doc_id, "read", "kept", f"record repeats the id of an earlier record of this file; "
                      f"re-identified as occurrence {n}", spec.source_id, spec.rel,
                      {"repeats_doc_id": original, "occurrence": n})  # fmt: skip


def _first_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:300] if text else "no message"


# ---------------------------------------------------------------- WARC / ARC


def _read_warc(spec: InputFile):
    skipped = _SkipCounts(spec)
    try:
        records = raw_records(spec.path, spec.max_decompressed_bytes, spec.max_record_bytes)
        yield from _warc_records(spec, skipped, records)
    except BudgetExceeded:
        yield from skipped.rows()
        raise ExtractionError(f"more than {spec.max_decompressed_bytes:,} bytes decompressed (policy extraction."
                              "max_decompressed_bytes); the rest of the file was not read") from None
    yield from skipped.rows()


def _warc_records(spec: InputFile, skipped: _SkipCounts, records):
    """Documents and ledger rows of the records of one archive; records that are not documents go to `skipped`."""
    from filters.origin.server import parse_dns_record
    from filters.residency import host_of

    repair: Repair | None = None
    dns: dict[str, str] = {}  # host → address, from the `dns:` records of this file (origin evidence)
    for item in records:
        if isinstance(item, Repair):
            if item.kind in ("skipped", "truncated"):
                yield "ledger", _record_error(spec, f"{spec.rel}@{item.locator}", item.reason, _offsets(item.locator))
            else:
                repair = item  # the record that follows was read with a repaired length
            continue
        locator = f"{spec.rel}@{item.locator}"
        repaired, repair = repair, None
        try:
            record, http_parsed = parse_record(item)
        except Exception as exc:  # noqa: BLE001 - warcio's parse errors have no common base
            yield "ledger", _record_error(spec, locator, f"record could not be parsed: {_first_line(exc)}", _offsets(item.locator))
            continue
        rtype = record.rec_type
        url = record.rec_headers.get_header("WARC-Target-URI")
        date = record.rec_headers.get_header("WARC-Date")
        kind = non_document_kind(rtype, url, record.rec_headers.get_header("Content-Type") or "")
        if kind is not None:
            skipped.add(kind, repaired)
            if url and url.startswith("dns:"):
                try:
                    dns.update(parse_dns_record(_payload(record)))
                except Exception:  # noqa: BLE001, S110 - an unreadable DNS record is only missing evidence
                    pass
            continue
        headers: dict[str, str] = {}
        status = None
        if record.http_headers is not None and rtype == "response":
            status = record.http_headers.get_statuscode()
            for name in KEPT_HEADERS:
                vals = [v for k, v in record.http_headers.headers if k.lower() == name]
                if vals:
                    headers[name] = ", ".join(vals)
            ctype = headers.get("content-type", "")
        else:
            # resources, conversions, and responses whose HTTP headers were merged into the WARC header block
            for name in KEPT_HEADERS:
                vals = [v for k, v in record.rec_headers.headers if k.lower() == name]
                if vals:
                    headers[name] = ", ".join(vals)
            ctype = headers.setdefault("content-type", "")
            if rtype == "response" and not http_parsed:
                skipped.note("response with its HTTP headers merged into the WARC header block (read as the page)")
        try:
            body = _payload(record, spec.max_record_bytes)
        except Exception as exc:  # noqa: BLE001 - undecodable transfer or content encoding
            yield "ledger", _record_error(spec, locator, f"payload could not be decoded: {_first_line(exc)}", _offsets(item.locator))
            continue
        remaining = getattr(record.raw_stream, "limit", 0)
        if remaining:
            yield "ledger", _record_error(
                spec, locator, f"record truncated: {remaining} byte(s) missing of the declared Content-Length",
                _offsets(item.locator),
            )
            continue
        doc_id = make_doc_id(spec.source_id, locator)
        if status is not None and status != "200":
            yield "ledger", ledger_row(doc_id, "read", "dropped", f"HTTP status {status}", spec.source_id, spec.rel)
            continue
        mime = ctype.split(";")[0].strip().lower()
        if rtype == "resource" and mime in TEXT_TYPES and looks_like_crawler_log(body):
            skipped.add("resource (crawler log, text/plain)", repaired)
            continue
        if rtype == "conversion" or mime in TEXT_TYPES:
            text, _ = decode_payload(body, ctype)
            html = None
        elif mime in HTML_TYPES or (not mime and body.lstrip()[:15].lower().startswith((b"<!doctype", b"<html"))):
            html, _ = decode_payload(body, ctype)
            text = ""
        else:
            yield "ledger", ledger_row(
                doc_id, "read", "dropped", f"unsupported content type {mime or 'unknown'}", spec.source_id,
                spec.rel, nbytes=len(body),
            )  # fmt: skip
            continue
        if repaired is not None:
            yield "ledger", ledger_row(doc_id, "read", "kept", repaired.reason, spec.source_id, spec.rel,
                                       {"length_repair_bytes": repaired.nbytes})  # fmt: skip
        yield "doc", Document(
            doc_id=doc_id, source_id=spec.source_id, source_type="web", input_path=spec.rel,
            record_locator=locator, text=text, html=html, url=url, collected_at=date,
            http_headers=headers, raw_bytes=len(body),
            server_ip=record.rec_headers.get_header("WARC-IP-Address"), dns_ip=dns.get(host_of(url) or ""),
        )  # fmt: skip


def _offsets(locator: str) -> dict:
    """Where a damaged record lies, for its error row: the byte offset in the file (of its gzip member in a gzipped
    file) and, for a record after the first in its member, the offset inside the decompressed member."""
    member, _, inner = locator.partition("+")
    return {"offset": int(member)} | ({"offset_in_member": int(inner)} if inner else {})


class _SkipCounts:
    """Records that are not documents, counted per kind: one `read` row per kind and file at the end of the file
    (a crawl holds a request and often a metadata record per response: a row each would double the ledger)."""

    def __init__(self, spec: InputFile) -> None:
        self.spec = spec
        self.counts: dict[str, int] = {}
        self.repaired: dict[str, int] = {}
        self.notes: dict[str, int] = {}

    def add(self, kind: str, repaired) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if repaired is not None:
            self.repaired[kind] = self.repaired.get(kind, 0) + 1

    def note(self, what: str) -> None:
        self.notes[what] = self.notes.get(what, 0) + 1

    def rows(self):
        spec = self.spec
        for kind, n in sorted(self.counts.items()):
            detail = {"record_type": kind, "records": n}
            if kind in self.repaired:
                detail["length_repaired"] = self.repaired[kind]
            yield "ledger", ledger_row(make_doc_id(spec.source_id, f"{spec.rel}#skipped:{kind}"), "read", "dropped",
                                       f"{n} {kind} record(s): not documents", spec.source_id, spec.rel, detail)
        for what, n in sorted(self.notes.items()):
            yield "ledger", ledger_row(make_doc_id(spec.source_id, f"{spec.rel}#note:{what}"), "read", "kept",
                                       f"{n} {what}", spec.source_id, spec.rel, {"records": n})


def _dechunk(data: bytes) -> bytes:
    """Undo HTTP/1.1 chunked transfer coding; raises ValueError on a malformed chunk header."""
    out, pos = bytearray(), 0
    while True:
        eol = data.index(b"\r\n", pos)
        size = int(data[pos:eol].split(b";", 1)[0].strip() or b"0", 16)
        if size == 0:
            return bytes(out)
        out += data[eol + 2 : eol + 2 + size]
        pos = eol + 2 + size + 2


def _payload(record, limit: int = 64 << 20) -> bytes:
    """HTTP payload with transfer and content codings removed; raises ValueError when it decodes to more than
    `limit` bytes (a content-encoding bomb: decoding stops there, memory stays bounded).

    warcio decodes chunked, gzip and deflate; its brotli path does not work with current `brotli` releases, so
    brotli (`br`) payloads are decoded here.
    """
    headers = record.http_headers
    encoding = (headers.get_header("Content-Encoding") or "").lower() if headers is not None else ""
    if "br" not in [e.strip() for e in encoding.split(",")]:
        data = record.content_stream().read(limit + 1)
    else:
        import brotli

        raw = record.raw_stream.read()
        if "chunked" in (headers.get_header("Transfer-Encoding") or "").lower():
            raw = _dechunk(raw)
        data = brotli.Decompressor().process(raw, output_buffer_limit=limit + 1)
    if len(data) > limit:
        raise ValueError(f"it decodes to more than {limit:,} bytes (policy extraction.max_record_bytes)")
    return data


# ---------------------------------------------------------------- ALTO, METS, TEI


def _read_alto(spec: InputFile):
    data = Path(spec.path).read_bytes()
    for page in parse_alto(data):
        locator = f"{spec.rel}#{page.page_id}"
        yield "doc", Document(
            doc_id=make_doc_id(spec.source_id, locator), source_id=spec.source_id, source_type="alto",
            input_path=spec.rel, record_locator=locator, text=page.text, raw_bytes=len(data),
        )  # fmt: skip


def input_root(spec: InputFile) -> Path:
    """The folder the user named (for a single file, its folder): `spec.rel` is relative to it."""
    return Path(spec.path).parents[len(Path(spec.rel).parts) - 1]


def mets_claims(path: str, root: Path) -> tuple[str, ...]:
    """Absolute paths of the ALTO files inside `root` that a METS or DIDL file references (empty when it cannot be
    parsed)."""
    from pipelines.sources.library import package_claims

    return package_claims(path, root)


def _read_mets(spec: InputFile):
    """A METS or DIDL package: one document per article (or per issue), from the ALTO files it lists."""
    from pipelines.sources.library import load_package

    pkg = load_package(spec.path, input_root(spec))
    mets = pkg.mets
    for key, decision, reason, detail in pkg.notes:
        yield "ledger", ledger_row(make_doc_id(spec.source_id, f"{spec.rel}#{key}"), "read", decision, reason,
                                   spec.source_id, spec.rel, detail)  # fmt: skip
    for rel, reason in pkg.refused:
        yield "ledger", _record_error(spec, f"{spec.rel}!{rel}", reason)
    if not mets.files:
        groups = "; ".join(r for _, _, r, _ in pkg.notes) or "no file group at all"
        raise ExtractionError(f"{pkg.kind} lists no ALTO text file ({groups})")
    missing = pkg.missing
    pages = {}
    for fid, p in pkg.paths.items():
        try:
            parsed = parse_alto(p.read_bytes())
        except ExtractionError as exc:
            yield "ledger", _record_error(spec, f"{spec.rel}!{p.name}", f"ALTO {p.name}: {exc}")
            continue
        pages[fid] = parsed
    if missing and not pages:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ExtractionError(f"{pkg.kind} references {len(missing)} ALTO file(s), none found: {shown}")
    unresolved = 0
    for group in mets.groups:
        chunks = []
        for fid, block_id in group.parts:
            for page in pages.get(fid, []):
                if block_id is None or block_id == page.page_id:
                    chunks.append(page.text)
                    continue
                text = page.area_text(block_id)
                if text is None:
                    unresolved += 1
                elif text:
                    chunks.append(text)
        text = "\n\n".join(c for c in chunks if c)
        locator = f"{spec.rel}#{group.group_id}"
        if not text:
            yield "ledger", _record_error(spec, locator, f"METS {group.kind} {group.group_id} has no text in its ALTO")
            continue
        yield "doc", Document(
            doc_id=make_doc_id(spec.source_id, locator), source_id=spec.source_id, source_type="alto",
            input_path=spec.rel, record_locator=locator, text=text, raw_bytes=len(text.encode()),
        )  # fmt: skip
    if unresolved:
        yield "ledger", ledger_row(make_doc_id(spec.source_id, f"{spec.rel}#unresolved-areas"), "read", "dropped",
                                   f"{unresolved} METS area(s) name a block their ALTO page does not have",
                                   spec.source_id, spec.rel, {"areas": unresolved})  # fmt: skip


def _read_tei(spec: InputFile):
    data = Path(spec.path).read_bytes()
    text, meta = tei_text(data)
    yield "doc", Document(
        doc_id=make_doc_id(spec.source_id, spec.rel), source_id=spec.source_id, source_type="tei",
        input_path=spec.rel, record_locator=spec.rel, text=text, raw_bytes=len(data),
        declared_lang=meta.get("lang"),
    )  # fmt: skip


# ---------------------------------------------------------------- JSONL and Parquet dumps


class _Budget:
    """A binary stream that stops with ExtractionError once more than `limit` bytes came out of it: decompression of
    one input file is bounded (a small gzip bomb would otherwise expand to gigabytes)."""

    def __init__(self, raw, limit: int) -> None:
        self.raw, self.limit, self.used = raw, limit, 0

    def readline(self, size: int = -1) -> bytes:
        line = self.raw.readline(size)
        self.used += len(line)
        if self.used > self.limit:
            raise ExtractionError(f"more than {self.limit:,} bytes decompressed (policy extraction."
                                  "max_decompressed_bytes); the rest of the file was not read")  # fmt: skip
        return line

    def close(self) -> None:
        self.raw.close()


def _open_binary(spec: InputFile) -> _Budget:
    raw = gzip.open(spec.path, "rb") if spec.path.endswith(".gz") else open(spec.path, "rb")  # noqa: SIM115 - closed by _Budget.close
    return _Budget(raw, spec.max_decompressed_bytes)


def _dump_doc(spec: InputFile, locator: str, obj: dict) -> tuple[str, object]:
    text = obj.get(spec.text_field)
    if not isinstance(text, str):
        found = "missing" if text is None else type(text).__name__
        return "ledger", _record_error(spec, locator, f"text field {spec.text_field!r} is {found}, expected a string")
    url = obj.get(spec.url_field) if spec.url_field else None
    return "doc", Document(
        doc_id=make_doc_id(spec.source_id, locator), source_id=spec.source_id,
        source_type="jsonl" if spec.format == "jsonl" else "parquet", input_path=spec.rel, record_locator=locator,
        text=text, url=url if isinstance(url, str) else None, raw_bytes=len(text.encode("utf-8", "replace")),
    )  # fmt: skip


def _read_jsonl(spec: InputFile):
    import zlib

    limit = spec.max_record_bytes
    f = _open_binary(spec)
    n = 0
    try:
        while True:
            n += 1
            try:
                raw = f.readline(limit + 1)
            except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                yield "ledger", _record_error(spec, f"{spec.rel}:{n}", f"line {n}: cut off by damaged compressed "
                                              f"data ({type(exc).__name__})")  # fmt: skip
                raise ExtractionError(f"compressed data damaged at line {n}: {_first_line(exc)}") from None
            if not raw:
                return
            if len(raw) > limit and not raw.endswith(b"\n"):
                while raw and not raw.endswith(b"\n"):  # skip the rest of the oversized line, a piece at a time
                    raw = f.readline(1 << 20)
                yield "ledger", _record_error(spec, f"{spec.rel}:{n}", f"line {n}: record larger than {limit:,} "
                                              "bytes (policy extraction.max_record_bytes); skipped")  # fmt: skip
                continue
            line = raw.decode("utf-8", errors="replace")
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                # json's message ends where its position begins ("Invalid control character at"): the column ends it
                why = f"line {n}: invalid JSON: {exc.msg} column {exc.colno}"
                yield "ledger", _record_error(spec, f"{spec.rel}:{n}", why)
                continue
            except RecursionError:
                yield "ledger", _record_error(spec, f"{spec.rel}:{n}", f"line {n}: JSON nested too deeply to read")
                continue
            if not isinstance(obj, dict):
                yield "ledger", _record_error(spec, f"{spec.rel}:{n}", f"line {n}: expected a JSON object")
                continue
            rid = obj.get(spec.id_field) if spec.id_field else None
            locator = f"{spec.rel}#{rid}" if rid is not None else f"{spec.rel}:{n}"
            yield _dump_doc(spec, locator, obj)
    finally:
        f.close()


def _read_parquet(spec: InputFile):
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(spec.path)
    names = pf.schema_arrow.names
    if spec.text_field not in names:
        raise ExtractionError(f"Parquet file has no column {spec.text_field!r}; columns are {names}")
    cols = [c for c in (spec.text_field, spec.id_field, spec.url_field) if c and c in names]
    row = 0
    for batch in pf.iter_batches(columns=cols, batch_size=1024):
        for obj in batch.to_pylist():
            row += 1
            rid = obj.get(spec.id_field) if spec.id_field else None
            locator = f"{spec.rel}#{rid}" if rid is not None else f"{spec.rel}:{row}"
            yield _dump_doc(spec, locator, obj)
