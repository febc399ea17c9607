"""Sources: turn one input file into documents and ledger rows. Plain Python, called by a Beam DoFn.

Formats: WARC and ARC (gzipped or not), ALTO (one document per page), METS with its ALTO files (one document per
article, or per issue when the METS lists no articles), TEI P5, JSONL and Parquet dumps. A corrupt record or file
becomes an `error` ledger row with a readable reason; what was read before the damage is kept.
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from filters.document import Document, make_doc_id
from filters.extract import (
    ExtractionError,
    decode_payload,
    href_to_relpath,
    is_mets,
    parse_alto,
    parse_mets,
    tei_text,
)
from pipelines.ledger import ledger_row

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
        if is_mets(head):
            return "mets"
        if b"<alto" in head:
            return "alto"
        if b"<TEI" in head or b"<tei" in head:
            return "tei"
        return "xml"
    return "unknown"


def file_sha256(path: str) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _file_row(spec: InputFile, decision: str, reason: str, **detail) -> dict:
    size = os.path.getsize(spec.path) if os.path.exists(spec.path) else 0
    return ledger_row(
        make_doc_id(spec.source_id, f"file:{spec.rel}"), "input", decision, reason, spec.source_id, spec.rel,
        detail={"format": spec.format, **detail}, nbytes=size,
    )  # fmt: skip


def _record_error(spec: InputFile, locator: str, reason: str) -> dict:
    return ledger_row(make_doc_id(spec.source_id, locator), "read", "error", reason, spec.source_id, spec.rel)


def read_file(spec: InputFile) -> Iterator[tuple[str, object]]:
    """Yield ("doc", Document) and ("ledger", row) pairs; exactly one file-level ledger row (stage `input`) per file,
    last; record-level problems are `read` rows."""
    readers = {
        "warc": _read_warc,
        "alto": _read_alto,
        "mets": _read_mets,
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
    try:
        for kind, item in reader(spec):
            if kind == "doc":
                stats["records"] += 1
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


def _first_line(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:300] if text else "no message"


# ---------------------------------------------------------------- WARC / ARC


def _read_warc(spec: InputFile):
    from warcio.archiveiterator import ArchiveIterator

    from filters.origin.server import parse_dns_record
    from filters.residency import host_of

    dns: dict[str, str] = {}  # host → address, from the `dns:` records of this file (origin evidence)
    with open(spec.path, "rb") as f:
        it = ArchiveIterator(f, arc2warc=True)
        for record in it:
            rtype = record.rec_type
            if rtype not in ("response", "resource", "conversion"):
                continue
            url = record.rec_headers.get_header("WARC-Target-URI")
            date = record.rec_headers.get_header("WARC-Date")
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
                ctype = record.rec_headers.get_header("Content-Type") or ""
                headers["content-type"] = ctype
            try:
                body = _payload(record)
            except Exception as exc:  # noqa: BLE001 - undecodable transfer or content encoding
                locator = f"{spec.rel}@{it.get_record_offset()}"
                yield "ledger", _record_error(spec, locator, f"payload could not be decoded: {_first_line(exc)}")
                continue
            if url and url.startswith("dns:"):
                dns.update(parse_dns_record(body))
            # the offset is only safe to ask for once the record's payload has been read
            locator = f"{spec.rel}@{it.get_record_offset()}"
            remaining = getattr(record.raw_stream, "limit", 0)
            if remaining:
                yield "ledger", _record_error(
                    spec, locator, f"record truncated: {remaining} byte(s) missing of the declared Content-Length"
                )
                continue
            doc_id = make_doc_id(spec.source_id, locator)
            if status is not None and status != "200":
                yield "ledger", ledger_row(doc_id, "read", "dropped", f"HTTP status {status}", spec.source_id, spec.rel)
                continue
            mime = ctype.split(";")[0].strip().lower()
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
            yield "doc", Document(
                doc_id=doc_id, source_id=spec.source_id, source_type="web", input_path=spec.rel,
                record_locator=locator, text=text, html=html, url=url, collected_at=date,
                http_headers=headers, raw_bytes=len(body),
                server_ip=record.rec_headers.get_header("WARC-IP-Address"), dns_ip=dns.get(host_of(url) or ""),
            )  # fmt: skip


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


def _payload(record) -> bytes:
    """HTTP payload with transfer and content codings removed.

    warcio decodes chunked, gzip and deflate; its brotli path does not work with current `brotli` releases, so
    brotli (`br`) payloads are decoded here.
    """
    headers = record.http_headers
    encoding = (headers.get_header("Content-Encoding") or "").lower() if headers is not None else ""
    if "br" not in [e.strip() for e in encoding.split(",")]:
        return record.content_stream().read()
    import brotli

    raw = record.raw_stream.read()
    if "chunked" in (headers.get_header("Transfer-Encoding") or "").lower():
        raw = _dechunk(raw)
    return brotli.decompress(raw)


# ---------------------------------------------------------------- ALTO, METS, TEI


def _read_alto(spec: InputFile):
    data = Path(spec.path).read_bytes()
    for page in parse_alto(data):
        locator = f"{spec.rel}#{page.page_id}"
        yield "doc", Document(
            doc_id=make_doc_id(spec.source_id, locator), source_id=spec.source_id, source_type="alto",
            input_path=spec.rel, record_locator=locator, text=page.text, raw_bytes=len(data),
        )  # fmt: skip


def mets_claims(path: str) -> tuple[str, ...]:
    """Absolute paths of the ALTO files a METS file references (empty when it cannot be parsed)."""
    try:
        mets = parse_mets(Path(path).read_bytes())
    except Exception:  # noqa: BLE001 - the worker reports the damage; the driver only plans
        return ()
    base = Path(path).parent
    out = []
    for href in mets.files.values():
        try:
            out.append(str((base / href_to_relpath(href)).resolve()))
        except ExtractionError:
            continue
    return tuple(out)


def _read_mets(spec: InputFile):
    data = Path(spec.path).read_bytes()
    mets = parse_mets(data)
    base = Path(spec.path).parent
    missing = []
    pages = {}
    for fid, href in mets.files.items():
        p = base / href_to_relpath(href)
        if not p.is_file():
            missing.append(href_to_relpath(href))
            continue
        try:
            parsed = parse_alto(p.read_bytes())
        except ExtractionError as exc:
            yield "ledger", _record_error(spec, f"{spec.rel}!{href_to_relpath(href)}", f"ALTO {href}: {exc}")
            continue
        pages[fid] = parsed
    if missing and not pages:
        shown = ", ".join(missing[:5]) + (" ..." if len(missing) > 5 else "")
        raise ExtractionError(f"METS references {len(missing)} ALTO file(s), none found: {shown}")
    for group in mets.groups:
        chunks = []
        for fid, block_id in group.parts:
            for page in pages.get(fid, []):
                if block_id is None or block_id == page.page_id:
                    chunks.append(page.text)
                elif block_id in page.blocks:
                    chunks.append(page.blocks[block_id])
        text = "\n\n".join(c for c in chunks if c)
        locator = f"{spec.rel}#{group.group_id}"
        if not text:
            yield "ledger", _record_error(spec, locator, f"METS {group.kind} {group.group_id} has no text in its ALTO")
            continue
        yield "doc", Document(
            doc_id=make_doc_id(spec.source_id, locator), source_id=spec.source_id, source_type="alto",
            input_path=spec.rel, record_locator=locator, text=text, raw_bytes=len(text.encode()),
        )  # fmt: skip


def _read_tei(spec: InputFile):
    data = Path(spec.path).read_bytes()
    text, meta = tei_text(data)
    yield "doc", Document(
        doc_id=make_doc_id(spec.source_id, spec.rel), source_id=spec.source_id, source_type="tei",
        input_path=spec.rel, record_locator=spec.rel, text=text, raw_bytes=len(data),
        declared_lang=meta.get("lang"),
    )  # fmt: skip


# ---------------------------------------------------------------- JSONL and Parquet dumps


def _open_text(path: str):
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace")
    return open(path, encoding="utf-8", errors="replace")


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
    with _open_text(spec.path) as f:
        for n, line in enumerate(f, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                yield "ledger", _record_error(spec, f"{spec.rel}:{n}", f"line {n}: invalid JSON: {exc.msg}")
                continue
            if not isinstance(obj, dict):
                yield "ledger", _record_error(spec, f"{spec.rel}:{n}", f"line {n}: expected a JSON object")
                continue
            rid = obj.get(spec.id_field) if spec.id_field else None
            locator = f"{spec.rel}#{rid}" if rid is not None else f"{spec.rel}:{n}"
            yield _dump_doc(spec, locator, obj)


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
