"""The report's validation-gate section: every shard's verdict, and every expectation with its severity and what it
checks, rendered from `report/gate_results.json`, with a link to Great Expectations' raw validation JSON per shard.

Terroir does not publish GX Data Docs: their pages load scripts and styles from CDNs (blank offline) and call a shard
that passed with warnings "Failed".
"""

from __future__ import annotations

from html import escape

SEVERITY_MEANING = {
    "critical": "a failure quarantines the shard, or holds back only the failing documents when they can be traced",
    "warning": "a failure is reported here; the shard is still published",
    "info": "reported only",
}

_PLAIN = {
    "expect_table_columns_to_match_ordered_list": "columns and their order match the corpus contract",
    "expect_table_row_count_to_be_between": "the shard's row count is within bounds",
    "expect_column_values_to_not_be_null": "{col} is never empty",
    "expect_column_values_to_be_unique": "{col} is unique within the shard",
    "expect_column_values_to_be_in_set": "{col} is one of the values the policy allows",
    "expect_column_values_to_be_between": "{col} is within the policy's bounds",
    "expect_column_value_lengths_to_be_between": "length of {col} is within the policy's bounds",
    "expect_column_values_to_not_match_regex": "{col} matches no forbidden pattern",
}


def _t(x) -> str:
    return escape(str(x), quote=True)


def describe(e: dict) -> str:
    """What an expectation checks, in words: the suite's note, else a phrase for its type."""
    if e.get("note"):
        return e["note"]
    return _PLAIN.get(e["expectation"], e["expectation"]).format(col=e.get("column") or "")


def shard_verdict(g: dict) -> str:
    """published | published with warnings | partly held back | quarantined."""
    if not g["passed"]:
        return "quarantined"
    if g.get("held_back"):
        return "published, documents held back"
    failed_warnings = sum(1 for e in g["expectations"] if not e["success"] and e["severity"] != "critical")
    return "published with warnings" if failed_warnings else "published"


def _expectation_rows(gate_results: list[dict]) -> list[list[str]]:
    """One row per expectation of the suite (in suite order), aggregated over shards."""
    rows: dict[tuple, dict] = {}
    for g in gate_results:
        for i, e in enumerate(g["expectations"]):
            key = (i, e["expectation"], e.get("column"))
            r = rows.setdefault(key, {"e": e, "failed": [], "unexpected": 0})
            if not e["success"]:
                r["failed"].append(g["shard"])
                r["unexpected"] += e.get("unexpected_count") or 0
    out = []
    for (_i, name, col), r in rows.items():
        sev = r["e"]["severity"]
        failed = r["failed"]
        outcome = (f'<b class="{"bad" if sev == "critical" else "warn"}">failed in {len(failed)} of '
                   f"{len(gate_results)} shard(s)</b>") if failed else f"met in all {len(gate_results)} shard(s)"  # fmt: skip
        out.append([f'<span class="sev sev-{_t(sev)}">{_t(sev)}</span>', _t(describe(r["e"])),
                    f"<code>{_t(name)}</code>", _t(col or ""), outcome,
                    f"{r['unexpected']:,}" if failed else "", _t(", ".join(failed))])  # fmt: skip
    return out


def gate_section(gate_results: list[dict], gate: dict, table) -> str:
    """The `<section id="gate">` HTML; `table(headers, rows, numeric)` is the report's table renderer."""
    if not gate_results:
        return '<section id="gate"><h2>Validation gate</h2><p>No shard reached the gate.</p></section>'
    shard_rows = []
    for g in gate_results:
        verdict = shard_verdict(g)
        cls = "bad" if verdict == "quarantined" else ("warn" if verdict != "published" else "ok")
        crit = [e for e in g["expectations"] if not e["success"] and e["severity"] == "critical"]
        warn = [e for e in g["expectations"] if not e["success"] and e["severity"] != "critical"]
        link = (f'<a href="{_t(g["validation_json"])}">validation JSON</a>' if g.get("validation_json") else "")
        shard_rows.append([f"<code>{_t(g['shard'])}</code>", f"{g['rows']:,}",
                           f'<b class="{cls} verdict">{_t(verdict)}</b>',
                           _t("; ".join(describe(e) for e in crit) or "none"),
                           _t("; ".join(describe(e) for e in warn) or "none"), link])  # fmt: skip
    shards_html = table(["shard", "rows", "verdict", "critical failures", "warnings", "raw result"], shard_rows, {1})
    exp_html = table(["severity", "checks", "expectation", "column", "outcome", "unexpected rows", "failed in"],
                     _expectation_rows(gate_results), {5})  # fmt: skip
    legend = "".join(f"<li><b>{_t(s)}</b>: {_t(m)}</li>" for s, m in SEVERITY_MEANING.items() if s != "info")
    return (f'<section id="gate"><h2>Validation gate</h2><p>Every staged shard is checked by the Great Expectations '
            f"suite <code>{_t(gate.get('suite'))}</code> before it is published. Severities:</p><ul>{legend}</ul>"
            '<h3 id="gate-shards">Shards</h3>'
            f"{shards_html}"
            '<h3 id="gate-expectations">Expectations</h3>'
            f"{exp_html}"
            "<p>The raw result of each shard is Great Expectations' own validation JSON (counts only, never values), "
            "in <code>report/validations/</code>; all shards together are in <code>report/gate_results.json</code>."
            "</p></section>")  # fmt: skip
