"""One bad input never takes good documents down with it: repeated record ids, documents that break the gate, and a
runner whose workers cannot start. Each case runs beside control documents from other inputs, which must publish."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest

from conftest import load_manifest, read_ledger, read_shards, run_terroir, write_policy
from expectations.rows import expectation_rows, failing_rows

REPO = Path(__file__).resolve().parent.parent

CONTROL_TEXTS = [
    ("Kommunfullmäktige samlades på tisdagskvällen för att diskutera de nya cykelbanorna längs hamnvägen och "
    "beslutade att bygget ska börja redan i vår, efter en lång debatt om kostnaderna."),
    ("Biblioteket i centrum förlänger sina öppettider under sommaren, och barnavdelningen får nya böcker på "
    "arabiska, finska och somaliska efter önskemål från föräldrar i stadsdelen."),
    ("Hamnen tog emot fler kryssningsfartyg än någonsin i år; turistbyrån räknar med att handeln i gamla stan "
    "gynnas, men boende klagar på trängseln på de smala gatorna vid torget."),
]

POLICY = """
policy_id: isolation-test
residency:
  regions:
    nordics: {jurisdictions: [SE], storage: shards/nordics}
sources:
  dump: {jurisdiction: SE, license: CC-BY-4.0, id_field: id}
  control: {jurisdiction: SE, license: CC-BY-4.0, id_field: id}
admission:
  languages: {sv: 0.5}
quality: {enabled: false}
output: {shards_per_region: 1}
pii:
  countries: [SE]
"""


def _jsonl(folder: Path, name: str, records: list[dict]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return folder


def _controls(tmp_path: Path) -> Path:
    return _jsonl(tmp_path / "control", "control.jsonl", [{"id": f"c{i}", "text": t} for i, t in
                                                             enumerate(CONTROL_TEXTS)])  # fmt: skip


def _published_texts(out: Path) -> list[str]:
    m = load_manifest(out)
    return read_shards(m, out).column("text").to_pylist() if m["shards"] else []


def test_repeated_ids_in_a_dump_are_reidentified_and_everything_publishes(tmp_path):
    texts = [
        ("Sjöfartsverket varnar för isbildning i skärgården; fartygen ombeds hålla nedsatt fart i farlederna kring "
        "ön under helgen, när temperaturen väntas sjunka kraftigt efter midnatt."),
        ("Länsstyrelsen delar ut bidrag till föreningar som ordnar sommarlovsaktiviteter för barn; ansökan ska vara "
        "inne före maj, och pengarna räcker till ett trettiotal nya projekt i länet."),
        ("Skolan på Norra berget får en ny idrottshall efter beslut i nämnden; bygget beräknas ta två år och "
        "eleverna får under tiden använda den gamla hallen vid simhuset."),
    ]
    # three records share the id "7"; one repeats a text exactly (a real duplicate, for exact dedup to handle)
    records = [{"id": "7", "text": texts[0]}, {"id": "7", "text": texts[1]}, {"id": "8", "text": texts[2]},
               {"id": "7", "text": texts[0]}]  # fmt: skip
    dump = _jsonl(tmp_path / "dump", "records.jsonl", records)
    policy = write_policy(tmp_path / "policy.yaml", POLICY)
    out = tmp_path / "release"
    res = run_terroir(policy, [f"dump={dump}", f"control={_controls(tmp_path)}"], out)
    m = res.manifest
    assert not m["quarantined_shards"] and not m["quarantined_documents"]
    shards = read_shards(m, out)
    ids = shards.column("doc_id").to_pylist()
    assert len(ids) == len(set(ids))
    published = set(shards.column("text").to_pylist())
    assert set(CONTROL_TEXTS) <= published  # the other input's documents are all there
    assert set(texts) <= published  # and so is every distinct record of the dump
    from filters.document import make_doc_id

    locators = {r for r in shards.column("record_locator").to_pylist()}
    assert {"records.jsonl#7~2", "records.jsonl#8"} <= locators
    assert len(locators & {"records.jsonl#7", "records.jsonl#7~3"}) == 1  # equal texts: exact dedup keeps one
    ledger = read_ledger(out).to_pylist()
    renamed = [r for r in ledger if r["stage"] == "read" and r["decision"] == "kept"]
    assert len(renamed) == 2 and all(r["input_path"] == "records.jsonl" for r in renamed)
    details = [json.loads(r["detail"]) for r in renamed]
    assert sorted(d["occurrence"] for d in details) == [2, 3]
    assert {d["repeats_doc_id"] for d in details} == {make_doc_id("dump", "records.jsonl#7")}
    exact = [r for r in ledger if r["stage"] == "dedup" and r["decision"] == "dropped"]
    assert len(exact) == 1 and json.loads(exact[0]["detail"])["kept_doc_id"] in set(ids)
    assert all('"7"' not in (r["reason"] or "") for r in renamed)  # the raw id is not repeated in the reason


def test_a_document_breaking_the_gate_is_held_back_alone(tmp_path):
    """A policy that forgets IBANs: the gate finds one in one input's document. Only that document is held back; the
    control documents in the same shard publish, and the report names the input that caused it."""
    iban_text = ("Gåvor till arkivprojektet kan sättas in på konto SE45 5000 0000 0583 9825 7466 före årets slut. "
                 "Kommunfullmäktige samlades på tisdagskvällen för att diskutera de nya cykelbanorna längs hamnvägen.")
    dump = _jsonl(tmp_path / "dump", "gifts.jsonl", [{"id": "g1", "text": iban_text}])
    policy = write_policy(tmp_path / "policy.yaml", POLICY + "  entities: [EMAIL_ADDRESS, CREDIT_CARD]\n")
    out = tmp_path / "release"
    res = run_terroir(policy, [f"dump={dump}", f"control={_controls(tmp_path)}"], out)
    m = res.manifest
    assert not m["quarantined_shards"] and len(m["shards"]) == 1
    assert sorted(_published_texts(out)) == sorted(CONTROL_TEXTS)
    (held,) = m["quarantined_documents"]
    assert held["rows"] == 1 and held["inputs"] == {"gifts.jsonl": 1}
    assert list(held["failed_expectations"]) == ["expect_column_values_to_be_between(gate_residual_pii)"]
    assert (out / held["path"]).is_file() and m["gate"]["documents_held_back"] == 1
    gate_rows = [r for r in read_ledger(out).to_pylist() if r["stage"] == "gate"]
    bad = [r for r in gate_rows if r["decision"] == "quarantined"]
    assert len(bad) == 1 and bad[0]["input_path"] == "gifts.jsonl" and "gate_residual_pii" in bad[0]["reason"]
    assert sum(r["decision"] == "kept" for r in gate_rows) == len(CONTROL_TEXTS)
    gate = json.loads((out / "report" / "gate_results.json").read_text())
    assert gate[0]["passed"] and gate[0]["held_back"]["rows_held"] == 1
    everything = json.dumps(m) + json.dumps(gate) + (out / "report" / "index.html").read_text()
    assert "SE45" not in everything and "gifts.jsonl" in (out / "report" / "index.html").read_text()
    # the held-back file is part of what the manifest's digest covers: the release is intact, nothing stray
    from release import verify

    report = verify(out)
    assert report.integrity_ok, report.problems
    assert any(f["path"] == held["path"] for f in m["files"])


def test_every_document_of_a_shard_held_back_publishes_no_empty_shard(tmp_path, shared):
    policy = write_policy(tmp_path / "policy.yaml", """
policy_id: all-held
residency:
  regions:
    de: {jurisdictions: [DE], storage: shards/de}
sources:
  tei: {jurisdiction: DE, license: CC0-1.0}
admission: {default_min_lang_score: 0.3}
output: {shards_per_region: 1}
gates: {max_text_chars: 1000}
""")
    out = tmp_path / "out"
    res = run_terroir(policy, [str(shared / "tei")], out)
    m = res.manifest
    assert m["shards"] == [] and m["quarantined_shards"] == []
    (held,) = m["quarantined_documents"]
    assert held["shard_rows"] == 0 and held["rows"] == 4 and sum(held["inputs"].values()) == 4
    assert not (out / "shards" / "de").exists() or not list((out / "shards" / "de").iterdir())


def test_rows_are_traced_with_the_suite_semantics():
    df = pd.DataFrame({"doc_id": ["a", "b", "b", "c"], "license": [None, "x", "y", None], "n": [0.5, 1.5, None, -1],
                       "text": ["ok", "mail a@b.se", None, "long text"]})  # fmt: skip
    params = {"hi": 1.0}

    def rows(kind, **kw):
        return expectation_rows(df, {"type": kind, "kwargs": kw}, params).tolist()

    assert rows("expect_column_values_to_not_be_null", column="license") == [True, False, False, True]
    assert rows("expect_column_values_to_be_unique", column="doc_id") == [False, True, True, False]
    assert rows("expect_column_values_to_be_between", column="n", min_value=0.0,
                max_value={"$PARAMETER": "hi"}) == [False, True, False, True]  # fmt: skip
    assert rows("expect_column_value_lengths_to_be_between", column="text", min_value=3) == [True, False, False, False]
    assert rows("expect_column_values_to_not_match_regex", column="text", regex="@") == [False, True, False, False]
    assert rows("expect_column_values_to_be_in_set", column="license", value_set=["x"]) == [False, False, True, False]
    # about the table, not its rows: the shard fails as a whole
    assert expectation_rows(df, {"type": "expect_table_row_count_to_be_between", "kwargs": {"min_value": 9}}, {}) is None
    assert failing_rows(df, [{"type": "expect_table_columns_to_match_ordered_list", "kwargs": {}}], {}) is None
    # a failure the rows do not explain is never guessed at
    assert failing_rows(df, [{"type": "expect_column_values_to_not_be_null", "kwargs": {"column": "doc_id"}}], {}) is None


def _netns_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False).returncode == 0


@pytest.mark.skipif(not _netns_available(), reason="creating a network namespace needs root (unshare -n)")
def test_workers_that_cannot_reach_the_driver_fail_fast(tmp_path, shared):
    """The loopback interface down (a fresh network namespace leaves it down): the local runner's workers could never
    connect, so the run must say so within seconds instead of waiting in gRPC timeouts."""
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--policy", str(REPO / "policies" / "demo-eu.yaml"),
           "--input", str(shared / "tei"), "--output", str(tmp_path / "out"), "--workers", "2"]  # fmt: skip
    t0 = time.monotonic()
    proc = subprocess.run(["unshare", "-n", *cmd], cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert time.monotonic() - t0 < 60
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "loopback" in proc.stderr and "ip link set lo up" in proc.stderr
    assert not (tmp_path / "out").exists()  # nothing was started


def test_a_runner_whose_workers_never_start_is_stopped_by_the_watchdog(tmp_path, shared):
    """Whatever keeps the workers from starting, the driver gives up after --worker-start-timeout with exit 3 (here
    the timeout is shorter than a worker process's start, so no worker can make it)."""
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--policy", str(REPO / "policies" / "demo-eu.yaml"),
           "--input", str(shared / "tei"), "--output", str(tmp_path / "out"), "--workers", "2",
           "--worker-start-timeout", "0.2"]  # fmt: skip
    t0 = time.monotonic()
    proc = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=60, check=False)
    assert time.monotonic() - t0 < 60
    assert proc.returncode == 3, proc.stderr[-2000:]
    assert "no local runner worker started within 0.2 s" in proc.stderr
    assert not (tmp_path / "out" / "release.json").exists()


def test_a_stage_failing_on_one_document_withholds_that_document_only():
    """A per-document stage that raises (here on a web record whose page is bytes, not decoded text) ends that
    document with an `error` row naming the stage and the exception type; the next document goes through."""
    from filters.document import Document
    from pipelines.stages.document import DocumentStages
    from schemas.policy import load_policy

    stages = DocumentStages(load_policy(str(REPO / "policies" / "demo-eu.yaml")))
    secret = "Ring Karin Holm på 070-123 45 67"

    def page(doc_id: str, html) -> Document:
        return Document(doc_id=doc_id, source_id="web", source_type="web", input_path="crawl.warc",
                        record_locator=f"crawl.warc@{doc_id}", html=html, url=f"https://example.de/{doc_id}")  # fmt: skip

    bad = list(stages.process(page("bad", f"<html><body><p>{secret}</p></body></html>".encode())))
    assert [k for k, _ in bad] == ["ledger"]
    row = bad[0][1]
    assert (row["stage"], row["decision"]) == ("rights", "error") and "TypeError" in row["reason"]
    assert secret not in json.dumps(row)
    good_html = "<html><body>" + "".join(f"<p>{t}</p>" for t in CONTROL_TEXTS) * 3 + "</body></html>"
    good = list(stages.process(page("good", good_html.replace("Kommun", "Stadshus"))))
    assert all(r["decision"] != "error" for k, r in good if k == "ledger")
    assert {r["stage"] for k, r in good if k == "ledger"} >= {"rights", "extract", "langid"}


METS = """<?xml version="1.0" encoding="UTF-8"?>
<mets xmlns="http://www.loc.gov/METS/" xmlns:xlink="http://www.w3.org/1999/xlink">
 <fileSec><fileGrp USE="ALTO">
{files}
 </fileGrp></fileSec>
 <structMap TYPE="PHYSICAL"><div TYPE="issue">{areas}</div></structMap>
</mets>
"""


def _mets(hrefs: list[str]) -> str:
    files = "\n".join(f'  <file ID="f{i}"><FLocat LOCTYPE="URL" xlink:href="{h}"/></file>' for i, h in enumerate(hrefs))
    areas = "".join(f'<div TYPE="page"><fptr><area FILEID="f{i}"/></fptr></div>' for i in range(len(hrefs)))
    return METS.format(files=files, areas=areas)


def test_mets_members_resolve_inside_the_input_folder_only(tmp_path, shared):
    """A METS in `issue/` whose ALTO pages sit in a sibling folder `alto/` of the same input is read (it used to crash
    the run at publish); references outside the input folder are refused with a ledger row and never read."""
    page = (shared / "alto" / "testAltos_0_testAlto.xml").read_bytes()
    secret = tmp_path / "outside.xml"
    secret.write_bytes(page.replace(b"CONTENT=\"", b"CONTENT=\"Geheim"))  # an ALTO outside the input: never read
    root = tmp_path / "input"
    (root / "alto").mkdir(parents=True)
    (root / "issue").mkdir()
    (root / "alto" / "p1.xml").write_bytes(page)
    hrefs = ["../alto/p1.xml", "../../outside.xml", f"file://{secret}"]
    (root / "issue" / "issue.xml").write_text(_mets(hrefs), encoding="utf-8")
    policy = write_policy(tmp_path / "policy.yaml", """
policy_id: mets-paths
residency:
  regions:
    de: {jurisdictions: [DE], storage: shards/de}
sources:
  lib: {jurisdiction: DE, license: CC0-1.0}
admission: {default_min_lang_score: 0.0}
quality: {enabled: false}
""")
    out = tmp_path / "out"
    res = run_terroir(policy, [f"lib={root}"], out)
    m = res.manifest
    assert {i["path"] for i in m["inputs"]} == {"issue/issue.xml", "alto/p1.xml"}
    texts = read_shards(m, out).column("text").to_pylist()
    assert len(texts) == 1 and "Geheim" not in texts[0]
    refused = [r for r in read_ledger(out).to_pylist() if r["stage"] == "read" and r["decision"] == "error"]
    assert len(refused) == 2 and all("lies outside the input folder; refused" in r["reason"] for r in refused)


def test_a_damaged_dump_loses_no_record_without_a_ledger_row(tmp_path):
    """A line nested too deeply to parse, a line over the record limit, then a gzip cut mid-record: every record
    before and between is published, and each lost one has its own error row."""
    import gzip

    deep = "[" * 1500 + "]" * 1500  # deeper than the JSON parser recurses, shorter than the record limit
    lines = [json.dumps({"id": "a", "text": CONTROL_TEXTS[0]}), deep, json.dumps({"id": "b", "text": CONTROL_TEXTS[1]}),
             json.dumps({"id": "huge", "text": "x" * 5000}), json.dumps({"id": "c", "text": CONTROL_TEXTS[2]}),
             json.dumps({"id": "cut", "text": "Detta stycke kommer aldrig fram " * 40})]  # fmt: skip
    whole = gzip.compress(("\n".join(lines) + "\n").encode())
    dump = tmp_path / "dump"
    dump.mkdir()
    (dump / "records.jsonl.gz").write_bytes(whole[: len(whole) - 40])  # the last record is cut off
    policy = write_policy(tmp_path / "policy.yaml", POLICY + "extraction: {max_record_bytes: 4096}\n")
    out = tmp_path / "release"
    res = run_terroir(policy, [f"dump={dump}"], out)
    assert sorted(_published_texts(out)) == sorted(CONTROL_TEXTS)
    errors = {r["reason"].split(":")[0]: r["reason"] for r in read_ledger(out).to_pylist()
              if r["stage"] == "read" and r["decision"] == "error"}  # fmt: skip
    assert "nested too deeply" in errors["line 2"] and "larger than 4,096 bytes" in errors["line 4"]
    assert "cut off by damaged compressed data" in errors["line 6"]
    (file_row,) = [r for r in read_ledger(out).to_pylist() if r["stage"] == "input"]
    assert file_row["decision"] == "error" and "3 record(s) read before it were kept" in file_row["reason"]
    assert res.manifest["counts"]["error_rows"] >= 4


def test_decompression_is_bounded_by_the_policy(tmp_path):
    import gzip

    dump = tmp_path / "dump"
    dump.mkdir()
    body = json.dumps({"id": "a", "text": CONTROL_TEXTS[0]}) + "\n" + (" " * 1023 + "\n") * 20_000  # 20 MB of blanks
    (dump / "bomb.jsonl.gz").write_bytes(gzip.compress(body.encode(), 9))
    assert (dump / "bomb.jsonl.gz").stat().st_size < 100_000
    policy = write_policy(tmp_path / "policy.yaml", POLICY + "extraction: {max_decompressed_bytes: 1000000}\n")
    out = tmp_path / "release"
    run_terroir(policy, [f"dump={dump}"], out)
    assert _published_texts(out) == [CONTROL_TEXTS[0]]
    (file_row,) = [r for r in read_ledger(out).to_pylist() if r["stage"] == "input"]
    assert file_row["decision"] == "error" and "max_decompressed_bytes" in file_row["reason"]
