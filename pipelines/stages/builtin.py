"""The built-in per-document stages, in the order of the design brief, each a `Stage` over the pure logic in
`filters/`: takedown (URL and domain), rights, extraction, language ID, quality, residency, admission, and the closing
content-hash step (the content hash, then takedown by hash). `builtin_stages(policy, ...)` builds them in that order;
`DocumentStages` runs them with any extra stages of the policy in between.
"""

from __future__ import annotations

from filters.document import Document, content_hash
from filters.extract.boilerplate import strip_gutenberg
from filters.residency import host_of, registrable_domain
from filters.rights import DEFAULT_AI_CRAWLERS, RightsConfig, RightsSnapshot, evaluate_rights
from pipelines.stages.base import Decision, Stage
from pipelines.stages.residency import ResidencyStage
from schemas.policy import Policy

# The per-document stages an extra stage may follow (`after:`), in the order they run. The content-hash step always
# runs last, after every extra stage (a stage may change the text), and is no anchor.
BUILTIN_STAGES = ("takedown", "rights", "extract", "langid", "quality", "residency", "admission")

_RIGHTS_DECISION = {"exclude": "dropped", "quarantine": "quarantined"}


def _normalize_url(url: str) -> str:
    return url.strip().rstrip("/").lower()


class TakedownStage(Stage):
    """Takedown requests by URL or domain, before any work on the document (no row when none applies)."""

    name = "takedown"

    def __init__(self, policy: Policy) -> None:
        td = policy.takedown
        self.urls = {_normalize_url(u) for u in td.urls}
        self.domains = set(td.domains)

    def decide(self, doc: Document) -> Decision | None:
        if (self.urls or self.domains) and doc.url:
            hit = self._hit(doc.url)
            if hit:
                return Decision("dropped", f"takedown request: {hit}")
        return None

    def _hit(self, url: str) -> str | None:
        if _normalize_url(url) in self.urls:
            return "url"
        host = host_of(url) or ""
        labels = host.split(".")
        for i in range(len(labels) - 1):
            if ".".join(labels[i:]) in self.domains:
                return "domain " + ".".join(labels[i:])
        return None


class RightsStage(Stage):
    """Reservations on the archived response (TDM opt-out, robots, noai) come first, before any text work."""

    name = "rights"

    def __init__(self, policy: Policy, snapshots: dict[str, RightsSnapshot] | None = None) -> None:
        self.policy = policy
        self.snapshots = snapshots or {}
        r = policy.rights
        self.config = RightsConfig(
            ai_crawlers=r.ai_crawlers or DEFAULT_AI_CRAWLERS,
            robots_wildcard_counts=r.robots_wildcard_counts,
            content_usage_categories=r.content_usage_categories,
        )

    def decide(self, doc: Document) -> Decision:
        p = self.policy
        if doc.source_type == "web":
            snapshot = self.snapshots.get(host_of(doc.url) or "")
            doc.rights_status, doc.rights_basis = evaluate_rights(
                doc.url, doc.http_headers, doc.html, snapshot, self.config
            )
        else:
            licensed = p.source(doc.source_id).license
            doc.rights_status, doc.rights_basis = "allowed", "source-declaration" if licensed else "archive-source"
        detail = {"status": doc.rights_status, "basis": doc.rights_basis}
        if doc.rights_status == "allowed":
            return Decision("kept", doc.rights_basis, detail)
        treatment = p.rights.reserved if doc.rights_status == "reserved" else p.rights.unknown
        if treatment != "allow":
            return Decision(_RIGHTS_DECISION[treatment], f"rights {doc.rights_status}: {doc.rights_basis}", detail)
        return Decision("kept", f"rights {doc.rights_status} ({doc.rights_basis}) allowed by policy", detail)


class ExtractStage(Stage):
    """HTML → text. The residency step's markup signals are taken first (extraction drops the markup) and kept for
    the residency stage of the same document."""

    name = "extract"

    def __init__(self, policy: Policy, residency: ResidencyStage) -> None:
        self.policy = policy
        self.residency = residency
        self._extractor = None
        self.page_doc: Document | None = None  # the document `page` belongs to
        self.page = None

    def setup(self) -> None:
        from filters.extract import get_extractor

        self._extractor = get_extractor(self.policy.html_extractor)

    def decide(self, doc: Document) -> Decision:
        self.page_doc, self.page = doc, None
        self.page = self.residency.page_signals(doc, self.policy.source(doc.source_id).jurisdiction)
        if doc.html is not None:
            doc.text = self._extractor.extract(doc.html)
            doc.html = None
        doc.text = doc.text.strip()
        cut = strip_gutenberg(doc.text) if self.policy.strip_gutenberg else None
        if cut is not None:
            doc.text = cut[0]
        n, floor = len(doc.text), self.policy.min_chars
        if n < floor:
            return Decision("dropped", f"too little text: {n} chars < {floor}")
        if cut is not None:
            return Decision("kept", f"{n} chars; Project Gutenberg header and licence cut off",
                            {"boilerplate_chars": cut[1]})  # fmt: skip
        return Decision("kept", f"{n} chars")


class LanguageStage(Stage):
    """Language ID (before quality: the heuristics depend on the language) against the policy's scope and floors."""

    name = "langid"

    def __init__(self, policy: Policy, model_path: str | None = None) -> None:
        self.policy = policy
        self.model_path = model_path
        self._lid = None

    def setup(self) -> None:
        from filters.langid import LanguageIdentifier

        self._lid = LanguageIdentifier(self.model_path)

    def decide(self, doc: Document) -> Decision:
        doc.lang, doc.lang_score = self._lid.predict(doc.text)
        floor = self.policy.min_score(doc.lang)
        if floor is None:
            return Decision("dropped", f"language {doc.lang} not in the policy's scope", {"score": doc.lang_score})
        if doc.lang_score < floor:
            return Decision("dropped", f"language score {doc.lang_score:.3f} below {floor} for {doc.lang}",
                            {"lang": doc.lang})  # fmt: skip
        return Decision("kept", doc.lang, {"score": doc.lang_score})


class QualityStage(Stage):
    """The quality heuristics (no row when quality is off or the source type is exempt)."""

    name = "quality"

    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self._quality = None

    def setup(self) -> None:
        from filters.quality import QualityFilter

        p = self.policy
        self._quality = QualityFilter(
            p.quality_filters, alpha_over=p.quality_alpha_ratio_over, long_documents=p.quality_long_documents,
            long_document_words=p.quality_long_document_words,
        ) if p.quality_enabled else None  # fmt: skip

    def decide(self, doc: Document) -> Decision | None:
        if self._quality is None or doc.source_type in self.policy.quality_exempt_source_types:
            return None
        ok, why = self._quality.check(doc.text, doc.lang)
        return Decision("kept" if ok else "dropped", why)


class PlacementStage(Stage):
    """Residency: origin jurisdiction from evidence, then the policy's region (`pipelines.stages.residency`)."""

    name = "residency"

    def __init__(self, policy: Policy, residency: ResidencyStage, extract: ExtractStage) -> None:
        self.policy = policy
        self.residency = residency
        self.extract = extract

    def decide(self, doc: Document) -> Decision:
        decl = self.policy.source(doc.source_id)
        doc.registrable_domain = registrable_domain(doc.url)
        doc.license = decl.license
        page = self.extract.page if self.extract.page_doc is doc else None
        return self.residency.decide(doc, decl.jurisdiction, page)


class AdmissionStage(Stage):
    """The policy's admission rules: licence and collection date."""

    name = "admission"

    def __init__(self, policy: Policy) -> None:
        self.policy = policy

    def decide(self, doc: Document) -> Decision:
        why = self._refusal(doc)
        if why:
            return Decision("dropped", why)
        return Decision("kept", f"licence {doc.license or 'unknown'}")

    def _refusal(self, doc: Document) -> str | None:
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


class ContentHashStage(Stage):
    """The closing step: the content hash dedup keys on (of the final text), then takedown requests by hash. Its
    ledger stage is `takedown` (no row unless the hash is listed)."""

    name = "takedown"

    def __init__(self, policy: Policy) -> None:
        self.hashes = set(policy.takedown.content_hashes)

    def decide(self, doc: Document) -> Decision | None:
        doc.content_hash = content_hash(doc.text)
        if doc.content_hash in self.hashes:
            return Decision("dropped", "takedown request: content hash")
        return None


def builtin_stages(
    policy: Policy, lid_model_path: str | None = None, snapshots: dict[str, RightsSnapshot] | None = None
) -> tuple[list[Stage], Stage]:
    """The built-in stages named in `BUILTIN_STAGES`, in that order, and the closing content-hash step."""
    residency = ResidencyStage(policy)
    extract = ExtractStage(policy, residency)
    stages = [TakedownStage(policy), RightsStage(policy, snapshots), extract, LanguageStage(policy, lid_model_path),
              QualityStage(policy), PlacementStage(policy, residency, extract), AdmissionStage(policy)]  # fmt: skip
    return stages, ContentHashStage(policy)
