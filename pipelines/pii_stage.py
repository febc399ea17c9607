"""The PII stage as the pipeline calls it: redact a document, count what was found, write the ledger row.

The ledger detail of a redacted document holds counts per entity type and per type and confidence tier
(`{"counts": {...}, "tiers": {"DK_CPR": {"validated": 1}}}`), and, when the policy names NER pipelines, whether NER
ran on it (`"ner": "on"` or `"unavailable"`). Never a value. A document whose analysis fails is not published: it
gets an `error` row naming the exception type only.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from filters.document import Document
from pipelines.stages import _row
from schemas.policy import Policy

log = logging.getLogger(__name__)


class PiiStage:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._redactor = None

    def setup(self) -> None:
        """Build the redactor; raises ValueError (what to fix) when the policy's PII settings cannot be honoured."""
        from filters.pii import PiiRedactor, check_pii_config

        p = self.policy
        check_pii_config(p)  # fail closed here too, in case the run skipped preflight
        languages = tuple(p.languages) or ("en",)
        self._redactor = PiiRedactor(
            languages,
            p.pii_entities,
            p.pii_countries,
            p.pii_score_threshold,
            operator=p.pii_operator,
            salt=os.environ.get(p.pii_salt_env) if p.pii_operator == "hash" else None,
            ner_models=p.pii_ner,
            require_ner=p.pii_require_ner,
        )
        from filters.pii_metadata import MetadataScrubber, metadata_key

        # URLs and record locators are published too: the same redactor, piece by piece (filters/pii_metadata.py)
        self._metadata = MetadataScrubber(lambda: self._redactor, metadata_key(p))
        missing = {k: v for k, v in self._redactor.ner_status.items() if not v.startswith("on")}
        if missing:
            log.warning("PII stage: NER unavailable for %s", sorted(missing))

    def status(self) -> dict:
        """What the report can show about the stage: operator, countries, languages, entities, NER per language."""
        if self._redactor is None:
            self.setup()
        return self._redactor.status()

    def process(self, doc: Document) -> Iterator[tuple[str, object]]:
        from filters.pii import PiiAnalysisError

        if self._redactor is None:
            self.setup()
        try:
            result = self._redactor.redact_detail(doc.text, doc.lang, region=doc.origin_jurisdiction)
        except PiiAnalysisError as exc:
            # fail closed: an unanalysed text is not published
            yield _row(doc, "pii", "error", str(exc))
            return
        doc.text = result.text
        doc.pii_counts = result.counts
        doc.url = self._metadata.text(doc.url)
        doc.record_locator = self._metadata.text(doc.record_locator)
        extra = {}
        if self.policy.pii_ner:
            extra["ner"] = "on" if result.ner else "unavailable"
        if result.counts:
            reason = ", ".join(f"{k}={v}" for k, v in result.counts.items())
            yield _row(doc, "pii", "redacted", reason, counts=result.counts, tiers=result.tiers, **extra)
        else:
            yield _row(doc, "pii", "kept", "no PII found", **extra)
        yield "doc", doc
