"""The release report in a real headless Chromium, opened from disk with the network switched off."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pyarrow.parquet as pq
import pytest

pytestmark = pytest.mark.slow

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         # any request leaving the machine fails: the page must not need one
         "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]  # fmt: skip


def _chromium() -> str:
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if exe is None:
        pytest.fail("Chromium is not installed; `make test` installs it (Debian package chromium)")
    return exe


def _run(args, tmp_path):
    cmd = [_chromium(), *FLAGS, f"--user-data-dir={tmp_path / 'profile'}", *args]
    return subprocess.run(cmd, capture_output=True, timeout=120, check=True)


class _Refs(HTMLParser):
    def __init__(self):
        super().__init__()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("src", "href") and v:
                self.refs.append(v)


def test_report_renders_offline_with_its_sections(demo_release, tmp_path):
    out, res = demo_release
    page = out / "release" / "report" / "index.html"
    proc = _run(["--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri()], tmp_path)
    dom = proc.stdout.decode()
    log = proc.stderr.decode(errors="replace")
    # the page logs no console errors and fails no resource load
    assert not [ln for ln in log.splitlines() if "CONSOLE" in ln and ("Uncaught" in ln or "Error" in ln)]
    assert "net::ERR_FILE_NOT_FOUND" not in log
    for section in ("summary", "funnel", "sources", "by-language", "reasons", "languages", "regions", "pii", "rights",
                    "dedup", "gate", "approval", "shards", "errors", "inputs"):  # fmt: skip
        assert f'id="{section}"' in dom, section
    published = res.manifest["counts"]["documents_published"]
    assert re.search(rf"<b[^>]*>{published}</b>documents published", dom)
    assert dom.count("<svg") >= 3  # funnel, languages, regions
    assert "pending_review" in dom
    counts = res.manifest["counts"]
    for key in ("documents_dropped", "documents_quarantined", "input_files"):
        assert re.search(rf"<b[^>]*>{counts[key]:,}</b>", dom), key
    for lang in ("sv", "fi", "de"):
        assert f">{lang}</text>" in dom  # language chart labels
    parser = _Refs()
    parser.feed(page.read_text())
    # the only links: the approval page beside the release folder, and Great Expectations' raw validation JSON of
    # each shard, beside the report
    shards = sorted(s["path"].split("shards/", 1)[1] for s in res.manifest["shards"])
    anchors = [r for r in parser.refs if r.startswith("#")]
    assert all(f'id="{a[1:]}"' in dom for a in anchors)  # links inside the page land on a section
    outside = sorted({r for r in parser.refs if not r.startswith("#")})
    assert outside == ["../approval.html"] + [f"validations/{s}.json" for s in shards]
    assert (page.parent / "../approval.html").is_file()
    for ref in [r for r in parser.refs if r.startswith("validations/")]:
        raw = json.loads((page.parent / ref).read_text())
        assert raw["results"] and all(r["result"].get("partial_unexpected_list", []) == [] for r in raw["results"])
    assert not (page.parent / "gx").exists()  # no CDN-dependent Data Docs in a release


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_gate_section_gives_each_expectation_its_severity_and_verdict(demo_release, tmp_path):
    out, _res = demo_release
    page = out / "release" / "report" / "index.html"
    dom = _run(["--dump-dom", page.as_uri()], tmp_path).stdout.decode()
    gate = dom[dom.index('<section id="gate">'):]
    gate = gate[: gate.index("</section>")]
    text = _text(gate)
    assert "critical : a failure quarantines the shard" in text and "warning : a failure is reported here" in text
    results = json.loads((page.parent / "gate_results.json").read_text())
    # the demo's shards pass with the licence warning: said as such, never "failed" for the shard
    assert len(re.findall(r'class="warn verdict">published with warnings<', gate)) == len(results)
    assert "Failed" not in text
    suite = results[0]["expectations"]
    rows = re.findall(r"<tr><td[^>]*><span class=\"sev sev-(\w+)\">", gate)
    assert rows == [e["severity"] for e in suite]
    licence = re.search(r"sev-warning\">warning</span></td><td[^>]*>licence known for every document</td>"
                        r".*?<td[^>]*>license</td><td[^>]*><b class=\"warn\">failed in (\d+) of (\d+) shard", gate)
    assert licence and licence.groups() == (str(len(results)), str(len(results)))
    assert "no residual validated PII" in text  # the suite's note on a critical expectation


def test_gate_section_says_quarantined_and_names_the_critical_failure():
    from release.documents.gate import gate_section

    def exp(name, col, sev, ok, n=0, note=None):
        return {"expectation": name, "column": col, "severity": sev, "success": ok, "unexpected_count": n,
                "note": note}  # fmt: skip

    results = [
        {"shard": "eu/a.parquet", "passed": False, "rows": 10, "validation_json": "validations/eu/a.parquet.json",
         "expectations": [exp("expect_column_values_to_not_be_null", "doc_id", "critical", False, 2),
                          exp("expect_column_values_to_not_be_null", "license", "warning", True)]},
        {"shard": "eu/b.parquet", "passed": True, "rows": 5, "validation_json": "validations/eu/b.parquet.json",
         "expectations": [exp("expect_column_values_to_not_be_null", "doc_id", "critical", True),
                          exp("expect_column_values_to_not_be_null", "license", "warning", True)]},
    ]  # fmt: skip
    html = gate_section(results, {"suite": "corpus_shard"})
    text = _text(html)
    assert 'class="bad verdict">quarantined<' in html and 'class="ok verdict">published<' in html
    assert "eu/a.parquet 10 quarantined doc_id is never empty none" in text
    assert "failed in 1 of 2 shard(s) 2 eu/a.parquet" in text
    assert "met in all 2 shard(s)" in text
    assert gate_section([], {"suite": "corpus_shard"}).count("No shard reached the gate") == 1


def test_report_screenshot_is_not_blank(demo_release, tmp_path):
    from PIL import Image

    out, _ = demo_release
    shot = tmp_path / "report.png"
    _run([f"--screenshot={shot}", "--window-size=1280,1800", (out / "release" / "report" / "index.html").as_uri()],
         tmp_path)  # fmt: skip
    keep = out / "report-screenshot.png"  # kept beside the release for a person to look at
    keep.write_bytes(shot.read_bytes())
    img = Image.open(shot).convert("L")
    colors = img.getcolors(maxcolors=1 << 16)
    assert img.size == (1280, 1800)
    assert colors is not None and len(colors) > 20  # text, charts and cards, not an empty page


def test_approval_page_beside_the_report_follows_approval_and_cannot_be_forged(demo_release, officer, tmp_path):
    import release as rel

    _out, res = demo_release
    folder = tmp_path / "release"
    shutil.copytree(res.output_dir, folder, ignore=shutil.ignore_patterns("approval.json"))
    report = folder / "report" / "index.html"
    link = re.search(r'<a id="approval-page" href="([^"]+)"', report.read_text()).group(1)
    page = (report.parent / link).resolve()
    assert page == (folder / "approval.html").resolve()
    # published: the page exists and says pending review, in the browser
    dom = _run(["--dump-dom", page.as_uri()], tmp_path).stdout.decode()
    assert re.search(r'id="approval-state"[^>]*>pending review<', dom) and "approved-by" not in dom
    rel.approve(folder, note="reviewed the gate & the held-back documents")
    dom = _run(["--dump-dom", page.as_uri()], tmp_path).stdout.decode()
    assert re.search(r'id="approval-state"[^>]*>approved<', dom)
    assert re.search(r'id="approved-by">Maria Lindqvist<', dom)
    assert "reviewed the gate &amp; the held-back documents" in dom
    manifest_sha = rel.verify(folder).manifest_sha256
    assert manifest_sha in dom
    assert rel.verify(folder).ok  # the page is no stray file and matches approval.json
    # the signed report is unchanged by the approval; its header names the state at publication
    assert re.search(r'id="approval-state">pending_review<', report.read_text())
    section = report.read_text().split('<section id="approval">', 1)[1].split("</section>", 1)[0]
    assert "<b>pending_review</b>" in section and 'href="../approval.html"' in section
    assert "terroir approve DIR --trust" in section and "terroir verify DIR --trust" in section
    # a forged page: edited to name someone else, or left with no approval.json behind it
    page.write_text(page.read_text().replace("Maria Lindqvist", "Mallory"), encoding="utf-8")
    check = rel.verify(folder)
    assert not check.ok and check.integrity_ok and "does not show what approval.json says" in check.page_problem
    rel.approve(folder)  # approving again writes the page again
    assert rel.verify(folder).ok and "Mallory" not in page.read_text()
    (folder / "approval.json").unlink()  # the page still says "approved": verify says it lies
    check = rel.verify(folder)
    assert not check.approved and "approval.html does not show" in check.page_problem


def test_reasons_keep_the_policy_bounds_and_drill_down_to_documents(demo_release, tmp_path, capsys):
    from pipelines.cli import main as terroir
    from release.stats import _reason_family

    assert _reason_family("too little text: 12 chars < 50") == "too little text: N chars < 50"
    assert _reason_family("HTTP status 404") == "HTTP status 404"
    assert _reason_family("not assessed: long document (120000 words, over 100000)") == (
        "not assessed: long document (N words, over 100000)")  # fmt: skip
    out, res = demo_release
    page = out / "release" / "report" / "index.html"
    dom = _run(["--dump-dom", page.as_uri()], tmp_path).stdout.decode()
    section = dom[dom.index('<section id="reasons">'):]
    section = section[: section.index("</section>")]
    cells = re.findall(r"<tr><td[^>]*>([^<]+)</td><td[^>]*>([^<]+)</td><td[^>]*>([^<]+)</td><td[^>]*>([\d,]+)</td>"
                       r'<td[^>]*>(\w+)</td><td class="samples">(.*?)</td></tr>', section)  # fmt: skip
    # each count says what it counts: files at input, archive records at read, documents at every other stage
    assert {(s, u) for s, _d, _r, _n, u, _x in cells} <= {("input", "files"), ("read", "records")} | {
        (s, "documents") for s, *_ in cells if s not in ("input", "read")}
    assert {"records", "documents"} <= {u for *_, u, _x in cells}
    rows = [(s, d, r, n, x) for s, d, r, n, _u, x in cells]
    assert rows and all(decision != "redacted" for _s, decision, _r, _n, _x in rows)
    assert any(reason == "too little text: N chars &lt; 50" for _s, _d, reason, _n, _x in rows)
    ledger = {}
    for e in res.manifest["ledger"]:
        for r in pq.read_table(Path(res.output_dir) / e["path"]).to_pylist():
            ledger.setdefault(r["doc_id"], []).append(r)
    for stage, decision, _reason, count, cell in rows:
        samples = re.findall(r"<code>([0-9a-f]+)</code>", cell)
        assert 1 <= len(samples) <= min(5, int(count.replace(",", "")))
        for doc_id in samples:  # each sample really left at that stage with that decision
            assert any(r["stage"] == stage and r["decision"] == decision for r in ledger[doc_id])
    # terroir explain: the sample's rows from the ledger, and the documents of a reason
    stage, decision, _reason, _n, cell = next(r for r in rows if r[0] == "extract")
    doc_id = re.findall(r"<code>([0-9a-f]+)</code>", cell)[0]
    capsys.readouterr()
    assert terroir(["explain", str(res.output_dir), "--doc-id", doc_id]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert len(printed) == len(ledger[doc_id]) and all(line.startswith(doc_id) for line in printed)
    assert any("too little text" in line for line in printed)
    assert terroir(["explain", str(res.output_dir), "--reason", "TOO LITTLE TEXT", "--json"]) == 0
    found = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert doc_id in {f["doc_id"] for f in found} and all(f["decision"] != "kept" for f in found)
    assert terroir(["explain", str(res.output_dir), "--doc-id", "0" * 32]) == 1
    assert terroir(["explain", str(tmp_path), "--doc-id", doc_id]) == 2


def _table(dom: str, section: str) -> list[list[str]]:
    """The rows of the first table of a section of the rendered DOM, as cell texts (header first)."""
    part = dom[dom.index(f'<section id="{section}">'):]
    part = part[: part.index("</section>")]
    return [[_text(c).strip() for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", tr)]
            for tr in re.findall(r"<tr>(.*?)</tr>", part)]


def test_funnel_counts_documents_and_breaks_them_down_by_source_and_language(demo_release, tmp_path):
    """The rendered funnel never grows down the stages and explains a stage that did not judge every document;
    the per-source and per-language tables add up to the published shards."""
    from conftest import read_shards

    out, res = demo_release
    page = out / "release" / "report" / "index.html"
    dom = _run(["--dump-dom", page.as_uri()], tmp_path).stdout.decode()
    header, *body = _table(dom, "funnel")
    col = {h: i for i, h in enumerate(header)}
    reaching = [int(r[col["documents reaching it"]].replace(",", "")) for r in body]
    went_on = [int(r[col["went on"]].replace(",", "")) for r in body]
    assert reaching == sorted(reaching, reverse=True) and reaching[1:] == went_on[:-1]
    counts = res.manifest["counts"]
    assert went_on[-1] == counts["documents_published"]
    assert [r[0] for r in body][:1] != ["input"] and "read" not in [r[0] for r in body]
    quality = next(r for r in body if r[0] == "quality")
    note = _text(dom[dom.index('<ul id="not-judged">'):]).split("By source")[0]
    assert f"quality: {quality[col['not judged']]} document(s) reached it without a row" in note
    assert "demo-library" in note and "demo-tei" in note and "quality.exempt_source_types" in note
    shards = read_shards(res.manifest, Path(res.output_dir)).select(["source_id", "lang"]).to_pylist()
    for section, key in (("sources", "source_id"), ("by-language", "lang")):
        header, *body = _table(dom, section)
        col = {h: i for i, h in enumerate(header)}
        published = {r[0]: int(r[col["published"]].replace(",", "")) for r in body}
        expected = {}
        for s in shards:
            expected[s[key]] = expected.get(s[key], 0) + 1
        assert {k: v for k, v in published.items() if v} == expected, section
        for r in body:  # documents = published + those that left, and the row says where they left
            n = [int(r[col[h]].replace(",", "")) for h in ("documents", "dropped", "quarantined", "error", "published")]
            assert n[0] == sum(n[1:]), r
            assert (r[col["where documents left"]] == "none") == (n[0] == n[4]), r
    sources = {r[0]: r for r in _table(dom, "sources")[1:]}
    assert sources["demo-dumps"][3] != "none"  # the demo's broken JSON lines are records, counted at their source
    assert "(before language ID)" in {r[0] for r in _table(dom, "by-language")[1:]}
    assert re.search(rf"<b[^>]*>{counts['records_not_documents']:,}</b>records not documents", dom)
