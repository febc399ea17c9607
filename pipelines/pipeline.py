"""The Beam graph of one Terroir run. Only Create, ParDo, GroupByKey and Flatten (and composites of them) are used,
so the same graph runs on the local FnApiRunner, on Dask, and on portable runners.

Shard contents and names depend only on the inputs and the policy: documents are bucketed by `doc_id`, rows are
sorted by `doc_id` inside a shard, and duplicates keep the lowest `doc_id`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

import apache_beam as beam

from filters.document import Document
from pipelines.ledger import ledger_row
from pipelines.pii_stage import PiiStage
from pipelines.sources import InputFile, read_file
from pipelines.stages import DocumentStages
from schemas.policy import Policy

STAGE_ORDER = {s: i for i, s in enumerate(("input", "read", "takedown", "rights", "extract", "langid", "quality",
                                            "residency", "admission", "dedup", "fuzzy_dedup", "pii", "shard",
                                            "gate"))}  # fmt: skip


@dataclass(frozen=True)
class RunPlan:
    policy: Policy
    inputs: tuple[InputFile, ...]
    staging_dir: str
    pipeline_version: str
    lid_model_path: str | None = None
    rights_snapshots: dict | None = None
    work_dir: str | None = None  # per-input checkpoints and progress events; None disables both
    fingerprint: str = ""
    signature_batches: int = 8  # groups for vectorized MinHash; the driver scales it with the input size


def bucket_of(doc_id: str, n: int) -> int:
    return int(doc_id[:8], 16) % n


def is_doc(item) -> bool:
    return item[0] == "doc"


def only_docs(item):
    if item[0] == "doc":
        yield item[1]


def only_ledger(item):
    """Ledger payloads: one row, or the list of one document's rows from the per-document stages."""
    if item[0] == "ledger":
        yield item[1]


def key_ledger(payload, n: int):
    """(ledger bucket, rows): a document's rows travel as one element (Beam's cost is per element, not per byte)."""
    rows = payload if isinstance(payload, list) else [payload]
    by_bucket: dict[int, list] = {}
    for r in rows:
        by_bucket.setdefault(bucket_of(r["doc_id"], n), []).append(r)
    yield from by_bucket.items()


class ProcessInput(beam.DoFn):
    """Read one input file and run the per-document stages on its records, checkpointing the result per file.

    On a rerun, a file whose checkpoint exists is replayed from it instead of being read and processed again.
    """

    def __init__(self, plan: RunPlan) -> None:
        self.plan = plan

    def setup(self):
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

    def process(self, spec: InputFile):
        from pipelines import checkpoint
        from pipelines.faults import maybe_crash

        work = self.plan.work_dir
        if work is None:
            yield from self._items(spec)
            return
        final = os.path.join(work, "checkpoints", checkpoint.checkpoint_name(spec, self.plan.fingerprint))
        size = os.path.getsize(spec.path) + sum(os.path.getsize(m) for m in spec.members if os.path.exists(m))
        if os.path.exists(final):
            n = 0
            for item in checkpoint.load(final):
                n += item[0] == "doc"
                yield item
            checkpoint.record_event(work, event="resumed", input=spec.rel, docs=n, bytes=size)
            return
        writer = checkpoint.CheckpointWriter(final)
        n = 0
        try:
            for item in self._items(spec):
                writer.add(*item)
                n += item[0] == "doc"
                yield item
        except BaseException:
            writer.abort()
            raise
        writer.commit()
        checkpoint.record_event(work, event="processed", input=spec.rel, docs=n, bytes=size)
        maybe_crash("after_file")


class Redact(beam.DoFn):
    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def setup(self):
        self._stage = PiiStage(self.policy)
        self._stage.setup()

    def process(self, doc: Document):
        yield from self._stage.process(doc)


def by_content_hash(doc: Document):
    return doc.content_hash, doc


def keep_lowest_doc_id(kv):
    """Exact dedup of one content-hash group: the lowest doc_id is kept, the others name it in the ledger."""
    _, docs = kv
    docs = sorted(docs, key=lambda d: d.doc_id)
    keeper = docs[0]
    if len(docs) > 1:
        for d in docs:
            d.dup_cluster = keeper.doc_id
    yield "ledger", ledger_row(
        keeper.doc_id, "dedup", "kept", "unique" if len(docs) == 1 else f"representative of {len(docs)} copies",
        keeper.source_id, keeper.input_path, {"cluster_size": len(docs)} if len(docs) > 1 else None,
        len(keeper.text.encode("utf-8", "replace")),
    )  # fmt: skip
    yield "doc", keeper
    for d in docs[1:]:
        yield "ledger", ledger_row(
            d.doc_id, "dedup", "dropped", f"exact duplicate of {keeper.doc_id}", d.source_id, d.input_path,
            {"kept_doc_id": keeper.doc_id}, len(d.text.encode("utf-8", "replace")),
        )  # fmt: skip


class ToShardRow(beam.DoFn):
    def __init__(self, policy: Policy, pipeline_version: str) -> None:
        self.policy = policy
        self.pipeline_version = pipeline_version

    def process(self, doc: Document):
        row = {
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
            "pii_counts": sorted(doc.pii_counts.items()),
            "content_hash": doc.content_hash,
            "dup_cluster": doc.dup_cluster,
            "policy_id": self.policy.policy_id,
            "pipeline_version": self.pipeline_version,
        }
        n = self.policy.shards_per_region
        yield (doc.residency_region, bucket_of(doc.doc_id, n)), row


def shard_relpath(region: str, bucket: int, n: int) -> str:
    return f"{region}/part-{bucket:05d}-of-{n:05d}.parquet"


def write_parquet_atomically(table, path: str) -> None:
    """Write next to the target, then rename: a reader never sees a half-written file."""
    import pyarrow.parquet as pq

    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    pq.write_table(table, tmp, compression="zstd", compression_level=3, write_statistics=True,
                   use_dictionary=["source_id", "source_type", "lang", "origin_jurisdiction", "origin_basis",
                                   "residency_region", "license", "rights_status", "rights_basis", "policy_id",
                                   "pipeline_version", "stage", "decision"])  # fmt: skip
    os.replace(tmp, path)


class WriteShard(beam.DoFn):
    def __init__(self, staging_dir: str, shards_per_region: int) -> None:
        self.staging_dir = staging_dir
        self.n = shards_per_region

    def process(self, kv):
        import pyarrow as pa

        from schemas import CORPUS_SCHEMA

        (region, bucket), rows = kv
        rows = sorted(rows, key=lambda r: r["doc_id"])
        table = pa.Table.from_pylist(rows, schema=CORPUS_SCHEMA)
        rel = shard_relpath(region, bucket, self.n)
        write_parquet_atomically(table, os.path.join(self.staging_dir, "shards", rel))
        from pipelines.faults import maybe_crash

        maybe_crash("after_shard")
        yield rel


class WriteLedger(beam.DoFn):
    def __init__(self, staging_dir: str, n: int) -> None:
        self.staging_dir = staging_dir
        self.n = n

    def process(self, kv):
        import pyarrow as pa

        from schemas import LEDGER_SCHEMA

        bucket, batches = kv
        rows = sorted(
            (r for batch in batches for r in batch),
            key=lambda r: (r["doc_id"], STAGE_ORDER.get(r["stage"], 99), r["decision"], r["reason"]),
        )
        table = pa.Table.from_pylist(rows, schema=LEDGER_SCHEMA)
        rel = f"part-{bucket:05d}-of-{self.n:05d}.parquet"
        write_parquet_atomically(table, os.path.join(self.staging_dir, "ledger", rel))
        yield rel


def build_pipeline(p: beam.Pipeline, plan: RunPlan) -> None:
    policy = plan.policy
    files = p | "ListInputs" >> beam.Create(sorted(plan.inputs, key=lambda s: (s.source_id, s.rel)))
    staged = files | "ReadAndProcessInputs" >> beam.ParDo(ProcessInput(plan))
    ledgers = [staged | "StageLedger" >> beam.FlatMap(only_ledger)]
    docs = staged | "StageDocs" >> beam.FlatMap(only_docs)

    if policy.exact_dedup:
        deduped = (
            docs
            | "KeyByContentHash" >> beam.Map(by_content_hash)
            | "GroupByContentHash" >> beam.GroupByKey()
            | "KeepLowestDocId" >> beam.FlatMap(keep_lowest_doc_id)
        )
        ledgers.append(deduped | "DedupLedger" >> beam.FlatMap(only_ledger))
        docs = deduped | "DedupDocs" >> beam.FlatMap(only_docs)

    if policy.fuzzy.enabled:
        from pipelines.fuzzy import FuzzyDedup

        fuzzed = docs | "FuzzyDedup" >> FuzzyDedup(policy.fuzzy, plan.signature_batches)
        ledgers.append(fuzzed | "FuzzyLedger" >> beam.FlatMap(only_ledger))
        docs = fuzzed | "FuzzyDocs" >> beam.FlatMap(only_docs)

    redacted = docs | "RedactPII" >> beam.ParDo(Redact(policy))
    ledgers.append(redacted | "PiiLedger" >> beam.FlatMap(only_ledger))
    docs = redacted | "PiiDocs" >> beam.FlatMap(only_docs)

    written_shards = (
        docs
        | "ToShardRows" >> beam.ParDo(ToShardRow(policy, plan.pipeline_version))
        | "GroupByShard" >> beam.GroupByKey()
        | "WriteShards" >> beam.ParDo(WriteShard(plan.staging_dir, policy.shards_per_region))
    )
    n = policy.ledger_shards
    written_ledger = (
        ledgers
        | "AllLedgerRows" >> beam.Flatten()
        | "KeyLedgerRows" >> beam.FlatMap(key_ledger, n)
        | "GroupLedger" >> beam.GroupByKey()
        | "WriteLedger" >> beam.ParDo(WriteLedger(plan.staging_dir, n))
    )
    # One final sink that depends on every write: Beam's DaskRunner computes only the last transform of the graph.
    _ = (written_shards, written_ledger) | "AllWritten" >> beam.Flatten()
