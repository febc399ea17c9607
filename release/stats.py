"""The release statistics: one typed object, computed once from the ledger and the published shards (never from
runner metrics), from which every release document is rendered: the report, the dataset card, Croissant and the
EU AI Act summary. Documents read their totals from here so that none of them can count differently.
"""

from __future__ import annotations

import dataclasses
import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from release.breakdown import FunnelStep, GroupBreakdown, compute_breakdowns
from schemas.policy import ordered_stage_names

# Ledger stages in pipeline order; a release's ledger holds a subset (a stage a policy turns off writes no rows).
STAGES = ("input", "read", "takedown", "rights", "extract", "langid", "quality", "residency", "admission", "dedup",
          "fuzzy_dedup", "pii", "gate")
DECISIONS = ("kept", "redacted", "dropped", "quarantined", "error")


@dataclass(frozen=True)
class Counts:
    """The headline totals (also the manifest's `counts`)."""

    input_files: int = 0
    input_files_with_errors: int = 0
    records_read: int = 0
    error_rows: int = 0
    documents_published: int = 0
    documents_quarantined: int = 0
    documents_dropped: int = 0  # documents removed by a document stage (not the records of `read`, not files)
    records_not_documents: int = 0  # archive records read that became no document (`read` dropped: 404, image ...)
    pii_redacted: dict[str, int] = field(default_factory=dict)

    def to_json(self) -> dict:
        return dataclasses.asdict(self)

    def __getitem__(self, key: str):
        return getattr(self, key)


@dataclass(frozen=True)
class Dedup:
    """Documents removed as duplicates: exact (content hash) and near (MinHash-LSH) are separate ledger stages."""

    exact_dropped: int
    near_dropped: int
    documents_in_clusters: int

    @property
    def dropped(self) -> int:
        return self.exact_dropped + self.near_dropped


SAMPLES = 5  # sample documents per reason in the report's drill-down


@dataclass(frozen=True)
class ReleaseStats:
    """Everything the release documents count. `funnel[stage][decision]` is the number of ledger rows."""

    counts: Counts
    funnel: dict[str, dict[str, int]]
    funnel_bytes: dict[str, dict[str, int]]
    reasons: dict[str, list[tuple[str, int]]]
    #: "stage/decision" → reason family → up to SAMPLES doc_ids with that reason (ids are hashes, never text)
    reason_samples: dict[str, dict[str, list[str]]]
    errors: list[dict]
    files: list[dict]
    languages: list[tuple[str, int]]
    language_bytes: dict[str, int]
    jurisdictions: list[tuple[str, str, int]]
    regions: list[tuple[str, int]]
    origin_basis: list[tuple[str, int]]
    rights_basis: list[tuple[str, int]]
    top_domains: list[tuple[str, int]]
    domains_total: int
    sources: list[tuple[str, int, int]]
    rights_decisions: list[tuple[str, str, str, int]]
    documents_in_dup_clusters: int
    pii_tiers: list[tuple[str, str, int]]
    fuzzy_note: str = ""
    origin: dict | None = None  # origin evidence per region (`release.documents.origin.origin_stats`)
    stages: tuple[str, ...] = STAGES  # pipeline order, with the policy's extra stages after those they follow
    #: documents through the document stages (one unit: documents; `input` and `read` rows are files and records)
    document_funnel: tuple[FunnelStep, ...] = ()
    by_source: tuple[GroupBreakdown, ...] = ()  # per source_id: files, records, documents, where they left, published
    by_language: tuple[GroupBreakdown, ...] = ()  # per language found by language ID (and those removed before it)

    def stage_names(self) -> list[str]:
        """The stages present in the ledger, in pipeline order; stages the order does not know come last, sorted."""
        return [s for s in self.stages if s in self.funnel] + sorted(s for s in self.funnel if s not in self.stages)

    def decided(self, stage: str, decision: str) -> int:
        """Ledger rows of `stage` with `decision` (0 when the stage wrote none)."""
        return int(self.funnel.get(stage, {}).get(decision, 0))

    @property
    def dedup(self) -> Dedup:
        return Dedup(self.decided("dedup", "dropped"), self.decided("fuzzy_dedup", "dropped"),
                     self.documents_in_dup_clusters)  # fmt: skip

    def stage_totals(self) -> list[dict]:
        """One entry per stage present in the ledger, in pipeline order: `{"stage", kept, redacted, ...}` with every
        decision (0 when absent), as `stage_names` orders them."""
        return [{"stage": s} | {d: self.decided(s, d) for d in DECISIONS} for s in self.stage_names()]

    def reasons_for(self, key: str) -> list[dict]:
        """Reason families of `stage/decision` (e.g. "quality/dropped") with their document counts."""
        return [{"reason": r, "documents": n} for r, n in self.reasons.get(key, [])]

    def with_fuzzy_note(self, note: str) -> ReleaseStats:
        return dataclasses.replace(self, fuzzy_note=note)

    # Mapping-style access, for code written against the earlier dict (to be removed once callers use attributes).
    def __getitem__(self, key: str):
        try:
            return getattr(self, key)
        except AttributeError:
            raise KeyError(key) from None

    def get(self, key: str, default=None):
        return getattr(self, key, default)


def fuzzy_note(policy) -> str:
    """The near-duplicate settings of `policy` in one phrase for the report ("" when fuzzy dedup is off)."""
    fz = policy.fuzzy
    if not fz.enabled:
        return ""
    from filters.dedup.minhash import gpu_available

    backend = fz.backend if fz.backend != "auto" else ("gpu" if gpu_available() else "cpu")
    size = fz.width if fz.mode == "char" else fz.ngrams
    return (f", {fz.mode} {size}, {fz.bits}-bit, {fz.bands}×{fz.rows}, threshold {fz.threshold}, verify {fz.verify}, "
            f"backend {backend}")  # fmt: skip


def _groups(table: pa.Table, keys: list[str], aggs: list[tuple]) -> list[dict]:
    """Arrow group-by in first-appearance order of the groups (single-threaded), as a list of dicts: the same order a
    Python loop over the rows would meet them, so Counter ties break as they always did."""
    if not table.num_rows:
        return []
    return table.group_by(keys, use_threads=False).aggregate(aggs).to_pylist()


def compute_release_stats(ledger: pa.Table, shard_paths: list, policy=None) -> ReleaseStats:
    """The statistics of a release from its ledger and published shards (paths or open pyarrow files).

    Column-wise with Arrow group-bys (a 1M-document release has some ten million ledger rows: never one Python object
    per row); JSON details and reason texts are parsed once per distinct value. `policy`, when given, adds the
    near-duplicate settings (`fuzzy_note`) and places its extra stages (`stages:`) in the stage order."""
    ledger = ledger.select(["doc_id", "stage", "decision", "reason", "source_id", "input_path", "detail", "bytes"])
    funnel: dict[str, Counter] = defaultdict(Counter)
    bytes_by: dict[str, Counter] = defaultdict(Counter)
    for g in _groups(ledger, ["stage", "decision"], [([], "count_all"), ("bytes", "sum")]):
        funnel[g["stage"]][g["decision"]] += g["count_all"]
        bytes_by[g["stage"]][g["decision"]] += g["bytes_sum"] or 0
    rights_ledger: Counter = Counter()
    rights = ledger.filter(pc.and_(pc.equal(ledger["stage"], "rights"), pc.is_valid(ledger["detail"])))
    for g in _groups(rights, ["detail", "decision"], [([], "count_all")]):
        d = json.loads(g["detail"])
        rights_ledger[(d.get("status"), d.get("basis"), g["decision"])] += g["count_all"]
    reasons: dict[tuple[str, str], Counter] = defaultdict(Counter)
    samples: dict[tuple[str, str], dict[str, set]] = defaultdict(lambda: defaultdict(set))
    not_kept = ledger.filter(pc.not_equal(ledger["decision"], "kept"))
    aggs = [([], "count_all"), ("doc_id", "min"), ("doc_id", "max")]
    for g in _groups(not_kept, ["stage", "decision", "reason"], aggs):
        family = _reason_family(g["reason"])
        reasons[(g["stage"], g["decision"])][family] += g["count_all"]
        samples[(g["stage"], g["decision"])][family].update(x for x in (g["doc_id_min"], g["doc_id_max"]) if x)
    errors = [{"stage": r["stage"], "input": r["input_path"], "reason": r["reason"]}
              for r in ledger.filter(pc.equal(ledger["decision"], "error")).to_pylist()]  # fmt: skip
    file_rows = ledger.filter(pc.equal(ledger["stage"], "input")).to_pylist()
    files = [{"input": r["input_path"], "decision": r["decision"], "reason": r["reason"]} for r in file_rows]
    pii_ledger, pii_tiers = _pii_totals(ledger)
    shards = _shard_totals(shard_paths)
    stages = ordered_stage_names(STAGES, getattr(policy, "stages", ()))
    breakdowns = compute_breakdowns(ledger, list(stages), dict(shards["source_docs"]), dict(shards["langs"]))
    counts = Counts(
        input_files=len(file_rows),
        input_files_with_errors=sum(1 for r in file_rows if r["decision"] == "error"),
        records_read=sum(json.loads(r["detail"]).get("records", 0) for r in file_rows),
        error_rows=len(errors),
        documents_published=shards["published"],
        documents_quarantined=sum(funnel[s]["quarantined"] for s in funnel),
        documents_dropped=sum(funnel[s]["dropped"] for s in funnel if s not in ("input", "read")),
        records_not_documents=funnel["read"]["dropped"],
        pii_redacted=dict(sorted(pii_ledger.items())),
    )
    return ReleaseStats(
        counts=counts,
        funnel={s: dict(c) for s, c in funnel.items()},
        funnel_bytes={s: dict(c) for s, c in bytes_by.items()},
        reasons={f"{s}/{d}": c.most_common(12) for (s, d), c in sorted(reasons.items())},
        reason_samples=_samples(reasons, samples),
        errors=errors,
        files=sorted(files, key=lambda f: f["input"] or ""),
        languages=shards["langs"].most_common(),
        language_bytes=dict(shards["lang_bytes"]),
        jurisdictions=sorted(((j, r, n) for (j, r), n in shards["juris"].items()), key=lambda x: -x[2]),
        regions=shards["regions"].most_common(),
        origin_basis=shards["basis"].most_common(),
        rights_basis=shards["rights"].most_common(),
        top_domains=shards["domains"].most_common(50),
        domains_total=len(shards["domains"]),
        sources=[(s, shards["source_docs"][s], b) for s, b in shards["source_bytes"].most_common()],
        rights_decisions=sorted(((st, b, d, n) for (st, b, d), n in rights_ledger.items()), key=lambda x: -x[3]),
        documents_in_dup_clusters=shards["dup_clusters"],
        pii_tiers=sorted(((k, t, n) for (k, t), n in pii_tiers.items())),
        fuzzy_note=fuzzy_note(policy) if policy is not None else "",
        stages=stages,
        document_funnel=breakdowns.funnel,
        by_source=breakdowns.by_source,
        by_language=breakdowns.by_language,
    )


def _samples(reasons: dict, samples: dict) -> dict[str, dict[str, list[str]]]:
    """The first SAMPLES doc_ids (in byte order) of each reason family the report lists."""
    return {f"{s}/{d}": {r: sorted(samples[(s, d)][r])[:SAMPLES] for r, _n in c.most_common(12)}
            for (s, d), c in sorted(reasons.items())}


def _pii_totals(ledger: pa.Table) -> tuple[Counter, Counter]:
    pii_ledger: Counter = Counter()
    pii_tiers: Counter = Counter()
    redacted = ledger.filter(
        pc.and_(pc.and_(pc.equal(ledger["stage"], "pii"), pc.equal(ledger["decision"], "redacted")),
                pc.is_valid(ledger["detail"]))
    )  # fmt: skip
    for g in _groups(redacted, ["detail"], [([], "count_all")]):
        detail, n = json.loads(g["detail"]), g["count_all"]
        for k, v in detail.get("counts", {}).items():
            pii_ledger[k] += v * n
        for k, tiers in detail.get("tiers", {}).items():
            for tier, v in tiers.items():
                pii_tiers[(k, tier)] += v * n
    return pii_ledger, pii_tiers


def _shard_totals(shard_paths: list) -> dict:
    out = {k: Counter() for k in ("langs", "lang_bytes", "juris", "regions", "basis", "domains", "source_bytes",
                                  "source_docs", "rights")}  # fmt: skip
    out["dup_clusters"] = out["published"] = 0
    for path in shard_paths:
        t = pq.read_table(path, columns=["text", "source_id", "lang", "origin_jurisdiction", "origin_basis",
                                         "residency_region", "registrable_domain", "rights_basis",
                                         "dup_cluster"])  # fmt: skip
        out["published"] += t.num_rows
        t = t.append_column("nbytes", pc.binary_length(pc.cast(t["text"], pa.large_binary()))).drop(["text"])
        count = [([], "count_all"), ("nbytes", "sum")]
        for g in _groups(t, ["lang"], count):
            out["langs"][g["lang"]] += g["count_all"]
            out["lang_bytes"][g["lang"]] += g["nbytes_sum"]
        for g in _groups(t, ["origin_jurisdiction", "residency_region"], count):
            out["juris"][(g["origin_jurisdiction"], g["residency_region"])] += g["count_all"]
        for g in _groups(t, ["residency_region"], count):
            out["regions"][g["residency_region"]] += g["count_all"]
        for g in _groups(t, ["origin_basis"], count):
            out["basis"][g["origin_basis"]] += g["count_all"]
        for g in _groups(t, ["rights_basis"], count):
            out["rights"][g["rights_basis"]] += g["count_all"]
        with_domain = t.filter(pc.is_valid(t["registrable_domain"]))
        with_domain = with_domain.filter(pc.not_equal(with_domain["registrable_domain"], ""))
        for g in _groups(with_domain, ["registrable_domain"], count):
            out["domains"][g["registrable_domain"]] += g["nbytes_sum"]
        for g in _groups(t, ["source_id"], count):
            out["source_bytes"][g["source_id"]] += g["nbytes_sum"]
            out["source_docs"][g["source_id"]] += g["count_all"]
        dup = t["dup_cluster"]
        out["dup_clusters"] += pc.sum(pc.and_(pc.is_valid(dup), pc.not_equal(dup, ""))).as_py() or 0
    return out


#: a number right after one of these is a bound of the policy or a code, not the document's own value: it is kept
_BOUND = "".join(rf"(?<!{w})" for w in ("< ", "> ", "≤ ", "≥ ", "= ", "over ", "under ", "below ", "above ", "than ",
                                          "least ", "most ", "limit ", "status "))  # fmt: skip
_OWN_NUMBER = re.compile(_BOUND + r"(?<![\w.])\d+(?:\.\d+)?")


def _reason_family(reason: str) -> str:
    """Group reasons that differ only by the document's own numbers or ids, keeping the policy's bounds:
    "exact duplicate of 3fa…" → "exact duplicate of …", "too little text: 12 chars < 50" → "… N chars < 50"."""
    reason = re.sub(r"\b[0-9a-f]{32}\b", "…", reason)
    reason = _OWN_NUMBER.sub("N", reason)
    return reason[:160]
