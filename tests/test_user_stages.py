"""Extra per-document stages a user adds through the policy (`stages:`): a module outside the repository, found on
PYTHONPATH, runs in a real `terroir run` on the workers; its decisions are in the ledger, the shards and the report;
every wrong configuration stops the run in preflight (exit 2) with a message that says what to fix."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import load_manifest, read_ledger, read_shards, start_dask_cluster, stop_processes
from filters.document import Document
from pipelines.cli import main
from schemas.policy import PolicyError, StageSpec, default_stage_name, load_policy, ordered_stage_names

REPO = Path(__file__).resolve().parent.parent

# A user's own stages, as they would write them: plain classes over the Stage interface.
USER_MODULE = '''
from pipelines.stages import Decision, Stage


class NationalBlocklist(Stage):
    """Drops a document that holds a listed word (whole words, case-folded)."""

    def __init__(self, words, min_hits=1):
        if not words:
            raise ValueError("words: give at least one word")
        self.words = frozenset(w.casefold() for w in words)
        self.min_hits = min_hits

    def decide(self, doc):
        tokens = (t.strip(".,;:!?()[]\\"'") for t in doc.text.casefold().split())
        hits = sum(1 for t in tokens if t in self.words)
        if hits >= self.min_hits:
            return Decision.dropped("a word of the national blocklist", hits=hits)
        return Decision.kept("no listed word")


class HoldForReview(Stage):
    """Quarantines a document that names `marker`; passes (no row) documents of other source types."""

    def __init__(self, marker, source_types=("tei",)):
        self.marker = marker
        self.source_types = tuple(source_types)

    def setup(self):
        self.ready = True  # a worker calls setup before the first document

    def decide(self, doc):
        if doc.source_type not in self.source_types:
            return None
        if self.marker in doc.text:
            return Decision.quarantined("names the marker; held for an editor", mentions=doc.text.count(self.marker))
        return Decision.kept("marker absent")


class Explodes(Stage):
    def decide(self, doc):
        if "Mephistopheles" in doc.text:
            raise RuntimeError("Mephistopheles: " + doc.text[:40])
        return Decision.kept("fine")


class QuotesText(Stage):
    def decide(self, doc):
        return Decision.kept("looked", sample=doc.text[:20])


class ReturnsText(Stage):
    def decide(self, doc):
        return "kept"


class NotAStage:
    def decide(self, doc):
        return None


class Abstract(Stage):
    pass


def blocklist(doc):
    return None
'''

POLICY = """
policy_id: user-stages
residency:
  regions:
    de: {jurisdictions: [DE], storage: shards/de}
sources:
  tei: {jurisdiction: DE, license: CC0-1.0}
admission: {default_min_lang_score: 0.3}
gates: {max_text_chars: 1000000}
"""

STAGES = """
stages:
  - use: "{module}:NationalBlocklist"
    after: quality
    args: {{words: [Woyzeck, Marie]}}
  - use: "{module}:HoldForReview"
    name: review
    after: national_blocklist
    args: {{marker: Mephistopheles}}
"""

WOYZECK, FAUST = "buechner-woyzeck.xml", "goethe-faust-eine-tragoedie.xml"


def _module(folder: Path, name: str) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / f"{name}.py").write_text(USER_MODULE, encoding="utf-8")
    return name


@pytest.fixture(scope="module")
def user_run(tmp_path_factory, shared):
    """One real run in a subprocess, the stage module outside the repository, on PYTHONPATH only, 2 workers."""
    tmp = tmp_path_factory.mktemp("user-stages")
    module = _module(tmp / "site", "national_filters")
    assert not (REPO / f"{module}.py").exists()
    policy = tmp / "policy.yaml"
    policy.write_text(POLICY + STAGES.format(module=module), encoding="utf-8")
    out = tmp / "release"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(REPO), str(tmp / "site")]))
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--policy", str(policy), "--input", f"tei={shared / 'tei'}",
           "--output", str(out), "--workers", "2"]  # fmt: skip
    proc = subprocess.run(cmd, cwd=tmp, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def _rows(out: Path) -> list[dict]:
    return read_ledger(out).to_pylist()


@pytest.mark.slow
def test_the_extra_stages_decisions_are_ledger_rows(user_run):
    rows = _rows(user_run)
    block = {r["input_path"]: r for r in rows if r["stage"] == "national_blocklist"}
    assert set(block) == {"anonym-das-urtheil-des-paris.xml", WOYZECK, FAUST, "kleist-der-zerbrochene-krug.xml"}
    assert block[WOYZECK]["decision"] == "dropped"
    assert block[WOYZECK]["reason"] == "a word of the national blocklist"
    assert json.loads(block[WOYZECK]["detail"])["hits"] > 10
    assert block[WOYZECK]["bytes"] > 50_000
    assert all(block[n]["decision"] == "kept" and block[n]["reason"] == "no listed word" for n in block if n != WOYZECK)
    review = {r["input_path"]: r for r in rows if r["stage"] == "review"}
    assert WOYZECK not in review  # dropped by the stage before: it never reached this one
    assert review[FAUST]["decision"] == "quarantined" and json.loads(review[FAUST]["detail"])["mentions"] > 100
    assert {review[n]["decision"] for n in review if n != FAUST} == {"kept"}
    assert not [r for r in rows if r["decision"] == "error"]


@pytest.mark.slow
def test_a_documents_rows_follow_the_order_the_stages_ran_in(user_run):
    rows = [r for r in _rows(user_run) if r["input_path"] == "kleist-der-zerbrochene-krug.xml" and r["stage"] != "input"]
    assert [r["stage"] for r in rows] == ["rights", "extract", "langid", "national_blocklist", "review", "residency",
                                          "admission", "dedup", "pii"]  # fmt: skip


@pytest.mark.slow
def test_dropped_and_quarantined_documents_are_not_published(user_run):
    rows = _rows(user_run)
    published = {r["record_locator"] for r in read_shards(load_manifest(user_run), user_run).to_pylist()}
    assert published == {"anonym-das-urtheil-des-paris.xml", "kleist-der-zerbrochene-krug.xml"}
    ids = {r["input_path"]: r["doc_id"] for r in rows if r["stage"] == "national_blocklist"}
    for s in load_manifest(user_run)["shards"]:
        shard_ids = set(pq.read_table(user_run / s["path"], columns=["doc_id"]).column("doc_id").to_pylist())
        assert not shard_ids & {ids[WOYZECK], ids[FAUST]}


@pytest.mark.slow
def test_the_report_and_release_stats_name_the_extra_stages(user_run):
    manifest = load_manifest(user_run)
    c = manifest["counts"]
    assert c["documents_published"] == 2 and c["documents_quarantined"] >= 1 and c["documents_dropped"] >= 1
    summary = json.loads((user_run / "summary" / "eu_ai_act_summary.json").read_text())
    per_stage = _find(summary, "decisions_per_stage")
    names = [t["stage"] for t in per_stage]
    assert names.index("langid") < names.index("national_blocklist") < names.index("review") < names.index("residency")
    totals = {t["stage"]: t for t in per_stage}
    assert (totals["national_blocklist"]["dropped"], totals["national_blocklist"]["kept"]) == (1, 3)
    assert (totals["review"]["quarantined"], totals["review"]["kept"]) == (1, 2)
    html = (user_run / "report" / "index.html").read_text()
    funnel = html[html.index('<section id="funnel">'):html.index('<section id="sources">')]
    assert ">national_blocklist</td>" in funnel and "<title>review quarantined: 1</title>" in funnel
    reasons = html[html.index('<section id="reasons">'):html.index('<section id="languages">')]
    assert "a word of the national blocklist" in reasons and "names the marker; held for an editor" in reasons
    steps = manifest["timings_s"]["steps"]
    assert "read and per-document stages / national_blocklist" in steps and "read and per-document stages / review" in steps


def _find(tree, key):
    if isinstance(tree, dict):
        if key in tree:
            return tree[key]
        tree = list(tree.values())
    if isinstance(tree, list):
        for item in tree:
            found = _find(item, key)
            if found is not None:
                return found
    return None


# ------------------------------------------------------------------ the runner, in process


@pytest.fixture
def user_module(tmp_path, monkeypatch, request) -> str:
    name = f"user_stages_{abs(hash(request.node.nodeid)) % 10**9}"
    monkeypatch.syspath_prepend(str(tmp_path / "site"))
    monkeypatch.delitem(sys.modules, name, raising=False)
    return _module(tmp_path / "site", name)


def _stages(tmp_path: Path, extra: str):
    from pipelines.stages.document import DocumentStages

    (tmp_path / "p.yaml").write_text(POLICY + "quality: {enabled: false}\n" + extra, encoding="utf-8")
    return DocumentStages(load_policy(tmp_path / "p.yaml"))


def _doc(doc_id: str, text: str) -> Document:
    return Document(doc_id=doc_id, source_id="tei", source_type="tei", input_path="x.xml", record_locator=doc_id,
                    text=text)  # fmt: skip


FAUST_TEXT = "Mephistopheles spricht mit dem Herrn über den Doktor Faust und die Wette, die sie beide eingehen. " * 3
PLAIN_TEXT = "Der Dorfrichter Adam sitzt am Morgen in seiner Stube und verbindet sich das Bein, das er sich stieß. " * 3


@pytest.mark.parametrize(
    ("cls", "exc"), [("Explodes", "RuntimeError"), ("QuotesText", "TypeError"), ("ReturnsText", "TypeError")]
)
def test_a_stage_failing_on_one_document_ends_that_document_only(tmp_path, user_module, cls, exc):
    stages = _stages(tmp_path, f'stages: [{{use: "{user_module}:{cls}", after: langid, name: mine}}]\n')
    bad = stages.process(_doc("bad", FAUST_TEXT))
    assert bad[-1][0] == "ledger"
    row = bad[-1][1]
    assert (row["stage"], row["decision"]) == ("mine", "error")
    assert row["reason"] == f"mine failed on this document ({exc}); the document is withheld"
    assert "Mephistopheles" not in json.dumps(bad[-1]) and "Mephistopheles" not in json.dumps(bad)
    good = stages.process(_doc("good", PLAIN_TEXT))
    if cls == "Explodes":
        assert good[-1][0] == "doc" and [r["stage"] for k, r in good if k == "ledger"][-3:] == ["mine", "residency",
                                                                                            "admission"]  # fmt: skip


def test_the_stages_run_in_policy_order_and_are_timed(tmp_path, user_module):
    stages = _stages(tmp_path, STAGES.format(module=user_module).replace("after: quality", "after: langid"))
    assert [s.name for s in stages.stages] == ["takedown", "rights", "extract", "langid", "national_blocklist",
                                               "review", "quality", "residency", "admission", "takedown"]  # fmt: skip
    out = stages.process(_doc("faust", FAUST_TEXT))
    assert [r["stage"] for k, r in out if k == "ledger"][-2:] == ["national_blocklist", "review"]
    assert out[-1][1]["decision"] == "quarantined"
    assert stages.stages[5].ready is True  # setup ran before the first document
    timings = stages.take_timings()
    assert {"rights", "extract", "langid", "national_blocklist", "review"} <= set(timings) and not stages.timings


def test_stage_names_and_order_come_from_the_policy_alone():
    assert default_stage_name("pkg.mod:NationalBlocklist") == "national_blocklist"
    assert default_stage_name("pkg:HTTPHeaderCheck") == "http_header_check"
    specs = (StageSpec("m:A", "quality", "a"), StageSpec("m:B", "quality", "b"), StageSpec("m:C", "a", "c"),
             StageSpec("m:D", "nowhere", "d"))  # fmt: skip
    assert ordered_stage_names(("langid", "quality", "residency"), specs) == ("langid", "quality", "a", "c", "b",
                                                                             "residency")  # fmt: skip


# ------------------------------------------------------------------ preflight: wrong configuration, exit 2


def _run_cli(capsys, tmp_path: Path, shared: Path, stages_yaml: str) -> tuple[int, str, Path]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY + stages_yaml, encoding="utf-8")
    out = tmp_path / "release"
    try:
        rc = main(["run", "--policy", str(policy), "--input", f"tei={shared / 'tei'}", "--output", str(out),
                   "--workers", "1"])  # fmt: skip
    except SystemExit as exc:
        rc = exc.code
    _, err = capsys.readouterr()
    return rc, err, out


def _nothing_created(tmp_path: Path, out: Path) -> bool:
    from pipelines.run import work_dir_of

    return not out.exists() and not work_dir_of(out).exists()


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ('{use: "no_such_terroir_module.filters:Toxicity", after: quality}',
         ("field stages.0 (no_such_terroir_module.filters:Toxicity): module no_such_terroir_module.filters cannot be "
          "imported (ModuleNotFoundError: No module named 'no_such_terroir_module'); install it, or put the folder "
          "that holds it on PYTHONPATH (with a cluster: on every worker too)")),
        ('{use: "MOD:Missing", after: quality}', "has no attribute Missing; check the name"),
        ('{use: "MOD:blocklist", after: quality}',
         ("field stages.0 (MOD:blocklist): MOD:blocklist is a function, not a Stage class; subclass "
          "pipelines.stages.Stage and implement decide(doc)")),
        ('{use: "MOD:NotAStage", after: quality}', "MOD:NotAStage is a class that does not subclass Stage"),
        ('{use: "MOD:Abstract", after: quality}', "MOD:Abstract does not implement decide(doc)"),
        ('{use: "MOD:NationalBlocklist", after: qualty, args: {words: [x]}}',
         ("field stages.0 (MOD:NationalBlocklist): after: 'qualty' is not a per-document stage; choose one of takedown, "
          "rights, extract, langid, quality, residency, admission or an extra stage listed before this one")),
        ('{use: "MOD:NationalBlocklist", after: quality, args: {wrods: [x]}}',
         ("field stages.0 (MOD:NationalBlocklist): args do not build MOD:NationalBlocklist (given: wrods): TypeError: "
          "NationalBlocklist.__init__() got an unexpected keyword argument 'wrods'; fix its args:")),
        ('{use: "MOD:NationalBlocklist", after: quality, args: {words: []}}',
          "(given: words): ValueError: words: give at least one word; fix its args:"),
        ('{use: "MOD:NationalBlocklist", after: quality, name: quality, args: {words: [x]}}',
         ("field stages.0 (MOD:NationalBlocklist): name 'quality' is a stage Terroir's ledger already has; give this "
          "stage another name:")),
    ],
    ids=["module-missing", "attribute-missing", "function", "not-a-stage", "abstract", "unknown-after", "bad-args",
          "args-refused", "name-taken"],
)
def test_a_wrong_stage_stops_the_run_before_any_work(capsys, tmp_path, shared, user_module, entry, message):
    rc, err, out = _run_cli(capsys, tmp_path, shared, f"stages: [{entry.replace('MOD', user_module)}]\n")
    assert rc == 2, err
    assert message.replace("MOD", user_module) in err
    assert _nothing_created(tmp_path, out)


def test_a_stage_after_a_later_stage_is_refused(capsys, tmp_path, shared, user_module):
    stages = (f'stages:\n  - {{use: "{user_module}:HoldForReview", after: national_blocklist, args: {{marker: x}}}}\n'
              f'  - {{use: "{user_module}:NationalBlocklist", after: quality, args: {{words: [x]}}}}\n')  # fmt: skip
    rc, err, out = _run_cli(capsys, tmp_path, shared, stages)
    assert rc == 2 and "field stages.0" in err and "after: 'national_blocklist' is not a per-document stage" in err
    assert _nothing_created(tmp_path, out)


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        ("{use: Toxicity, after: quality}", "field stages.0.use: found \"Toxicity\"; must match"),
        ('{use: "m:Toxicity"}', "field stages.0: 'after' is a required property"),
        ('{use: "m:Toxicity", after: quality, argz: {}}', "field stages.0: unknown key(s) ['argz']"),
    ],
)
def test_the_policy_schema_checks_each_stage_entry(tmp_path, entry, message):
    (tmp_path / "p.yaml").write_text(POLICY + f"stages: [{entry}]\n", encoding="utf-8")
    with pytest.raises(PolicyError) as err:
        load_policy(tmp_path / "p.yaml")
    assert message in str(err.value)


def test_two_stages_of_one_name_are_refused(tmp_path):
    (tmp_path / "p.yaml").write_text(POLICY + textwrap.dedent("""
        stages:
          - {use: "a.b:Toxicity", after: quality}
          - {use: "c:Toxicity", after: toxicity}
        """), encoding="utf-8")  # fmt: skip
    with pytest.raises(PolicyError, match=r"field stages.1: stage name 'toxicity' is already used by stages.0"):
        load_policy(tmp_path / "p.yaml")


def test_a_policy_without_stages_has_none():
    assert load_policy(REPO / "policies" / "demo-eu.yaml").stages == ()


# ------------------------------------------------------------------ on a Dask cluster


@pytest.mark.slow
def test_the_extra_stages_run_on_dask_workers_as_on_the_local_runner(tmp_path, shared, user_run):
    """The module is on the workers' PYTHONPATH as on the driver's: same decisions, same shards as the local run."""
    site = tmp_path / "site"
    module = _module(site, "national_filters")
    path = os.pathsep.join([str(REPO), str(site)])
    address, procs = start_dask_cluster(tmp_path, 1, path)
    try:
        policy = tmp_path / "policy.yaml"
        policy.write_text(POLICY + STAGES.format(module=module), encoding="utf-8")
        out = tmp_path / "release"
        cmd = [sys.executable, "-m", "pipelines.cli", "run", "--policy", str(policy), "--input",
               f"tei={shared / 'tei'}", "--output", str(out), "--runner", "dask", "--dask-address", address]  # fmt: skip
        proc = subprocess.run(cmd, cwd=tmp_path, env=dict(os.environ, PYTHONPATH=path), capture_output=True,
                              text=True, timeout=600, check=False)  # fmt: skip
    finally:
        stop_processes(procs)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert load_manifest(out)["release"]["runner"] == "dask"

    def decisions(release: Path) -> set[tuple]:
        return {(r["doc_id"], r["stage"], r["decision"], r["reason"], r["detail"]) for r in _rows(release)
                if r["stage"] in ("national_blocklist", "review")}  # fmt: skip

    assert decisions(out) == decisions(user_run) and len(decisions(out)) == 7
    digests = {}
    for release in (out, user_run):
        digests[release] = sorted(s["sha256"] for s in load_manifest(release)["shards"])
    assert digests[out] == digests[user_run]


def test_a_changed_stage_module_is_a_new_fingerprint(tmp_path, user_module):
    """A rerun reuses checkpoints only when the stages' code is the same (the policy's text alone is not enough)."""
    from pipelines.run import RunOptions, run_fingerprint

    (tmp_path / "p.yaml").write_text(POLICY + f'stages: [{{use: "{user_module}:HoldForReview", after: langid, '
                                     'args: {marker: x}}]\n', encoding="utf-8")  # fmt: skip
    policy, opts = load_policy(tmp_path / "p.yaml"), RunOptions(str(tmp_path / "p.yaml"), [], str(tmp_path / "o"))
    first = run_fingerprint(policy, {}, opts)
    assert run_fingerprint(policy, {}, opts) == first
    source = tmp_path / "site" / f"{user_module}.py"
    source.write_text(source.read_text(encoding="utf-8") + "\n# stricter now\n", encoding="utf-8")
    assert run_fingerprint(policy, {}, opts) != first
