"""Per-document stages in the order of the design brief, wired to the pure logic in `filters/`.

`DocumentStages.process(doc)` runs rights, extraction, quality, language ID, residency and admission, yielding
("doc", Document) for a document that goes on and ("ledger", row) for every decision. Models load once per worker.
"""

from __future__ import annotations

from collections.abc import Iterator

from filters.document import Document, content_hash
from filters.residency import origin_jurisdiction, registrable_domain
from filters.rights import web_rights
from pipelines.ledger import ledger_row
from schemas.policy import Policy


def _row(doc: Document, stage: str, decision: str, reason: str, **detail) -> tuple[str, dict]:
    nbytes = len(doc.text.encode("utf-8", "replace")) if doc.text else doc.raw_bytes
    return "ledger", ledger_row(
        doc.doc_id, stage, decision, reason, doc.source_id, doc.input_path, detail or None, nbytes
    )


class DocumentStages:
    def __init__(self, policy: Policy, lid_model_path: str | None = None) -> None:
        self.policy = policy
        self.lid_model_path = lid_model_path
        self._extractor = None
        self._lid = None
        self._quality = None

    def setup(self) -> None:
        from filters.extract import get_extractor
        from filters.langid import LanguageIdentifier
        from filters.quality import QualityFilter
        from filters.residency import offline_tldextract

        offline_tldextract()
        self._extractor = get_extractor(self.policy.html_extractor)
        self._lid = LanguageIdentifier(self.lid_model_path)
        self._quality = QualityFilter(self.policy.quality_filters) if self.policy.quality_enabled else None

    def process(self, doc: Document) -> Iterator[tuple[str, object]]:
        if self._lid is None:
            self.setup()
        p = self.policy
        decl = p.source(doc.source_id)

        # rights: reservations on the archived response come first, before any text work
        if doc.source_type == "web":
            doc.rights_status, doc.rights_basis = web_rights(doc.http_headers, doc.html)
        else:
            doc.rights_status, doc.rights_basis = "allowed", "source-declaration" if decl.license else "archive-source"
        if doc.rights_status != "allowed":
            yield _row(doc, "rights", "dropped", f"rights {doc.rights_status}: {doc.rights_basis}")
            return
        yield _row(doc, "rights", "kept", doc.rights_basis)

        # extraction
        if doc.html is not None:
            doc.text = self._extractor.extract(doc.html)
            doc.html = None
        doc.text = doc.text.strip()
        if len(doc.text) < p.min_chars:
            yield _row(doc, "extract", "dropped", f"too little text: {len(doc.text)} chars < {p.min_chars}")
            return
        yield _row(doc, "extract", "kept", f"{len(doc.text)} chars")

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

        # quality heuristics
        if self._quality is not None and doc.source_type not in p.quality_exempt_source_types:
            ok, why = self._quality.check(doc.text, doc.lang)
            if not ok:
                yield _row(doc, "quality", "dropped", why)
                return
            yield _row(doc, "quality", "kept", why)

        # residency: origin jurisdiction from evidence, then the policy's region
        doc.registrable_domain = registrable_domain(doc.url)
        doc.origin_jurisdiction, doc.origin_basis = origin_jurisdiction(doc.url, decl.jurisdiction)
        doc.license = decl.license
        if doc.origin_jurisdiction is None:
            yield _row(doc, "residency", "quarantined", "unknown origin jurisdiction: no source declaration, no ccTLD")
            return
        region = p.region_of.get(doc.origin_jurisdiction)
        if region is None:
            yield _row(
                doc, "residency", "quarantined",
                f"origin {doc.origin_jurisdiction} ({doc.origin_basis}) is in no region of the policy",
            )  # fmt: skip
            return
        doc.residency_region = region
        yield _row(doc, "residency", "kept", f"{doc.origin_jurisdiction} ({doc.origin_basis}) -> {region}")

        doc.content_hash = content_hash(doc.text)
        yield "doc", doc
