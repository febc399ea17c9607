"""Origin evidence in the release report: per residency region the mix of bases and the distribution of confidence,
and the domains most often left unplaced (candidates for the policy's `residency.domains` table). From the ledger."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from html import escape

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


def render_origin_section(stats: dict | None) -> str:
    """An HTML fragment (tables only) for the report's residency section."""
    if not stats:
        return ""
    t = lambda x: escape(str(x), quote=True)
    th = lambda hs: "".join(f"<th>{t(h)}</th>" for h in hs)
    base_rows = "".join(f"<tr><td>{t(r)}</td><td>{t(b)}</td><td class='n'>{n:,}</td></tr>"
                        for r, c in stats["bases"].items() for b, n in c.items())  # fmt: skip
    conf_rows = "".join("<tr><td>" + t(r) + "</td>" + "".join(f"<td class='n'>{c[b]:,}</td>" for b in BUCKETS)
                        + "</tr>" for r, c in stats["confidence"].items())  # fmt: skip
    dom_rows = "".join(f"<tr><td><code>{t(d)}</code></td><td class='n'>{n:,}</td></tr>"
                       for d, n in stats["unplaced_domains"])  # fmt: skip
    none = "<tr><td>none</td></tr>"
    return (
        '<div id="origin-evidence"><h3>Origin basis per region</h3>'
        f"<table><thead><tr>{th(['region', 'basis', 'documents'])}</tr></thead><tbody>{base_rows or none}</tbody>"
        "</table><h3>Origin confidence per region</h3>"
        f"<table><thead><tr>{th(['region', *BUCKETS])}</tr></thead><tbody>{conf_rows or none}</tbody></table>"
        f"<h3>Top unplaced domains ({stats['unplaced_documents']:,} document(s) of unknown origin)</h3>"
        "<p>Add a domain to the policy's <code>residency.domains</code> table to place its pages.</p>"
        f"<table><thead><tr>{th(['domain', 'documents'])}</tr></thead><tbody>{dom_rows or none}</tbody></table>"
        "</div>"
    )
