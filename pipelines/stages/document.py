"""The runner of the per-document stages: the built-in ones (`pipelines.stages.builtin`) in the order of the design
brief, with the policy's extra stages (`stages:`, `pipelines.stages.extra`) placed after the stages they name, then the
closing content-hash step.

`DocumentStages.process(doc)` runs them in that order, yielding ("ledger", row) for every decision and ("doc",
Document) for a document that every stage kept. The ledger rows, the per-stage CPU times and the handling of a stage
that raises are done here, once, for every stage alike. Models load once per worker (`setup`).
"""

from __future__ import annotations

import time

from filters.document import Document
from filters.rights import RightsSnapshot
from pipelines.stages.base import Stage, check_decision
from pipelines.stages.builtin import BUILTIN_STAGES, builtin_stages
from pipelines.stages.extra import StageConfigError, build_stage
from schemas.ledger import ledger_row
from schemas.policy import Policy, ordered_stage_names


def _ledger(doc: Document, stage: str, decision: str, reason: str, detail: dict | None) -> tuple[str, dict]:
    nbytes = len(doc.text.encode("utf-8", "replace")) if doc.text else doc.raw_bytes
    return "ledger", ledger_row(doc.doc_id, stage, decision, reason, doc.source_id, doc.input_path, detail, nbytes)


def _row(doc: Document, stage: str, decision: str, reason: str, **detail) -> tuple[str, dict]:
    """A ("ledger", row) for one document's decision (the PII stage's rows too)."""
    return _ledger(doc, stage, decision, reason, detail or None)


class DocumentStages:
    """Every per-document stage of a policy, in the order they run (`stages`)."""

    def __init__(
        self,
        policy: Policy,
        lid_model_path: str | None = None,
        rights_snapshots: dict[str, RightsSnapshot] | None = None,
    ) -> None:
        self.policy = policy
        builtins, closing = builtin_stages(policy, lid_model_path, rights_snapshots)
        extras = {spec.name: build_stage(spec) for spec in policy.stages}
        by_name = {s.name: s for s in builtins} | extras
        order = ordered_stage_names(BUILTIN_STAGES, policy.stages)
        if len(order) != len(by_name):
            unplaced = sorted(set(by_name) - set(order))
            raise StageConfigError(f"stage(s) {unplaced} follow no known stage (preflight refuses them)")
        self.stages: list[Stage] = [by_name[n] for n in order] + [closing]
        # (ledger name, decide, whether its return value is checked): the built-ins' are trusted
        self._steps = [(s.name, s.decide, s.name in extras) for s in self.stages]
        self.timings: dict[str, float] = {}
        self._ready = False

    def setup(self) -> None:
        from filters.residency import offline_tldextract

        offline_tldextract()
        for stage in self.stages:
            stage.setup()
        self._ready = True

    def process(self, doc: Document) -> list[tuple[str, object]]:
        """The stages on one document: its ledger rows in order, then ("doc", doc) when every stage kept it. A stage
        that raises on it ends that document alone: its rows so far, then an `error` row naming the stage it was in
        and the exception type (never its message: it could quote the text); so does an extra stage's return value
        that is not a valid `Decision`."""
        if not self._ready:
            self.setup()
        out: list[tuple[str, object]] = []
        timings, clock = self.timings, time.process_time
        t0 = clock()
        for name, decide, checked in self._steps:
            try:
                d = decide(doc)
                if checked:
                    d = check_decision(d)
            except Exception as exc:  # noqa: BLE001 - one document's failure must not end its file or the run
                out.append(_ledger(doc, name, "error", f"{name} failed on this document ({type(exc).__name__}); the "
                                "document is withheld", None))  # fmt: skip
                return out
            t1 = clock()
            timings[name] = timings.get(name, 0.0) + (t1 - t0)
            t0 = t1
            if d is None:
                continue
            out.append(_ledger(doc, name, d.decision, d.reason, dict(d.detail) if d.detail else None))
            if d.decision != "kept":
                return out
        out.append(("doc", doc))
        return out

    def take_timings(self) -> dict[str, float]:
        """CPU seconds per stage since the last call (the stages' share of a step's time), and reset them."""
        out, self.timings = self.timings, {}
        return out
