"""The report's validation-gate section: every shard's verdict, and every expectation with its severity and what it
checks, rendered from `report/gate_results.json`, with a link to Great Expectations' raw validation JSON per shard.

Terroir does not publish GX Data Docs: their pages load scripts and styles from CDNs (blank offline) and call a shard
that passed with warnings "Failed".
"""

from __future__ import annotations

from release.documents.templating import render

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


def _expectations(gate_results: list[dict]) -> list[dict]:
    """One entry per expectation of the suite (in suite order), aggregated over shards."""
    rows: dict[tuple, dict] = {}
    for g in gate_results:
        for i, e in enumerate(g["expectations"]):
            key = (i, e["expectation"], e.get("column"))
            r = rows.setdefault(key, {"e": e, "failed": [], "unexpected": 0})
            if not e["success"]:
                r["failed"].append(g["shard"])
                r["unexpected"] += e.get("unexpected_count") or 0
    return [
        {"severity": r["e"]["severity"], "checks": describe(r["e"]), "expectation": name, "column": col,
         "failed": len(r["failed"]), "failed_in": ", ".join(r["failed"]), "unexpected": r["unexpected"]}
        for (_i, name, col), r in rows.items()
    ]  # fmt: skip


def _shards(gate_results: list[dict]) -> list[dict]:
    """One entry per shard: its verdict (and the verdict's colour class) and the expectations it failed, in words."""
    out = []
    for g in gate_results:
        verdict = shard_verdict(g)
        failed = [e for e in g["expectations"] if not e["success"]]
        out.append({
            "shard": g["shard"], "rows": g["rows"], "verdict": verdict,
            "verdict_class": "bad" if verdict == "quarantined" else ("warn" if verdict != "published" else "ok"),
            "critical": "; ".join(describe(e) for e in failed if e["severity"] == "critical") or "none",
            "warnings": "; ".join(describe(e) for e in failed if e["severity"] != "critical") or "none",
            "validation_json": g.get("validation_json"),
        })  # fmt: skip
    return out


def gate_context(gate_results: list[dict], gate: dict) -> dict:
    """What the template `report_gate.html.j2` needs, from `report/gate_results.json` and the manifest's `gate`."""
    return {
        "gate_shards": _shards(gate_results),
        "gate_expectations": _expectations(gate_results),
        "gate_suite": gate.get("suite"),
        "severities": [(s, m) for s, m in SEVERITY_MEANING.items() if s != "info"],
    }


def gate_section(gate_results: list[dict], gate: dict) -> str:
    """The `<section id="gate">` HTML on its own, as the report includes it."""
    return render("report_gate.html.j2", **gate_context(gate_results, gate))
