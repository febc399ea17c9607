"""Personal data in URLs, record ids and file names never reaches a shard column, the ledger, the manifest or the
report: every published string field goes through the policy's PII redactor."""

from __future__ import annotations

import json

from conftest import read_ledger, read_shards, run_terroir, write_policy
from filters.pii.metadata import MetadataScrubber

EMAIL = "karin.holm@lanstidningen.se"
IBAN = "SE4550000000058398257466"
PNR = "811218-9876"  # a Swedish personal identity number with a valid check digit

TEXT = ("Kommunfullmäktige samlades på tisdagskvällen för att diskutera de nya cykelbanorna längs hamnvägen och "
        "beslutade att bygget ska börja redan i vår, efter en lång debatt om kostnaderna för staden.")

POLICY = """
policy_id: metadata-pii
residency:
  regions:
    nordics: {jurisdictions: [SE], storage: shards/nordics}
sources:
  dump: {jurisdiction: SE, license: CC-BY-4.0, id_field: id}
admission:
  languages: {sv: 0.5}
quality: {enabled: false}
pii:
  countries: [SE]
"""


def test_urls_ids_and_file_names_are_redacted_wherever_they_are_published(tmp_path):
    folder = tmp_path / "dump" / f"kund-{PNR}"
    folder.mkdir(parents=True)
    records = [{"id": EMAIL, "text": TEXT, "url": f"https://lanstidningen.se/prenumerant/{EMAIL}?konto={IBAN}"},
               {"id": "r2", "text": TEXT.replace("staden", "kommunen"), "url": "https://lanstidningen.se/a/2024/05/1"}]
    (folder / f"{EMAIL}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    policy = write_policy(tmp_path / "policy.yaml", POLICY)
    out = tmp_path / "release"
    res = run_terroir(policy, [f"dump={tmp_path / 'dump'}"], out)
    shards = read_shards(res.manifest, out)
    assert shards.num_rows == 2
    urls = sorted(shards.column("url").to_pylist())
    assert urls == ["https://lanstidningen.se/a/2024/05/1",  # nothing personal: left as it was
                    "https://lanstidningen.se/prenumerant/<EMAIL_ADDRESS>?konto=<IBAN_CODE>"]
    published = [
        json.dumps(shards.select(["url", "record_locator", "source_id"]).to_pylist()),
        json.dumps(read_ledger(out).to_pylist()),
        (out / "release.json").read_text(),
        (out / "report" / "index.html").read_text(),
        *(p.read_text(errors="replace") for p in (out / "summary").glob("*")),
        (out / "croissant.json").read_text(), (out / "README.md").read_text(),
    ]
    for raw in (EMAIL, IBAN, PNR, "karin.holm"):
        assert not any(raw in text for text in published), raw
    paths = {i["path"] for i in res.manifest["inputs"]}
    (path,) = paths
    folder_part, file_part = path.split("/")
    assert folder_part.startswith("redacted-") and file_part.startswith("redacted-") and file_part.endswith(".jsonl")
    # the same file gets the same name on every run (doc ids stay stable)
    again = run_terroir(policy, [f"dump={tmp_path / 'dump'}"], tmp_path / "again")
    assert {i["path"] for i in again.manifest["inputs"]} == paths


def test_the_scrubber_asks_only_about_pieces_that_could_hold_identifiers():
    from filters.pii.engine import PiiRedactor

    built = []

    def make():
        built.append(PiiRedactor(("sv",), ("EMAIL_ADDRESS", "IBAN_CODE"), ("SE",)))
        return built[-1]

    s = MetadataScrubber(make, b"k" * 16)
    assert s.text("https://example.se/news/2024/05/article") == "https://example.se/news/2024/05/article"
    assert built == []  # no @, no six digits, no IP address: the redactor is not even built
    assert s.text(f"https://x.se/u/{EMAIL.replace('@', '%40')}") == "https://x.se/u/<EMAIL_ADDRESS>"
    assert s.text(f"dump.jsonl#{EMAIL}") == "dump.jsonl#<EMAIL_ADDRESS>"
    assert len(built) == 1
    assert s.path(f"a/{EMAIL}.jsonl") == s.path(f"a/{EMAIL}.jsonl") != s.path("a/other@lanstidningen.se.jsonl")
    assert s.path("a/crawl-00001.warc.gz") == "a/crawl-00001.warc.gz"
