"""The same graph on a real Dask cluster: a `distributed` scheduler and two worker processes on localhost."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest

from conftest import run_terroir, start_dask_cluster, stop_processes, write_policy

pytestmark = pytest.mark.slow

POLICY = """
policy_id: dask-test
residency:
  regions:
    europe: {jurisdictions: [SE, DE, FI, NL, FR, ES, "NO"], storage: shards/europe}
    elsewhere: {jurisdictions: [US, CN, JP, RU, ST], storage: shards/elsewhere}
sources:
  alto: {jurisdiction: "NO", license: CC0-1.0}
  tei: {jurisdiction: DE, license: CC0-1.0}
admission: {default_min_lang_score: 0.3}
extraction: {min_chars: 20}
output: {shards_per_region: 2, ledger_shards: 2}
"""


@pytest.fixture(scope="module")
def dask_cluster(tmp_path_factory):
    """`dask scheduler` and two `dask worker` processes, as a user starts them on a cluster."""
    address, procs = start_dask_cluster(tmp_path_factory.mktemp("dask"), workers=2)
    yield address
    stop_processes(procs)


def _digests(out: Path) -> dict[str, str]:
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted((out / "shards").rglob("*.parquet"))}  # fmt: skip


def test_dask_cluster_gives_the_local_runners_shards(dask_cluster, tmp_path, shared):
    policy = write_policy(tmp_path / "policy.yaml", POLICY)
    inputs = [str(shared / "warc"), str(shared / "alto"), str(shared / "tei")]
    t0 = time.monotonic()
    local = run_terroir(policy, inputs, tmp_path / "local", workers=2)
    t_local = time.monotonic() - t0
    t0 = time.monotonic()
    dask = run_terroir(policy, inputs, tmp_path / "dask", runner="dask", dask_address=dask_cluster)
    t_dask = time.monotonic() - t0
    print(f"\nwall time: local runner {t_local:.1f} s, dask cluster {t_dask:.1f} s")
    assert local.manifest["shards"], "the run must publish something to compare"
    assert _digests(tmp_path / "local") == _digests(tmp_path / "dask")
    assert local.manifest["counts"] == dask.manifest["counts"]
    assert dask.manifest["release"]["runner"] == "dask"
