"""The vocabulary of origin evidence: one `Signal` per observation, grouped in families, and the policy's settings.

A signal says "this page points to country X" with a weight in [0, 1]; signals of one family (say the three
declared-locale tags) are not independent, so the combiner counts only the strongest of a family per country.
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: signal → family. Families are what the combiner treats as independent witnesses.
SIGNAL_FAMILIES: dict[str, str] = {
    "public_suffix": "registry",
    "cctld": "registry",
    "server_ip": "server",
    "dns_ip": "server",
    "content_language": "locale",
    "html_lang": "locale",
    "hreflang": "locale",
    "og_locale": "locale",
    "geo_region": "geo",
    "icbm": "geo",
    "schema_address": "geo",
    "phone": "phone",
    "postal_address": "postal",
    "iban": "iban",
    "currency": "currency",
    "language": "language",
}

#: default weights (docs/residency.md explains each, and how they were tuned on the benchmark corpus)
DEFAULT_WEIGHTS: dict[str, float] = {
    "public_suffix": 0.99,
    "cctld": 0.95,
    "server_ip": 0.4,
    "dns_ip": 0.4,
    "content_language": 0.35,
    "html_lang": 0.35,
    "hreflang": 0.35,
    "og_locale": 0.35,
    "geo_region": 0.5,
    "icbm": 0.4,
    "schema_address": 0.5,
    "phone": 0.4,
    "postal_address": 0.45,
    "iban": 0.3,
    "currency": 0.2,
    "language": 0.25,
}

#: countries whose registries hold the address blocks of the large content-delivery networks and clouds: a server
#: there is no evidence against another country (a German site on a US-registered CDN), though it counts in full
#: for its own
HOSTING_HUBS = frozenset({"US", "IE", "NL", "GB", "DE"})
HUB_OPPOSITION = 0.0

DEFAULT_MIN_CONFIDENCE = 0.5
DEFAULT_MAX_DB_AGE_DAYS = 400


@dataclass(frozen=True)
class Signal:
    """One observation: `name` (a key of SIGNAL_FAMILIES), the `country` it points to, `value` (what was seen, never
    raw personal data: a phone is recorded by its country prefix, an address by its postcode format) and `weight`."""

    name: str
    country: str
    value: str
    weight: float

    @property
    def family(self) -> str:
        return SIGNAL_FAMILIES[self.name]

    def to_json(self) -> dict:
        return {"signal": self.name, "country": self.country, "value": self.value, "weight": self.weight}


@dataclass(frozen=True)
class EvidenceConfig:
    """What the policy says about origin evidence (`residency.evidence`)."""

    enabled: bool = True
    weights: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    min_confidence: float = DEFAULT_MIN_CONFIDENCE
    max_db_age_days: int = DEFAULT_MAX_DB_AGE_DAYS

    def weight(self, name: str) -> float:
        return self.weights.get(name, 0.0)

    def counts(self, name: str) -> bool:
        return self.weights.get(name, 0.0) > 0.0

    @property
    def needs_ip_database(self) -> bool:
        return self.enabled and (self.counts("server_ip") or self.counts("dns_ip"))

    @classmethod
    def from_policy(cls, rules) -> EvidenceConfig:
        """From the policy's `OriginEvidenceRules`: the listed signals (all by default), defaults overridden."""
        names = rules.signals if rules.signals is not None else tuple(DEFAULT_WEIGHTS)
        weights = {n: float(rules.weights.get(n, DEFAULT_WEIGHTS[n])) for n in names}
        return cls(
            enabled=rules.enabled,
            weights=weights,
            min_confidence=rules.min_confidence if rules.min_confidence is not None else DEFAULT_MIN_CONFIDENCE,
            max_db_age_days=rules.max_db_age_days if rules.max_db_age_days is not None else DEFAULT_MAX_DB_AGE_DAYS,
        )


@dataclass(frozen=True)
class OriginDecision:
    """The combined verdict: `country` is None when nothing reached `min_confidence` (then `reason` says why)."""

    country: str | None
    basis: str
    confidence: float
    signals: tuple[Signal, ...] = ()
    supporting: tuple[str, ...] = ()
    reason: str = ""

    def detail(self) -> dict:
        """Ledger detail: every signal seen, which ones placed the document, and the confidence."""
        return {
            "confidence": self.confidence,
            "basis": self.basis,
            "placed_by": list(self.supporting),
            "signals": [s.to_json() for s in self.signals],
        }
