"""Published shards load with the readers a training job uses, through no Terroir code: pyarrow, and plain
`datasets.load_dataset("parquet", ...)` on the dataset card's own `configs`. Schema 1.0.0 releases (`pii_counts` as an
Arrow map) still read through Terroir's loaders."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
import yaml

import release as rel
from conftest import load_manifest, read_shards
from schemas import CORPUS_SCHEMA, PII_COUNT_TYPE, SCHEMA_VERSION


def _card_config(folder, name: str) -> list[str]:
    card = (folder / "README.md").read_text(encoding="utf-8")
    front = yaml.safe_load(card.split("---\n", 2)[1])
    config = next(c for c in front["configs"] if c["config_name"] == name)
    return [str(folder / p) for p in config["data_files"][0]["path"]]


def test_pii_counts_is_a_list_of_entity_count_structs(demo_release):
    folder = Path(demo_release[1].output_dir)
    manifest = load_manifest(folder)
    assert manifest["release"]["schema_version"] == SCHEMA_VERSION == "2.0.0"
    assert all(s["schema_version"] == "2.0.0" for s in manifest["shards"])
    for s in manifest["shards"]:
        assert pq.read_schema(folder / s["path"]).field("pii_counts").type == pa.list_(PII_COUNT_TYPE)
    counts = [e for row in read_shards(manifest, folder)["pii_counts"].to_pylist() for e in row or []]
    assert counts and all(set(e) == {"entity", "count"} and e["count"] >= 1 for e in counts)


@pytest.mark.skipif(importlib.util.find_spec("datasets") is None, reason="Hugging Face datasets is not installed")
def test_plain_load_dataset_reads_the_cards_configs(demo_release, tmp_path):
    import datasets

    folder = Path(demo_release[1].output_dir)
    shards = read_shards(load_manifest(folder), folder)
    files = _card_config(folder, "all")
    ds = datasets.load_dataset("parquet", data_files=files, split="train", cache_dir=str(tmp_path / "hf"))
    assert ds.num_rows == shards.num_rows
    assert list(ds.features) == list(CORPUS_SCHEMA.names)
    assert ds.features["pii_counts"] == datasets.List({"entity": datasets.Value("string"),
                                                       "count": datasets.Value("int32")})  # fmt: skip
    by_id = {r["doc_id"]: r["pii_counts"] for r in shards.select(["doc_id", "pii_counts"]).to_pylist()}
    assert {r["doc_id"]: r["pii_counts"] for r in ds.select_columns(["doc_id", "pii_counts"])} == by_id
    assert any(by_id.values())
    region = load_manifest(folder)["shards"][0]["residency_region"]
    part = datasets.load_dataset("parquet", data_files=_card_config(folder, region), split="train",
                                 cache_dir=str(tmp_path / "hf"))  # fmt: skip
    assert set(part["residency_region"]) == {region}


def _downgrade_to_schema_1(path) -> None:
    """Rewrite a shard as schema 1.0.0 stored it: `pii_counts` an Arrow map of entity type to count."""
    t = pq.read_table(path)
    i = t.schema.get_field_index("pii_counts")
    col = t.column(i).combine_chunks()
    entries = col.flatten()
    old = pa.MapArray.from_arrays(col.offsets, entries.field("entity"), entries.field("count"), mask=col.is_null())
    pq.write_table(t.set_column(i, pa.field("pii_counts", pa.map_(pa.string(), pa.int32())), old), path)


def test_a_schema_1_release_still_reads_through_terroirs_loaders(release_copy):
    manifest = load_manifest(release_copy)
    before = {r["doc_id"]: r["pii_counts"] for r in rel.iter_documents(release_copy, allow_unapproved=True,
                                                                        verify=False)}  # fmt: skip
    for s in manifest["shards"]:
        _downgrade_to_schema_1(release_copy / s["path"])
    assert pa.types.is_map(pq.read_schema(release_copy / manifest["shards"][0]["path"]).field("pii_counts").type)
    after = {r["doc_id"]: r["pii_counts"] for r in rel.iter_documents(release_copy, allow_unapproved=True,
                                                                       verify=False)}  # fmt: skip
    assert after == before and any(before.values())
    assert all(isinstance(v, dict) for v in after.values())
    if importlib.util.find_spec("datasets") is not None:
        hf = rel.hf_dataset(release_copy, streaming=True, allow_unapproved=True, verify=False)
        got = {r["doc_id"]: {e["entity"]: e["count"] for e in r["pii_counts"] or []} for r in hf}
        assert got == before
