"""Two runs on one output folder: the second fails at once, the first publishes a release of its own inputs only."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import read_shards

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent

POLICY = """
policy_id: lock-test
residency:
  regions:
    de: {jurisdictions: [DE], storage: shards/de}
    "no": {jurisdictions: ["NO"], storage: SHARED_STORAGE}
sources:
  tei: {jurisdiction: DE, license: CC0-1.0}
  alto: {jurisdiction: "NO", license: CC0-1.0}
admission: {default_min_lang_score: 0.3}
gates: {max_text_chars: 1000000}
"""


def _run(policy: Path, inputs: list[str], out: Path) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--policy", str(policy), "--output", str(out),
           "--workers", "1", "--overwrite"]  # fmt: skip
    for i in inputs:
        cmd += ["--input", i]
    return subprocess.Popen(cmd, cwd=REPO, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def _wait_for(path: Path, proc: subprocess.Popen, timeout_s: float = 60) -> None:
    t0 = time.monotonic()
    while not path.exists():
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert time.monotonic() - t0 < timeout_s, f"{path} never appeared"
        time.sleep(0.05)


def test_a_second_run_on_the_same_output_fails_at_once(tmp_path, shared):
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY.replace("SHARED_STORAGE", str(tmp_path / "storage-no")))
    out = tmp_path / "release"
    first = _run(policy, [f"tei={shared / 'tei'}"], out)
    from pipelines.run import work_dir_of

    _wait_for(work_dir_of(out), first)  # created once the first run holds the lock
    t0 = time.monotonic()
    second = _run(policy, [f"alto={shared / 'alto'}"], out)
    _, err = second.communicate(timeout=60)
    assert second.returncode == 2, err[-2000:]
    assert time.monotonic() - t0 < 30 and "in use by another terroir run" in err
    # another output folder, but the same absolute storage folder of region "no": it belongs to the first release
    third = _run(policy, [f"alto={shared / 'alto'}"], tmp_path / "other-release")
    _, err3 = third.communicate(timeout=60)
    assert third.returncode == 2 and "storage-no belongs to the release in" in err3, err3[-2000:]
    _, err1 = first.communicate(timeout=600)
    assert first.returncode == 0, err1[-2000:]
    manifest = json.loads((out / "release.json").read_text())
    assert {i["source_id"] for i in manifest["inputs"]} == {"tei"}
    shards = read_shards(manifest, out)
    assert set(shards.column("source_id").to_pylist()) == {"tei"}
    # once the first run is over, the folder is free again
    again = _run(policy, [f"alto={shared / 'alto'}"], out)
    _, err = again.communicate(timeout=600)
    assert again.returncode == 0, err[-2000:]
