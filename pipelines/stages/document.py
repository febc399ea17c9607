"""Per-document stages in the order of the design brief, wired to the pure logic in `filters/`.

`DocumentStages.process(doc)` runs rights, extraction, quality, language ID, residency and admission, yielding
("doc", Document) for a document that goes on and ("ledger", row) for every decision. Models load once per worker.
"""

from __future__ import annotations

from collections.abc import Iterator

from filters.document import Document, content_hash
from filters.residency import host_of, registrable_domain
from filters.rights import DEFAULT_AI_CRAWLERS, RightsConfig, RightsSnapshot, evaluate_rights
from pipelines.stages.residency import ResidencyStage
from schemas.ledger import ledger_row
from schemas.policy import Policy


def _row(doc: Document, stage: str, decision: str, reason: str, **detail) -> tuple[str, dict]:
    nbytes = len(doc.text.encode("utf-8", "replace")) if doc.text else doc.raw_bytes
    return "ledger", ledger_row(
        doc.doc_id, stage, decision, reason, doc.source_id, doc.input_path, detail or None, nbytes
    )


_RIGHTS_DECISION = {"exclude": "dropped", "quarantine": "quarantined"}


def _normalize_url(url: str) -> str:
    return url.strip().rstrip("/").lower()


class DocumentStages:
    def __init__(
        self,
        policy: Policy,
        lid_model_path: str | None = None,
        rights_snapshots: dict[str, RightsSnapshot] | None = None,
    ) -> None:
        self.policy = policy
        self.lid_model_path = lid_model_path
        self.snapshots = rights_snapshots or {}
        r = policy.rights
        self.rights_config = RightsConfig(
            ai_crawlers=r.ai_crawlers or DEFAULT_AI_CRAWLERS,
            robots_wildcard_counts=r.robots_wildcard_counts,
            content_usage_categories=r.content_usage_categories,
        )
        td = policy.takedown
        self._takedown_urls = {_normalize_url(u) for u in td.urls}
        self._takedown_domains = set(td.domains)
        self._takedown_hashes = set(td.content_hashes)
        self._extractor = None
        self._lid = None
        self._quality = None
        self._stage = "takedown"  # the stage the current document is in, for the error row if it fails
        self._residency = ResidencyStage(policy)

    def setup(self) -> None:
        from filters.extract import get_extractor
        from filters.langid import LanguageIdentifier
        from filters.quality import QualityFilter
        from filters.residency import offline_tldextract

        offline_tldextract()
        self._extractor = get_extractor(self.policy.html_extractor)
        self._lid = LanguageIdentifier(self.lid_model_path)
        p = self.policy
        self._quality = QualityFilter(
            p.quality_filters, alpha_over=p.quality_alpha_ratio_over, long_documents=p.quality_long_documents,
            long_document_words=p.quality_long_document_words,
        ) if p.quality_enabled else None  # fmt: skip

    def process(self, doc: Document) -> Iterator[tuple[str, object]]:
        """The stages on one document. A stage that raises on it ends that document alone: its rows so far, then an
        `error` row naming the stage it was in and the exception type (never its message: it could quote the text)."""
        if self._lid is None:
            self.setup()
        self._stage = "takedown"
        try:
            yield from self._process(doc)
        except Exception as exc:  # noqa: BLE001 - one document's failure must not end its file or the run
            yield _row(doc, self._stage, "error", f"{self._stage} failed on this document ({type(exc).__name__}); "
                       "the document is withheld")  # fmt: skip

    def _process(self, doc: Document) -> Iterator[tuple[str, object]]:
        p = self.policy
        decl = p.source(doc.source_id)

        # takedown requests by URL or domain: before any work on the document
        if (self._takedown_urls or self._takedown_domains) and doc.url:
            hit = self._takedown_hit(doc.url)
            if hit:
                yield _row(doc, "takedown", "dropped", f"takedown request: {hit}")
                return

        self._stage = "rights"
        # rights: reservations on the archived response come first, before any text work
        if doc.source_type == "web":
            snapshot = self.snapshots.get(host_of(doc.url) or "")
            doc.rights_status, doc.rights_basis = evaluate_rights(
                doc.url, doc.http_headers, doc.html, snapshot, self.rights_config
            )
        else:
            doc.rights_status, doc.rights_basis = "allowed", "source-declaration" if decl.license else "archive-source"
        if doc.rights_status != "allowed":
            treatment = p.rights.reserved if doc.rights_status == "reserved" else p.rights.unknown
            if treatment != "allow":
                decision = _RIGHTS_DECISION[treatment]
                yield _row(doc, "rights", decision, f"rights {doc.rights_status}: {doc.rights_basis}",
                           status=doc.rights_status, basis=doc.rights_basis)  # fmt: skip
                return
            yield _row(doc, "rights", "kept", f"rights {doc.rights_status} ({doc.rights_basis}) allowed by policy",
                       status=doc.rights_status, basis=doc.rights_basis)  # fmt: skip
        else:
            yield _row(doc, "rights", "kept", doc.rights_basis, status=doc.rights_status, basis=doc.rights_basis)

        self._stage = "extract"
        # extraction (the residency step's markup signals first: extraction drops the markup)
        page = self._residency.page_signals(doc, decl.jurisdiction)
        if doc.html is not None:
            doc.text = self._extractor.extract(doc.html)
            doc.html = None
        doc.text = doc.text.strip()
        if len(doc.text) < p.min_chars:
            yield _row(doc, "extract", "dropped", f"too little text: {len(doc.text)} chars < {p.min_chars}")
            return
        yield _row(doc, "extract", "kept", f"{len(doc.text)} chars")

        self._stage = "langid"
        # language ID (before quality: the heuristics depend on the language)
        doc.lang, doc.lang_score = self._lid.predict(doc.text)
        floor = p.min_score(doc.lang)
        if floor is None:
            yield _row(doc, "langid", "dropped", f"language {doc.lang} not in the policy's scope", score=doc.lang_score)
            return
        if doc.lang_score < floor:
            yield _row(
                doc, "langid", "dropped", f"language score {doc.lang_score:.3f} below {floor} for {doc.lang}",
                lang=doc.lang,
            )  # fmt: skip
            return
        yield _row(doc, "langid", "kept", doc.lang, score=doc.lang_score)

        self._stage = "quality"
        # quality heuristics
        if self._quality is not None and doc.source_type not in p.quality_exempt_source_types:
            ok, why = self._quality.check(doc.text, doc.lang)
            if not ok:
                yield _row(doc, "quality", "dropped", why)
                return
            yield _row(doc, "quality", "kept", why)

        self._stage = "residency"
        # residency: origin jurisdiction from evidence, then the policy's region
        doc.registrable_domain = registrable_domain(doc.url)
        doc.license = decl.license
        if not (yield from self._residency.place(doc, decl.jurisdiction, page, _row)):
            return

        self._stage = "admission"
        # admission: licence and collection date
        why = self._admission_refusal(doc)
        if why:
            yield _row(doc, "admission", "dropped", why)
            return
        yield _row(doc, "admission", "kept", f"licence {doc.license or 'unknown'}")

        self._stage = "takedown"
        doc.content_hash = content_hash(doc.text)
        if doc.content_hash in self._takedown_hashes:
            yield _row(doc, "takedown", "dropped", "takedown request: content hash")
            return
        yield "doc", doc

    def _takedown_hit(self, url: str) -> str | None:
        if _normalize_url(url) in self._takedown_urls:
            return "url"
        host = host_of(url) or ""
        labels = host.split(".")
        for i in range(len(labels) - 1):
            if ".".join(labels[i:]) in self._takedown_domains:
                return "domain " + ".".join(labels[i:])
        return None

    def _admission_refusal(self, doc: Document) -> str | None:
        p = self.policy
        if p.licenses:
            if doc.license is None:
                if p.unknown_license == "exclude":
                    return "licence unknown and the policy admits only listed licences"
            elif doc.license not in p.licenses:
                return f"licence {doc.license} is not admitted"
        if (p.collected_from or p.collected_to) and doc.collected_at:
            day = doc.collected_at[:10]
            if p.collected_from and day < p.collected_from:
                return f"collected {day}, before {p.collected_from}"
            if p.collected_to and day > p.collected_to:
                return f"collected {day}, after {p.collected_to}"
        return None
