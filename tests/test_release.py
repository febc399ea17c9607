"""The compliance officer's and the training job's side of a real release: generated documents (AI Act summary,
Croissant, dataset card), approval, verification and the readers, on the demo run (copied before any change)."""

from __future__ import annotations

import argparse
import dataclasses
import hashlib
import importlib.util
import json
import math
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

import release as rel
from conftest import load_manifest, read_ledger, read_shards
from release.documents import eu_summary, facts, writer
from schemas import CORPUS_SCHEMA

pytestmark = pytest.mark.slow

TEMPLATE_HEADINGS = [
    "## 1. General information",
    "### 1.1. Provider identification",
    "### 1.2. Model identification",
    "### 1.3. Modalities, overall training data size and other characteristics",
    "## 2. List of data sources",
    "### 2.1. Publicly available datasets",
    "### 2.2. Private non-publicly available datasets obtained from third parties",
    "#### 2.2.1. Datasets commercially licensed by rightsholders or their representatives",
    "#### 2.2.2. Private datasets obtained from other third parties",
    "### 2.3. Data crawled and scraped from online sources",
    "### 2.4. User data",
    "### 2.5. Synthetic data",
    "### 2.6. Other sources of data",
    "## 3. Data processing aspects",
    "### 3.1. Respect of reservation of rights from text and data mining exception or limitation",
    "### 3.2. Removal of illegal content",
    "### 3.3. Other information (optional)",
]


def _policy_path():
    from pipelines.tools.demo import demo_policy_path

    return demo_policy_path()


@pytest.fixture(scope="module")
def documented(demo_release, tmp_path_factory):
    """A copy of the demo release with its documents written from its own files, as `terroir docs` does."""
    _out, res = demo_release
    folder = tmp_path_factory.mktemp("documented") / "release"
    shutil.copytree(res.output_dir, folder)
    written = writer.regenerate_docs(folder, _policy_path())
    return folder, written


def _summary(folder: Path) -> dict:
    return json.loads((folder / writer.SUMMARY_JSON).read_text(encoding="utf-8"))


def _flip_one_byte(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))


# ---------------------------------------------------------------- AI Act summary


def test_ai_act_summary_has_every_template_section(documented):
    folder, written = documented
    assert {w["path"] for w in written} == {writer.SUMMARY_JSON, writer.SUMMARY_MD, writer.CROISSANT, writer.CARD}
    md = (folder / writer.SUMMARY_MD).read_text(encoding="utf-8")
    positions = [md.index(h + "\n") for h in TEMPLATE_HEADINGS]
    assert positions == sorted(positions), "the sections must come in the template's order"
    s = _summary(folder)
    assert set(s["1_general_information"]) == {"1.1_provider_identification", "1.2_model_identification",
                                               "1.3_modalities_size_and_characteristics"}  # fmt: skip
    assert [k[:3] for k in s["2_list_of_data_sources"]] == ["2.1", "2.2", "2.3", "2.4", "2.5", "2.6"]
    assert [k[:3] for k in s["3_data_processing_aspects"]] == ["3.1", "3.2", "3.3"]
    # what the pipeline cannot know is marked, never invented
    assert s["1_general_information"]["1.1_provider_identification"]["provider_name_and_contact"] == eu_summary.TO_COMPLETE
    assert md.count(eu_summary.TO_COMPLETE) >= 5


def test_size_bin_and_tokens_are_computed_from_the_shards(documented):
    folder, _ = documented
    manifest = load_manifest(folder)
    shards = read_shards(manifest, folder)
    text = _summary(folder)["1_general_information"]["1.3_modalities_size_and_characteristics"]
    size = text["training_data_size"]["text"]
    assert size["documents"] == shards.num_rows == manifest["counts"]["documents_published"]
    assert size["tokens"] == facts.count_tokens(shards["text"]) > shards.num_rows
    assert size["text_bytes_utf8"] == sum(len(t.encode("utf-8")) for t in shards["text"].to_pylist())
    assert size["size_bin"] == "Less than 1 billion tokens"
    assert size["tokenizer"]["name"] == facts.TOKENIZER_NAME
    md = (folder / writer.SUMMARY_MD).read_text(encoding="utf-8")
    assert f"Less than 1 billion tokens ({size['tokens']:,} tokens" in md and facts.TOKENIZER_NAME in md
    dated = [d for d in shards["collected_at"].to_pylist() if d]
    assert text["latest_date_of_data_collection"] == f"{max(dated)[5:7]}/{max(dated)[:4]}"


def test_tokenizer_and_size_bins():
    assert facts.count_tokens("Hello, world! It's 2026.") == 9  # Hello , world ! It ' s 2026 .
    assert facts.count_tokens("東京は日本の首都です。") == 11  # one per ideograph or kana, plus the full stop
    assert facts.count_tokens(["naïve café", "", "São Paulo"]) == 4
    assert facts.text_size_bin(999_999_999) == "Less than 1 billion tokens"
    assert facts.text_size_bin(1_000_000_000) == "1 billion to 10 trillion tokens"
    assert facts.text_size_bin(10_000_000_000_000) == "More than 10 trillion tokens"


def test_most_relevant_domains_are_the_top_10_percent_by_published_text_bytes(documented):
    folder, _ = documented
    shards = read_shards(load_manifest(folder), folder)
    web = shards.filter(pc.equal(shards["source_type"], "web"))
    by_domain: Counter = Counter()
    for domain, text in zip(web["registrable_domain"].to_pylist(), web["text"].to_pylist(), strict=True):
        if domain:
            by_domain[domain] += len(text.encode("utf-8"))
    k = math.ceil(0.10 * len(by_domain))
    expected = sorted(by_domain.items(), key=lambda kv: (-kv[1], kv[0]))[:k]
    crawled = _summary(folder)["2_list_of_data_sources"]["2.3_crawled_and_scraped"]
    dom = crawled["most_relevant_domains"]
    assert dom["domains_total"] == len(by_domain) >= 5
    assert [(d["domain"], d["text_bytes"]) for d in dom["domains"]] == expected
    days = sorted(d for d in web["collected_at"].to_pylist() if d)
    assert crawled["collection_period"] == {"from": f"{days[0][5:7]}/{days[0][:4]}",
                                            "to": f"{days[-1][5:7]}/{days[-1][:4]}"}  # fmt: skip
    md = (folder / writer.SUMMARY_MD).read_text(encoding="utf-8")
    assert all(f"| {d} |" in md for d, _b in expected)


def test_top_domain_rule_for_large_providers_and_smes():
    many = Counter({f"site{i:05d}.example": 100_000 - i for i in range(30_000)})
    assert len(eu_summary.top_domains(many, sme=False)[0]) == 3_000
    assert len(eu_summary.top_domains(many, sme=True)[0]) == 1_000  # 5% would be 1,500: capped
    few = Counter({"a.fi": 5, "b.fi": 9, "c.fi": 9})
    assert eu_summary.top_domains(few, sme=False)[0] == [("b.fi", 9)]  # ties broken by name, at least one listed
    assert eu_summary.top_domains(Counter(), sme=False)[0] == []


def test_sme_flag_lists_the_top_5_percent(documented, tmp_path):
    folder, _ = documented
    copy = tmp_path / "sme"
    shutil.copytree(folder, copy)
    writer.regenerate_docs(copy, _policy_path(), sme=True)
    dom = _summary(copy)["2_list_of_data_sources"]["2.3_crawled_and_scraped"]["most_relevant_domains"]
    assert dom["sme"] is True and "5%" in dom["rule"]
    assert dom["domains_listed"] == min(math.ceil(0.05 * dom["domains_total"]), 1000)


def test_rights_and_pii_sections_count_what_the_ledger_and_shards_hold(documented):
    folder, _ = documented
    ledger = read_ledger(folder).to_pylist()
    excluded = Counter(json.loads(r["detail"])["basis"] for r in ledger
                       if r["stage"] == "rights" and r["decision"] != "kept")  # fmt: skip
    assert excluded, "the demo plants rights reservations"
    p = _summary(folder)["3_data_processing_aspects"]
    tdm = p["3.1_text_and_data_mining_opt_out"]
    assert Counter({x["basis"]: x["documents"] for x in tdm["documents_excluded"]}) == excluded
    assert tdm["documents_excluded_total"] == sum(excluded.values())
    assert {s["signal"] for s in tdm["signals_honoured"]} >= {"tdmrep-file", "tdmrep-header", "tdmrep-meta",
                                                              "robots-txt-disallow", "x-robots-tag-noai",
                                                              "meta-robots-noai", "content-usage"}  # fmt: skip
    shards = read_shards(load_manifest(folder), folder)
    in_shards: Counter = Counter()
    for counts in shards["pii_counts"].to_pylist():
        in_shards.update({e["entity"]: e["count"] for e in counts or []})
    pii = p["3.2_removal_of_illegal_content"]["personal_data_redaction"]
    assert pii["entities_redacted"] == dict(in_shards) and in_shards
    md = (folder / writer.SUMMARY_MD).read_text(encoding="utf-8")
    assert all(f"{k} {v:,}" in md for k, v in in_shards.items())


def test_sources_are_put_in_template_categories(documented):
    folder, _ = documented
    cats = {s["source_id"]: s["category"] for s in _summary(folder)["sources"]}
    assert cats == {"demo-web": "crawled", "demo-dumps": "public_dataset", "demo-library": "public_dataset",
                    "demo-tei": "public_dataset"}  # fmt: skip


def test_provider_facts_and_categories_come_from_the_policy_summary_section(documented):
    from release.publish import release_stats
    from schemas.policy import load_policy

    folder, _ = documented
    manifest = load_manifest(folder)
    policy = load_policy(_policy_path())
    raw = dict(policy.raw) | {"summary": {
        "provider": {"name": "Norrsken AI AB", "contact": "ai-act@norrsken.example"},
        "model": {"names": ["Norrsken-7B-v1"]},
        "crawler": {"names": ["NorrskenBot"]},
        "sources": {"demo-dumps": {"category": "licensed", "name": "Government records dump"}},
    }}  # fmt: skip
    policy = dataclasses.replace(policy, raw=raw)
    shards = [folder / s["path"] for s in manifest["shards"]]
    stats = release_stats(read_ledger(folder), shards)
    s = eu_summary.ai_act_summary(manifest, stats, policy, shards)
    g = s["1_general_information"]
    assert g["1.1_provider_identification"]["provider_name_and_contact"] == "Norrsken AI AB, ai-act@norrsken.example"
    assert g["1.2_model_identification"]["versioned_model_names"] == ["Norrsken-7B-v1"]
    lic = s["2_list_of_data_sources"]["2.2_private_non_publicly_available_datasets"]["2.2.1_commercially_licensed"]
    assert lic["used"] and lic["documents"] == 8
    assert s["2_list_of_data_sources"]["2.3_crawled_and_scraped"]["crawler_names"] == ["NorrskenBot"]
    md = eu_summary.render_ai_act_summary_md(s)
    assert "Norrsken AI AB" in md and "NorrskenBot" in md


def test_documents_hold_no_planted_personal_data(documented, demo_release):
    folder, written = documented
    planted = [v for vals in demo_release[1].planted_pii.values() for v in vals]
    assert len(planted) >= 24
    for entry in written:
        text = (folder / entry["path"]).read_text(encoding="utf-8")
        for value in planted:
            for needle in {value, value.replace(" ", ""), value.replace(" ", "-")}:
                assert needle not in text, f"a planted value is in {entry['path']}"


def test_documents_are_byte_identical_when_rewritten(documented):
    folder, written = documented
    assert writer.regenerate_docs(folder, _policy_path()) == written


def test_documents_refuse_another_policy(documented, tmp_path):
    folder, _ = documented
    other = tmp_path / "other.yaml"
    other.write_text(_policy_path().read_text() + "\n# changed\n")
    with pytest.raises(rel.ReleaseError, match="not the policy"):
        writer.regenerate_docs(folder, other)


# ---------------------------------------------------------------- Croissant


def test_croissant_validates_with_mlcroissant_and_loads_every_record(documented):
    import mlcroissant as mlc

    folder, _ = documented
    dataset = mlc.Dataset(jsonld=str(folder / writer.CROISSANT))
    issues = dataset.metadata.ctx.issues
    assert not issues.errors and not issues.warnings, issues.report()
    records = list(dataset.records(record_set="documents"))
    shards = read_shards(load_manifest(folder), folder)
    assert len(records) == shards.num_rows
    expected = {r["doc_id"]: r for r in shards.select(["doc_id", "lang", "pii_counts"]).to_pylist()}
    for rec in records:
        row = expected[rec["documents/doc_id"].decode()]
        assert rec["documents/lang"].decode() == row["lang"]
        got = {e["documents/pii_counts/entity"].decode(): e["documents/pii_counts/count"]
               for e in rec["documents/pii_counts"] if e["documents/pii_counts/entity"] is not None}  # fmt: skip
        assert got == {e["entity"]: e["count"] for e in row["pii_counts"] or []}


def test_croissant_lists_each_shard_with_its_checksum_and_the_rai_fields(documented):
    folder, _ = documented
    manifest = load_manifest(folder)
    doc = json.loads((folder / writer.CROISSANT).read_text(encoding="utf-8"))
    assert doc["conformsTo"][0] == "http://mlcommons.org/croissant/1.1"
    files = {d["contentUrl"]: d for d in doc["distribution"] if d["@type"] == "cr:FileObject"}
    assert set(files) == {s["path"] for s in manifest["shards"]}
    for s in manifest["shards"]:
        assert files[s["path"]]["sha256"] == s["sha256"] and files[s["path"]]["contentSize"] == f"{s['bytes']} B"
    fileset = next(d for d in doc["distribution"] if d["@type"] == "cr:FileSet")
    assert sorted(fileset["includes"]) == ["shards/eu/*.parquet", "shards/uk/*.parquet"]
    fields = doc["recordSet"][0]["field"]
    assert [f["name"] for f in fields] == CORPUS_SCHEMA.names
    assert all(f["source"]["extract"]["column"] == f["name"] for f in fields)
    types = {f["name"]: f["dataType"] for f in fields}
    assert types["text"] == "sc:Text" and types["lang_score"] == "sc:Float"
    for key in ("rai:personalSensitiveInformation", "rai:dataCollection", "rai:dataCollectionTimeframe",
                "rai:dataPreprocessingProtocol", "rai:dataLimitations", "rai:dataBiases", "rai:dataUseCases"):
        assert doc[key], key
    for entity, n in manifest["counts"]["pii_redacted"].items():
        assert f"{entity} {n}" in doc["rai:personalSensitiveInformation"]
    assert "https://spdx.org/licenses/CC-BY-4.0.html" in doc["license"]


# ---------------------------------------------------------------- dataset card


def test_dataset_card_front_matter_parses_and_names_existing_shards(documented):
    folder, _ = documented
    text = (folder / writer.CARD).read_text(encoding="utf-8")
    assert text.startswith("---\n")
    front = yaml.safe_load(text.split("---\n", 2)[1])
    manifest = load_manifest(folder)
    assert front["task_categories"] == ["text-generation"] and front["size_categories"] == ["n<1K"]
    langs = _summary(folder)["1_general_information"]["1.3_modalities_size_and_characteristics"]
    assert front["language"] == [x["language"] for x in langs["linguistic_characteristics"]]
    assert set(front["language"]) == {"en", "de", "fr", "sv", "fi", "es", "nl", "it"}
    assert {"cc-by-4.0", "cc0-1.0"} <= set(front["license"])
    configs = {c["config_name"]: c for c in front["configs"]}
    assert set(configs) == {"all", "eu", "uk"} and configs["all"]["default"] is True
    for name, c in configs.items():
        paths = [p for df in c["data_files"] for p in df["path"]]
        assert paths and all((folder / p).is_file() for p in paths)
        regions = {s["residency_region"] for s in manifest["shards"] if s["path"] in paths}
        assert regions == ({"eu", "uk"} if name == "all" else {name})
    for section in ("## Description", "## Sources", "## Processing", "## Personal information", "## Rights",
                    "## Limitations", "## How to load"):
        assert f"\n{section}\n" in text
    from huggingface_hub import DatasetCard

    card = DatasetCard(text)  # Hugging Face's own parser of the front matter
    assert card.data.to_dict()["pretty_name"] == front["pretty_name"]


# ---------------------------------------------------------------- approval and verification


def test_approve_then_verify_passes_and_leaves_the_manifest_untouched(release_copy, officer):
    before = (release_copy / "release.json").read_bytes()
    assert not rel.verify(release_copy).approved
    record = rel.approve(release_copy, "Maria Lindqvist", "gate green, report reviewed")
    assert (release_copy / "release.json").read_bytes() == before
    saved = json.loads((release_copy / "approval.json").read_text())
    assert saved == record
    assert set(saved) == {"format", "manifest_sha256", "approved_by", "note", "approved_at", "pipeline_version",
                          "key_id", "algorithm", "signature"}  # fmt: skip
    assert saved["manifest_sha256"] == hashlib.sha256(before).hexdigest()
    assert saved["key_id"] == officer.key_id and saved["algorithm"] == "ed25519"
    report = rel.verify(release_copy)
    assert report.ok and report.integrity_ok and report.approved, report.summary()
    manifest = load_manifest(release_copy)
    assert len([f for f in report.files if f.kind == "shard"]) == len(manifest["shards"])
    assert len([f for f in report.files if f.kind == "ledger"]) == len(manifest["ledger"])
    assert rel.open_release(release_copy).count_rows() == manifest["counts"]["documents_published"]


def test_changing_one_byte_of_a_shard_fails_verification(release_copy, officer):
    rel.approve(release_copy, "Maria Lindqvist", "")
    manifest = load_manifest(release_copy)
    victim = manifest["shards"][1]["path"]
    _flip_one_byte(release_copy / victim)
    report = rel.verify(release_copy)
    assert not report.ok and not report.integrity_ok and report.approved  # the approval itself still matches
    assert [f.path for f in report.files if not f.ok] == [victim]
    assert "sha256" in report.problems[0] and victim in report.problems[0]
    with pytest.raises(rel.TamperedReleaseError, match=victim):
        rel.open_release(release_copy)
    with pytest.raises(rel.TamperedReleaseError):
        rel.open_release(release_copy, allow_unapproved=True)
    with pytest.raises(rel.TamperedReleaseError):
        list(rel.iter_documents(release_copy, 0, 1))
    # a missing ledger file is a finding too, not a crash
    (release_copy / manifest["ledger"][0]["path"]).unlink()
    assert any("cannot be read" in p for p in rel.verify(release_copy).problems)


def test_approve_refuses_a_tampered_or_missing_release(release_copy, tmp_path, officer):
    _flip_one_byte(release_copy / load_manifest(release_copy)["shards"][0]["path"])
    with pytest.raises(rel.TamperedReleaseError, match="refusing to approve"):
        rel.approve(release_copy, "Maria Lindqvist", "")
    assert not (release_copy / "approval.json").exists()
    with pytest.raises(rel.ReleaseError, match="no release.json"):
        rel.approve(tmp_path, "Maria Lindqvist", "")
    officer.public_path.unlink()  # without the .pub, the key names no owner: the name must be given
    with pytest.raises(rel.ReleaseError, match="approver"):
        rel.approve(release_copy, "  ", "")


def test_a_changed_manifest_is_no_longer_approved(release_copy, officer):
    rel.approve(release_copy, "Maria Lindqvist", "")
    manifest_path = release_copy / "release.json"
    manifest = json.loads(manifest_path.read_text())
    hidden = sorted(s["path"] for s in manifest["shards"][1:])
    manifest["shards"] = manifest["shards"][:1]  # hide shards after approval
    manifest_path.write_text(json.dumps(manifest, indent=2))
    report = rel.verify(release_copy)
    assert not report.approved and "now has sha256" in report.approval_problem
    assert report.stray == hidden  # the files of the hidden shards are still there: stray files now
    assert all(p.startswith("stray file") for p in report.problems)
    with pytest.raises(rel.UnapprovedReleaseError):
        rel.open_release(release_copy)


def test_generated_documents_listed_in_the_manifest_are_verified(release_copy, officer):
    """The contract for publish.py: `manifest["docs"] = write_release_docs(...)` puts the documents under the hash."""
    written = writer.regenerate_docs(release_copy, _policy_path())
    manifest_path = release_copy / "release.json"
    manifest = json.loads(manifest_path.read_text())
    manifest["docs"] = written
    manifest_path.write_text(json.dumps(manifest, indent=2))
    rel.approve(release_copy, "Maria Lindqvist", "")
    assert rel.verify(release_copy).ok
    card = release_copy / writer.CARD
    card.write_text(card.read_text() + "\nAn edit after approval.\n")
    report = rel.verify(release_copy)
    assert not report.integrity_ok and [f.path for f in report.files if not f.ok] == [writer.CARD]


# ---------------------------------------------------------------- readers


def test_an_unapproved_release_is_refused_unless_allowed(release_copy):
    with pytest.raises(rel.UnapprovedReleaseError, match="terroir approve"):
        rel.open_release(release_copy)
    with pytest.raises(rel.UnapprovedReleaseError):
        next(rel.iter_documents(release_copy))
    manifest = load_manifest(release_copy)
    ds = rel.open_release(release_copy, allow_unapproved=True)
    assert ds.schema.equals(CORPUS_SCHEMA, check_metadata=False)
    assert ds.count_rows() == manifest["counts"]["documents_published"]
    uk = rel.open_release(release_copy, allow_unapproved=True, regions=["uk"]).to_table(columns=["residency_region"])
    assert set(uk["residency_region"].to_pylist()) == {"uk"}
    with pytest.raises(rel.ReleaseError, match="no published shard"):
        rel.open_release(release_copy, allow_unapproved=True, regions=["us"])
    # a file dropped into a shard folder is not part of the release
    shutil.copy(release_copy / manifest["shards"][0]["path"], release_copy / "shards" / "eu" / "stray.parquet")
    assert rel.open_release(release_copy, allow_unapproved=True).count_rows() == ds.count_rows()


def test_documents_are_dealt_to_ranks_by_sorted_shard_file(release_copy, officer):
    rel.approve(release_copy, "Maria Lindqvist", "")
    manifest = load_manifest(release_copy)
    paths = sorted(s["path"] for s in manifest["shards"])
    world = 3
    seen = []
    for rank in range(world):
        rows = list(rel.iter_documents(release_copy, rank, world, columns=["doc_id", "pii_counts"]))
        expected = [r["doc_id"] for p in paths[rank::world] for r in pq.read_table(release_copy / p).to_pylist()]
        assert [r["doc_id"] for r in rows] == expected  # file order, then stored order
        assert rows == list(rel.iter_documents(release_copy, rank, world, columns=["doc_id", "pii_counts"]))
        assert all(isinstance(r["pii_counts"], dict) for r in rows)
        seen += [r["doc_id"] for r in rows]
    assert sorted(seen) == sorted(read_shards(manifest, release_copy)["doc_id"].to_pylist())
    assert list(rel.iter_documents(release_copy, 5, 6)) == []  # more ranks than shard files


def test_assign_shards_is_round_robin_by_rank_then_worker():
    files = [f"shards/eu/part-{i}.parquet" for i in (3, 0, 4, 1, 2)]
    assert rel.assign_shards(files, 0, 2) == ["shards/eu/part-0.parquet", "shards/eu/part-2.parquet",
                                              "shards/eu/part-4.parquet"]  # fmt: skip
    assert rel.assign_shards(files, 0, 2, worker_id=1, num_workers=2) == ["shards/eu/part-2.parquet"]
    with pytest.raises(ValueError):
        rel.assign_shards(files, 2, 2)


def test_optional_loaders_name_their_extra(release_copy, officer):
    rel.approve(release_copy, "Maria Lindqvist", "")
    if importlib.util.find_spec("datasets") is None:
        with pytest.raises(ImportError, match=r"terroir\[hf\]"):
            rel.hf_dataset(release_copy)
    else:
        hf = rel.hf_dataset(release_copy)
        assert hf.num_rows == load_manifest(release_copy)["counts"]["documents_published"]
        assert any(hf["pii_counts"])


def test_torch_loader_without_torch_names_its_extra():
    """Where PyTorch is missing, touching the torch loader says which extra to install (torch blocked in a child)."""
    code = (
        "import sys; sys.modules['torch'] = None\n"
        "import release\n"
        "try:\n    release.TerroirIterableDataset\nexcept ImportError as e:\n    print('ERR', e)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.startswith("ERR ") and "terroir[torch]" in out


# torch's CPU wheel is in the dev extra, so these run in CI; the skip is for installs without it
@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")
def test_torch_iterable_dataset_reads_its_ranks_share(release_copy, officer):
    from torch.utils.data import DataLoader

    rel.approve(release_copy, "Maria Lindqvist", "")
    ds = rel.TerroirIterableDataset(release_copy, rank=1, world_size=2, columns=["doc_id"])
    got = [row["doc_id"] for row in DataLoader(ds, batch_size=None)]
    assert got and got == [r["doc_id"] for r in rel.iter_documents(release_copy, 1, 2, columns=["doc_id"])]


@pytest.mark.skipif(importlib.util.find_spec("torch") is None, reason="PyTorch is not installed")
def test_torch_loader_workers_and_ranks_read_every_row_once(release_copy, officer):
    """Two ranks with two DataLoader worker processes each: together they read every published row exactly once."""
    from torch.utils.data import DataLoader

    rel.approve(release_copy, "Maria Lindqvist", "")
    seen = []
    for rank in range(2):
        ds = rel.TerroirIterableDataset(release_copy, rank=rank, world_size=2, columns=["doc_id"])
        seen += [row["doc_id"] for row in DataLoader(ds, batch_size=None, num_workers=2)]
    every = [r["doc_id"] for r in rel.iter_documents(release_copy, columns=["doc_id"])]
    assert len(seen) == len(set(seen)) and sorted(seen) == sorted(every)
    assert len(every) == load_manifest(release_copy)["counts"]["documents_published"]


def test_verify_reads_shards_in_object_storage(release_copy, monkeypatch, officer, tmp_path):
    """Shard paths that are URIs are hashed through pyarrow.fs with the region's storage options."""
    import boto3
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0)
    server.start()
    try:
        host, port = server.get_host_and_port()
        for k, v in (("AWS_ACCESS_KEY_ID", "terroir"), ("AWS_SECRET_ACCESS_KEY", "terroir"),
                     ("AWS_DEFAULT_REGION", "eu-north-1")):  # fmt: skip
            monkeypatch.setenv(k, v)
        endpoint = f"http://{host}:{port}"
        client = boto3.client("s3", endpoint_url=endpoint, region_name="eu-north-1")
        # moto keeps buckets process-wide across servers: a name no other test uses
        client.create_bucket(Bucket="terroir-verify-eu", CreateBucketConfiguration={"LocationConstraint": "eu-north-1"})
        manifest_path = release_copy / "release.json"
        manifest = json.loads(manifest_path.read_text())
        storage = f"s3://terroir-verify-eu/rel?endpoint_override={endpoint}&scheme=http&region=eu-north-1"
        for s in manifest["shards"]:
            key = f"rel/{s['path']}"
            client.put_object(Bucket="terroir-verify-eu", Key=key, Body=(release_copy / s["path"]).read_bytes())
            s["path"], s["storage"] = f"s3://terroir-verify-eu/{key}", storage
        manifest_path.write_text(json.dumps(manifest, indent=2))
        shutil.rmtree(release_copy / "shards")
        # shards outside the release folder are read only under the storage the policy names for their region
        policy = yaml.safe_load(_policy_path().read_text())
        for region in policy["residency"]["regions"].values():
            region["storage"] = storage
        policy_path = tmp_path / "s3-policy.yaml"
        policy_path.write_text(yaml.safe_dump(policy))
        with pytest.raises(rel.TamperedReleaseError, match="pass the policy"):
            rel.approve(release_copy, "Maria Lindqvist", "")
        rel.approve(release_copy, "Maria Lindqvist", "", policy=policy_path)
        assert rel.verify(release_copy, policy=policy_path).ok
        with pytest.raises(rel.UnsafeReleaseError, match="outside the release folder"):
            rel.open_release(release_copy)
        ds = rel.open_release(release_copy, policy=policy_path)
        assert ds.count_rows() == manifest["counts"]["documents_published"]
        victim = manifest["shards"][0]["path"].removeprefix("s3://terroir-verify-eu/")
        client.put_object(Bucket="terroir-verify-eu", Key=victim, Body=b"not the approved shard")
        report = rel.verify(release_copy, policy=policy_path)
        assert not report.integrity_ok and "size" in report.problems[0]
    finally:
        server.stop()


def test_command_line_approve_verify_and_docs(release_copy, capsys, officer):
    parser = argparse.ArgumentParser(prog="terroir")
    sub = parser.add_subparsers(dest="command", required=True)
    rel.add_release_commands(sub)

    def run(*argv) -> int:
        return rel.run_release_command(parser.parse_args(list(argv)))

    assert run("verify", str(release_copy)) == 1
    assert "INTACT BUT UNAPPROVED" in capsys.readouterr().out
    assert run("verify", str(release_copy), "--allow-unapproved") == 0
    assert run("approve", str(release_copy), "--by", "Maria Lindqvist", "--note", "reviewed") == 0
    assert run("verify", str(release_copy), "--json") == 0
    capsys.readouterr()
    assert run("docs", str(release_copy), "--policy", str(_policy_path())) == 0
    assert (release_copy / writer.CROISSANT).is_file() and (release_copy / writer.SUMMARY_MD).is_file()
    _flip_one_byte(release_copy / load_manifest(release_copy)["shards"][0]["path"])
    assert run("verify", str(release_copy)) == 1
    assert "PROBLEM" in capsys.readouterr().out
    assert run("approve", str(release_copy), "--by", "Maria Lindqvist") == 1
    assert run("verify", str(release_copy / "nowhere")) == 2
