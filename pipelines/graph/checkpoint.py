"""Per-input checkpoints: what the per-document stages made of one input file, so a rerun after a crash skips it.

A checkpoint is written next to its final name and renamed into place when the file is complete, so a crash leaves
either a whole checkpoint or none. Its name hashes the input's identity (source, path, size, modification time)
and the run's fingerprint (policy, takedown list, rights snapshots, pipeline version): change any and the input is
processed again.

Rows are the file's items in order: `kind` ("doc" or "ledger"), the pickled item, and for documents their `doc_id`,
`content_hash` and `text` as plain columns, so dedup and a resumed run read them without unpickling documents.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import time
from collections.abc import Iterator
from typing import Self

import pyarrow as pa
import pyarrow.parquet as pq

from pipelines.sources.reader import InputFile

_SCHEMA = pa.schema([pa.field("kind", pa.string()), pa.field("payload", pa.large_binary()),
                     pa.field("doc_id", pa.string()), pa.field("content_hash", pa.string()),
                     pa.field("text", pa.large_string())])  # fmt: skip
_BATCH = 256
FORMAT = 3  # part of every checkpoint's name: a checkpoint of another layout is never read


def checkpoint_name(spec: InputFile, fingerprint: str) -> str:
    st = os.stat(spec.path)
    members = [(m, os.stat(m).st_size, os.stat(m).st_mtime_ns) for m in spec.members if os.path.exists(m)]
    ident = json.dumps([spec.source_id, spec.rel, st.st_size, st.st_mtime_ns, members, fingerprint, FORMAT])
    return hashlib.blake2b(ident.encode(), digest_size=16).hexdigest() + ".parquet"


def load(path: str) -> Iterator[tuple[str, object]]:
    pf = pq.ParquetFile(path)
    for batch in pf.iter_batches(batch_size=_BATCH):
        kinds, payloads, texts = (batch.column(k).to_pylist() for k in ("kind", "payload", "text"))
        for kind, payload, text in zip(kinds, payloads, texts):
            item = pickle.loads(payload)
            if kind == "doc":
                item.text = text
            yield kind, item


def load_columns(path: str, columns: list[str]) -> dict[str, list]:
    """Plain columns (`doc_id`, `content_hash`, `text`) of a checkpoint's documents, in order: position k is the file's k-th
    document."""
    import pyarrow.compute as pc

    table = pq.read_table(path, columns=["kind", *columns])
    table = table.filter(pc.equal(table.column("kind"), "doc"))
    return {c: table.column(c).to_pylist() for c in columns}


class CheckpointWriter:
    """Streams items into `<final>.tmp-<pid>`; `commit()` renames it to its final name."""

    def __init__(self, final_path: str) -> None:
        self.final_path = final_path
        self.tmp_path = f"{final_path}.tmp-{os.getpid()}"
        os.makedirs(os.path.dirname(final_path), exist_ok=True)
        self._writer = pq.ParquetWriter(self.tmp_path, _SCHEMA, compression="zstd")
        self._rows: tuple[list, ...] = ([], [], [], [], [])

    def add(self, kind: str, item: object) -> None:
        kinds, payloads, ids, hashes, texts = self._rows
        kinds.append(kind)
        if kind == "doc":
            text, item.text = item.text, ""  # the text goes to its own column
            try:
                payloads.append(pickle.dumps(item, protocol=5))
            finally:
                item.text = text
            ids.append(item.doc_id)
            hashes.append(item.content_hash)
            texts.append(text)
        else:
            payloads.append(pickle.dumps(item, protocol=5))
            ids.append(None)
            hashes.append(None)
            texts.append(None)
        if len(kinds) >= _BATCH:
            self._flush()

    def _flush(self) -> None:
        if self._rows[0]:
            self._writer.write_table(pa.table(list(self._rows), schema=_SCHEMA))
            self._rows = ([], [], [], [], [])

    def commit(self) -> None:
        self._flush()
        self._writer.close()
        os.replace(self.tmp_path, self.final_path)

    def abort(self) -> None:
        try:
            self._writer.close()
        finally:
            if os.path.exists(self.tmp_path):
                os.unlink(self.tmp_path)


class StepTimer:
    """CPU and wall seconds of one step's call in a worker, recorded as a `step` event when it ends:
    `with StepTimer(work_dir, "fuzzy: verify") as t: ...; t.items = n`. Several steps may share one call:
    `t.split("pii")` adds the CPU seconds since the last split to a named part."""

    def __init__(self, work_dir: str | None, step: str) -> None:
        self.work_dir, self.step, self.items = work_dir, step, 0
        self.parts: dict[str, float] = {}

    def __enter__(self) -> Self:
        self._wall, self._cpu = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if self.work_dir is None or exc_type is not None:
            return
        record_event(self.work_dir, event="step", step=self.step, items=self.items,
                     wall=round(time.perf_counter() - self._wall, 4), cpu=round(time.process_time() - self._cpu, 4),
                     **({"parts": {k: round(v, 4) for k, v in self.parts.items()}} if self.parts else {}))  # fmt: skip


def run_timed(work_dir: str | None, step: str, outputs, count=len) -> list:
    """Drain `outputs` (a generator: its work runs here) under a `StepTimer`; items = `count(results)`."""
    with StepTimer(work_dir, step) as t:
        out = list(outputs)
        t.items = count(out)
    return out


def record_event(work_dir: str, **event) -> None:
    """Append one progress event (a short JSON line; appends of this size are atomic on POSIX filesystems)."""
    event["t"] = round(time.time(), 3)
    line = json.dumps(event, separators=(",", ":")) + "\n"
    fd = os.open(os.path.join(work_dir, "events.jsonl"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        os.write(fd, line.encode())
    finally:
        os.close(fd)
