"""Origin jurisdiction from ordered evidence, and the residency region the policy assigns to it.

Evidence, strongest first: the source's declaration in the policy (authoritative for archives), then the URL's
country-code TLD. A language alone never decides. No evidence means quarantine.
"""

from __future__ import annotations

from functools import lru_cache
from urllib.parse import urlsplit

from schemas.jurisdictions import cctld_to_jurisdiction


@lru_cache(maxsize=1)
def _tld_extractor():
    import tldextract

    # the bundled public-suffix snapshot only: no list is fetched at run time
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


def offline_tldextract() -> None:
    """Make module-level `tldextract.extract` (used by Presidio's e-mail recognizer) offline as well."""
    import tldextract

    tldextract.extract = _tld_extractor()
    tldextract.tldextract.TLD_EXTRACTOR = _tld_extractor()


def host_of(url: str | None) -> str | None:
    if not url:
        return None
    try:
        host = urlsplit(url.strip()).hostname
    except ValueError:
        return None
    return host.rstrip(".").lower() if host else None


def registrable_domain(url: str | None) -> str | None:
    host = host_of(url)
    if not host:
        return None
    ext = _tld_extractor()(host)
    if ext.domain and ext.suffix:
        return f"{ext.domain}.{ext.suffix}"
    return host


def origin_jurisdiction(
    url: str | None, declared: str | None, domain_table: dict[str, str] | None = None
) -> tuple[str | None, str]:
    """(jurisdiction or None, basis). Basis is one of: registry, domain-table, cctld, none.

    The domain table maps a host or any parent domain (`yle.fi`, `bbc.com`) to a jurisdiction; the longest match wins.
    """
    if declared:
        return declared, "registry"
    host = host_of(url)
    if host and domain_table:
        labels = host.split(".")
        for i in range(len(labels) - 1):
            j = domain_table.get(".".join(labels[i:]))
            if j:
                return j, "domain-table"
    if host and "." in host and not host.replace(".", "").isdigit():
        j = cctld_to_jurisdiction(host.rsplit(".", 1)[-1])
        if j:
            return j, "cctld"
    return None, "none"
