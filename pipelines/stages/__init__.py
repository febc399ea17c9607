"""The per-document stages (extraction, rights, language, quality, residency, admission, and any a policy adds) and
PII redaction. A stage a user writes subclasses `Stage` and returns a `Decision` (docs/stages.md)."""

from pipelines.stages.base import Decision, Stage

__all__ = ["Decision", "Stage"]
