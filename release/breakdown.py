"""Breakdowns of a release's decisions, in one unit each: documents through the stages, and per source and per
language where they left.

The ledger's `input` rows count files and its `read` rows count archive records that never became a document (a 404,
an image, an unreadable line); every other stage decides on documents. A stage writes no row for a document it does
not judge (takedown writes one only when it removes a document, quality none for an exempt source type), so a stage's
row count is not the number of documents that reached it: `document_funnel` counts those from the ledger instead.
"""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

#: stages whose rows are files or archive records, not documents
NOT_DOCUMENT_STAGES = ("input", "read")
LEFT = ("dropped", "quarantined", "error")  # decisions after which a document goes no further
_OUT_OF_SCOPE = re.compile(r"^language (\S+) not in the policy's scope")
NO_LANGUAGE = "(before language ID)"


@dataclass(frozen=True)
class FunnelStep:
    """Documents at one stage: how many reached it, what the stage decided, and how many went on."""

    stage: str
    entering: int
    decided: dict[str, int]  # ledger rows of the stage by decision
    not_judged: int  # reached the stage but got no row (exempt source type, or a stage that writes only removals)
    sources_not_judged: tuple[str, ...] = ()  # sources with documents here but no row of this stage

    @property
    def left(self) -> int:
        return sum(self.decided.get(d, 0) for d in LEFT)

    @property
    def went_on(self) -> int:
        return self.entering - self.left


@dataclass(frozen=True)
class GroupBreakdown:
    """Where the documents of one source (or one language) went."""

    key: str
    documents: int  # documents of this group that entered the document stages (languages: that were identified)
    left: dict[str, dict[str, int]] = field(default_factory=dict)  # stage -> decision -> documents that left there
    published: int = 0
    files: int = 0  # sources only: input files, and records that became no document
    files_with_errors: int = 0
    records_not_documents: dict[str, int] = field(default_factory=dict)  # read-stage decision -> records

    def left_total(self, decision: str) -> int:
        return sum(d.get(decision, 0) for d in self.left.values())

    @property
    def where_left(self) -> str:
        """"rights 2 dropped, residency 1 quarantined" in pipeline order of the stages as stored."""
        return ", ".join(f"{s} {n} {d}" for s, ds in self.left.items() for d, n in ds.items() if n)


def _counts(table: pa.Table, keys: list[str]) -> list[dict]:
    if not table.num_rows:
        return []
    return table.group_by(keys, use_threads=False).aggregate([([], "count_all")]).to_pylist()


def document_stages(ledger: pa.Table) -> pa.Table:
    """The ledger rows that decide on documents (not the file and record rows of `input` and `read`)."""
    return ledger.filter(pc.invert(pc.is_in(ledger["stage"], pa.array(NOT_DOCUMENT_STAGES))))


def _documents_per_source(docs: pa.Table) -> dict[str, int]:
    """source_id -> distinct documents in the document-stage rows `docs` (a document has one source)."""
    if not docs.num_rows:
        return {}
    groups = docs.group_by(["source_id"]).aggregate([("doc_id", "count_distinct")]).to_pylist()
    return {g["source_id"] or "": g["doc_id_count_distinct"] for g in groups}


def _ordered(stages: list[str], present) -> list[str]:
    return [s for s in stages if s in present] + sorted(s for s in present if s not in stages)


@dataclass(frozen=True)
class Breakdowns:
    funnel: tuple[FunnelStep, ...]
    by_source: tuple[GroupBreakdown, ...]
    by_language: tuple[GroupBreakdown, ...]


def compute_breakdowns(ledger: pa.Table, stages: list[str], published_by_source: dict[str, int],
                       published_by_language: dict[str, int]) -> Breakdowns:  # fmt: skip
    """The document funnel and the per-source and per-language tables from one pass of group-bys over the ledger
    (columns doc_id, stage, decision, reason, detail, source_id). A document leaves at most once, so the rows with a
    leaving decision are few and everything per document is computed from them."""
    t = ledger.select(["doc_id", "stage", "decision", "source_id"])
    groups = t.group_by(["stage", "decision", "source_id"]).aggregate([([], "count_all")]).to_pylist() if len(t) else []
    docs = document_stages(t)
    per_source = _documents_per_source(docs)
    gone = docs.filter(pc.is_in(docs["decision"], pa.array(LEFT)))
    doc_groups = [g for g in groups if g["stage"] not in NOT_DOCUMENT_STAGES]
    return Breakdowns(
        tuple(_funnel(doc_groups, per_source, stages)),
        tuple(_by_source(groups, per_source, gone, stages, published_by_source)),
        tuple(_by_language(ledger, gone, stages, published_by_language)),
    )


def _funnel(groups: list[dict], per_source: dict[str, int], stages: list[str]) -> list[FunnelStep]:
    """One step per document stage present, in `stages` order. The documents reaching a stage are those of the
    release that no earlier stage removed; the sources whose documents reached a stage without a row of it are named
    (the stage does not judge them)."""
    rows: dict[str, Counter] = defaultdict(Counter)
    rows_by_source: Counter = Counter()
    left_by_source: Counter = Counter()
    for g in groups:
        src = g["source_id"] or ""
        rows[g["stage"]][g["decision"]] += g["count_all"]
        rows_by_source[(g["stage"], src)] += g["count_all"]
        if g["decision"] in LEFT:
            left_by_source[(g["stage"], src)] += g["count_all"]
    remaining = dict(per_source)
    entering = sum(per_source.values())
    steps = []
    for stage in _ordered(stages, rows):
        decided = dict(rows[stage])
        silent = tuple(sorted(s for s, n in remaining.items() if n > 0 and not rows_by_source[(stage, s)]))
        steps.append(FunnelStep(stage, entering, decided, max(0, entering - sum(decided.values())), silent))
        entering -= sum(decided.get(d, 0) for d in LEFT)
        for s in remaining:
            remaining[s] -= left_by_source[(stage, s)]
    return steps


def _by_source(groups: list[dict], per_source: dict[str, int], gone: pa.Table, stages: list[str],
               published: dict[str, int]) -> list[GroupBreakdown]:  # fmt: skip
    """Per source: files read, records that became no document, documents, where they left, documents published."""
    files: Counter = Counter()
    file_errors: Counter = Counter()
    records: dict[str, Counter] = defaultdict(Counter)
    for g in groups:
        src = g["source_id"] or ""
        if g["stage"] == "input":
            files[src] += g["count_all"]
            file_errors[src] += g["count_all"] if g["decision"] == "error" else 0
        elif g["stage"] == "read" and g["decision"] != "kept":
            records[src][g["decision"]] += g["count_all"]
    left = _left(gone, "source_id", stages)
    keys = sorted(set(files) | set(per_source) | set(published), key=lambda k: (-per_source.get(k, 0), k))
    return [GroupBreakdown(k, per_source.get(k, 0), left.get(k, {}), published.get(k, 0), files[k], file_errors[k],
                           dict(records[k])) for k in keys]  # fmt: skip


def _by_language(ledger: pa.Table, gone: pa.Table, stages: list[str], published: dict[str, int]) -> list[GroupBreakdown]:
    """Per language (as language ID found it): documents identified, where they left, documents published.
    Documents removed before language ID are one group of their own; those language ID itself removed are counted
    under the language it found (out of scope, or a score below the policy's floor)."""
    lid = ledger.filter(pc.equal(ledger["stage"], "langid")).select(["doc_id", "decision", "reason", "detail"])
    kept, removed = lid.filter(pc.equal(lid["decision"], "kept")), lid.filter(pc.not_equal(lid["decision"], "kept"))
    lang_of = pa.concat_tables([pa.table({"doc_id": kept["doc_id"], "lang": kept["reason"]}),
                                pa.table({"doc_id": removed["doc_id"], "lang": _removed_language(removed)})])  # fmt: skip
    # a document without a langid row left before language ID: it has a leaving row, and there are few of those
    tagged = gone.join(lang_of, "doc_id", join_type="left outer", use_threads=False)
    tagged = tagged.set_column(tagged.schema.get_field_index("lang"), "lang",
                               pc.fill_null(tagged["lang"], NO_LANGUAGE))  # fmt: skip
    left = _left(tagged, "lang", stages)
    identified: Counter = Counter()
    for g in _counts(lang_of, ["lang"]):
        identified[g["lang"] or ""] += g["count_all"]
    before = sum(n for ds in left.get(NO_LANGUAGE, {}).values() for n in ds.values())
    if before:
        identified[NO_LANGUAGE] = before
    keys = sorted(set(identified) | set(published), key=lambda k: (k == NO_LANGUAGE, -identified.get(k, 0), k))
    return [GroupBreakdown(k, identified.get(k, 0), left.get(k, {}), published.get(k, 0)) for k in keys]


def _removed_language(lid: pa.Table) -> pa.Array:
    """The language language ID found for a document it removed: from the detail, else from the reason's text."""
    out = []
    for reason, detail in zip(lid["reason"].to_pylist(), lid["detail"].to_pylist()):
        lang = (json.loads(detail) if detail else {}).get("lang")
        if not lang:
            m = _OUT_OF_SCOPE.match(reason or "")
            lang = m.group(1) if m else None
        out.append(lang or "(unknown)")
    return pa.array(out, pa.string())


def _left(gone: pa.Table, key: str, stages: list[str]) -> dict[str, dict[str, dict[str, int]]]:
    """group key -> stage (pipeline order) -> decision -> documents that left there."""
    raw: dict[str, dict[str, Counter]] = defaultdict(lambda: defaultdict(Counter))
    for g in _counts(gone, [key, "stage", "decision"]):
        raw[g[key] or ""][g["stage"]][g["decision"]] += g["count_all"]
    return {k: {s: dict(v[s]) for s in _ordered(stages, v)} for k, v in raw.items()}
