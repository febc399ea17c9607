"""The residency step of the built-in stages (`builtin.PlacementStage`): origin jurisdiction from evidence, then
the policy's region.

With `residency.evidence` enabled (the default) the origin comes from `filters.origin` (source declaration, domain
table, then weighed signals); disabled, from the source declaration, domain table and ccTLD alone, as before. Either
way a document of unknown origin is quarantined or dropped as `residency.unknown_origin` says, and every decision's
ledger row names the signals, their weights and the confidence.
"""

from __future__ import annotations

from filters.document import Document
from filters.origin import EvidenceConfig, OriginEvidence, PageSignals, Signal
from filters.residency import origin_jurisdiction
from pipelines.stages.base import Decision
from schemas.policy import Policy

_UNKNOWN_DECISION = {"quarantine": "quarantined", "drop": "dropped"}


class ResidencyStage:
    def __init__(self, policy: Policy) -> None:
        self.policy = policy
        self.config = EvidenceConfig.from_policy(policy.origin_evidence)
        jurisdictions = tuple(j for r in policy.regions for j in r.jurisdictions)
        self.evidence = (
            OriginEvidence(self.config, jurisdictions, policy.domain_jurisdictions) if self.config.enabled else None
        )

    def page_signals(self, doc: Document, declared: str | None) -> PageSignals | None:
        """Signals only the archived response carries (server, markup): taken before extraction drops the markup."""
        if self.evidence is None or declared or doc.source_type != "web":
            return None
        return self.evidence.page_signals(doc.html, doc.http_headers, doc.url, doc.server_ip, doc.dns_ip)

    def decide(self, doc: Document, declared: str | None, page: list[Signal] | None) -> Decision:
        """The residency decision (kept when the document has a region: `doc.residency_region` is then set)."""
        p = self.policy
        unknown = _UNKNOWN_DECISION[p.unknown_origin]
        if self.evidence is None:
            doc.origin_jurisdiction, doc.origin_basis = origin_jurisdiction(doc.url, declared, p.domain_jurisdictions)
            detail = {"basis": doc.origin_basis}
            if doc.origin_jurisdiction is None:
                return Decision(unknown, "unknown origin jurisdiction: no source declaration, no ccTLD",
                                {"domain": doc.registrable_domain, **detail})  # fmt: skip
        else:
            d = self.evidence.decide(doc.url, declared, doc.text, doc.lang, page)
            doc.origin_jurisdiction, doc.origin_basis = d.country, d.basis
            detail = d.detail()
            if d.country is None:
                return Decision(unknown, f"unknown origin jurisdiction: {d.reason}",
                                {"domain": doc.registrable_domain, **detail})  # fmt: skip
        region = p.region_of.get(doc.origin_jurisdiction)
        if region is None:
            return Decision(
                "quarantined", f"origin {doc.origin_jurisdiction} ({doc.origin_basis}) is in no region of the policy",
                {"domain": doc.registrable_domain, **detail},
            )  # fmt: skip
        doc.residency_region = region
        return Decision("kept", f"{doc.origin_jurisdiction} ({doc.origin_basis}) -> {region}",
                        {"region": region, **detail})  # fmt: skip


def check_origin_evidence(policy: Policy):
    """Preflight: the IP-to-country database the policy's signals need is installed, loads and is fresh enough.
    Raises `filters.origin.OriginDatabaseError` naming the package; returns its `DatabaseInfo` (or None)."""
    from filters.origin import check_database

    cfg = EvidenceConfig.from_policy(policy.origin_evidence)
    return check_database(cfg.max_db_age_days) if cfg.needs_ip_database else None


def origin_manifest(policy: Policy) -> dict:
    """What the release manifest says about origin evidence: the settings and the IP database used."""
    from filters.origin import database_info

    cfg = EvidenceConfig.from_policy(policy.origin_evidence)
    out = {"enabled": cfg.enabled, "unknown_origin": policy.unknown_origin}
    if cfg.enabled:
        out |= {"min_confidence": cfg.min_confidence, "weights": dict(sorted(cfg.weights.items()))}
        if cfg.needs_ip_database:
            out["ip_database"] = database_info().to_json()
    return out
