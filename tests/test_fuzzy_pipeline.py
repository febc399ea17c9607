"""Fuzzy dedup inside the Beam graph: the removal set depends on the documents only, not on worker counts or the
order in which records arrive; every removed document names the kept one."""

from __future__ import annotations

import json
import random

import pytest

from conftest import read_ledger, read_shards, run_terroir, write_policy
from pipelines.tools.demo_text import SENTENCES

pytestmark = pytest.mark.slow

POLICY = """
policy_id: fuzzy-test
residency:
  regions:
    eu: {{jurisdictions: [DE, SE, FR], storage: shards/eu}}
sources:
  dump: {{jurisdiction: DE, license: CC0-1.0, id_field: id}}
admission: {{default_min_lang_score: 0.3}}
quality: {{enabled: false}}
dedup:
  exact: true
  fuzzy: {{enabled: true, mode: {mode}, {size}, bits: 64, bands: 20, rows: 10, threshold: 0.7, verify: "{verify}"}}
"""


def _records() -> list[dict]:
    rng = random.Random(5)
    recs = []
    for n in range(30):
        lang = ["de", "sv", "fr"][n % 3]
        base = " ".join(rng.sample(SENTENCES[lang], 8))
        recs.append({"id": f"orig-{n:02d}", "text": base})
        if n % 3 == 0:  # a near copy: one sentence appended
            recs.append({"id": f"near-{n:02d}", "text": base + " " + SENTENCES[lang][(n + 1) % 12]})
        if n % 5 == 0:  # a second near copy: one word changed
            words = base.split()
            words[len(words) // 2] = "Hafenstraße"
            recs.append({"id": f"edit-{n:02d}", "text": " ".join(words)})
    return recs


def _run(tmp_path, name, records, workers, mode="char", verify="true"):
    folder = tmp_path / name / "dump"
    folder.mkdir(parents=True)
    (folder / "records.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records) + "\n")
    policy = write_policy(tmp_path / name / "p.yaml", POLICY.format(mode=mode, verify=verify, size="width: 5" if mode == "char" else "ngrams: 3"))
    out = tmp_path / name / "out"
    res = run_terroir(policy, [f"dump={folder}"], out, workers=workers)
    ledger = read_ledger(out).to_pylist()
    removed = sorted((r["doc_id"], json.loads(r["detail"])["kept_doc_id"]) for r in ledger
                     if r["stage"] == "fuzzy_dedup" and r["decision"] == "dropped")  # fmt: skip
    kept = sorted(read_shards(res.manifest, out).column("doc_id").to_pylist())
    return removed, kept


@pytest.mark.parametrize("mode", ["char", "word"])
def test_removal_set_is_independent_of_workers_and_order(tmp_path, mode):
    records = _records()
    shuffled = records[:]
    random.Random(11).shuffle(shuffled)
    removed_a, kept_a = _run(tmp_path, "a", records, workers=1, mode=mode)
    removed_b, kept_b = _run(tmp_path, "b", shuffled, workers=2, mode=mode)
    assert removed_a == removed_b and kept_a == kept_b
    # the planted near copies are found: 10 appended-sentence copies and 6 one-word edits
    assert len(removed_a) >= 14
    for doc_id, keeper in removed_a:
        assert keeper < doc_id and keeper in kept_a  # the lowest doc_id of the cluster is kept


def test_dedup_backend_flag_overrides_the_policy_and_fails_before_work_where_it_cannot_run(tmp_path, capsys):
    from filters.dedup import gpu_available
    from pipelines.cli import main
    from pipelines.run import RunOptions, preflight

    folder = tmp_path / "dump"
    folder.mkdir()
    (folder / "in.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in _records()[:20]) + "\n")
    policy = write_policy(tmp_path / "p.yaml", """
policy_id: backend-flag
residency:
  regions:
    eu: {jurisdictions: [DE, SE, FR], storage: shards/eu}
sources:
  dump: {jurisdiction: DE, license: CC0-1.0, id_field: id}
dedup:
  fuzzy: {enabled: true, backend: auto}
""")
    pre = preflight(RunOptions(policy_path=str(policy), inputs=[f"dump={folder}"], output_dir=str(tmp_path / "o"),
                               dedup_backend="cpu"))  # fmt: skip
    assert pre.policy.fuzzy.backend == "cpu"
    if gpu_available():
        pytest.skip("a GPU backend can run here: nothing to refuse")
    out = tmp_path / "o-gpu"
    rc = main(["run", "--policy", str(policy), "--input", f"dump={folder}", "--output", str(out), "--dedup-backend", "gpu"])
    err = capsys.readouterr().err
    assert rc == 2
    assert "dedup.fuzzy" in err and "backend 'gpu'" in err and "--dedup-backend" in err
    assert not out.exists()  # refused before any work: no release folder
