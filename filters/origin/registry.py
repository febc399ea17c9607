"""Registry signals from the URL alone: public second-level domains (gov.uk, gouv.fr, ac.jp …) and the country-code
TLD, with ccTLDs sold as brands (.io, .co, .tv, .me, .ai …) treated as generic. The policy's domain table is applied
by the combiner's caller before any weighing (an officer's entry is authoritative)."""

from __future__ import annotations

from filters.origin.countries import BRAND_CCTLDS, PUBLIC_SUFFIXES
from filters.origin.model import Signal
from schemas.jurisdictions import cctld_to_jurisdiction


def domain_table_match(host: str | None, table: dict[str, str] | None) -> tuple[str, str] | None:
    """(suffix, jurisdiction) of the longest entry of the table that is the host or one of its parents."""
    if not host or not table:
        return None
    labels = host.split(".")
    for i in range(len(labels) - 1):
        suffix = ".".join(labels[i:])
        if suffix in table:
            return suffix, table[suffix]
    return None


def registry_signals(host: str | None, weights) -> list[Signal]:
    if not host or "." not in host or host.replace(".", "").isdigit():
        return []
    out = []
    labels = host.split(".")
    w = weights.get("public_suffix", 0.0)
    if w > 0:
        for i in range(1, len(labels)):
            suffix = ".".join(labels[i:])
            if suffix in PUBLIC_SUFFIXES:
                out.append(Signal("public_suffix", PUBLIC_SUFFIXES[suffix], suffix, w))
                break
    tld = labels[-1]
    w = weights.get("cctld", 0.0)
    if w > 0 and tld not in BRAND_CCTLDS:
        cc = cctld_to_jurisdiction(tld)
        if cc:
            out.append(Signal("cctld", cc, "." + tld, w))
    return out
