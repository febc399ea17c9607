"""The stage interface: a per-document stage is a small class with one method, `decide(doc)`, that returns a
`Decision` (kept, dropped or quarantined, with a reason). The built-in stages (`pipelines.stages.builtin`) and the
extra stages a policy names by import path (`stages:` in the policy, docs/stages.md) are both `Stage` subclasses, run
one after another by `pipelines.stages.document.DocumentStages`, which writes their ledger rows, times them, and turns
an exception on one document into an `error` row for that document alone.

    from pipelines.stages import Decision, Stage

    class Blocklist(Stage):
        def __init__(self, words: list[str]) -> None:
            self.words = frozenset(w.casefold() for w in words)

        def decide(self, doc):
            hits = sum(1 for w in doc.text.casefold().split() if w in self.words)
            return Decision.dropped("listed word", hits=hits) if hits else Decision.kept("no listed word")
"""

from __future__ import annotations

import abc
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from filters.document import Document

KEPT, DROPPED, QUARANTINED = "kept", "dropped", "quarantined"
OUTCOMES = (KEPT, DROPPED, QUARANTINED)
MAX_REASON_CHARS = 200  # a reason names a rule, it does not quote the document


@dataclass(frozen=True, slots=True)
class Decision:
    """What a stage decided about one document: `decision` is kept (the document goes on to the next stage),
    dropped or quarantined (it ends here; quarantined means held for review rather than refused); `reason` is the
    short text the ledger and the report show; `detail` is small structured data for the ledger row (counts, types,
    scores), never the document's text or personal data."""

    decision: str
    reason: str
    detail: Mapping[str, Any] | None = None

    def __post_init__(self) -> None:
        if self.decision not in OUTCOMES:
            raise ValueError(f"a stage decides kept, dropped or quarantined, not {self.decision!r}")
        if type(self.reason) is not str:
            raise TypeError(f"a decision's reason is a string, not {type(self.reason).__name__}")

    @property
    def goes_on(self) -> bool:
        return self.decision == KEPT

    @classmethod
    def kept(cls, reason: str, **detail) -> Decision:
        return cls(KEPT, reason, detail or None)

    @classmethod
    def dropped(cls, reason: str, **detail) -> Decision:
        return cls(DROPPED, reason, detail or None)

    @classmethod
    def quarantined(cls, reason: str, **detail) -> Decision:
        return cls(QUARANTINED, reason, detail or None)


class Stage(abc.ABC):
    """One per-document step. Subclasses implement `decide`; they may override `setup` (load models: called once
    per worker process before its first document) and `from_args` (the policy's `args:` → an instance; by default
    `cls(**args)`). The constructor runs on the driver in preflight (to check the arguments) and again on every
    worker, so it should be cheap; heavy work belongs in `setup`.

    `decide(doc)` may read and change the document (e.g. normalise `doc.text`); it returns a `Decision`, or None when
    the stage does not apply to this document (no ledger row; the document goes on). An exception ends that
    document only: the runner writes an `error` row naming the stage and the exception's type (never its message,
    which could quote the text) and goes on with the next document."""

    name: str = ""  # the stage's name in the ledger: set by the runner (the policy's `name:` or the class name)

    @classmethod
    def from_args(cls, args: Mapping[str, Any]) -> Stage:
        return cls(**args)

    def setup(self) -> None:
        """Load what `decide` needs (models, tables); called once per worker before the first document."""

    @abc.abstractmethod
    def decide(self, doc: Document) -> Decision | None:
        """The decision on one document (None: the stage does not apply to it)."""


def check_decision(out: object) -> Decision | None:
    """An extra stage's return value, checked: a `Decision` (or None) whose reason is short and whose detail holds
    numbers only (plain, or per name: `{"hits": 2}`, `{"hits": {"word": 2}}`). Raises TypeError or ValueError."""
    if out is None:
        return None
    if not isinstance(out, Decision):
        raise TypeError(f"decide() returned {type(out).__name__}, not a Decision")
    if len(out.reason) > MAX_REASON_CHARS:
        raise ValueError(f"a decision's reason is at most {MAX_REASON_CHARS} characters")
    if out.detail is not None:
        if not isinstance(out.detail, Mapping):
            raise TypeError("a decision's detail is a mapping of names to numbers")
        for key, value in out.detail.items():
            if type(key) is not str or not _numbers(value):
                raise TypeError("a decision's detail holds numbers only (or a mapping of names to numbers)")
    return out


def _numbers(value: object, nested: bool = True) -> bool:
    if value is None or isinstance(value, (bool, int, float)):
        return True
    if nested and isinstance(value, Mapping):
        return all(type(k) is str and _numbers(v, nested=False) for k, v in value.items())
    return False
