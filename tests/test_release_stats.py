"""Every release document (report, dataset card, Croissant, EU AI Act summary) counts exactly what the ledger holds:
the totals are read back from each rendered file and compared with a plain group-by over the ledger."""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from html.parser import HTMLParser

import pytest

from conftest import load_manifest, read_ledger
from release.stats import DECISIONS, STAGES, compute_release_stats


@pytest.fixture(scope="module")
def release(demo_release):
    return demo_release[0] / "release"


@pytest.fixture(scope="module")
def ledger_totals(release) -> dict[str, Counter]:
    """stage -> decision -> ledger rows, straight from the ledger files (no Terroir code)."""
    totals: dict[str, Counter] = {}
    for row in read_ledger(release).select(["stage", "decision"]).to_pylist():
        totals.setdefault(row["stage"], Counter())[row["decision"]] += 1
    return totals


def _as_table(totals: dict[str, Counter]) -> dict[str, dict[str, int]]:
    return {s: {d: c.get(d, 0) for d in DECISIONS} for s, c in totals.items()}


def test_the_demo_drops_exact_and_near_duplicates(ledger_totals):
    # the point of the comparison below: both dedup stages remove documents in the demo
    assert ledger_totals["dedup"]["dropped"] >= 1 and ledger_totals["fuzzy_dedup"]["dropped"] >= 1


def test_stats_object_counts_what_the_ledger_holds(release, ledger_totals):
    manifest = load_manifest(release)
    stats = compute_release_stats(read_ledger(release), [release / s["path"] for s in manifest["shards"]])
    assert {t["stage"]: {d: t[d] for d in DECISIONS} for t in stats.stage_totals()} == _as_table(ledger_totals)
    assert [t["stage"] for t in stats.stage_totals()] == [s for s in STAGES if s in ledger_totals]
    dd = stats.dedup
    assert (dd.exact_dropped, dd.near_dropped) == (ledger_totals["dedup"]["dropped"],
                                                   ledger_totals["fuzzy_dedup"]["dropped"])  # fmt: skip
    assert dd.dropped == dd.exact_dropped + dd.near_dropped
    assert manifest["counts"] == stats.counts.to_json()


def test_eu_ai_act_summary_totals_equal_the_ledger(release, ledger_totals):
    summary = json.loads((release / "summary" / "eu_ai_act_summary.json").read_text())
    o = summary["3_data_processing_aspects"]["3.3_other_information"]
    per_stage = {t["stage"]: {d: t[d] for d in DECISIONS} for t in o["decisions_per_stage"]}
    assert per_stage == _as_table(ledger_totals)
    dups = ledger_totals["dedup"]["dropped"] + ledger_totals["fuzzy_dedup"]["dropped"]
    assert o["deduplication"]["documents_dropped"] == dups
    assert o["deduplication"]["exact_duplicates_dropped"] == ledger_totals["dedup"]["dropped"]
    assert o["deduplication"]["near_duplicates_dropped"] == ledger_totals["fuzzy_dedup"]["dropped"]
    assert o["quality_filtering"]["documents_dropped"] == ledger_totals.get("quality", Counter())["dropped"]
    assert o["language_filtering"]["documents_dropped"] == ledger_totals.get("langid", Counter())["dropped"]
    assert o["residency"]["documents_quarantined"] == ledger_totals["residency"]["quarantined"]
    assert o["errors"]["error_rows"] == sum(c["error"] for c in ledger_totals.values())
    pii = summary["3_data_processing_aspects"]["3.2_removal_of_illegal_content"]["personal_data_redaction"]
    assert pii["documents_redacted"] == ledger_totals["pii"]["redacted"]
    md = (release / "summary" / "eu_ai_act_summary.md").read_text()
    assert f"{dups:,} duplicate(s) dropped" in md
    line = re.search(r"Ledger decisions per stage: (.*)\.$", md, re.MULTILINE).group(1)
    assert _parse_stage_line(line) == ledger_totals


def test_dataset_card_totals_equal_the_ledger(release, ledger_totals):
    card = (release / "README.md").read_text()
    dups = ledger_totals["dedup"]["dropped"] + ledger_totals["fuzzy_dedup"]["dropped"]
    line = next(ln for ln in card.splitlines() if ln.startswith("- Deduplication:"))
    assert (f"{dups:,} duplicate(s) dropped (exact {ledger_totals['dedup']['dropped']:,}, "
            f"near {ledger_totals['fuzzy_dedup']['dropped']:,})") in line  # fmt: skip
    assert "near-duplicate" in card.split("## Processing", 1)[1].split("\n- ", 1)[0]
    header = "| stage | " + " | ".join(DECISIONS) + " |"
    lines = card.splitlines()
    start = lines.index(header) + 2
    rows = {}
    for ln in lines[start:]:
        if not ln.startswith("|"):
            break
        cells = [c.strip() for c in ln.strip("|").split("|")]
        rows[cells[0]] = {d: int(v.replace(",", "")) for d, v in zip(DECISIONS, cells[1:])}
    assert rows == _as_table(ledger_totals)


def test_croissant_totals_equal_the_ledger(release, ledger_totals):
    meta = json.loads((release / "croissant.json").read_text())
    protocol = meta["rai:dataPreprocessingProtocol"]
    dedup = next(p for p in protocol if p.startswith("Deduplication:"))
    dups = ledger_totals["dedup"]["dropped"] + ledger_totals["fuzzy_dedup"]["dropped"]
    assert "near-duplicate" in dedup and f"{dups} duplicate(s) dropped" in dedup
    stage_line = next(p for p in protocol if p.startswith("Ledger decisions per stage: "))
    assert _parse_stage_line(stage_line.removeprefix("Ledger decisions per stage: ").rstrip(".")) == ledger_totals


class _Cells(HTMLParser):
    """The rows of the table inside `<section id=…>`, as lists of cell texts."""

    def __init__(self, section: str):
        super().__init__()
        self.section, self.inside, self.depth, self.rows, self.cell = section, False, 0, [], None

    def handle_starttag(self, tag, attrs):
        if tag == "section":
            self.inside = dict(attrs).get("id") == self.section
        if self.inside and tag == "tr":
            self.rows.append([])
        if self.inside and tag in ("td", "th"):
            self.cell = ""

    def handle_endtag(self, tag):
        if self.inside and tag in ("td", "th") and self.cell is not None:
            self.rows[-1].append(self.cell.strip())
            self.cell = None
        if tag == "section":
            self.inside = False

    def handle_data(self, data):
        if self.cell is not None:
            self.cell += data


def test_report_totals_equal_the_ledger(release, ledger_totals):
    html = (release / "report" / "index.html").read_text()
    parser = _Cells("funnel")
    parser.feed(html)
    header, *body = parser.rows
    assert header[: 2 + len(DECISIONS)] == ["stage", "documents reaching it", *DECISIONS]
    rows = {r[0]: {d: int(v.replace(",", "")) for d, v in zip(DECISIONS, r[2:])} for r in body}
    documents = {s: t for s, t in _as_table(ledger_totals).items() if s not in ("input", "read")}
    assert rows == documents  # the funnel holds document stages only, each with every ledger row of its stage
    # files and records are counted per source: together they are the ledger's input and read rows
    parser = _Cells("sources")
    parser.feed(html)
    header, *body = parser.rows
    col = {h: i for i, h in enumerate(header)}
    assert sum(int(r[col["files"]]) for r in body) == sum(ledger_totals["input"].values())
    assert sum(int(r[col["files with errors"]]) for r in body) == ledger_totals["input"]["error"]
    records = Counter()
    for r in body:
        for part in filter(None, r[col["records that became no document"]].replace("none", "").split(", ")):
            n, decision = part.split(" ")
            records[decision] += int(n.replace(",", ""))
    assert records == Counter({d: n for d, n in ledger_totals["read"].items() if d != "kept"})
    dups = ledger_totals["dedup"]["dropped"] + ledger_totals["fuzzy_dedup"]["dropped"]
    assert re.search(rf'id="duplicates-dropped">{dups}</b> \(exact:\s+{ledger_totals["dedup"]["dropped"]};', html)


def _parse_stage_line(text: str) -> dict[str, Counter]:
    out = {}
    for part in text.split("; "):
        stage, decisions = part.split(": ", 1)
        out[stage] = Counter({d: int(n.replace(",", "")) for d, n in (x.split(" ") for x in decisions.split(", "))})
    return out


def _rerender(release_dir, folder, policy_path):
    """The demo release copied to `folder`, its report and documents rendered again from its own files."""
    import dataclasses
    import shutil

    import pyarrow as pa
    import pyarrow.parquet as pq

    from release.documents.approval_view import write_approval_page
    from release.documents.origin import origin_stats
    from release.documents.report import render_report
    from release.documents.writer import regenerate_docs
    from schemas.policy import load_policy

    shutil.copytree(release_dir, folder)
    for name in ("README.md", "croissant.json", "summary", "report/index.html", "approval.html"):
        path = folder / name
        shutil.rmtree(path) if path.is_dir() else path.unlink()
    manifest = load_manifest(folder)
    policy = load_policy(policy_path)
    ledger = pa.concat_tables([pq.read_table(folder / e["path"]) for e in manifest["ledger"]])
    stats = compute_release_stats(ledger, [str(folder / s["path"]) for s in manifest["shards"]], policy)
    stats = dataclasses.replace(stats, origin=origin_stats(ledger))
    gate_results = json.loads((folder / "report" / "gate_results.json").read_text())
    render_report(folder / "report" / "index.html", manifest, stats, gate_results, policy)
    regenerate_docs(folder, policy_path)
    sha = hashlib.sha256((folder / "release.json").read_bytes()).hexdigest()
    write_approval_page(folder, manifest, sha, None)  # a demo release is pending review


def test_every_template_renders_strictly_and_the_documents_equal_the_ledger(release, ledger_totals, tmp_path,
                                                                            monkeypatch):  # fmt: skip
    """Rendering the demo release again loads every template the package ships, under StrictUndefined (a missing
    variable raises); the documents come out byte-identical to the published ones and their totals equal the
    ledger's."""
    from importlib.resources import files

    import jinja2

    from pipelines.tools.demo import demo_policy_path
    from release.documents import templating

    shipped = {p.name for p in files("release.documents").joinpath("templates").iterdir() if p.is_file()}
    loaded = []
    get_source = jinja2.PackageLoader.get_source
    monkeypatch.setattr(jinja2.PackageLoader, "get_source",
                        lambda self, env, name: loaded.append(name) or get_source(self, env, name))  # fmt: skip
    templating.markdown_environment.cache_clear()
    templating.html_environment.cache_clear()
    fresh = tmp_path / "release"
    _rerender(release, fresh, demo_policy_path())
    assert set(loaded) == shipped and len(shipped) >= 7
    for env in (templating.markdown_environment(), templating.html_environment()):
        assert env.undefined is jinja2.StrictUndefined
    for name in ("README.md", "croissant.json", "summary/eu_ai_act_summary.json", "summary/eu_ai_act_summary.md",
                 "report/index.html", "approval.html"):  # fmt: skip
        assert (fresh / name).read_bytes() == (release / name).read_bytes(), name
    test_eu_ai_act_summary_totals_equal_the_ledger(fresh, ledger_totals)
    test_dataset_card_totals_equal_the_ledger(fresh, ledger_totals)
    test_croissant_totals_equal_the_ledger(fresh, ledger_totals)
    test_report_totals_equal_the_ledger(fresh, ledger_totals)


# ---- one unit per table: documents through the stages, per source and per language ---------------------------


def _documents_by_hand(release):
    """doc_id -> its ledger rows of the document stages, in file order (a plain loop, no Terroir code)."""
    docs: dict[str, list[dict]] = {}
    for r in read_ledger(release).to_pylist():
        if r["stage"] not in ("input", "read"):
            docs.setdefault(r["doc_id"], []).append(r)
    return docs


def _left_at(rows):
    """The (stage, decision) at which a document left, or None when it was published."""
    return next(((r["stage"], r["decision"]) for r in rows if r["decision"] in ("dropped", "quarantined", "error")),
                None)  # fmt: skip


def test_document_funnel_counts_documents_reaching_each_stage(release):
    manifest = load_manifest(release)
    stats = compute_release_stats(read_ledger(release), [release / s["path"] for s in manifest["shards"]])
    docs = _documents_by_hand(release)
    order = [st.stage for st in stats.document_funnel]
    assert "input" not in order and "read" not in order  # files and records are not documents
    assert stats.document_funnel[0].entering == len(docs)
    for prev, st in zip(stats.document_funnel, stats.document_funnel[1:]):
        assert st.entering == prev.went_on  # never grows: a document skipped by a stage still reaches the next
    for st in stats.document_funnel:
        reached = {d for d, rows in docs.items()
                   if not any(order.index(r["stage"]) < order.index(st.stage) and r["decision"] in
                              ("dropped", "quarantined", "error") for r in rows)}  # fmt: skip
        assert st.entering == len(reached), st.stage
        with_row = {d for d in reached if any(r["stage"] == st.stage for r in docs[d])}
        assert st.not_judged == len(reached - with_row), st.stage
        silent = {docs[d][0]["source_id"] for d in reached - with_row}
        judged = {r["source_id"] for d in with_row for r in docs[d]}
        assert set(st.sources_not_judged) == silent - judged, st.stage
    # the demo's library and TEI documents are exempt from quality: named, and the funnel still ends at the shards
    quality = next(st for st in stats.document_funnel if st.stage == "quality")
    assert quality.not_judged > 0 and set(quality.sources_not_judged) == {"demo-library", "demo-tei"}
    assert stats.document_funnel[-1].went_on == manifest["counts"]["documents_published"]
    assert stats.counts.documents_dropped == sum(1 for rows in docs.values() if (_left_at(rows) or ("", ""))[1] == "dropped")
    assert stats.counts.records_not_documents == sum(1 for r in read_ledger(release).to_pylist()
                                                     if r["stage"] == "read" and r["decision"] == "dropped")


def test_by_source_and_by_language_add_up_to_the_ledger_and_the_shards(release):
    from conftest import read_shards

    manifest = load_manifest(release)
    stats = compute_release_stats(read_ledger(release), [release / s["path"] for s in manifest["shards"]])
    docs = _documents_by_hand(release)
    shards = read_shards(manifest, release).select(["source_id", "lang"]).to_pylist()
    ledger = read_ledger(release).to_pylist()
    for g in stats.by_source:
        mine = {d: rows for d, rows in docs.items() if rows[0]["source_id"] == g.key}
        assert g.documents == len(mine)
        assert g.published == sum(1 for s in shards if s["source_id"] == g.key)
        assert g.published == g.documents - sum(g.left_total(x) for x in ("dropped", "quarantined", "error"))
        left = Counter(_left_at(rows) for rows in mine.values() if _left_at(rows))
        assert {(s, d): n for s, ds in g.left.items() for d, n in ds.items()} == dict(left)
        assert g.files == sum(1 for r in ledger if r["stage"] == "input" and r["source_id"] == g.key)
        assert g.records_not_documents == dict(Counter(r["decision"] for r in ledger if r["stage"] == "read"
                                                       and r["source_id"] == g.key and r["decision"] != "kept"))
    assert sum(g.documents for g in stats.by_source) == len(docs)
    lang_of = {}
    for d, rows in docs.items():
        lid = next((r for r in rows if r["stage"] == "langid"), None)
        if lid is None:
            lang_of[d] = "(before language ID)"
        elif lid["decision"] == "kept":
            lang_of[d] = lid["reason"]
        else:
            lang_of[d] = json.loads(lid["detail"] or "{}").get("lang") or re.match(r"language (\S+)", lid["reason"])[1]
    by_lang = {g.key: g for g in stats.by_language}
    assert Counter(lang_of.values()) == {k: g.documents for k, g in by_lang.items()}
    for lang, g in by_lang.items():
        assert g.published == sum(1 for s in shards if s["lang"] == lang)
        left = Counter(_left_at(docs[d]) for d in docs if lang_of[d] == lang and _left_at(docs[d]))
        assert {(s, x): n for s, ds in g.left.items() for x, n in ds.items()} == dict(left)
    assert by_lang["ja"].left == {"langid": {"dropped": 1}}  # out of scope, counted under the language found
