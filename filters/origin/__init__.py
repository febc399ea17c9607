"""Origin evidence: where a document comes from, from independent offline signals combined into one decision.

One module per signal family (`registry`, `server`, `locale`, `content`) and a combiner (`combine`); `OriginEvidence`
is the one entry point the pipeline uses. Plain Python: no Beam, no network.

    ev = OriginEvidence(config, policy_jurisdictions, domain_table)
    page = ev.page_signals(html, headers, url, server_ip, dns_ip)   # before extraction drops the markup
    decision = ev.decide(url, declared, text, lang, page)           # after language ID
"""

from __future__ import annotations

from filters.origin.combine import combine, confidences
from filters.origin.contact import PageSignals, contact_text, footer_phones, page_language, text_signals
from filters.origin.content import content_signals
from filters.origin.locale import check_tag_languages, locale_signals
from filters.origin.model import (
    DEFAULT_MIN_CONFIDENCE,
    DEFAULT_WEIGHTS,
    SIGNAL_FAMILIES,
    EvidenceConfig,
    OriginDecision,
    Signal,
)
from filters.origin.registry import domain_table_match, registry_signals
from filters.origin.server import (
    IP_DATABASE_PACKAGE,
    OriginDatabaseError,
    check_database,
    database_info,
    parse_dns_record,
    server_signals,
)


def _host(url: str | None) -> str | None:
    from filters.residency import host_of

    return host_of(url)


class OriginEvidence:
    """Collects signals for one document at a time and decides its origin jurisdiction."""

    def __init__(self, config: EvidenceConfig, jurisdictions: tuple[str, ...], domain_table: dict[str, str] | None):
        self.config = config
        self.weights = {k: v for k, v in config.weights.items() if v > 0}
        self.jurisdictions = tuple(sorted(set(jurisdictions)))
        self.domain_table = domain_table or {}

    def page_signals(self, html: str | None, headers: dict[str, str], url: str | None, server_ip: str | None = None,
                     dns_ip: str | None = None) -> PageSignals:  # fmt: skip
        """Signals of the archived response: server location, declared locale and the contact details of the page's
        footer (all need the markup, which extraction drops); the contact text rides along for `decide`."""
        contact, lang = contact_text(html), page_language(html)
        return PageSignals(server_signals(server_ip, dns_ip, self.weights) + locale_signals(html, headers, url, self.weights)
                           + text_signals(contact, lang, self.jurisdictions, self.weights), contact, lang)  # fmt: skip

    def decide(self, url: str | None, declared: str | None, text: str, lang: str | None,
               page: list[Signal] | None = None) -> OriginDecision:  # fmt: skip
        """The source's declaration and the policy's domain table are authoritative; otherwise every signal is
        weighed (registry, page, content) and the combiner decides."""
        if declared:
            return OriginDecision(declared, "registry", 1.0, (), ("source_declaration",))
        host = _host(url)
        hit = domain_table_match(host, self.domain_table)
        if hit:
            return OriginDecision(hit[1], "domain-table", 1.0, (Signal("domain_table", hit[1], hit[0], 1.0),),
                                  ("domain_table",))  # fmt: skip
        signals = registry_signals(host, self.weights) + check_tag_languages(list(page or ()), lang)
        signals += footer_phones(page, lang, self.jurisdictions, self.weights)
        signals += content_signals(text, lang, self.jurisdictions, self.weights)
        return combine(signals, self.config.min_confidence)


SIGNAL_FAMILIES["domain_table"] = "registry"

__all__ = [
    "DEFAULT_MIN_CONFIDENCE", "DEFAULT_WEIGHTS", "IP_DATABASE_PACKAGE", "SIGNAL_FAMILIES", "EvidenceConfig",
    "OriginDatabaseError", "OriginDecision", "OriginEvidence", "PageSignals", "Signal", "check_database", "combine", "confidences",
    "database_info", "parse_dns_record",
]  # fmt: skip
