"""Crash and rerun: SIGKILL at several points, then the same command again. The rerun must give the uninterrupted
run's shards and ledger byte for byte, never show a partial shard, and skip inputs already completed."""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent


def _cmd(data: Path, out: Path) -> list[str]:
    from pipelines.tools.demo import demo_inputs, demo_policy_path

    args = [sys.executable, "-m", "pipelines.cli", "run", "--policy", str(demo_policy_path()), "--output", str(out),
            "--workers", "1", "--overwrite"]  # fmt: skip
    for i in demo_inputs(data):
        args += ["--input", i]
    return args


def _run(data: Path, out: Path, fault: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "TERROIR_FAULT"}
    if fault:
        env["TERROIR_FAULT"] = fault
    return subprocess.run(_cmd(data, out), check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def _release_files(out: Path) -> dict[str, str]:
    """Shards and ledger parts with their digests (the manifest's timestamps differ by design)."""
    files = sorted(list((out / "shards").rglob("*.parquet")) + list((out / "ledger").glob("*.parquet")))
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


@pytest.fixture(scope="module")
def reference(demo_data, tmp_path_factory):
    out = tmp_path_factory.mktemp("reference") / "release"
    res = _run(demo_data, out)
    assert res.returncode == 0, res.stderr[-2000:]
    return _release_files(out), json.loads((out / "release.json").read_text())


@pytest.mark.parametrize(
    ("fault", "expect_skipped"),
    [
        ("after_file:2", 2),  # during reading: two inputs were checkpointed before the kill
        ("after_shard:1", 5),  # during writing: every input was checkpointed
        ("before_publish:1", 5),  # between writing and publishing
        ("after_publish_shard:2", 5),  # while publishing
    ],
)
def test_kill_and_rerun_gives_the_same_release(demo_data, reference, tmp_path, fault, expect_skipped):
    ref_files, ref_manifest = reference
    out = tmp_path / "release"
    crashed = _run(demo_data, out, fault)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    assert not (out / "release.json").exists(), "a crashed run must not publish a manifest"
    for p in out.rglob("*"):
        if p.is_file() and p.suffix == ".parquet" and "_work" not in p.parts and "_staging" not in p.parts:
            # anything already in a storage folder is a complete file, never a partial one
            import pyarrow.parquet as pq

            pq.read_metadata(p)
    assert not list(out.glob("shards/**/*.tmp*"))
    # checkpoints hold raw text: they live beside the release folder, never inside it, even after a crash
    from pipelines.run import work_dir_of

    assert work_dir_of(out).is_dir() and not any(p.name in ("_work", "_staging") for p in out.rglob("*"))

    rerun = _run(demo_data, out)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    manifest = json.loads((out / "release.json").read_text())
    assert _release_files(out) == ref_files
    assert [s["sha256"] for s in manifest["shards"]] == [s["sha256"] for s in ref_manifest["shards"]]
    resume = manifest["resume"]
    assert resume["inputs_from_checkpoint"] == expect_skipped
    assert resume["inputs_processed"] == resume["inputs"] - expect_skipped
    assert not (out / "_work").exists() and not (out / "_staging").exists() and not work_dir_of(out).exists()
    log = (out / "progress.log").read_text()
    assert "from checkpoint" in log and "[published]" in log


def test_an_overwrite_that_crashes_leaves_the_published_release_intact(demo_data, tmp_path):
    """--overwrite over a published release, killed while reading its inputs: the old release is still published,
    every shard it lists still has its checksum (it is unpublished only when the new one is about to be published)."""
    from release.publish import sha256_of

    out = tmp_path / "release"
    first = _run(demo_data, out)
    assert first.returncode == 0, first.stderr[-2000:]
    before = (out / "release.json").read_bytes()
    crashed = _run(demo_data, out, "after_file:1")
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    assert (out / "release.json").read_bytes() == before
    manifest = json.loads(before)
    assert all(sha256_of(out / s["path"]) == s["sha256"] for s in manifest["shards"])
    assert all(sha256_of(out / p["path"]) == p["sha256"] for p in manifest["ledger"])
