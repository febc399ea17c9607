"""`terroir dedup`, the out-of-core engine: the same removals as the Beam stage on the same documents, whatever the
worker count, partitioning, slicing or input order; damaged inputs recorded, not fatal; the outputs account for
every document."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import sys

import apache_beam as beam
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from apache_beam.testing.util import assert_that

from conftest import REPO
from filters.document import Document
from pipelines.tools.dedup_corpus import DedupError, dedup_corpus
from schemas.policy import FuzzyDedup

sys.path.insert(0, str(REPO / "benchmarks"))
from bench_dedup import make_corpus

FUZZY = FuzzyDedup(enabled=True, backend="cpu", threshold=0.8, verify="true")


@pytest.fixture(scope="module")
def corpus():
    labels, texts, _family = make_corpus(700, seed=3)
    # a bucket above BIG_BUCKET members (star to the lowest id), and documents without any shingle
    labels += [f"copy-{k:03d}" for k in range(230)] + ["empty-a", "empty-b"]
    texts += ["Das Stadtarchiv öffnet am Montag wieder für Besucher. " * 6] * 230 + ["", ""]
    return [doc_id(x) for x in labels], texts


def doc_id(label: str) -> str:
    """Hex ids like the pipeline's (its signature batches are keyed by the id's leading hex digits)."""
    return hashlib.sha256(label.encode()).hexdigest()[:24]


def _write(folder, ids, texts, split, row_group):
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"doc_id": ids[:split], "text": texts[:split], "source_id": ["dump"] * split}),
                   folder / "part-a.parquet", row_group_size=row_group)  # fmt: skip
    pq.write_table(pa.table({"doc_id": ids[split:], "text": texts[split:], "source_id": ["dump"] * (len(ids) - split)}),
                   folder / "part-b.parquet", row_group_size=row_group)  # fmt: skip
    return folder


def _removals(out):
    return sorted((r["doc_id"], r["kept_doc_id"]) for r in pq.read_table(out / "removals.parquet").to_pylist())


def _beam_removals(ids, texts, fuzzy, folder):
    """The Beam stage (pipelines/graph/fuzzy.py) on the same documents, read from three checkpoint files as a run leaves
    them: its removals as (doc_id, kept doc_id)."""
    from pipelines.graph.checkpoint import CheckpointWriter
    from pipelines.graph.fuzzy import FuzzyDedup as FuzzyStage

    docs = [Document(doc_id=i, source_id="dump", source_type="parquet", input_path="x", record_locator=i, text=t)
            for i, t in zip(ids, texts)]  # fmt: skip
    files = [docs[k::3] for k in range(3)]
    checkpoints = []
    for k, part in enumerate(files):
        writer = CheckpointWriter(str(folder / "checkpoints" / f"{k}.parquet"))
        for d in part:
            writer.add("doc", d)
        writer.commit()
        checkpoints.append(writer.final_path)
    sink = folder / "beam-removals.json"

    def collect(actual):  # runs where the runner runs it (a pickled copy): hand the result over in a file
        sink.write_text(json.dumps(sorted(actual)))

    def removed(kv):
        file_no, (_, (pos, rep, _size, _best, is_rep)) = kv
        for p, r, keep in zip(pos, rep, is_rep):
            if not keep:
                yield files[file_no][p].doc_id, r

    with beam.Pipeline() as p:
        out = (p | beam.Create([(k, ("all", None)) for k in range(3)])
               | FuzzyStage(fuzzy, 3, tuple(checkpoints), str(folder / "spill")))  # fmt: skip
        assert_that(out | beam.FlatMap(removed), collect)
    return [tuple(x) for x in json.loads(sink.read_text())]


@pytest.mark.parametrize("verify", ["true", "estimated"])
def test_same_removals_as_the_beam_stage(tmp_path, corpus, verify):
    ids, texts = corpus
    fuzzy = dataclasses.replace(FUZZY, verify=verify)
    src = _write(tmp_path / "in", ids, texts, split=400, row_group=150)
    res = dedup_corpus([str(src)], tmp_path / "out", fuzzy, workers=2, batch_rows=64)
    engine = _removals(tmp_path / "out")
    assert engine == _beam_removals(ids, texts, fuzzy, tmp_path)
    assert res.removed == len(engine) > 229 + 1
    copies = sorted(doc_id(f"copy-{k:03d}") for k in range(230))
    removed = dict(engine)
    assert all(removed[c] == copies[0] for c in copies[1:])  # the copies collapse to their lowest id
    empties = sorted([doc_id("empty-a"), doc_id("empty-b")])
    assert removed[empties[1]] == empties[0]


def test_removals_do_not_depend_on_workers_partitions_slices_or_order(tmp_path, corpus):
    ids, texts = corpus
    a = _write(tmp_path / "a", ids, texts, split=300, row_group=97)
    dedup_corpus([str(a)], tmp_path / "out-a", FUZZY, workers=1, partitions=3, batch_rows=41)
    order = list(range(len(ids)))[::-1]
    b = _write(tmp_path / "b", [ids[i] for i in order], [texts[i] for i in order], split=700, row_group=256)
    dedup_corpus([str(b / "part-b.parquet"), str(b / "part-a.parquet")], tmp_path / "out-b", FUZZY, workers=2,
                 partitions=11, batch_rows=1000)  # fmt: skip
    assert _removals(tmp_path / "out-a") == _removals(tmp_path / "out-b")
    kept_a = sorted(pq.read_table(tmp_path / "out-a" / "shards").column("doc_id").to_pylist())
    kept_b = sorted(pq.read_table(tmp_path / "out-b" / "shards").column("doc_id").to_pylist())
    assert kept_a == kept_b


def test_outputs_account_for_every_document(tmp_path, corpus):
    ids, texts = corpus
    src = _write(tmp_path / "in", ids, texts, split=500, row_group=200)
    res = dedup_corpus([str(src)], tmp_path / "out", FUZZY, workers=2, source_column="source_id")
    shards = pq.read_table(tmp_path / "out" / "shards")
    assert shards.schema.names == ["doc_id", "text", "source_id"]
    assert shards.num_rows == len(ids) - res.removed == res.summary["kept"]
    removed = dict(_removals(tmp_path / "out"))
    kept = set(shards.column("doc_id").to_pylist())
    assert not kept & set(removed) and kept | set(removed) == set(ids)
    assert all(keeper in kept and keeper < doc for doc, keeper in removed.items())
    ledger = pq.read_table(tmp_path / "out" / "ledger").to_pylist()
    assert sorted(r["doc_id"] for r in ledger) == sorted(ids)
    for r in ledger:
        assert r["stage"] == "fuzzy_dedup" and r["source_id"] == "dump"
        if r["decision"] == "dropped":
            detail = json.loads(r["detail"])
            assert detail["kept_doc_id"] == removed[r["doc_id"]] and detail["similarity"] >= 0.8
        else:
            assert r["decision"] == "kept" and r["doc_id"] in kept
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["documents"] == len(ids) and summary["removed"] == len(removed)
    assert not (tmp_path / "out" / "_work").exists()


def test_damaged_inputs_are_recorded_and_the_rest_deduplicated(tmp_path, corpus):
    ids, texts = corpus
    src = _write(tmp_path / "in", ids, texts, split=500, row_group=200)
    (src / "garbage.parquet").write_bytes(b"PAR1 this is not a parquet file PAR1")
    pq.write_table(pa.table({"doc_id": ["x1"], "body": ["no text column here"]}), src / "other.parquet")
    # a file whose footer reads but whose data pages are damaged: its row groups fail when signed
    good = tmp_path / "good.parquet"
    pq.write_table(pa.table({"doc_id": ids[:50], "text": texts[:50]}), good, compression="none")
    raw = bytearray(good.read_bytes())
    raw[200:1200] = b"\xff" * 1000
    (src / "torn.parquet").write_bytes(bytes(raw))
    res = dedup_corpus([str(src)], tmp_path / "out", FUZZY, workers=2)
    skipped = {s["path"].rsplit("/", 1)[-1]: s["reason"] for s in res.summary["skipped_inputs"]}
    assert set(skipped) == {"garbage.parquet", "other.parquet"}
    assert "footer" in skipped["garbage.parquet"] and "'text'" in skipped["other.parquet"]
    assert res.summary["documents_unread"] == 50 and res.summary["unreadable_row_groups"][0]["path"].endswith(
        "torn.parquet"
    )
    # the readable files are deduplicated exactly as on their own
    alone = _write(tmp_path / "alone", ids, texts, split=500, row_group=200)
    dedup_corpus([str(alone)], tmp_path / "out-alone", FUZZY, workers=1)
    assert _removals(tmp_path / "out") == _removals(tmp_path / "out-alone")


def test_configuration_errors_fail_before_any_work(tmp_path, corpus):
    ids, texts = corpus
    src = _write(tmp_path / "in", ids[:20], texts[:20], split=10, row_group=5)
    with pytest.raises(DedupError, match="does not exist"):
        dedup_corpus([str(tmp_path / "missing")], tmp_path / "o", FUZZY)
    with pytest.raises(DedupError, match="no text column 'body'"):
        dedup_corpus([str(src)], tmp_path / "o", FUZZY, text_column="body")
    with pytest.raises(DedupError, match="verify must be"):
        dedup_corpus([str(src)], tmp_path / "o", dataclasses.replace(FUZZY, verify="maybe"))
    with pytest.raises(DedupError, match="width"):
        dedup_corpus([str(src)], tmp_path / "o", dataclasses.replace(FUZZY, width=1))
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "keep.txt").write_text("earlier results")
    with pytest.raises(DedupError, match="--overwrite"):
        dedup_corpus([str(src)], tmp_path / "busy", FUZZY)
    assert (tmp_path / "busy" / "keep.txt").exists() and not (tmp_path / "o").exists()


def test_command_line(tmp_path, corpus, capsys):
    from pipelines.cli import main

    ids, texts = corpus
    src = _write(tmp_path / "in", ids, texts, split=400, row_group=300)
    policy = REPO / "policies" / "demo-eu.yaml"
    assert main(["dedup", "--input", str(src), "--output", str(tmp_path / "out"), "--policy", str(policy),
                 "--backend", "cpu", "--bands", "16", "--rows", "8", "--threshold", "0.75", "--no-shards"]) == 0  # fmt: skip
    out = capsys.readouterr().out
    summary = json.loads((tmp_path / "out" / "summary.json").read_text())
    assert summary["settings"]["bands"] == 16 and summary["settings"]["threshold"] == 0.75
    assert f"removed:   {summary['removed']:,}" in out and not (tmp_path / "out" / "shards").exists()
    assert main(["dedup", "--input", str(tmp_path / "nowhere"), "--output", str(tmp_path / "o2")]) == 2
    assert "does not exist" in capsys.readouterr().err
