"""Server location: the archived response's IP address (WARC-IP-Address, or an A/AAAA answer of a `dns:` record in
the same WARC) looked up in the offline IP-to-country table of the `iptocc` package.

`iptocc` embeds the five Regional Internet Registries' delegation files in its wheel (MIT OR Apache-2.0; the RIR
statistics are published for free reuse), so nothing is fetched at run time. The country is the one the registry
assigned the block to, which for content-delivery networks is often not where the publisher is: the signal is
deliberately of middling weight.
"""

from __future__ import annotations

import ipaddress
import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache

from filters.origin.model import Signal

IP_DATABASE_PACKAGE = "iptocc"


class OriginDatabaseError(RuntimeError):
    """The IP-to-country database is missing, unreadable or older than the policy allows."""


@dataclass(frozen=True)
class DatabaseInfo:
    package: str
    version: str
    data_date: str  # ISO day the embedded registry data was built

    def to_json(self) -> dict:
        return {"package": self.package, "version": self.version, "data_date": self.data_date,
                "source": "RIR delegation statistics (AFRINIC, APNIC, ARIN, LACNIC, RIPE NCC)"}  # fmt: skip


def database_info(package: str | None = None) -> DatabaseInfo:
    """Name, version and data date of the installed database; raises `OriginDatabaseError` naming the package."""
    from importlib import metadata

    package = package or IP_DATABASE_PACKAGE
    try:
        dist = metadata.distribution(package)
    except metadata.PackageNotFoundError:
        raise OriginDatabaseError(
            f"the IP-to-country database package {package!r} is not installed (pip install {package}); or turn the "
            "server-location signals off with residency.evidence.weights.server_ip: 0 and dns_ip: 0"
        ) from None
    stamp = None
    for f in dist.files or ():
        if f.name.endswith(".cyclonedx.json"):  # the build's SBOM: the registry data is refreshed at each build
            try:
                stamp = json.loads(f.read_text())["metadata"]["timestamp"][:10]
            except (OSError, KeyError, ValueError, TypeError):
                stamp = None
    if not stamp:
        raise OriginDatabaseError(f"the IP-to-country database package {package!r} {dist.version} carries no data "
                                  "date (its SBOM timestamp is missing): cannot tell whether it is stale")  # fmt: skip
    try:
        _lookup_function(package)("8.8.8.8")
    except Exception as exc:  # noqa: BLE001 - any failure to load the table is the same preflight error
        raise OriginDatabaseError(f"the IP-to-country database package {package!r} cannot be loaded: {exc}") from None
    return DatabaseInfo(package, dist.version, stamp)


def check_database(max_age_days: int, today: date | None = None, package: str | None = None) -> DatabaseInfo:
    """Preflight: the database is installed, loads, and its data is at most `max_age_days` old."""
    info = database_info(package)
    age = ((today or date.today()) - datetime.strptime(info.data_date, "%Y-%m-%d").date()).days
    if age > max_age_days:
        raise OriginDatabaseError(
            f"the IP-to-country database of package {info.package!r} {info.version} is dated {info.data_date}, "
            f"{age} days old, over residency.evidence.ip_database.max_age_days ({max_age_days}); upgrade the "
            f"package (pip install -U {info.package}) or raise the limit"
        )
    return info


@lru_cache(maxsize=2)
def _lookup_function(package: str):
    import importlib

    return importlib.import_module(package).country_code


@lru_cache(maxsize=65536)
def ip_country(ip: str) -> str | None:
    """ISO country the address block is registered to, or None (private, reserved, malformed or unassigned)."""
    try:
        addr = ipaddress.ip_address(ip.strip())
    except ValueError:
        return None
    if not addr.is_global:
        return None
    cc = _lookup_function(IP_DATABASE_PACKAGE)(str(addr))
    return cc.upper() if cc and len(cc) == 2 and cc.isalpha() else None


def server_signals(server_ip: str | None, dns_ip: str | None, weights) -> list[Signal]:
    out = []
    for name, ip in (("server_ip", server_ip), ("dns_ip", dns_ip)):
        w = weights.get(name, 0.0)
        if ip and w > 0:
            cc = ip_country(ip)
            if cc:
                out.append(Signal(name, cc, ip, w))
    return out


def parse_dns_record(payload: bytes) -> list[tuple[str, str]]:
    """(host, address) pairs of the A and AAAA answers in a `text/dns` WARC payload (wget and Heritrix write one
    resource record per line: `name TTL class type data`, after a timestamp line). Bad lines are skipped."""
    out = []
    for line in payload.decode("utf-8", "replace").splitlines():
        parts = line.split()
        if len(parts) >= 5 and parts[-2].upper() in ("A", "AAAA"):
            try:
                ipaddress.ip_address(parts[-1])
            except ValueError:
                continue
            out.append((parts[0].rstrip(".").lower(), parts[-1]))
    return out
