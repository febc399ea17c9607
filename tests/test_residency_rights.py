"""Residency and rights end to end: archived responses with reservations, robots.txt snapshots, takedowns, and a
property test that rows never land outside their region and unknown origins never reach a published shard."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conftest import load_manifest, read_ledger, read_shards, run_terroir, write_policy
from filters.document import Document, make_doc_id
from pipelines.stages.document import DocumentStages
from pipelines.tools.demo_text import SENTENCES
from schemas.policy import load_policy


def _page(lang: str, n: int, head: str = "") -> bytes:
    body = "".join(f"<p>{s}</p>" for s in SENTENCES[lang][n % 4 : n % 4 + 8])
    return f"<html><head><title>t{n}</title>{head}</head><body><article>{body}</article></body></html>".encode()


def _warc(path: Path, records: list[tuple[str, bytes, list[tuple[str, str]]]]) -> None:
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as f:
        w = WARCWriter(f, gzip=True)
        for url, body, headers in records:
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8"), *headers],
                                    protocol="HTTP/1.1")  # fmt: skip
            w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body), http_headers=http))


RIGHTS_POLICY = """
policy_id: rights-test
residency:
  regions:
    nordics: {jurisdictions: [SE, FI], storage: shards/nordics}
    central: {jurisdictions: [DE], storage: shards/central}
admission:
  languages: {sv: 0.5, de: 0.5, fi: 0.5}
rights:
  reserved: exclude
  unknown: quarantine
  snapshots: snapshots
takedown:
  urls: ["https://www.hamnbladet.se/taken-down"]
  domains: [removed-site.de]
quality: {enabled: false}
"""


@pytest.mark.slow
def test_only_unreserved_pages_are_published(tmp_path):
    crawl = tmp_path / "crawl"
    crawl.mkdir()
    _warc(crawl / "c.warc.gz", [
        ("https://www.hamnbladet.se/plain/1", _page("sv", 0), []),
        ("https://www.hafenblatt.de/plain/2", _page("de", 1), []),
        ("https://www.hamnbladet.se/reserved/header", _page("sv", 2), [("tdm-reservation", "1")]),
        ("https://www.hafenblatt.de/reserved/meta", _page("de", 3, '<meta name="tdm-reservation" content="1">'), []),
        ("https://www.satamasanomat.fi/uutiset/robots", _page("fi", 0), []),
        ("https://www.hafenblatt.de/usage", _page("de", 0), [("Content-Usage", "train-ai=n")]),
        ("https://www.hamnbladet.se/bad-tdm", _page("sv", 1), [("tdm-reservation", "yes")]),
        ("https://www.hamnbladet.se/taken-down", _page("sv", 3), []),
        ("https://news.removed-site.de/a", _page("de", 2), []),
    ])  # fmt: skip
    snap = tmp_path / "snapshots" / "www.satamasanomat.fi"
    snap.mkdir(parents=True)
    (snap / "robots.txt").write_text("User-agent: GPTBot\nDisallow: /uutiset/\n\nUser-agent: *\nAllow: /\n")
    policy = write_policy(tmp_path / "policy.yaml", RIGHTS_POLICY)
    out = tmp_path / "out"
    res = run_terroir(policy, [f"crawl={crawl}"], out)
    published = sorted(read_shards(res.manifest, out).column("url").to_pylist())
    assert published == ["https://www.hafenblatt.de/plain/2", "https://www.hamnbladet.se/plain/1"]
    rows = {r["doc_id"]: r for r in read_ledger(out).to_pylist() if r["stage"] in ("rights", "takedown")
            and r["decision"] != "kept"}  # fmt: skip
    reasons = sorted(r["reason"] for r in rows.values())
    assert reasons == sorted([
        "rights reserved: tdmrep-header", "rights reserved: tdmrep-meta",
        "rights reserved: robots-txt-disallow:GPTBot", "rights reserved: content-usage-train-ai-n",
        "rights unknown: tdmrep-header-invalid-value", "takedown request: url",
        "takedown request: domain removed-site.de",
    ])  # fmt: skip
    unknown = [r for r in rows.values() if "unknown" in r["reason"]]
    assert unknown[0]["decision"] == "quarantined"
    m = load_manifest(out)
    assert {s["residency_region"] for s in m["shards"]} == {"nordics", "central"}
    html = (out / "report" / "index.html").read_text()
    assert "robots-txt-disallow:GPTBot" in html and "takedown request" in html


def test_unreachable_or_disallowed_storage_fails_preflight(tmp_path, shared):
    from pipelines.run import ConfigError

    blocker = tmp_path / "file-not-folder"
    blocker.write_text("x")
    bad = write_policy(tmp_path / "p1.yaml", f"""
policy_id: s1
residency:
  regions:
    eu: {{jurisdictions: [SE], storage: "{blocker}/shards"}}
""")
    with pytest.raises(ConfigError, match="region eu: storage .* is not reachable or not writable"):
        run_terroir(bad, [str(shared / "tei")], tmp_path / "o1")
    outside = write_policy(tmp_path / "p2.yaml", """
policy_id: s2
residency:
  regions:
    eu: {jurisdictions: [SE], storage: "s3://us-bucket/x", allowed_locations: ["s3://eu-bucket"]}
""")
    with pytest.raises(ConfigError, match="not in the region's allowed locations"):
        run_terroir(outside, [str(shared / "tei")], tmp_path / "o2")
    assert not (tmp_path / "o1").exists() and not (tmp_path / "o2").exists()


# ------------------------------------------------------------------ property tests

JURIS = ["SE", "FI", "DE", "FR", "JP", "SG", "US", "BR"]
TLDS = {"SE": "se", "FI": "fi", "DE": "de", "FR": "fr", "JP": "jp", "SG": "sg", "US": "us", "BR": "br"}

origins = st.one_of(
    st.tuples(st.just("cctld"), st.sampled_from(JURIS)),
    st.tuples(st.just("declared"), st.sampled_from(JURIS)),
    st.tuples(st.just("unknown"), st.sampled_from(["com", "org", "eu", "net"])),
)


@st.composite
def policies(draw):
    chosen = draw(st.lists(st.sampled_from(JURIS), min_size=1, max_size=len(JURIS), unique=True))
    n_regions = draw(st.integers(1, min(3, len(chosen))))
    assignment = {j: f"r{draw(st.integers(0, n_regions - 1))}" for j in chosen}
    regions = {}
    for j, r in assignment.items():
        regions.setdefault(r, []).append(j)
    return regions


def _policy_yaml(regions: dict[str, list[str]]) -> str:
    lines = ["policy_id: prop", "residency:", "  regions:"]
    for r, js in sorted(regions.items()):
        lines.append(f"    {r}: {{jurisdictions: [{', '.join(repr(j) for j in js)}], storage: shards/{r}}}")
    lines += ["sources:", "  decl: {jurisdiction: DE}", "quality: {enabled: false}",
              "admission: {default_min_lang_score: 0.0}"]  # fmt: skip
    return "\n".join(lines) + "\n"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(regions=policies(), docs=st.lists(origins, min_size=1, max_size=12))
def test_stage_logic_never_places_a_document_outside_its_region(tmp_path_factory, regions, docs):
    path = tmp_path_factory.mktemp("prop") / "p.yaml"
    path.write_text(_policy_yaml(regions))
    policy = load_policy(path)
    stages = DocumentStages(policy)
    region_of = {j: r for r, js in regions.items() for j in js}
    for i, (kind, value) in enumerate(docs):
        url = f"https://site{i}.{TLDS.get(value, value)}/p" if kind != "declared" else f"https://site{i}.com/p"
        source = "decl" if kind == "declared" else "web"
        declared = "DE" if kind == "declared" else None
        doc = Document(doc_id=make_doc_id(source, str(i)), source_id=source, source_type="jsonl", input_path="x",
                       record_locator=str(i), text=" ".join(SENTENCES["de"][:6]), url=url)  # fmt: skip
        out = list(stages.process(doc))
        published = [d for k, d in out if k == "doc"]
        expected_origin = {"cctld": value, "declared": declared, "unknown": None}[kind]
        if expected_origin is None or expected_origin not in region_of:
            assert not published
            assert out[-1][1]["decision"] == "quarantined"
        else:
            assert len(published) == 1
            assert published[0].residency_region == region_of[expected_origin]


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(regions=policies(), docs=st.lists(origins, min_size=4, max_size=10))
def test_published_rows_live_only_in_their_regions_storage(tmp_path_factory, regions, docs):
    tmp = tmp_path_factory.mktemp("prop-e2e")
    dump = tmp / "web"
    dump.mkdir()
    with open(dump / "d.jsonl", "w") as f:
        for i, (kind, value) in enumerate(docs):
            url = f"https://site{i}.{TLDS.get(value, value)}/p"
            text = " ".join(SENTENCES["de"][i % 5 : i % 5 + 6]) + f" Nummer {i}."
            f.write(json.dumps({"text": text, "url": url}) + "\n")
    policy = tmp / "p.yaml"
    policy.write_text(_policy_yaml(regions))
    out = tmp / "out"
    res = run_terroir(policy, [f"web={dump}"], out)
    region_of = {j: r for r, js in regions.items() for j in js}
    for s in res.manifest["shards"]:
        path = out / s["path"]
        assert path.parent == out / "shards" / s["residency_region"]
        for row in pq.read_table(path).to_pylist():
            assert row["origin_jurisdiction"] in region_of
            assert region_of[row["origin_jurisdiction"]] == s["residency_region"]
    if not (out / "shards").exists():  # every document quarantined (no region takes their origin): nothing stored
        assert not res.manifest["shards"]
        return
    for region_dir in (out / "shards").iterdir():
        for f in region_dir.glob("*.parquet"):
            regions_in_file = set(pq.read_table(f, columns=["residency_region"]).column(0).to_pylist())
            assert regions_in_file == {region_dir.name}


STORAGE_POLICY = """
policy_id: storage-paths
residency:
  regions:
    eu: {jurisdictions: [DE], storage: STORAGE, ALLOWED}
sources:
  tei: {jurisdiction: DE, license: CC0-1.0}
"""


@pytest.mark.parametrize("storage, allowed, needle", [
    # `..` cannot climb out of an allowed location
    ("shards/eu/../../escaped", 'allowed_locations: ["shards/eu"]', "is not in the region's allowed locations"),
    # a relative storage stays inside the output folder
    ("../escaped", "", "leaves the output folder"),
    ("s3://bucket/eu/../us", "", "has a '..' segment"),
])  # fmt: skip
def test_storage_paths_are_normalised_before_they_are_checked(tmp_path, shared, storage, allowed, needle):
    from pipelines.run import ConfigError, RunOptions, preflight

    policy = tmp_path / "policy.yaml"
    policy.write_text(STORAGE_POLICY.replace("STORAGE", storage).replace(", ALLOWED", f", {allowed}" if allowed else ""))
    with pytest.raises(ConfigError) as err:
        preflight(RunOptions(str(policy), [f"tei={shared / 'tei'}"], str(tmp_path / "out")))
    assert needle in str(err.value)
    assert not (tmp_path / "escaped").exists()


def test_an_absolute_storage_holding_other_files_is_refused(tmp_path, shared):
    from pipelines.run import ConfigError, RunOptions, preflight

    elsewhere = tmp_path / "existing"
    elsewhere.mkdir()
    (elsewhere / "part-00000-of-00001.parquet").write_bytes(b"someone else's shard")
    policy = tmp_path / "policy.yaml"
    policy.write_text(STORAGE_POLICY.replace("STORAGE", str(elsewhere)).replace(", ALLOWED", ""))
    with pytest.raises(ConfigError) as err:
        preflight(RunOptions(str(policy), [f"tei={shared / 'tei'}"], str(tmp_path / "out")))
    assert "already holds 1 file(s)" in str(err.value)
    assert (elsewhere / "part-00000-of-00001.parquet").read_bytes() == b"someone else's shard"
