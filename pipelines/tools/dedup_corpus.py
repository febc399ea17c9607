"""Out-of-core fuzzy dedup of a Parquet corpus: `terroir dedup`.

The Beam stage (`pipelines/graph/fuzzy.py`) runs inside a release on any runner; this engine deduplicates a corpus that is
already Parquet (a release's shards, a dump, several releases together) on one machine with bounded memory, whatever
the number of documents. It applies the same rules with the same kernels, so on the same documents both remove the
same set and name the same kept documents (tests/test_dedup_corpus.py checks it):

1. **sign**: each row group (in slices of `batch_rows`) → MinHash signatures → band hashes, spilled to disk in
   `partitions` files by band hash, with the texts (for exact verification) or the signatures (for estimated
   verification) in per-task files. Workers hold one slice at a time.
2. **rank**: doc ids → their rank in byte order (the lowest rank is the lowest `doc_id`, the representative).
3. **buckets**: each partition alone → band buckets → candidate pairs (every pair of a bucket; a star to the lowest
   doc id above `BIG_BUCKET` members).
4. **verify**: candidate pairs, sorted, in chunks → exact or estimated Jaccard against `threshold`.
5. **components**: union-find over the verified edges only; every member but the lowest doc id is removed.
6. **write**: every input file again, slice by slice → the same file without the removed rows, plus ledger rows.

Only doc ids (their ranks), candidate pairs and edges are ever held whole, a few bytes per document.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from filters.dedup.lsh import components_by_rank
from pipelines.tools.dedup_workers import Task, _bucket, _sign, _verify, _write

log = logging.getLogger("terroir.dedup")

_MAX_DOCS = (1 << 32) - 1  # global row indices and ranks are uint32; pairs are two of them in one uint64


class DedupError(ValueError):
    """Wrong configuration or unusable input, found before any work starts."""


@dataclass
class Plan:
    files: list[str]
    tasks: list[Task]
    skipped: list[dict] = field(default_factory=list)  # {"path", "reason"} for inputs that cannot be read

    @property
    def documents(self) -> int:
        return sum(t.rows for t in self.tasks)


@dataclass
class DedupResult:
    output: Path
    documents: int
    candidate_pairs: int
    verified_edges: int
    clusters: int
    removed: int
    seconds: dict[str, float]
    summary: dict


# --- plan -----------------------------------------------------------------------------------------------------------


def _parquet_files(inputs: list[str]) -> list[str]:
    files: list[str] = []
    for raw in inputs:
        p = Path(raw)
        if p.is_dir():
            found = sorted(str(f) for f in p.rglob("*.parquet") if f.is_file())
            if not found:
                raise DedupError(f"input folder {raw} holds no *.parquet file")
            files.extend(found)
        elif p.is_file():
            files.append(str(p))
        else:
            raise DedupError(f"input {raw} does not exist (give Parquet files or folders of them)")
    if len(set(files)) != len(files):
        raise DedupError("an input file is named twice (check overlapping folders)")
    return files


def plan_inputs(inputs: list[str], id_column: str = "doc_id", text_column: str = "text") -> Plan:
    """Check every input's footer and columns before any work: one task per row group. Files that cannot be read
    or lack the columns are skipped with the reason; if no file is usable, `DedupError` says why."""
    files = _parquet_files(inputs)
    tasks: list[Task] = []
    skipped: list[dict] = []
    usable: list[str] = []
    base = 0
    for path in files:
        try:
            md = pq.ParquetFile(path).metadata
            schema = md.schema.to_arrow_schema()
        except Exception as exc:  # noqa: BLE001 - any unreadable footer is recorded, not fatal
            skipped.append({"path": path, "reason": f"unreadable Parquet footer: {type(exc).__name__}"})
            continue
        problems = []
        for role, col in (("id", id_column), ("text", text_column)):
            if col not in schema.names:
                problems.append(f"no {role} column {col!r} (columns: {', '.join(schema.names[:12])})")
            elif not (pa.types.is_string(schema.field(col).type) or pa.types.is_large_string(schema.field(col).type)):
                problems.append(f"{role} column {col!r} is {schema.field(col).type}, not a string")
        if problems:
            skipped.append({"path": path, "reason": "; ".join(problems)})
            continue
        usable.append(path)
        for rg in range(md.num_row_groups):
            n = md.row_group(rg).num_rows
            if n:
                tasks.append(Task(len(tasks), path, rg, base, n))
                base += n
    if not usable:
        reasons = "; ".join(f"{s['path']}: {s['reason']}" for s in skipped[:3])
        raise DedupError(f"no usable input among {len(files)} file(s): {reasons}. "
                         "Use --id-column/--text-column to name the columns")  # fmt: skip
    if base > _MAX_DOCS:
        raise DedupError(f"{base:,} documents exceed one run's limit of {_MAX_DOCS:,}; deduplicate in parts")
    return Plan(usable, tasks, skipped)

# --- driver (the workers are in pipelines/tools/dedup_workers.py) ----------------------------------------------------


def _map(fn, items, workers: int):
    """Results in completion order; in this process when one worker is asked for (tests, debugging)."""
    if workers <= 1 or len(items) <= 1:
        for it in items:
            yield fn(it)
        return
    import multiprocessing as mp

    with mp.get_context("fork").Pool(min(workers, len(items))) as pool:
        yield from pool.imap_unordered(fn, items)


def _check_settings(fuzzy) -> None:
    if not getattr(fuzzy, "enabled", True):
        log.info("dedup.fuzzy.enabled is false in the policy; `terroir dedup` runs with its other settings")
    if fuzzy.verify not in ("none", "estimated", "true"):
        raise DedupError(f"dedup.fuzzy.verify must be none, estimated or true, not {fuzzy.verify!r}")
    if fuzzy.bands * fuzzy.rows < 1:
        raise DedupError("dedup.fuzzy.bands and rows must be at least 1")
    from filters.dedup import MinHasher

    problem = MinHasher.settings_problem(fuzzy)
    if problem:
        raise DedupError(f"dedup.fuzzy: {problem}")


def dedup_corpus(
    inputs: list[str],
    output: str | Path,
    fuzzy,
    *,
    workers: int = 2,
    partitions: int = 0,
    batch_rows: int = 5_000,
    id_column: str = "doc_id",
    text_column: str = "text",
    source_column: str | None = None,
    write_shards: bool = True,
    overwrite: bool = False,
    progress=None,
) -> DedupResult:
    """Deduplicate the Parquet `inputs` under the `fuzzy` settings (a `schemas.policy.FuzzyDedup`) into `output`:
    `removals.parquet` (doc_id, kept_doc_id, similarity, cluster_size), `edges.parquet` (the verified pairs:
    doc_id_a < doc_id_b, similarity), `summary.json`, and unless `write_shards` is
    false, `shards/` (every input without its removed rows, same schema) and `ledger/`."""
    out = Path(output)
    _check_settings(fuzzy)
    if workers < 1 or batch_rows < 1:
        raise DedupError("workers and batch_rows must be at least 1")
    if out.exists() and any(out.iterdir()):
        if not overwrite:
            raise DedupError(f"output folder {out} is not empty (pass --overwrite to replace it)")
        shutil.rmtree(out)
    plan = plan_inputs(inputs, id_column, text_column)
    if source_column:
        for path in plan.files:
            if source_column not in pq.ParquetFile(path).schema_arrow.names:
                raise DedupError(f"{path} has no source column {source_column!r}")
    partitions = partitions or max(4, min(256, plan.documents // 100_000 + 1) * 4)
    say = progress or (lambda msg: log.info(msg))
    work = out / "_work"
    for sub in ("bands", "text", "sig", "edges"):
        (work / sub).mkdir(parents=True, exist_ok=True)
    for p in range(partitions):
        (work / "bands" / f"{p:04d}").mkdir()
    seconds: dict[str, float] = {}
    say(f"dedup: {plan.documents:,} documents in {len(plan.files)} file(s), {len(plan.tasks)} row groups, "
        f"{len(plan.skipped)} skipped input(s); {workers} worker(s), {partitions} partitions")  # fmt: skip

    # 1. sign
    t = time.perf_counter()
    ids_by_task: dict[int, pa.Array] = {}
    errors: list[dict] = []
    jobs = [(task, fuzzy, work, partitions, batch_rows, id_column, text_column) for task in plan.tasks]
    for k, res in enumerate(_map(_sign, jobs, workers), 1):
        if "error" in res:
            tk = plan.tasks[res["task"]]
            errors.append({"task": tk.task, "path": tk.path, "row_group": tk.row_group, "reason": res["error"],
                           "rows": res["rows"]})  # fmt: skip
            ids_by_task[res["task"]] = None
        else:
            ids_by_task[res["task"]] = res["ids"]
        if k % max(1, len(jobs) // 20) == 0 or k == len(jobs):
            say(f"dedup: signed {k}/{len(jobs)} row groups")
    seconds["sign"] = time.perf_counter() - t

    # 2. rank: rows of unreadable groups get no rank that could be anyone's representative (they are not in any bucket)
    t = time.perf_counter()
    parts = []
    for task in plan.tasks:
        a = ids_by_task[task.task]
        parts.append(a if a is not None else pa.nulls(task.rows, pa.large_string()))
    ids = (
        pa.chunked_array(parts, type=pa.large_string()).combine_chunks() if parts else pa.array([], pa.large_string())
    )
    del ids_by_task, parts
    order = np.asarray(
        pc.sort_indices(pa.table({"i": ids}), sort_keys=[("i", "ascending")]), dtype=np.uint32
    )  # stable: ties by row order
    rank = np.empty(len(order), dtype=np.uint32)
    rank[order] = np.arange(len(order), dtype=np.uint32)
    np.save(work / "rank.npy", rank)
    np.save(work / "order.npy", order)
    np.save(work / "bases.npy", np.array([task.base for task in plan.tasks], dtype=np.int64))
    ids_sorted = ids.take(pa.array(order))
    pq.write_table(pa.table({"doc_id": ids_sorted}), work / "ids_sorted.parquet")
    null_ids = ids.null_count - sum(e["rows"] for e in errors)
    dup_ids = int(pc.sum(pc.equal(ids_sorted[1:], ids_sorted[:-1])).as_py() or 0) if len(ids_sorted) > 1 else 0
    del ids
    seconds["rank"] = time.perf_counter() - t

    # 3. buckets
    t = time.perf_counter()
    n_pairs = 0
    for res in _map(_bucket, [(p, work) for p in range(partitions)], workers):
        n_pairs += res["pairs"]
    shutil.rmtree(work / "bands")
    cand = np.unique(np.concatenate([np.load(work / "edges" / f"{p:04d}.npy") for p in range(partitions)]))
    seconds["buckets"] = time.perf_counter() - t
    say(f"dedup: {len(cand):,} candidate pairs")

    # 4. verify
    t = time.perf_counter()
    if fuzzy.verify == "none" or not len(cand):
        sims = np.ones(len(cand), dtype=np.float64)
    else:
        # pairs grouped by connected component of the candidate graph, chunks cut between components: a worker
        # shingles each document once (a family's pairs are far apart in plain pair order)
        comp = components_by_rank(
            len(order), (cand >> np.uint64(32)).astype(np.int64), (cand & np.uint64(0xFFFFFFFF)).astype(np.int64)
        )[(cand >> np.uint64(32)).astype(np.int64)]
        by = np.lexsort((cand, comp))
        cand, comp = cand[by], comp[by]
        del by
        n_chunks = max(1, min(len(cand), 64 * workers, max(4 * workers, len(cand) // 20_000 + 1)))
        cuts = np.flatnonzero(np.diff(comp)) + 1  # first pair of each component after the first
        want = np.linspace(0, len(cand), n_chunks + 1)[1:-1]
        inner = np.unique(cuts[np.minimum(np.searchsorted(cuts, want), len(cuts) - 1)]) if len(cuts) else []
        bounds = [0, *[int(x) for x in inner], len(cand)]
        n_chunks = len(bounds) - 1
        chunks = [(cand[bounds[i] : bounds[i + 1]], comp[bounds[i] : bounds[i + 1]], fuzzy, work)
                  for i in range(n_chunks)]  # fmt: skip
        del comp
        done = {}
        # imap_unordered loses the order: tag each chunk with its position
        for k, res in enumerate(_map(_verify_tagged, list(enumerate(chunks)), workers), 1):
            done[res[0]] = res[1]["sims"]
            if k % max(1, n_chunks // 10) == 0 or k == n_chunks:
                say(f"dedup: verified {k}/{n_chunks} chunks of candidate pairs")
        sims = np.concatenate([done[i] for i in range(n_chunks)])
    keep = sims >= fuzzy.threshold
    edges, esims = cand[keep], sims[keep]
    seconds["verify"] = time.perf_counter() - t

    # 5. components over the verified edges: ranks, so the root is the lowest doc id
    t = time.perf_counter()
    n = len(order)
    ea = (edges >> np.uint64(32)).astype(np.int64)
    eb = (edges & np.uint64(0xFFFFFFFF)).astype(np.int64)
    rep = components_by_rank(n, ea, eb)
    sim = np.zeros(n, dtype=np.float32)
    np.maximum.at(sim, ea, esims.astype(np.float32))
    np.maximum.at(sim, eb, esims.astype(np.float32))
    size = np.bincount(rep, minlength=n).astype(np.int32)
    size = size[rep]
    np.savez(work / "decisions.npz", rank=rank, rep=rep, sim=sim, size=size)
    removed_ranks = np.flatnonzero(rep != np.arange(n))
    n_clusters = int(np.count_nonzero((rep == np.arange(n)) & (size > 1)))
    removals = pa.table({
        "doc_id": ids_sorted.take(pa.array(removed_ranks)),
        "kept_doc_id": ids_sorted.take(pa.array(rep[removed_ranks])),
        "similarity": pa.array(sim[removed_ranks], pa.float32()),
        "cluster_size": pa.array(size[removed_ranks], pa.int32()),
    })  # fmt: skip
    pq.write_table(removals, out / "removals.parquet")
    pq.write_table(pa.table({
        "doc_id_a": ids_sorted.take(pa.array(ea)),
        "doc_id_b": ids_sorted.take(pa.array(eb)),
        "similarity": pa.array(esims, pa.float32()),
    }), out / "edges.parquet")  # fmt: skip
    seconds["components"] = time.perf_counter() - t
    say(f"dedup: {len(edges):,} verified edges, {n_clusters:,} clusters, {len(removed_ranks):,} documents removed")

    # 6. write
    t = time.perf_counter()
    kept_total = None
    if write_shards:
        bad = {e["task"] for e in errors}
        roots = _common_root(plan.files)
        (out / "ledger").mkdir(parents=True)
        jobs = []
        for k, path in enumerate(plan.files):
            rel = os.path.relpath(Path(path).resolve(), roots)
            tasks = [tk for tk in plan.tasks if tk.path == path]
            jobs.append((path, tasks, out / "shards" / rel, out / "ledger" / f"part-{k:05d}.parquet", work,
                         batch_rows, id_column, source_column, bad))  # fmt: skip
        kept_total = 0
        for res in _map(_write, jobs, workers):
            kept_total += res["kept"]
    seconds["write"] = time.perf_counter() - t
    shutil.rmtree(work)

    summary = {
        "documents": plan.documents,
        "input_files": len(plan.files),
        "row_groups": len(plan.tasks),
        "skipped_inputs": plan.skipped,
        "unreadable_row_groups": errors,
        "documents_unread": sum(e["rows"] for e in errors),
        "rows_without_doc_id": int(null_ids),
        "duplicate_doc_ids": dup_ids,
        "candidate_pairs": len(cand),
        "verified_edges": len(edges),
        "clusters": n_clusters,
        "removed": len(removed_ranks),
        "kept": kept_total,
        "settings": asdict(fuzzy) if hasattr(fuzzy, "__dataclass_fields__") else dict(vars(fuzzy)),
        "workers": workers,
        "partitions": partitions,
        "seconds": {k: round(v, 3) for k, v in seconds.items()},
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2, sort_keys=True) + "\n")
    return DedupResult(out, plan.documents, len(cand), len(edges), n_clusters, len(removed_ranks),
                       seconds, summary)  # fmt: skip


def _verify_tagged(item):
    i, args = item
    return i, _verify(args)


def _common_root(files: list[str]) -> str:
    """The deepest folder holding every input: output shards keep their paths below it."""
    return os.path.commonpath([str(Path(f).resolve().parent) for f in files])
