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

#: what the ledger rows of a stage count: files (`input`), archive records that became no document (`read`)
UNITS = {"input": "files", "read": "records"}
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


#: the funnel's segments: documents that went on past a stage, and those it removed, by decision
FUNNEL_COLORS = {"went on": "#2f7d32", "dropped": "#9e9e9e", "quarantined": "#ef6c00", "error": "#c62828"}


def _funnel_chart(steps, width: int = 760) -> dict:
    """Geometry of the document funnel: one bar per document stage (pipeline order) as long as the documents that
    reached it, split into those that went on and those the stage removed (dropped, quarantined, error)."""
    top = max((st.entering for st in steps), default=0) or 1
    h, label_w = 26, 90
    rows = []
    for i, st in enumerate(steps):
        y, x = i * h + 4, label_w
        segments = []
        for part, color in FUNNEL_COLORS.items():
            n = st.went_on if part == "went on" else st.decided.get(part, 0)
            if not n:
                continue
            w = max(1, int((width - label_w - 80) * n / top))
            segments.append({"decision": part, "n": n, "color": color, "x": x, "w": w})
            x += w
        rows.append({"stage": st.stage, "y": y, "text_y": y + 15, "segments": segments, "total": st.entering,
                     "total_x": x + 6})  # fmt: skip
    return {"width": width, "height": h * len(steps) + 8, "label_x": label_w - 6, "bar_h": h - 8, "rows": rows,
            "colors": FUNNEL_COLORS}  # fmt: skip


def _cards(manifest: dict, stats: ReleaseStats) -> list[tuple[str, str, str]]:
    """The summary cards: (label, value, colour class)."""
    c, gate = stats.counts, manifest["gate"]
    return [
        ("documents published", f"{c.documents_published:,}", "ok"),
        ("documents dropped", f"{c.documents_dropped:,}", ""),
        ("documents quarantined", f"{c.documents_quarantined:,}", "warn" if c.documents_quarantined else ""),
        ("records not documents", f"{c.records_not_documents:,}", ""),
        ("input files", f"{c.input_files:,}", ""),
        ("files with errors", f"{c.input_files_with_errors:,}", "bad" if c.input_files_with_errors else ""),
        ("shards passed / quarantined", f"{gate['shards_passed']} / {gate['shards_quarantined']}",
         "ok" if not manifest["quarantined_shards"] else "warn"),
    ]  # fmt: skip


def _funnel_rows(stats: ReleaseStats) -> list[dict]:
    rows = []
    for st in stats.document_funnel:  # pipeline order, a policy's extra stages after those they follow
        fb = stats.funnel_bytes.get(st.stage, {})
        rows.append({"stage": st.stage, "entering": st.entering, "counts": [st.decided.get(d, 0) for d in DECISION_COLORS],
                     "not_judged": st.not_judged, "went_on": st.went_on, "bytes_in": sum(fb.values()),
                     "bytes_kept": fb.get("kept", 0) + fb.get("redacted", 0)})  # fmt: skip
    return rows


def _not_judged_notes(stats: ReleaseStats, policy) -> list[str]:
    """Why a stage has fewer rows than documents reaching it: the sources it did not judge, and the rule."""
    notes = []
    for st in stats.document_funnel:
        if not st.not_judged:
            continue
        who = ", ".join(st.sources_not_judged)
        if st.stage == "quality":
            exempt = ", ".join(policy.quality_exempt_source_types) if policy is not None else ""
            why = (f"the policy exempts source types {exempt} (policy key quality.exempt_source_types)" if exempt
                   else "the quality filters are off")  # fmt: skip
        elif st.stage == "takedown":
            why = "it writes a row only for a document a takedown request removes"
        else:
            why = "the stage wrote no row for them"
        notes.append(f"{st.stage}: {st.not_judged:,} document(s) reached it without a row"
                     + (f" (sources {who})" if who else "") + f": {why}.")
    return notes


def _group_rows(groups) -> list[dict]:
    return [{"key": g.key, "documents": g.documents, "dropped": g.left_total("dropped"),
             "quarantined": g.left_total("quarantined"), "error": g.left_total("error"), "published": g.published,
             "where": g.where_left, "files": g.files, "files_with_errors": g.files_with_errors,
             "records_not_documents": ", ".join(f"{n:,} {d}" for d, n in sorted(g.records_not_documents.items()))}
            for g in groups]  # fmt: skip


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
                "unit": UNITS.get(k.split("/")[0], "documents"), "samples": stats.reason_samples.get(k, {}).get(r, [])}
               for k, lst in stats.reasons.items() if not k.endswith("/redacted") for r, n in lst]  # fmt: skip
    order = {s: i for i, s in enumerate(stats.stages)}
    reasons.sort(key=lambda r: order.get(r["stage"], len(order)))  # pipeline order; stable within a stage
    return {
        "rel": manifest["release"],
        "manifest": manifest,
        "stats": stats,
        "dedup": stats.dedup,
        "decisions": list(DECISION_COLORS),
        "cards": _cards(manifest, stats),
        "funnel_geometry": _funnel_chart(stats.document_funnel),
        "funnel_rows": _funnel_rows(stats),
        "not_judged_notes": _not_judged_notes(stats, policy),
        "source_rows": _group_rows(stats.by_source),
        "language_rows": _group_rows(stats.by_language),
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
