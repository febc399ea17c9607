"""End-to-end runs of the real Beam pipeline (FnApiRunner) over real and generated data."""

from __future__ import annotations

import difflib
import gzip
import hashlib
import json
import os
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from conftest import load_manifest, read_ledger, read_shards, run_terroir, write_policy
from pipelines.run import ConfigError

pytestmark = pytest.mark.slow

SHARED_POLICY = """
policy_id: shared-data-test
residency:
  regions:
    europe: {jurisdictions: [SE, DE, FI, NL, FR, ES, "NO"], storage: shards/europe}
    americas: {jurisdictions: [US], storage: shards/americas}
    asia: {jurisdictions: [CN, JP, RU, ST], storage: shards/asia}
sources:
  alto: {jurisdiction: "NO", license: CC0-1.0}
  tei: {jurisdiction: DE, license: CC0-1.0}
admission:
  default_min_lang_score: 0.3
extraction: {min_chars: 20}
output: {shards_per_region: 2}
"""


@pytest.fixture(scope="module")
def shared_run(tmp_path_factory, shared):
    tmp = tmp_path_factory.mktemp("shared")
    policy = write_policy(tmp / "policy.yaml", SHARED_POLICY)
    out = tmp / "out"
    res = run_terroir(policy, [str(shared / "warc"), str(shared / "alto"), str(shared / "tei")], out, workers=2)
    return out, res


def test_every_shared_input_file_is_in_the_ledger(shared_run, shared):
    out, _res = shared_run
    ledger = read_ledger(out).to_pylist()
    seen = {r["input_path"] for r in ledger if r["stage"] == "input"}
    for folder in ("warc", "alto", "tei"):
        for f in (shared / folder).iterdir():
            assert f.name in seen, f"{folder}/{f.name} missing from the ledger"
    manifest = load_manifest(out)
    assert manifest["counts"]["input_files"] == len(seen)


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("resiliparse-clipped-truncated.warc.gz", "record truncated"),
        ("solrwayback-truncated.warc.gz", "record truncated"),
        ("solrwayback-evil-headers.warc", "record truncated"),
        ("webarchive-commons-link-extraction.warc", "response record has no WARC-Target-URI"),
        ("wiremock_alto_letter_to_Undset.xml", "XML declaration allowed only at the start"),
        ("NLF_379973_Aamulehti_1882_METS.xml", "METS references 4 ALTO file(s), none found"),
    ],
)
def test_bad_inputs_are_error_rows_with_reasons(shared_run, name, reason):
    out, _ = shared_run
    rows = [r for r in read_ledger(out).to_pylist() if r["input_path"] == name and r["decision"] == "error"]
    assert rows and any(reason in r["reason"] for r in rows)
    assert load_manifest(out)["counts"]["error_rows"] >= 6


def test_chronam_text_is_published(shared_run, shared):
    from filters.extract import alto_text

    out, res = shared_run
    rows = [r for r in read_shards(res.manifest, out).to_pylist() if r["record_locator"].startswith("chronam_ocr.xml")]
    assert len(rows) == 1
    row = rows[0]
    assert row["source_type"] == "alto" and row["origin_jurisdiction"] == "NO" and row["origin_basis"] == "registry"
    expected = alto_text((shared / "alto" / "chronam_ocr.xml").read_bytes()).split()
    assert difflib.SequenceMatcher(None, row["text"].split(), expected, autojunk=False).ratio() > 0.99


def test_shards_follow_the_contract_and_the_manifest(shared_run):
    from schemas import CORPUS_SCHEMA

    out, _res = shared_run
    manifest = load_manifest(out)
    assert manifest["shards"]
    for s in manifest["shards"]:
        path = out / s["path"]
        assert pq.read_schema(path).equals(CORPUS_SCHEMA, check_metadata=False)
        assert hashlib.sha256(path.read_bytes()).hexdigest() == s["sha256"]
        assert pq.read_metadata(path).num_rows == s["rows"]
        regions = set(pq.read_table(path, columns=["residency_region"]).column(0).to_pylist())
        assert regions == {s["residency_region"]}
        assert Path(s["storage"]).resolve() == path.parent.resolve()
    assert not list(out.rglob("*.tmp*")), "no temporary file may remain visible"
    assert not (out / "_staging").exists()


def test_manifest_times_every_step_of_the_graph_and_counts_its_items(shared_run):
    out, _res = shared_run
    manifest = load_manifest(out)
    steps = manifest["timings_s"]["steps"]
    ledger = read_ledger(out).to_pylist()
    by_stage = {}
    for r in ledger:
        by_stage.setdefault(r["stage"], []).append(r["decision"])
    inputs = manifest["resume"]["inputs"]
    assert steps["read and per-document stages"]["calls"] == inputs
    # every document leaving the per-document stages gets an exact-dedup row; every survivor of dedup a PII row
    assert steps["read and per-document stages"]["items"] == len(by_stage["dedup"])
    assert steps["exact dedup"]["items"] == len(by_stage["dedup"])
    redacted = [d for d in by_stage["pii"] if d in ("kept", "redacted")]
    assert steps["dedup decisions, PII, spill"]["calls"] == inputs
    assert steps["dedup decisions, PII, spill"]["items"] == len(redacted)
    assert steps["write shards"]["items"] == len(redacted)
    assert steps["write ledger"]["items"] == len(ledger) - len(by_stage.get("gate", []))
    assert 0 < steps["dedup decisions, PII, spill / pii"]["cpu_s"] <= steps["dedup decisions, PII, spill"]["cpu_s"]
    assert all(v["cpu_s"] >= 0 and v["wall_s"] >= 0 for v in steps.values())


def test_progress_line_names_the_last_step_once_every_input_is_read(tmp_path):
    from pipelines.graph.checkpoint import StepTimer, record_event
    from pipelines.graph.progress import ProgressMonitor

    mon = ProgressMonitor(str(tmp_path), str(tmp_path / "progress.log"), total_inputs=2, total_bytes=10, echo=False)
    record_event(str(tmp_path), event="processed", input="a", docs=3, bytes=5)
    with StepTimer(str(tmp_path), "read and per-document stages") as t:
        t.items = 3
    mon.tick()
    assert "[reading and processing inputs] inputs 1/2" in mon.line()
    record_event(str(tmp_path), event="processed", input="b", docs=4, bytes=5)
    with StepTimer(str(tmp_path), "fuzzy: buckets") as t:
        t.parts["sort"] = 0.0
    mon.tick()
    assert "last step done: fuzzy: buckets] inputs 2/2" in mon.line()
    assert mon.summary()["inputs_processed"] == 2  # step events are not inputs
    steps = mon.step_summary()
    assert steps["read and per-document stages"]["items"] == 3
    assert steps["fuzzy: buckets"]["calls"] == 1 and "fuzzy: buckets / sort" in steps


PII_POLICY = """
policy_id: pii-test
residency:
  regions:
    nordics: {jurisdictions: [SE, FI], storage: shards/nordics}
sources:
  intake: {jurisdiction: SE, license: CC-BY-4.0, id_field: id}
admission:
  languages: {sv: 0.5, en: 0.5}
pii:
  countries: [SE]
"""
def _one_record_intake(tmp_path: Path, text: str) -> Path:
    """A source folder holding one JSONL record with id `r1`."""
    dump = tmp_path / "intake"
    dump.mkdir()
    (dump / "records.jsonl").write_text(json.dumps({"id": "r1", "text": text}, ensure_ascii=False) + "\n")
    return dump


RAW = {"email": "karin.holm@lanstidningen.se", "iban": "SE45 5000 0000 0583 9825 7466", "card": "4111 1111 1111 1111"}


def test_document_with_email_iban_and_card_is_redacted_everywhere(tmp_path, capfd, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    text = (
        "Kommunfullmäktige samlades på tisdagskvällen för att diskutera de nya cykelbanorna längs hamnvägen. "
        f"Den som har frågor kan skriva till {RAW['email']} eller ringa kansliet under kontorstid. "
        f"Gåvor till arkivprojektet kan sättas in på konto {RAW['iban']} före årets slut. "
        f"Biljetten till konserten betalades med kortet {RAW['card']} i kiosken vid stationen. "
        "Bönderna i inlandet är glada över regnet efter en torr månad som oroade många av dem. "
        "Frivilliga från stadsbiblioteket har börjat spela in intervjuer med före detta hamnarbetare. "
        "De berättar om långa vintrar, tung last och vänskap som uppstod under nattskiften i hamnen."
    )
    dump = _one_record_intake(tmp_path, text)
    policy = write_policy(tmp_path / "policy.yaml", PII_POLICY)
    out = tmp_path / "release"
    res = run_terroir(policy, [f"intake={dump}"], out)
    rows = read_shards(res.manifest, out).to_pylist()
    assert len(rows) == 1
    assert rows[0]["pii_counts"] == [{"entity": "CREDIT_CARD", "count": 1}, {"entity": "EMAIL_ADDRESS", "count": 1},
                                     {"entity": "IBAN_CODE", "count": 1}]  # fmt: skip
    for placeholder in ("<EMAIL_ADDRESS>", "<IBAN_CODE>", "<CREDIT_CARD>"):
        assert placeholder in rows[0]["text"]
    pii_rows = [r for r in read_ledger(out).to_pylist() if r["stage"] == "pii"]
    assert len(pii_rows) == 1 and pii_rows[0]["decision"] == "redacted"
    assert json.loads(pii_rows[0]["detail"])["counts"] == {"CREDIT_CARD": 1, "EMAIL_ADDRESS": 1, "IBAN_CODE": 1}
    assert res.manifest["counts"]["pii_redacted"] == {"CREDIT_CARD": 1, "EMAIL_ADDRESS": 1, "IBAN_CODE": 1}
    assert_no_raw_values(out, list(RAW.values()))
    # nor in anything the run logged or printed (workers=1 runs every stage in this process)
    captured = capfd.readouterr()
    logged = caplog.text + captured.out + captured.err
    assert logged.strip(), "the run should have logged something to search"
    for value in RAW.values():
        for form in (value, value.replace(" ", "")):
            assert form not in logged


def _decoded_views(path: Path) -> list[bytes]:
    """The bytes of a file as a reader would see them: raw, gunzipped, and every Parquet value as text."""
    data = path.read_bytes()
    views = [data]
    if data[:2] == b"\x1f\x8b":
        views.append(gzip.decompress(data))
    if data[:4] == b"PAR1":
        table = pq.read_table(path)
        views.append(json.dumps(table.to_pylist(), default=str, ensure_ascii=False).encode())
    return views


def assert_no_raw_values(folder: Path, values: list[str]) -> None:
    needles = set()
    for v in values:
        needles.update({v, v.replace(" ", ""), v.replace(" ", "-")})
    files = [p for p in folder.rglob("*") if p.is_file()]
    assert files
    for p in files:
        for view in _decoded_views(p):
            for n in needles:
                assert n.encode() not in view, f"raw PII value found in {p.relative_to(folder)}"


def test_demo_release_holds_no_planted_value(demo_release):
    out, res = demo_release
    release = out / "release"
    planted = [v for vals in res.planted_pii.values() for v in vals]
    assert len(planted) >= 24
    assert_no_raw_values(release, planted)
    counts = res.manifest["counts"]["pii_redacted"]
    assert counts["EMAIL_ADDRESS"] >= len(res.planted_pii["email"]) - 1  # one mirror copy is dropped as a duplicate
    assert counts["IBAN_CODE"] == len(res.planted_pii["iban"])
    assert counts["CREDIT_CARD"] == len(res.planted_pii["card"])


def test_demo_release_layout(demo_release):
    out, _res = demo_release
    release = out / "release"
    m = load_manifest(release)
    assert (release / "report" / "index.html").is_file()
    assert sorted(p.relative_to(release / "report" / "validations").as_posix()
                  for p in (release / "report" / "validations").rglob("*.json")) == sorted(
        s["path"].split("shards/", 1)[1] + ".json" for s in m["shards"])  # fmt: skip
    assert m["ledger"] and all((release / e["path"]).is_file() for e in m["ledger"])
    assert {s["residency_region"] for s in m["shards"]} == {"eu", "uk"}
    ledger = read_ledger(release).to_pylist()
    reasons = {(r["stage"], r["decision"], r["reason"].split(":")[0]) for r in ledger}
    assert ("rights", "dropped", "rights reserved") in reasons
    assert ("residency", "quarantined", "unknown origin jurisdiction") in reasons
    assert ("langid", "dropped", "language ja not in the policy's scope") in reasons
    dups = [r for r in ledger if r["stage"] == "dedup" and r["decision"] == "dropped"]
    assert len(dups) == 2
    kept_ids = set(read_shards(m, release).column("doc_id").to_pylist())
    for d in dups:  # each removed document names a kept one
        assert json.loads(d["detail"])["kept_doc_id"] in kept_ids
    langs = set(read_shards(m, release).column("lang").to_pylist())
    assert {"en", "de", "fr", "sv", "fi", "es", "nl", "it"} <= langs
    types = set(read_shards(m, release).column("source_type").to_pylist())
    assert types == {"web", "alto", "tei", "jsonl"}


def test_worker_counts_give_byte_identical_shards(tmp_path):
    from pipelines.tools.demo import demo_inputs, demo_policy_path, generate

    data = tmp_path / "data"
    generate(data)
    digests = []
    for workers in (1, 2):
        out = tmp_path / f"w{workers}"
        res = run_terroir(demo_policy_path(), demo_inputs(data), out, workers=workers)
        files = sorted(p for p in (out / "shards").rglob("*.parquet"))
        assert files
        digests.append({p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files})
        assert len(res.manifest["shards"]) == len(files)
    assert digests[0] == digests[1]


QUARANTINE_POLICY = """
policy_id: quarantine-test
residency:
  regions:
    de: {jurisdictions: [DE], storage: shards/de}
    "no": {jurisdictions: ["NO"], storage: shards/no}
sources:
  tei: {jurisdiction: DE, license: CC0-1.0}
  alto: {jurisdiction: "NO", license: CC0-1.0}
admission: {default_min_lang_score: 0.3}
output: {shards_per_region: 1}
gates: {max_text_chars: 150000}
"""


def test_document_breaking_the_suite_is_held_back_and_its_shard_published(tmp_path, shared):
    policy = write_policy(tmp_path / "policy.yaml", QUARANTINE_POLICY)
    out = tmp_path / "out"
    res = run_terroir(policy, [str(shared / "tei"), str(shared / "alto")], out)
    m = load_manifest(out)
    # Faust is longer than the policy allows: Faust alone is held back, the rest of the German shard publishes
    assert [s["residency_region"] for s in m["shards"]] == ["de", "no"] and m["quarantined_shards"] == []
    (held,) = m["quarantined_documents"]
    assert held["inputs"] == {"goethe-faust-eine-tragoedie.xml": 1}
    assert list(held["failed_expectations"]) == ["expect_column_value_lengths_to_be_between(text)"]
    assert (out / held["path"]).is_file() and (out / (held["path"] + ".gate.json")).is_file()
    de = next(s for s in m["shards"] if s["residency_region"] == "de")
    assert de["rows"] == 3
    locators = pq.read_table(out / de["path"], columns=["record_locator"]).column(0).to_pylist()
    assert "goethe-faust-eine-tragoedie.xml" not in locators
    gate_rows = [r for r in read_ledger(out).to_pylist() if r["stage"] == "gate"]
    assert [r["input_path"] for r in gate_rows if r["decision"] == "quarantined"] == ["goethe-faust-eine-tragoedie.xml"]
    assert m["gate"]["shards_quarantined"] == 0 and res.manifest["gate"]["shards_passed"] == 2


def test_shard_breaking_the_suite_as_a_whole_is_quarantined_and_unlisted(tmp_path, shared):
    """A failure about the shard itself (here a suite that allows at most two rows per shard) names no document: the
    whole shard is quarantined, as before, and never listed."""
    from expectations.gate import suite_path

    suite = json.loads(suite_path("corpus_shard").read_text())
    for e in suite["expectations"]:
        if e["type"] == "expect_table_row_count_to_be_between":
            e["kwargs"]["max_value"] = 2
    (tmp_path / "small_shards.json").write_text(json.dumps(suite))
    policy = write_policy(tmp_path / "policy.yaml", QUARANTINE_POLICY.replace(
        "gates: {max_text_chars: 150000}", "gates: {suite: small_shards.json}"))  # fmt: skip
    out = tmp_path / "out"
    res = run_terroir(policy, [str(shared / "tei")], out)
    m = load_manifest(out)
    # four German plays in one shard break the row-count maximum
    assert [q["residency_region"] for q in m["quarantined_shards"]] == ["de"] and m["quarantined_documents"] == []
    q = m["quarantined_shards"][0]
    assert any("expect_table_row_count_to_be_between" in f for f in q["failed_expectations"])
    assert (out / q["path"]).is_file() and (out / (q["path"] + ".gate.json")).is_file()
    assert not (out / "shards" / "de").exists() or not list((out / "shards" / "de").iterdir())
    assert "shards/de" not in json.dumps(m["shards"])
    gate_rows = [r for r in read_ledger(out).to_pylist() if r["stage"] == "gate"]
    assert {r["decision"] for r in gate_rows} == {"quarantined"} and len(gate_rows) == 4
    assert m["gate"]["shards_quarantined"] == 1 and res.manifest["gate"]["shards_passed"] == 0


def test_document_with_an_unredacted_iban_is_held_back(tmp_path):
    text = ("Gåvor till arkivprojektet kan sättas in på konto SE45 5000 0000 0583 9825 7466 före årets slut. "
            "Kommunfullmäktige samlades på tisdagskvällen för att diskutera de nya cykelbanorna längs hamnvägen.")
    dump = _one_record_intake(tmp_path, text)
    # a policy that forgets IBANs in its PII stage: the gate must still stop the document
    policy = write_policy(tmp_path / "policy.yaml",
                          PII_POLICY + "  entities: [EMAIL_ADDRESS, CREDIT_CARD]\nquality: {enabled: false}\n")
    out = tmp_path / "release"
    res = run_terroir(policy, [f"intake={dump}"], out)
    assert res.manifest["shards"] == [] and res.manifest["quarantined_shards"] == []
    (q,) = res.manifest["quarantined_documents"]
    assert any("gate_residual_pii" in f for f in q["failed_expectations"])
    gate_json = json.loads((out / (q["path"] + ".gate.json")).read_text())
    assert "SE45" not in json.dumps(gate_json)  # counts only, never the value


def test_iban_shaped_number_with_a_wrong_checksum_is_only_a_warning(tmp_path):
    text = ("Referensnumret SE45 5000 0000 0583 9825 7467 står på fakturan från hamnkontoret i år. "
            "Kommunfullmäktige samlades på tisdagskvällen för att diskutera de nya cykelbanorna längs hamnvägen.")
    dump = _one_record_intake(tmp_path, text)
    policy = write_policy(tmp_path / "policy.yaml", PII_POLICY + "quality: {enabled: false}\n")
    res = run_terroir(policy, [f"intake={dump}"], tmp_path / "release")
    # not an IBAN (mod-97 fails): the PII stage leaves it, the validated gate check passes, the shape check warns
    assert len(res.manifest["shards"]) == 1 and not res.manifest["quarantined_shards"]
    gate = json.loads((tmp_path / "release" / "report" / "gate_results.json").read_text())
    warned = [e for e in gate[0]["expectations"] if not e["success"]]
    assert [e["severity"] for e in warned if "IBAN" in (e["note"] or "")] == ["warning"]


def test_configuration_errors_fail_before_any_work(tmp_path, shared):
    from schemas.policy import PolicyError

    policy = write_policy(tmp_path / "policy.yaml", SHARED_POLICY)
    out = tmp_path / "never"
    with pytest.raises(ConfigError, match="no such file or folder"):
        run_terroir(policy, [str(tmp_path / "missing.warc.gz")], out)
    assert not out.exists()
    bad = write_policy(tmp_path / "bad.yaml", "policy_id: x\nresidency: [\n")
    with pytest.raises(PolicyError, match="not valid YAML"):
        run_terroir(bad, [str(shared / "tei")], out)
    assert not out.exists()


def test_cli_reports_configuration_errors_with_exit_code_2(tmp_path, capsys):
    from pipelines.cli import main

    code = main(["run", "--policy", str(tmp_path / "nope.yaml"), "--input", str(tmp_path), "--output",
                 str(tmp_path / "o")])  # fmt: skip
    assert code == 2
    assert "file not found" in capsys.readouterr().err
    assert not os.path.exists(tmp_path / "o")
