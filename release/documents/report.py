"""The release report: one static HTML page that opens from disk with no network (inline CSS, inline SVG charts),
rendered from the template `templates/report.html.j2` (with `report_gate.html.j2`, `report_origin.html.j2`, the
macros of `report_macros.html.j2` and the style sheet `report.css`).

It shows counts, reasons, places and checksums only; document text never enters it.
"""

from __future__ import annotations

from pathlib import Path

from release.documents.gate import gate_context
from release.documents.origin import origin_context
from release.documents.templating import render
from release.stats import ReleaseStats

DECISION_COLORS = {"kept": "#2f7d32", "redacted": "#1565c0", "dropped": "#9e9e9e", "quarantined": "#ef6c00",
                   "error": "#c62828"}  # fmt: skip


def render_report(path: Path, manifest: dict, stats: ReleaseStats, gate_results: list[dict], policy) -> None:
    """Write `report/index.html` for a release from its manifest, statistics, gate results and policy."""
    path.write_text(render("report.html.j2", **_context(manifest, stats, gate_results, policy)), encoding="utf-8")


def _bar_chart(items: list[tuple[str, int]], title: str, color: str = "#1565c0", width: int = 640) -> dict:
    """Geometry of a horizontal bar chart: one bar per (label, value), scaled to the largest value."""
    top = max((v for _, v in items), default=0) or 1
    h, label_w = 22, 150
    bars = []
    for i, (label, v) in enumerate(items):
        w = max(1, int((width - label_w - 70) * v / top))
        y = i * h + 4
        bars.append({"label": label, "value": v, "y": y, "text_y": y + 14, "w": w, "value_x": label_w + w + 6})
    return {"title": title, "color": color, "width": width, "height": h * len(items) + 8, "label_x": label_w - 6,
            "bar_x": label_w, "bar_h": h - 6, "bars": bars}  # fmt: skip


def _funnel_chart(funnel: dict[str, dict[str, int]], stages: list[str], width: int = 760) -> dict:
    """Geometry of the funnel: one stacked bar per stage (pipeline order), one segment per decision with rows."""
    top = max((sum(funnel[s].values()) for s in stages), default=0) or 1
    h, label_w = 26, 90
    rows = []
    for i, s in enumerate(stages):
        y, x = i * h + 4, label_w
        segments = []
        for decision, color in DECISION_COLORS.items():
            n = funnel[s].get(decision, 0)
            if not n:
                continue
            w = max(1, int((width - label_w - 80) * n / top))
            segments.append({"decision": decision, "n": n, "color": color, "x": x, "w": w})
            x += w
        rows.append({"stage": s, "y": y, "text_y": y + 15, "segments": segments, "total": sum(funnel[s].values()),
                     "total_x": x + 6})  # fmt: skip
    return {"width": width, "height": h * len(stages) + 8, "label_x": label_w - 6, "bar_h": h - 8, "rows": rows,
            "colors": DECISION_COLORS}  # fmt: skip


def _cards(manifest: dict, stats: ReleaseStats) -> list[tuple[str, str, str]]:
    """The summary cards: (label, value, colour class)."""
    c, gate = stats.counts, manifest["gate"]
    return [
        ("documents published", f"{c.documents_published:,}", "ok"),
        ("documents dropped", f"{c.documents_dropped:,}", ""),
        ("documents quarantined", f"{c.documents_quarantined:,}", "warn" if c.documents_quarantined else ""),
        ("input files", f"{c.input_files:,}", ""),
        ("files with errors", f"{c.input_files_with_errors:,}", "bad" if c.input_files_with_errors else ""),
        ("shards passed / quarantined", f"{gate['shards_passed']} / {gate['shards_quarantined']}",
         "ok" if not manifest["quarantined_shards"] else "warn"),
    ]  # fmt: skip


def _funnel_rows(stats: ReleaseStats) -> list[dict]:
    rows = []
    for s in stats.stage_names():  # pipeline order, a policy's extra stages after those they follow
        f, fb = stats.funnel[s], stats.funnel_bytes.get(s, {})
        rows.append({"stage": s, "counts": [f.get(d, 0) for d in DECISION_COLORS], "bytes_in": sum(fb.values()),
                     "bytes_kept": fb.get("kept", 0) + fb.get("redacted", 0)})  # fmt: skip
    return rows


def _region_rows(manifest: dict, stats: ReleaseStats, policy) -> list[dict]:
    storage = {r.name: None for r in policy.regions}
    for s in manifest["shards"]:
        storage[s["residency_region"]] = s["storage"]
    return [{"region": r, "jurisdictions": ", ".join(policy.region(r).jurisdictions), "storage": storage.get(r) or "",
             "documents": n} for r, n in stats.regions]  # fmt: skip


def _pii_rows(stats: ReleaseStats) -> list[dict]:
    tiers: dict[str, dict[str, int]] = {}
    for k, tier, n in stats.pii_tiers:
        tiers.setdefault(k, {})[tier] = n
    return [{"entity": k, "redacted": v} | {t: tiers.get(k, {}).get(t, 0) for t in ("validated", "pattern", "ner")}
            for k, v in stats.counts.pii_redacted.items()]  # fmt: skip


def _names_rows(stats: ReleaseStats, policy) -> list[dict]:
    from filters.ner import names_by_language

    return [{"language": r["language"], "documents": r["documents"], "names": r["names"],
             "pipeline": " ".join(x for x in (r["pipeline"], r["pipeline_version"]) if x) or "none"}
            for r in names_by_language(policy.pii_ner, stats.languages, policy.languages)]  # fmt: skip


def _held_back(manifest: dict) -> list[dict]:
    return [{"path": h["path"], "residency_region": h["residency_region"], "rows": h["rows"],
             "failed": ", ".join(f"{k}: {v:,}" for k, v in h["failed_expectations"].items()),
             "inputs": list(h.get("inputs", {}).items())}
            for h in manifest.get("quarantined_documents", [])]  # fmt: skip


def _context(manifest: dict, stats: ReleaseStats, gate_results: list[dict], policy) -> dict:
    # documents that left (or failed): redactions stay in the PII section, the documents went on
    reasons = [{"stage": k.split("/")[0], "decision": k.split("/")[1], "reason": r, "documents": n,
                "samples": stats.reason_samples.get(k, {}).get(r, [])}
               for k, lst in stats.reasons.items() if not k.endswith("/redacted") for r, n in lst]  # fmt: skip
    return {
        "rel": manifest["release"],
        "manifest": manifest,
        "stats": stats,
        "dedup": stats.dedup,
        "decisions": list(DECISION_COLORS),
        "cards": _cards(manifest, stats),
        "funnel_geometry": _funnel_chart(stats.funnel, stats.stage_names()),
        "funnel_rows": _funnel_rows(stats),
        "reasons": reasons,
        "languages_chart": _bar_chart(stats.languages, "documents per language"),
        "regions_chart": _bar_chart(stats.regions, "documents per residency region", "#6a1b9a"),
        "region_rows": _region_rows(manifest, stats, policy),
        "pii_rows": _pii_rows(stats),
        "names_rows": _names_rows(stats, policy),
        "held_back": _held_back(manifest),
        **origin_context(stats.origin),
        **gate_context(gate_results, manifest["gate"]),
    }
