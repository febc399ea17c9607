"""The Beam graph of one Terroir run. Only Create, ParDo, GroupByKey and Flatten (and composites of them) are used,
so the same graph runs on the local FnApiRunner, on Dask, and on portable runners.

Documents stay on disk between stages; only ids, hashes and decisions travel as Beam elements, in arrays per input
file and partition, so memory does not grow with the corpus's text and Beam's per-element cost is paid per file:

1. **ProcessInput** (per input file): read, then the per-document stages; the file's documents and ledger rows go to
   its checkpoint (`pipelines/graph/checkpoint.py`), and (doc_id, content hash) per position go on.
2. **exact dedup** (per content-hash partition): every group of equal hashes keeps its lowest `doc_id`.
3. **fuzzy dedup** (`pipelines/graph/fuzzy.py`): over the exact-dedup survivors, read back from the checkpoints.
4. **Finish** (per input file): the file's checkpoint again, with the dedup decisions of its documents: dedup ledger
   rows, PII redaction, corpus rows; spilled per output shard and ledger part (one row group each).
5. **WriteShard / WriteLedger** (per shard, per ledger part): the spilled row groups → one sorted Parquet file.

Shard contents and names depend only on the inputs and the policy: documents are bucketed by `doc_id`, rows are
sorted by `doc_id` inside a shard, and duplicates keep the lowest `doc_id`. The work folder (checkpoints, spills)
must be shared storage on a cluster, as the staging folder is.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import apache_beam as beam

from filters.document import Document
from pipelines.graph.worker_logging import apply_log_level
from pipelines.sources.reader import InputFile, read_file
from pipelines.stages.document import DocumentStages
from pipelines.stages.pii import PII_BATCH, PiiStage
from schemas.files import write_parquet_atomically
from schemas.ledger import ledger_row
from schemas.policy import Policy, ordered_stage_names

LEDGER_STAGES = ("input", "read", "takedown", "rights", "extract", "langid", "quality", "residency", "admission",
                 "dedup", "fuzzy_dedup", "pii", "shard", "gate")
STAGE_ORDER = {s: i for i, s in enumerate(LEDGER_STAGES)}


def stage_order(policy: Policy) -> dict[str, int]:
    """A document's ledger rows are sorted in this stage order: the policy's extra stages after those they follow."""
    if not policy.stages:
        return STAGE_ORDER
    return {s: i for i, s in enumerate(ordered_stage_names(LEDGER_STAGES, policy.stages))}


@dataclass(frozen=True)
class RunPlan:
    policy: Policy
    inputs: tuple[InputFile, ...]  # in (source_id, rel) order: an input's number is its index here
    staging_dir: str
    pipeline_version: str
    work_dir: str  # per-input checkpoints, progress events, spills between stages
    checkpoints: tuple[str, ...]  # one per input, `checkpoint.checkpoint_name` under work_dir/checkpoints
    lid_model_path: str | None = None
    rights_snapshots: dict | None = None
    fingerprint: str = ""
    partitions: int = 8  # content-hash and band-hash partitions; the driver scales it with the input size
    log_level: int | None = None  # the driver's logging level, applied in worker processes (None: leave theirs)

    @property
    def spill_dir(self) -> str:
        return os.path.join(self.work_dir, "spill")


def bucket_of(doc_id: str, n: int) -> int:
    return int(doc_id[:8], 16) % n


def tagged(item, tag: str):
    if item[0] == tag:
        yield item[1]


class ProcessInput(beam.DoFn):
    """Read one input file and run the per-document stages on its records into the file's checkpoint; yield what
    dedup needs: ("file", marker), and per content-hash partition ("exact", (partition, (file_no, positions, doc_ids,
    hashes))), or ("sign", ...) when only fuzzy dedup runs.

    On a rerun, a file whose checkpoint exists is not read or processed again.
    """

    def __init__(self, plan: RunPlan) -> None:
        self.plan = plan

    def setup(self):
        from pipelines.graph.checkpoint import record_event

        apply_log_level(self.plan.log_level)
        record_event(self.plan.work_dir, event="worker_started", pid=os.getpid())  # the driver's start watchdog
        self._stages = DocumentStages(self.plan.policy, self.plan.lid_model_path, self.plan.rights_snapshots)
        self._stages.setup()

    def _items(self, spec: InputFile):
        for kind, item in read_file(spec):
            if kind == "doc":
                rows = []
                for out in self._stages.process(item):
                    if out[0] == "ledger":
                        rows.append(out[1])
                    else:
                        if rows:
                            yield "ledger", rows
                            rows = []
                        yield out
                if rows:
                    yield "ledger", rows
            else:
                yield kind, item

    def process(self, numbered):
        from pipelines.graph import checkpoint

        file_no, spec = numbered
        final = self.plan.checkpoints[file_no]
        resumed = os.path.exists(final)
        with checkpoint.StepTimer(
            self.plan.work_dir, "read checkpoint" if resumed else "read and per-document stages"
        ) as t:
            ids, hashes = self._run(file_no, spec, final, resumed)
            t.items = len(ids)
            t.parts.update(self._stages.take_timings())  # CPU seconds per stage (none when resumed)
        yield from self._route(file_no, ids, hashes)

    def _run(self, file_no: int, spec: InputFile, final: str, resumed: bool) -> tuple[list, list]:
        from pipelines.graph import checkpoint
        from schemas.faults import maybe_crash

        work = self.plan.work_dir
        size = os.path.getsize(spec.path) + sum(os.path.getsize(m) for m in spec.members if os.path.exists(m))
        ids, hashes = [], []
        if resumed:
            cols = checkpoint.load_columns(final, ["doc_id", "content_hash"])
            ids, hashes = cols["doc_id"], cols["content_hash"]
            checkpoint.record_event(work, event="resumed", input=spec.rel, docs=len(ids), bytes=size)
            return ids, hashes
        writer = checkpoint.CheckpointWriter(final)
        try:
            for kind, item in self._items(spec):
                writer.add(kind, item)
                if kind == "doc":
                    ids.append(item.doc_id)
                    hashes.append(item.content_hash)
        except BaseException:
            writer.abort()
            raise
        writer.commit()
        checkpoint.record_event(work, event="processed", input=spec.rel, docs=len(ids), bytes=size)
        maybe_crash("after_file")
        return ids, hashes

    def _route(self, file_no: int, ids: list, hashes: list):
        yield "file", (file_no, ("file", None))
        policy = self.plan.policy
        if policy.exact_dedup:
            parts: dict[int, tuple[list, list, list]] = {}
            for pos, (d, h) in enumerate(zip(ids, hashes)):
                pos_l, id_l, h_l = parts.setdefault(int(h[:8] or "0", 16) % self.plan.partitions, ([], [], []))
                pos_l.append(pos)
                id_l.append(d)
                h_l.append(h)
            for part, (pos_l, id_l, h_l) in parts.items():
                yield "exact", (part, (file_no, pos_l, id_l, h_l))
        elif policy.fuzzy.enabled and ids:
            yield "sign", (file_no, ("all", None))


def decide_exact(kv, work_dir: str | None = None):
    """One content-hash partition → per input file ("exact", (positions, keeper doc_id or None, group size)): each
    group of equal hashes keeps its lowest (doc_id, file, position); the others name it."""
    from pipelines.graph.checkpoint import run_timed
    from pipelines.graph.fuzzy import tagged_rows

    yield from run_timed(work_dir, "exact dedup", _decide_exact(kv), tagged_rows)


def _decide_exact(kv):
    _, parts = kv
    groups: dict[str, list] = {}
    for file_no, pos_l, id_l, h_l in parts:
        for pos, d, h in zip(pos_l, id_l, h_l):
            groups.setdefault(h, []).append((d, file_no, pos))
    per_file: dict[int, tuple[list, list, list]] = {}
    for members in groups.values():
        members.sort()
        keeper, n = members[0][0], len(members)
        for k, (_, file_no, pos) in enumerate(members):
            pos_l, keep_l, size_l = per_file.setdefault(file_no, ([], [], []))
            pos_l.append(pos)
            keep_l.append(None if k == 0 else keeper)
            size_l.append(n)
    for file_no, decisions in per_file.items():
        yield file_no, ("exact", decisions)


def dedup_rows(doc: Document, exact, fuzzy, exact_on: bool, fuzzy_on: bool):
    """A document's exact and fuzzy dedup decisions → its ledger rows, and whether it is kept (sets `dup_cluster`)."""
    nbytes = len(doc.text.encode("utf-8", "replace"))
    rows = []
    if exact_on:
        keeper, n = exact
        if keeper is not None:
            rows.append(ledger_row(doc.doc_id, "dedup", "dropped", f"exact duplicate of {keeper}", doc.source_id,
                                   doc.input_path, {"kept_doc_id": keeper}, nbytes))  # fmt: skip
            return rows, False
        if n > 1:
            doc.dup_cluster = doc.doc_id
        rows.append(ledger_row(doc.doc_id, "dedup", "kept", "unique" if n == 1 else f"representative of {n} copies",
                               doc.source_id, doc.input_path, {"cluster_size": n} if n > 1 else None, nbytes))  # fmt: skip
    if fuzzy_on:
        if fuzzy is None:
            rows.append(ledger_row(doc.doc_id, "fuzzy_dedup", "kept", "no near duplicate", doc.source_id,
                                   doc.input_path, None, nbytes))  # fmt: skip
            return rows, True
        rep, size, score, is_rep = fuzzy
        doc.dup_cluster = rep
        if is_rep:
            rows.append(ledger_row(doc.doc_id, "fuzzy_dedup", "kept", f"representative of {size} near duplicates",
                                   doc.source_id, doc.input_path, {"cluster_size": size}, nbytes))  # fmt: skip
            return rows, True
        rows.append(ledger_row(doc.doc_id, "fuzzy_dedup", "dropped", f"near duplicate of {rep}", doc.source_id,
                               doc.input_path, {"kept_doc_id": rep, "similarity": score, "cluster_size": size},
                               nbytes))  # fmt: skip
        return rows, False
    return rows, True


def shard_row(doc: Document, policy: Policy, pipeline_version: str) -> dict:
    return {
        "doc_id": doc.doc_id,
        "text": doc.text,
        "source_id": doc.source_id,
        "source_type": doc.source_type,
        "url": doc.url,
        "registrable_domain": doc.registrable_domain,
        "record_locator": doc.record_locator,
        "collected_at": doc.collected_at,
        "lang": doc.lang,
        "lang_score": doc.lang_score,
        "origin_jurisdiction": doc.origin_jurisdiction,
        "origin_basis": doc.origin_basis,
        "residency_region": doc.residency_region,
        "license": doc.license,
        "rights_status": doc.rights_status,
        "rights_basis": doc.rights_basis,
        "pii_counts": [{"entity": k, "count": v} for k, v in sorted(doc.pii_counts.items())],
        "content_hash": doc.content_hash,
        "dup_cluster": doc.dup_cluster,
        "policy_id": policy.policy_id,
        "pipeline_version": pipeline_version,
    }


def spill_groups(path: str, schema, groups: dict) -> list:
    """Write {key: rows} to one Parquet file, each key in its own row groups → [(key, (path, row groups))]."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    os.makedirs(os.path.dirname(path), exist_ok=True)
    keys = sorted(groups)
    with pq.ParquetWriter(path, schema, compression="zstd", compression_level=1) as writer:
        for key in keys:
            writer.write_table(pa.Table.from_pylist(groups[key], schema=schema), row_group_size=len(groups[key]))
    # a write never shares a row group with another; map each key to its row groups by row counts
    md = pq.ParquetFile(path).metadata
    out, rg = [], 0
    for key in keys:
        need, got = len(groups[key]), []
        while need > 0:
            got.append(rg)
            need -= md.row_group(rg).num_rows
            rg += 1
        out.append((key, (path, got)))
    return out


def read_spilled(refs, schema):
    import pyarrow as pa
    import pyarrow.parquet as pq

    tables = [pq.ParquetFile(path).read_row_groups(rgs) for path, rgs in sorted(refs)]
    return pa.concat_tables(tables) if tables else schema.empty_table()


class Finish(beam.DoFn):
    """(file_no, [marker, exact and fuzzy decisions]) → the file's dedup ledger rows, PII redaction, corpus rows;
    spilled to disk per output shard and ledger part → ("shard", ((region, bucket), ref)) and ("ledger", (part, ref))."""

    def __init__(self, plan: RunPlan) -> None:
        self.plan = plan

    def setup(self):
        apply_log_level(self.plan.log_level)
        self._pii = PiiStage(self.plan.policy)
        self._pii.setup()

    def process(self, kv):
        from pipelines.graph.checkpoint import StepTimer

        with StepTimer(self.plan.work_dir, "dedup decisions, PII, spill") as t:
            out = list(self._finish(*kv, t))
        yield from out

    def _finish(self, file_no, parts, timer):
        import time

        from pipelines.graph import checkpoint
        from schemas import CORPUS_SCHEMA, LEDGER_SCHEMA

        policy, plan = self.plan.policy, self.plan
        exact, fuzzy = {}, {}
        for kind, payload in parts:
            if kind == "exact":
                pos, keeper, size = payload
                exact.update(zip(pos, zip(keeper, size)))
            elif kind == "fuzzy":
                pos, rep, size, best, is_rep = payload
                fuzzy.update(zip(pos, zip(rep, size, best, is_rep)))
        n_ledger, n_shards = policy.ledger_shards, policy.shards_per_region
        ledger: dict[int, list] = {}
        shards: dict[tuple, list] = {}

        def note(rows):
            for r in rows:
                ledger.setdefault(bucket_of(r["doc_id"], n_ledger), []).append(r)

        pos, pii_cpu, pending = -1, 0.0, []

        def redact_pending() -> float:
            c0 = time.process_time()
            for out_kind, out in self._pii.process_many(pending):  # NER runs over the batch (nlp.pipe)
                if out_kind == "ledger":
                    note([out])
                else:
                    key = (out.residency_region, bucket_of(out.doc_id, n_shards))
                    shards.setdefault(key, []).append(shard_row(out, policy, plan.pipeline_version))
            pending.clear()
            return time.process_time() - c0

        for kind, item in checkpoint.load(plan.checkpoints[file_no]):
            if kind != "doc":
                note(item if isinstance(item, list) else [item])
                continue
            pos += 1
            if policy.exact_dedup and pos not in exact:
                raise RuntimeError(f"input {file_no}: no exact-dedup decision for document {pos}")
            rows, kept = dedup_rows(item, exact.get(pos), fuzzy.get(pos), policy.exact_dedup, policy.fuzzy.enabled)
            note(rows)
            if not kept:
                continue
            timer.items += 1
            pending.append(item)
            if len(pending) >= PII_BATCH:
                pii_cpu += redact_pending()
        pii_cpu += redact_pending()
        timer.parts["pii"] = pii_cpu
        base = os.path.join(plan.spill_dir, "finish", f"{file_no:06d}")
        if shards:
            for ref in spill_groups(base + ".shards.parquet", CORPUS_SCHEMA, shards):
                yield "shard", ref
        if ledger:
            for ref in spill_groups(base + ".ledger.parquet", LEDGER_SCHEMA, ledger):
                yield "ledger", ref


def shard_relpath(region: str, bucket: int, n: int) -> str:
    return f"{region}/part-{bucket:05d}-of-{n:05d}.parquet"




class WriteShard(beam.DoFn):
    def __init__(self, staging_dir: str, shards_per_region: int, work_dir: str | None = None) -> None:
        self.staging_dir = staging_dir
        self.n = shards_per_region
        self.work_dir = work_dir

    def process(self, kv):
        import pyarrow.compute as pc

        from pipelines.graph.checkpoint import StepTimer
        from schemas import CORPUS_SCHEMA
        from schemas.faults import maybe_crash

        (region, bucket), refs = kv
        with StepTimer(self.work_dir, "write shards") as t:
            table = read_spilled(refs, CORPUS_SCHEMA)
            table = table.take(pc.sort_indices(table, [("doc_id", "ascending")]))
            rel = shard_relpath(region, bucket, self.n)
            write_parquet_atomically(table, os.path.join(self.staging_dir, "shards", rel))
            t.items = table.num_rows
        maybe_crash("after_shard")
        yield rel


class WriteLedger(beam.DoFn):
    def __init__(self, staging_dir: str, n: int, work_dir: str | None = None, order: dict | None = None) -> None:
        self.staging_dir = staging_dir
        self.n = n
        self.work_dir = work_dir
        self.order = order or STAGE_ORDER

    def process(self, kv):
        from pipelines.graph.checkpoint import StepTimer

        with StepTimer(self.work_dir, "write ledger") as t:
            rel, t.items = self._write(*kv)
        yield rel

    def _write(self, bucket, refs) -> tuple[str, int]:
        import pyarrow as pa
        import pyarrow.compute as pc

        from schemas import LEDGER_SCHEMA

        table = read_spilled(refs, LEDGER_SCHEMA)
        stages = table.column("stage").combine_chunks().dictionary_encode()
        order = pa.array([self.order.get(s, 99) for s in stages.dictionary.to_pylist()], pa.int32())
        keyed = table.append_column("_order", order.take(stages.indices))
        idx = pc.sort_indices(keyed, [("doc_id", "ascending"), ("_order", "ascending"), ("decision", "ascending"),
                                      ("reason", "ascending")])  # fmt: skip
        rel = f"part-{bucket:05d}-of-{self.n:05d}.parquet"
        write_parquet_atomically(table.take(idx), os.path.join(self.staging_dir, "ledger", rel))
        return rel, table.num_rows


def build_pipeline(p: beam.Pipeline, plan: RunPlan) -> None:
    policy = plan.policy
    staged = (
        p
        | "ListInputs" >> beam.Create(list(enumerate(plan.inputs)))
        | "ReadAndProcessInputs" >> beam.ParDo(ProcessInput(plan))
    )
    per_file = [staged | "InputMarkers" >> beam.FlatMap(tagged, "file")]
    if policy.exact_dedup:
        exact = (
            staged
            | "ContentHashes" >> beam.FlatMap(tagged, "exact")
            | "GroupByContentHash" >> beam.GroupByKey()
            | "KeepLowestDocId" >> beam.FlatMap(decide_exact, plan.work_dir)
        )
        per_file.append(exact)
        sign_requests = exact
    else:
        sign_requests = staged | "SignRequests" >> beam.FlatMap(tagged, "sign")
    if policy.fuzzy.enabled:
        from pipelines.graph.fuzzy import FuzzyDedup

        per_file.append(sign_requests | "FuzzyDedup" >> FuzzyDedup(policy.fuzzy, plan.partitions, plan.checkpoints,
                                                                   plan.spill_dir, plan.work_dir))  # fmt: skip
    finished = (
        per_file
        | "AllDecisions" >> beam.Flatten()
        | "GroupByInputFile" >> beam.GroupByKey()
        | "DedupRedactAndSpill" >> beam.ParDo(Finish(plan))
    )
    written_shards = (
        finished
        | "ShardParts" >> beam.FlatMap(tagged, "shard")
        | "GroupByShard" >> beam.GroupByKey()
        | "WriteShards" >> beam.ParDo(WriteShard(plan.staging_dir, policy.shards_per_region, plan.work_dir))
    )
    written_ledger = (
        finished
        | "LedgerParts" >> beam.FlatMap(tagged, "ledger")
        | "GroupLedger" >> beam.GroupByKey()
        | "WriteLedger" >> beam.ParDo(
            WriteLedger(plan.staging_dir, policy.ledger_shards, plan.work_dir, stage_order(policy))
        )
    )
    # One final sink that depends on every write: Beam's DaskRunner computes only the last transform of the graph.
    _ = (written_shards, written_ledger) | "AllWritten" >> beam.Flatten()
