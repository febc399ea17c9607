"""The PII stage as the pipeline calls it: redact a document, count what was found, write the ledger row."""

from __future__ import annotations

from collections.abc import Iterator

from filters.document import Document
from pipelines.stages import _row
from schemas.policy import Policy


class PiiStage:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._redactor = None

    def setup(self) -> None:
        from filters.pii import PiiRedactor

        languages = tuple(self.policy.languages) or ("en",)
        self._redactor = PiiRedactor(
            languages, self.policy.pii_entities, self.policy.pii_countries, self.policy.pii_score_threshold
        )

    def process(self, doc: Document) -> Iterator[tuple[str, object]]:
        if self._redactor is None:
            self.setup()
        doc.text, counts = self._redactor.redact(doc.text, doc.lang)
        doc.pii_counts = counts
        if counts:
            yield _row(doc, "pii", "redacted", ", ".join(f"{k}={v}" for k, v in counts.items()), counts=counts)
        else:
            yield _row(doc, "pii", "kept", "no PII found")
        yield "doc", doc
