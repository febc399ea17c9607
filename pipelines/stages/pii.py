"""The PII stage as the pipeline calls it: redact a document, count what was found, write the ledger row.

The ledger detail of a redacted document holds counts per entity type and per type and confidence tier
(`{"counts": {...}, "tiers": {"DK_CPR": {"validated": 1}}}`) and whether NER ran on it: `"ner": "on"`, or
`"ner": "off", "names": "not redacted"` for a language without a pipeline (the reason says so too). Never a value.
A document whose analysis fails is not published: it gets an `error` row naming the exception type only. A document
in a language of `pii.require_ner` on which no NER ran is quarantined, not published. `process_many` redacts a
batch: each language's NER pipeline runs once over its documents (`nlp.pipe`).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

from filters.document import Document
from pipelines.stages.document import _row
from schemas.policy import Policy

log = logging.getLogger(__name__)
PII_BATCH = 64  # documents per redact_many call: NER's nlp.pipe batch, bounded memory


class PiiStage:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._redactor = None

    def setup(self) -> None:
        """Build the redactor; raises ValueError (what to fix) when the policy's PII settings cannot be honoured."""
        from filters.pii.engine import PiiRedactor
        from filters.pii.policy import check_pii_config

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
            ner_prefilter=p.pii_ner_prefilter,
        )
        from filters.pii.metadata import MetadataScrubber, metadata_key

        # URLs and record locators are published too: the same redactor, piece by piece (filters/pii/metadata.py)
        self._metadata = MetadataScrubber(lambda: self._redactor, metadata_key(p))
        missing = {k: v for k, v in self._redactor.ner_status.items() if not v.startswith("on")}
        if missing:
            log.warning("PII stage: NER unavailable for %s", sorted(missing))
        held = sorted(set(p.pii_require_ner_languages) - set(self._redactor.ner_status))
        if held:
            log.warning("PII stage: no NER pipeline for %s in pii.require_ner; their documents are quarantined", held)

    def status(self) -> dict:
        """What the report can show about the stage: operator, countries, languages, entities, NER per language."""
        if self._redactor is None:
            self.setup()
        return self._redactor.status()

    def process(self, doc: Document) -> Iterator[tuple[str, object]]:
        yield from self.process_many([doc])

    def process_many(self, docs: list[Document]) -> Iterator[tuple[str, object]]:
        """Per document, in order: its ledger row, then ("doc", doc) when it goes on to the shards."""
        from filters.ner import NAMES_NOT_REDACTED

        if self._redactor is None:
            self.setup()
        results = self._redactor.redact_many([(d.text, d.lang, d.origin_jurisdiction) for d in docs])
        required = set(self.policy.pii_require_ner_languages)
        for doc, result in zip(docs, results):
            if isinstance(result, Exception):
                # fail closed: an unanalysed text is not published
                yield _row(doc, "pii", "error", str(result))
                continue
            ner = {"ner": "on"} if result.ner else {"ner": "off", "names": "not redacted"}
            if not result.ner and doc.lang in required:
                reason = f"{NAMES_NOT_REDACTED}: no NER pipeline ran for language {doc.lang!r} (pii.require_ner)"
                yield _row(doc, "pii", "quarantined", reason, counts=result.counts, tiers=result.tiers, **ner)
                continue
            doc.text = result.text
            doc.pii_counts = result.counts
            doc.url = self._metadata.text(doc.url)
            doc.record_locator = self._metadata.text(doc.record_locator)
            suffix = "" if result.ner else f"; {NAMES_NOT_REDACTED}"
            if result.counts:
                reason = ", ".join(f"{k}={v}" for k, v in result.counts.items()) + suffix
                yield _row(doc, "pii", "redacted", reason, counts=result.counts, tiers=result.tiers, **ner)
            else:
                yield _row(doc, "pii", "kept", "no PII found" + suffix, **ner)
            yield "doc", doc
