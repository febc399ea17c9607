"""Origin evidence in the release report: per residency region the mix of bases and the distribution of confidence,
and the domains most often left unplaced (candidates for the policy's `residency.domains` table). From the ledger."""

from __future__ import annotations

import json
from collections import Counter, defaultdict

BUCKETS = ("1.0", "0.9–1.0", "0.7–0.9", "0.5–0.7", "below 0.5")


def _bucket(c: float) -> str:
    if c >= 1.0:
        return "1.0"
    if c >= 0.9:
        return "0.9–1.0"
    if c >= 0.7:
        return "0.7–0.9"
    if c >= 0.5:
        return "0.5–0.7"
    return "below 0.5"


def origin_stats(ledger, top: int = 20) -> dict:
    """Counts from the `residency` ledger rows (a pyarrow table of `schemas.LEDGER_SCHEMA`)."""
    import pyarrow.compute as pc

    rows = ledger.filter(pc.equal(ledger["stage"], "residency")).select(["decision", "reason", "detail"]).to_pylist()
    bases: dict[str, Counter] = defaultdict(Counter)
    conf: dict[str, Counter] = defaultdict(Counter)
    unplaced: Counter = Counter()
    for r in rows:
        d = json.loads(r["detail"]) if r["detail"] else {}
        if r["decision"] == "kept":
            region = d.get("region", "?")
            bases[region][d.get("basis", "?")] += 1
            if "confidence" in d:
                conf[region][_bucket(float(d["confidence"]))] += 1
        elif r["reason"].startswith("unknown origin"):
            unplaced[d.get("domain") or "(no domain)"] += 1
    return {
        "bases": {r: dict(c.most_common()) for r, c in sorted(bases.items())},
        "confidence": {r: {b: conf[r].get(b, 0) for b in BUCKETS} for r in sorted(conf)},
        "unplaced_documents": sum(unplaced.values()),
        "unplaced_domains": unplaced.most_common(top),
    }


def origin_context(stats: dict | None) -> dict:
    """What the template `report_origin.html.j2` needs from `origin_stats` (nothing is shown when `stats` is empty)."""
    if not stats:
        return {"origin": None}
    return {"origin": {
        "bases": [(r, b, n) for r, c in stats["bases"].items() for b, n in c.items()],
        "buckets": list(BUCKETS),
        "confidence": [(r, [c[b] for b in BUCKETS]) for r, c in stats["confidence"].items()],
        "unplaced_documents": stats["unplaced_documents"],
        "unplaced_domains": stats["unplaced_domains"],
    }}  # fmt: skip
