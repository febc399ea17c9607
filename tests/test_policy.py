"""Policy loading fails before any work, with a message naming the file, the field, what was found and what is allowed."""

from __future__ import annotations

from pathlib import Path

import pytest

from schemas.policy import PolicyError, load_policy

REPO = Path(__file__).resolve().parent.parent
GOOD = """
policy_id: t1
residency:
  regions:
    eu: {jurisdictions: [SE, FI], storage: shards/eu}
"""


def _write(tmp_path, text):
    p = tmp_path / "p.yaml"
    p.write_text(text)
    return p


@pytest.mark.parametrize("path", sorted((REPO / "policies").glob("*.yaml")), ids=lambda p: p.name)
def test_shipped_policies_load(path):
    policy = load_policy(path)
    assert policy.regions and policy.policy_id


def test_minimal_policy_gets_defaults(tmp_path):
    p = load_policy(_write(tmp_path, GOOD))
    assert p.region_of == {"SE": "eu", "FI": "eu"}
    assert p.min_score("sv") == p.default_min_lang_score
    assert len(p.sha256) == 64


@pytest.mark.parametrize(
    ("text", "needle"),
    [
        ("policy_id: [unclosed", "not valid YAML at line 1"),
        ("- just\n- a list\n", "top level must be a mapping"),
        (GOOD.replace("storage: shards/eu", "storage: 5"), "field residency.regions.eu.storage: found 5; expected type"),
        (GOOD + "colour: blue\n", "unknown key(s) ['colour']"),
        (GOOD.replace("[SE, FI]", "[SE, NO]"), "field residency.regions.eu.jurisdictions.1: found false"),
        (GOOD.replace("[SE, FI]", "[SE, XX]"), "'XX' is not an ISO 3166-1 alpha-2 code"),
        (GOOD + "extraction: {html_extractor: regex}\n",
         "field extraction.html_extractor: found \"regex\"; allowed values are ['trafilatura', 'resiliparse']"),
        (GOOD + "    nordic: {jurisdictions: [SE], storage: x}\n", "SE is already mapped to region 'eu'"),
        ("residency: {regions: {}}\n", "'policy_id' is a required property"),
    ],
)
def test_bad_policies_name_the_problem(tmp_path, text, needle):
    path = _write(tmp_path, text)
    with pytest.raises(PolicyError) as err:
        load_policy(path)
    assert str(path) in str(err.value)
    assert needle in str(err.value)


def test_missing_policy_file(tmp_path):
    with pytest.raises(PolicyError, match="file not found"):
        load_policy(tmp_path / "nope.yaml")


STRICT_BASE = """policy_id: strict
residency:
  regions:
    nordics: {jurisdictions: [SE, "NO"], storage: shards/nordics}
"""


@pytest.mark.parametrize("extra, needle", [
    ("admission:\n  languages:\n    sv: 0.5\n    no: 0.5\n",
     "line 8: key 'no' is not a string (YAML reads 'no' as False: quote it, \"no\")"),
    ("admission:\n  languages: {sv: 0.5, sv: 0.7}\n", "key 'sv' appears twice in one mapping (first at line 6)"),
    ("pii:\n  countries: [SE]\npii:\n  countries: [NO]\n", "key 'pii' appears twice in one mapping (first at line 5)"),
])  # fmt: skip
def test_yaml_keys_are_strings_and_given_once(tmp_path, extra, needle):
    p = tmp_path / "policy.yaml"
    p.write_text(STRICT_BASE + extra)
    with pytest.raises(PolicyError) as err:
        load_policy(p)
    assert needle in str(err.value)


def test_a_yaml_pitfall_in_the_policy_fails_before_any_output_exists(tmp_path, shared):
    import subprocess
    import sys

    p = tmp_path / "policy.yaml"
    p.write_text(STRICT_BASE + "admission:\n  languages:\n    no: 0.5\n")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "pipelines.cli", "run", "--policy", str(p), "--input",
                           str(shared / "tei"), "--output", str(out)], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parent.parent, check=False)  # fmt: skip
    assert proc.returncode == 2 and "quote it" in proc.stderr
    assert not out.exists()


@pytest.mark.parametrize("suite, needle", [
    ("../elsewhere/suite.json", "lies outside the policy's folder"),
    ("/etc/suite.json", "lies outside the policy's folder"),
    ("../../corpus_shard", "neither a built-in suite's name nor a .json file"),
])  # fmt: skip
def test_a_gate_suite_is_built_in_or_beside_the_policy(tmp_path, suite, needle):
    p = tmp_path / "policy.yaml"
    p.write_text(STRICT_BASE + f"gates: {{suite: {suite!r}}}\n")
    with pytest.raises(PolicyError) as err:
        load_policy(p)
    assert needle in str(err.value)


def test_a_custom_suite_beside_the_policy_is_resolved_from_the_policy_folder(tmp_path):
    (tmp_path / "suites").mkdir()
    p = tmp_path / "policy.yaml"
    p.write_text(STRICT_BASE + "gates: {suite: suites/mine.json}\n")
    assert load_policy(p).gate_suite == str(tmp_path / "suites" / "mine.json")
