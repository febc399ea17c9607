"""The release report: one static HTML page that opens from disk with no network (inline CSS, inline SVG charts).

It shows counts, reasons, places and checksums only; document text never enters it.
"""

from __future__ import annotations

from html import escape
from pathlib import Path

from release.documents.gate import gate_section
from release.documents.origin import render_origin_section
from release.stats import STAGES, ReleaseStats

DECISION_COLORS = {"kept": "#2f7d32", "redacted": "#1565c0", "dropped": "#9e9e9e", "quarantined": "#ef6c00",
                   "error": "#c62828"}  # fmt: skip

CSS = """
body{font:14px/1.45 system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:0;color:#1d1d1d;background:#fafafa}
header{background:#263238;color:#fff;padding:18px 28px}header h1{margin:0;font-size:22px}
header p{margin:4px 0 0;color:#cfd8dc}main{padding:8px 28px 40px;max-width:1200px}
section{background:#fff;border:1px solid #e0e0e0;border-radius:6px;padding:14px 18px;margin:16px 0}
h2{font-size:17px;margin:0 0 10px}table{border-collapse:collapse;width:100%;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #eee;vertical-align:top}
th{background:#f5f5f5}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.cards{display:flex;flex-wrap:wrap;gap:12px}.card{border:1px solid #e0e0e0;border-radius:6px;padding:10px 14px;
min-width:150px;background:#fff}.card b{display:block;font-size:22px}.ok{color:#2f7d32}.bad{color:#c62828}
.warn{color:#ef6c00}code{font-size:12px;word-break:break-all}.legend span{margin-right:14px}
.sw{display:inline-block;width:10px;height:10px;margin-right:4px;border-radius:2px}
.sev{display:inline-block;padding:0 6px;border-radius:3px;font-size:12px;border:1px solid #bbb}
.sev-critical{background:#fdecea;border-color:#c62828}.sev-warning{background:#fff4e5;border-color:#ef6c00}
"""


def _t(x) -> str:
    return escape(str(x), quote=True)


def _table(headers: list[str], rows: list[list], numeric: set[int] = frozenset()) -> str:
    th = "".join(f'<th class="{"n" if i in numeric else ""}">{_t(h)}</th>' for i, h in enumerate(headers))
    body = "".join(
        "<tr>" + "".join(f'<td class="{"n" if i in numeric else ""}">{c}</td>' for i, c in enumerate(r)) + "</tr>"
        for r in rows
    )
    return f"<table><thead><tr>{th}</tr></thead><tbody>{body or '<tr><td>none</td></tr>'}</tbody></table>"


def _bar_chart(items: list[tuple[str, int]], title: str, color: str = "#1565c0", width: int = 640) -> str:
    if not items:
        return "<p>none</p>"
    top = max(v for _, v in items) or 1
    h = 22
    label_w = 150
    parts = [(f'<svg role="img" aria-label="{_t(title)}" width="{width}" height="{h * len(items) + 8}" '
             f'xmlns="http://www.w3.org/2000/svg"><title>{_t(title)}</title>')]  # fmt: skip
    for i, (label, v) in enumerate(items):
        w = max(1, int((width - label_w - 70) * v / top))
        y = i * h + 4
        parts.append(f'<text x="{label_w - 6}" y="{y + 14}" text-anchor="end" font-size="12">{_t(label)}</text>')
        parts.append(f'<rect x="{label_w}" y="{y}" width="{w}" height="{h - 6}" fill="{color}" rx="2"/>')
        parts.append(f'<text x="{label_w + w + 6}" y="{y + 14}" font-size="12">{v:,}</text>')
    parts.append("</svg>")
    return "".join(parts)


def _funnel_chart(funnel: dict[str, dict[str, int]], width: int = 760) -> str:
    stages = [s for s in STAGES if s in funnel]
    if not stages:
        return "<p>no ledger rows</p>"
    top = max(sum(funnel[s].values()) for s in stages) or 1
    h, label_w = 26, 90
    parts = [(f'<svg role="img" aria-label="documents per stage and decision" width="{width}" '
             f'height="{h * len(stages) + 8}" xmlns="http://www.w3.org/2000/svg"><title>funnel</title>')]  # fmt: skip
    for i, s in enumerate(stages):
        y, x = i * h + 4, label_w
        parts.append(f'<text x="{label_w - 6}" y="{y + 15}" text-anchor="end" font-size="12">{_t(s)}</text>')
        for decision, color in DECISION_COLORS.items():
            n = funnel[s].get(decision, 0)
            if not n:
                continue
            w = max(1, int((width - label_w - 80) * n / top))
            parts.append(f'<rect x="{x}" y="{y}" width="{w}" height="{h - 8}" fill="{color}">'
                         f'<title>{_t(s)} {_t(decision)}: {n}</title></rect>')  # fmt: skip
            x += w
        parts.append(f'<text x="{x + 6}" y="{y + 15}" font-size="12">{sum(funnel[s].values()):,}</text>')
    parts.append("</svg>")
    legend = "".join(f'<span><i class="sw" style="background:{c}"></i>{d}</span>' for d, c in DECISION_COLORS.items())
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def render_report(path: Path, manifest: dict, stats: ReleaseStats, gate_results: list[dict], policy) -> None:
    c = stats.counts
    rel = manifest["release"]
    gate = manifest["gate"]
    status_cls = "ok" if not manifest["quarantined_shards"] else "warn"
    cards = [
        ("documents published", f"{c.documents_published:,}", "ok"),
        ("documents dropped", f"{c.documents_dropped:,}", ""),
        ("documents quarantined", f"{c.documents_quarantined:,}", "warn" if c.documents_quarantined else ""),
        ("input files", f"{c.input_files:,}", ""),
        ("files with errors", f"{c.input_files_with_errors:,}", "bad" if c.input_files_with_errors else ""),
        ("shards passed / quarantined", f"{gate['shards_passed']} / {gate['shards_quarantined']}", status_cls),
    ]
    cards_html = "".join(f'<div class="card"><b class="{cl}">{_t(v)}</b>{_t(k)}</div>' for k, v, cl in cards)

    funnel_rows = []
    for s in STAGES:
        if s not in stats.funnel:
            continue
        f, fb = stats.funnel[s], stats.funnel_bytes.get(s, {})
        funnel_rows.append([_t(s)] + [f"{f.get(d, 0):,}" for d in DECISION_COLORS] +
                           [f"{sum(fb.values()):,}", f"{fb.get('kept', 0) + fb.get('redacted', 0):,}"])  # fmt: skip
    reason_rows = [[_t(k.split("/")[0]), _t(k.split("/")[1]), _t(r), f"{n:,}"]
                   for k, lst in stats.reasons.items() for r, n in lst]  # fmt: skip

    storage = {r.name: s for r, s in zip(policy.regions, (None,) * len(policy.regions))}
    for s in manifest["shards"]:
        storage[s["residency_region"]] = s["storage"]
    region_rows = [[_t(r), _t(", ".join(policy.region(r).jurisdictions)), f"<code>{_t(storage.get(r) or '')}</code>",
                    f"{n:,}"] for r, n in stats.regions]  # fmt: skip
    juris_rows = [[_t(j), _t(r), f"{n:,}"] for j, r, n in stats.jurisdictions]
    tiers: dict[str, dict[str, int]] = {}
    for k, tier, n in stats.pii_tiers:
        tiers.setdefault(k, {})[tier] = n
    pii_rows = [[_t(k), f"{v:,}", f"{tiers.get(k, {}).get('validated', 0):,}", f"{tiers.get(k, {}).get('pattern', 0):,}",
                 f"{tiers.get(k, {}).get('ner', 0):,}"] for k, v in c.pii_redacted.items()]  # fmt: skip
    from filters.ner import names_by_language

    names_rows = [[_t(r["language"]), f"{r['documents']:,}", _t(r["names"]),
                   _t(" ".join(x for x in (r["pipeline"], r["pipeline_version"]) if x) or "none")]
                  for r in names_by_language(policy.pii_ner, stats.languages, policy.languages)]  # fmt: skip
    shard_rows = [[f"<code>{_t(s['path'])}</code>", _t(s["residency_region"]), f"{s['rows']:,}", f"{s['bytes']:,}",
                   f"<code>{_t(s['sha256'][:16])}…</code>"] for s in manifest["shards"]]  # fmt: skip
    q_rows = [[f"<code>{_t(s['path'])}</code>", _t(s["residency_region"]), f"{s['rows']:,}",
               _t(", ".join(s["failed_expectations"]))] for s in manifest["quarantined_shards"]]  # fmt: skip
    held_rows = [[f"<code>{_t(h['path'])}</code>", _t(h["residency_region"]), f"{h['rows']:,}",
                  _t(", ".join(f"{k}: {v:,}" for k, v in h["failed_expectations"].items())),
                  "<br>".join(f"<code>{_t(i)}</code>: {n:,}" for i, n in h.get("inputs", {}).items())]
                 for h in manifest.get("quarantined_documents", [])]  # fmt: skip
    input_rows = [[_t(i["source_id"]), f"<code>{_t(i['path'])}</code>", _t(i["format"]), f"{i['bytes']:,}",
                   f"<code>{_t(i['sha256'])}</code>"] for i in manifest["inputs"]]  # fmt: skip
    error_rows = [[_t(e["stage"]), f"<code>{_t(e['input'] or '')}</code>", _t(e["reason"])] for e in stats.errors]
    gate_html = gate_section(gate_results, gate, _table)

    html = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Terroir release report: {_t(rel['policy_id'])}</title>
<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>
<body><header><h1>Release report: {_t(rel['policy_id'])}</h1>
<p>pipeline {_t(rel['pipeline_version'])} · schema {_t(rel['schema_version'])} · runner {_t(rel['runner'])} ·
created {_t(rel['created_at'])} · approval: <b id="approval-state">{_t(rel['approval']['state'])}</b></p></header>
<main>
<section id="summary"><h2>Summary</h2><div class="cards">{cards_html}</div>
<p>Policy <code>{_t(manifest['policy']['path'])}</code> (sha256 <code>{_t(manifest['policy']['sha256'])}</code>).
Every number below is computed from the ledger (<code>ledger/</code>) and the published shards.</p></section>
<section id="funnel"><h2>Funnel: documents per stage</h2>{_funnel_chart(stats.funnel)}
{_table(['stage', *DECISION_COLORS, 'bytes in', 'bytes kept'], funnel_rows, set(range(1, 8)))}</section>
<section id="reasons"><h2>Why documents left</h2>{_table(['stage', 'decision', 'reason', 'documents'], reason_rows, {3})}
</section>
<section id="languages"><h2>Languages (published)</h2>{_bar_chart(stats.languages, 'documents per language')}</section>
<section id="regions"><h2>Jurisdictions and residency regions</h2>
{_bar_chart(stats.regions, 'documents per residency region', '#6a1b9a')}
{_table(['region', 'jurisdictions', 'storage location', 'documents'], region_rows, {3})}
<h3>Origin jurisdictions</h3>{_table(['origin', 'region', 'documents'], juris_rows, {2})}
<h3>Evidence for the origin</h3>{_table(['basis', 'documents'], [[_t(b), f'{n:,}'] for b, n in stats.origin_basis], {1})}
{render_origin_section(stats.origin)}</section>
<section id="pii"><h2>Personal data redacted (counts by type)</h2>{_table(['entity type', 'redacted', 'validated', 'pattern only', 'NER'], pii_rows, {1, 2, 3, 4})}
<h3 id="names">Names, places and organisations (NER) per language</h3>
{_table(['language', 'documents published', 'names', 'NER pipeline'], names_rows, {1})}</section>
<section id="rights"><h2>Rights decisions by basis</h2>
{_table(['rights status', 'basis', 'decision', 'documents'],
        [[_t(st), _t(b), _t(d), f'{n:,}'] for st, b, d, n in stats.rights_decisions], {3})}</section>
<section id="volume"><h2>Volume by source and by domain (published text bytes)</h2>
{_table(['source', 'documents', 'bytes'], [[_t(s), f'{n:,}', f'{b:,}'] for s, n, b in stats.sources], {1, 2})}
<h3>Top registrable domains by volume ({stats.domains_total:,} domains in all)</h3>
{_table(['domain', 'bytes'], [[_t(d), f'{b:,}'] for d, b in stats.top_domains], {1})}</section>
<section id="dedup"><h2>Deduplication</h2><p>{stats.dedup.documents_in_clusters:,} published document(s) represent
a cluster of duplicates. Duplicates dropped: <b id="duplicates-dropped">{stats.dedup.dropped:,}</b> (exact:
{stats.dedup.exact_dropped:,}; near duplicates, MinHash-LSH{_t(stats.fuzzy_note)}: {stats.dedup.near_dropped:,}).
Each removed document's ledger row names the kept
document.</p></section>
{gate_html}
<section id="shards"><h2>Published shards</h2>{_table(['path', 'region', 'rows', 'bytes', 'sha256'], shard_rows, {2, 3})}
<h3>Quarantined shards</h3>{_table(['path', 'region', 'rows', 'failed expectations'], q_rows, {2})}
<h3 id="held-back">Documents held back by the gate</h3><p>Where a critical expectation failed on some documents only,
those documents are held back and the rest of their shard is published after passing the whole suite again. Each held
document has a <code>gate</code> ledger row naming the expectations it failed.</p>
{_table(['quarantine file', 'region', 'documents', 'failed expectations (documents)', 'caused by input'], held_rows, {2})}
</section>
<section id="errors"><h2>Errors ({len(stats.errors)})</h2>{_table(['stage', 'input', 'reason'], error_rows)}</section>
<section id="inputs"><h2>Inputs</h2>{_table(['source', 'path', 'format', 'bytes', 'sha256'], input_rows, {3})}</section>
</main></body></html>
"""
    path.write_text(html, encoding="utf-8")
