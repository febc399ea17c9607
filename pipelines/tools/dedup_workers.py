"""The workers of `terroir dedup` (`pipelines.tools.dedup_corpus`): module-level functions, since they run in
worker processes. Each takes one picklable argument tuple and returns a small dict; the big data goes through files in
the run's work folder.

- `_sign`: one row group → band-hash spill files (one per partition), texts or signatures, and the group's doc ids;
- `_bucket`: one partition → candidate pairs;
- `_verify`: one chunk of candidate pairs → the verified edges (exact or estimated Jaccard);
- `_write`: one input file → the same file without the removed rows, plus its ledger rows.
"""

from __future__ import annotations

import contextlib
import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from filters.dedup.lsh import band_hashes, bucket_pairs
from schemas.corpus import LEDGER_SCHEMA

_BAND_DTYPE = np.dtype([("band", "<u2"), ("hash", "<u8"), ("idx", "<u4")])
STAGE = "fuzzy_dedup"
_HASHERS: dict = {}


@dataclass(frozen=True)
class Task:
    task: int
    path: str
    row_group: int
    base: int  # global index of the row group's first row
    rows: int




def _hasher(fuzzy):
    from filters.dedup import MinHasher

    key = repr(fuzzy)
    if key not in _HASHERS:
        _HASHERS[key] = MinHasher.from_settings(fuzzy)
    return _HASHERS[key]


def _sign(args) -> dict:
    """One row group → band-hash spill files (one per partition), texts or signatures, and the group's doc ids."""
    task, fuzzy, work, partitions, batch_rows, id_column, text_column = args
    t0 = time.perf_counter()
    hasher = _hasher(fuzzy)
    bands, rows = fuzzy.bands, fuzzy.rows
    keep_text = fuzzy.verify == "true"
    keep_sig = fuzzy.verify == "estimated"
    ids_parts, spills, sig_parts = [], [], []
    offsets = [0]
    done = 0
    try:
        with open(work / "text" / f"{task.task:06d}.bin", "wb") if keep_text else contextlib.nullcontext() as blob:
            pf = pq.ParquetFile(task.path)
            for batch in pf.iter_batches(batch_size=batch_rows, row_groups=[task.row_group],
                                         columns=[id_column, text_column]):  # fmt: skip
                n = batch.num_rows
                ids_parts.append(batch.column(0))
                texts = [t or "" for t in batch.column(1).to_pylist()]
                sig = hasher.signatures(texts)
                h = band_hashes(sig, bands, rows)
                rec = np.empty(n * bands, dtype=_BAND_DTYPE)
                rec["band"] = np.tile(np.arange(bands, dtype=np.uint16), n)
                rec["hash"] = h.ravel()
                rec["idx"] = np.repeat(np.arange(task.base + done, task.base + done + n, dtype=np.uint32), bands)
                spills.append(rec)
                if keep_sig:
                    sig_parts.append(sig)
                if blob is not None:
                    for t in texts:
                        b = t.encode("utf-8")
                        blob.write(b)
                        offsets.append(offsets[-1] + len(b))
                done += n
    except Exception as exc:  # noqa: BLE001 - a damaged row group is recorded and counted, the run goes on
        return {"task": task.task, "error": f"{type(exc).__name__} reading row group {task.row_group}",
                "rows": task.rows, "seconds": time.perf_counter() - t0}  # fmt: skip
    if keep_text:
        np.save(work / "text" / f"{task.task:06d}.off.npy", np.asarray(offsets, dtype=np.int64))
    if keep_sig:
        np.save(work / "sig" / f"{task.task:06d}.npy", np.concatenate(sig_parts))
    rec = np.concatenate(spills) if spills else np.empty(0, dtype=_BAND_DTYPE)
    part = (rec["hash"] % np.uint64(partitions)).astype(np.int64)
    order = np.argsort(part, kind="stable")
    bounds = np.searchsorted(part[order], np.arange(partitions + 1))
    for p in range(partitions):
        chunk = rec[order[bounds[p] : bounds[p + 1]]]
        if len(chunk):
            np.save(work / "bands" / f"{p:04d}" / f"{task.task:06d}.npy", chunk)
    ids = (
        pa.concat_arrays([c.cast(pa.large_string()) for c in ids_parts])
        if ids_parts
        else pa.array([], pa.large_string())
    )
    return {"task": task.task, "ids": ids, "rows": done, "seconds": time.perf_counter() - t0}


def _bucket(args) -> dict:
    """One partition of band hashes → the candidate pairs of its buckets, as uint64 (rank_a << 32 | rank_b)."""
    p, work = args
    t0 = time.perf_counter()
    files = sorted((work / "bands" / f"{p:04d}").glob("*.npy"))
    out = work / "edges" / f"{p:04d}.npy"
    if not files:
        np.save(out, np.empty(0, dtype=np.uint64))
        return {"partition": p, "pairs": 0, "seconds": time.perf_counter() - t0}
    rec = np.concatenate([np.load(f) for f in files])
    rank = np.load(work / "rank.npy", mmap_mode="r")
    pairs = bucket_pairs(rec["band"], rec["hash"], np.asarray(rank[rec["idx"]], dtype=np.uint64))
    del rec
    np.save(out, pairs)
    return {"partition": p, "pairs": len(pairs), "seconds": time.perf_counter() - t0}


class _TextStore:
    """Random access to the texts spilled by `_sign`, by global row index, reading files (no mapping)."""

    def __init__(self, work: Path, bases: np.ndarray) -> None:
        self.work, self.bases = work, bases
        self.offsets: dict[int, np.ndarray] = {}
        self.handles: dict[int, object] = {}

    def get(self, idx: int) -> str:
        task = int(np.searchsorted(self.bases, idx, side="right") - 1)
        off = self.offsets.get(task)
        if off is None:
            off = self.offsets[task] = np.load(self.work / "text" / f"{task:06d}.off.npy")
            self.handles[task] = open(self.work / "text" / f"{task:06d}.bin", "rb")  # noqa: SIM115 - closed in close()
        local = idx - int(self.bases[task])
        start, end = int(off[local]), int(off[local + 1])
        f = self.handles[task]
        f.seek(start)
        return f.read(end - start).decode("utf-8")

    def close(self) -> None:
        for f in self.handles.values():
            f.close()


def _verify(args) -> dict:
    """A chunk of candidate pairs (whole components of the candidate graph) → their Jaccard similarity: exact on the texts, or estimated on the
    signatures, as float64 in the chunk's order."""
    chunk, comp, fuzzy, work = args
    t0 = time.perf_counter()
    order = np.load(work / "order.npy", mmap_mode="r")
    bases = np.load(work / "bases.npy")
    ra = (chunk >> np.uint64(32)).astype(np.int64)
    rb = (chunk & np.uint64(0xFFFFFFFF)).astype(np.int64)
    ia, ib = np.asarray(order[ra], dtype=np.int64), np.asarray(order[rb], dtype=np.int64)
    if fuzzy.verify == "estimated":
        sims = np.empty(len(chunk), dtype=np.float64)
        sigs: dict[int, np.ndarray] = {}

        def rows_of(ix):
            tasks = np.searchsorted(bases, ix, side="right") - 1
            out = None
            for t in np.unique(tasks).tolist():
                if t not in sigs:
                    sigs[t] = np.load(work / "sig" / f"{t:06d}.npy", mmap_mode="r")
                sel = tasks == t
                got = np.asarray(sigs[t][ix[sel] - bases[t]])
                if out is None:
                    out = np.empty((len(ix), got.shape[1]), dtype=got.dtype)
                out[sel] = got
            return out

        step = 50_000
        for s in range(0, len(chunk), step):
            a, b = rows_of(ia[s : s + step]), rows_of(ib[s : s + step])
            sims[s : s + step] = np.mean(a == b, axis=1)
        return {"sims": sims, "seconds": time.perf_counter() - t0}
    from filters.dedup import shingle_strings
    from filters.dedup.lsh import set_jaccard

    store = _TextStore(work, bases)
    cache: dict[int, set] = {}

    def shingles_of(ix: int) -> set:
        s = cache.get(ix)
        if s is None:
            s = cache[ix] = shingle_strings(store.get(ix), fuzzy.mode, fuzzy.width, fuzzy.ngrams,
                                                 getattr(fuzzy, "normalize", False))
        return s

    sims = np.empty(len(chunk), dtype=np.float64)
    current = -1
    try:
        for k, (x, y, c) in enumerate(zip(ia.tolist(), ib.tolist(), comp.tolist())):
            if c != current:  # pairs arrive component by component: a finished component's shingles are not needed
                cache.clear()
                current = c
            sims[k] = set_jaccard(shingles_of(x), shingles_of(y))
    finally:
        store.close()
    return {"sims": sims, "seconds": time.perf_counter() - t0}


def _write(args) -> dict:
    """One input file → the same rows without the removed ones, and one ledger row per document."""
    path, tasks, out_path, ledger_path, work, batch_rows, id_column, source_column, removed_tasks = args
    t0 = time.perf_counter()
    dec = np.load(work / "decisions.npz")
    rank, rep, sim, size = dec["rank"], dec["rep"], dec["sim"], dec["size"]
    ids_sorted = pq.read_table(work / "ids_sorted.parquet").column(0)
    pf = pq.ParquetFile(path)
    writer = None
    ledger_rows: dict[str, list] = {k: [] for k in LEDGER_SCHEMA.names}
    kept = dropped = 0
    try:
        for task in tasks:
            if task.task in removed_tasks:
                continue  # unreadable when signing: reported, not guessed at
            done = 0
            for batch in pf.iter_batches(batch_size=batch_rows, row_groups=[task.row_group]):
                n = batch.num_rows
                idx = np.arange(task.base + done, task.base + done + n)
                r = rank[idx]
                reps = rep[r]
                keep = reps == r
                if writer is None:
                    out_path.parent.mkdir(parents=True, exist_ok=True)
                    writer = pq.ParquetWriter(out_path, batch.schema)
                writer.write_batch(batch.filter(pa.array(keep)))
                ids = batch.column(id_column).to_pylist()
                srcs = batch.column(source_column).to_pylist() if source_column else [None] * n
                kept_ids = ids_sorted.take(pa.array(reps[~keep])).to_pylist() if (~keep).any() else []
                kk = iter(kept_ids)
                for j in range(n):
                    rj = int(r[j])
                    ledger_rows["doc_id"].append(ids[j])
                    ledger_rows["stage"].append(STAGE)
                    ledger_rows["source_id"].append(srcs[j])
                    ledger_rows["input_path"].append(path)
                    ledger_rows["bytes"].append(None)
                    if keep[j]:
                        kept += 1
                        ledger_rows["decision"].append("kept")
                        if size[rj] > 1:
                            ledger_rows["reason"].append(f"representative of {int(size[rj])} near duplicates")
                            ledger_rows["detail"].append(json.dumps({"cluster_size": int(size[rj])}))
                        else:
                            ledger_rows["reason"].append("no near duplicate")
                            ledger_rows["detail"].append(None)
                    else:
                        dropped += 1
                        keeper = next(kk)
                        ledger_rows["decision"].append("dropped")
                        ledger_rows["reason"].append(f"near duplicate of {keeper}")
                        ledger_rows["detail"].append(json.dumps(
                            {"cluster_size": int(size[rj]), "kept_doc_id": keeper, "similarity": round(float(sim[rj]), 4)},
                            sort_keys=True, ensure_ascii=False))  # fmt: skip
                done += n
    finally:
        if writer is not None:
            writer.close()
    ledger = pa.Table.from_pydict(ledger_rows, schema=LEDGER_SCHEMA)
    pq.write_table(ledger, ledger_path)
    return {"path": path, "kept": kept, "dropped": dropped, "seconds": time.perf_counter() - t0}
