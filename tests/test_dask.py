"""The same graph on a real Dask cluster: a `distributed` scheduler and two worker processes on localhost."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import run_terroir, write_policy

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
    tmp = tmp_path_factory.mktemp("dask")
    sched_file = tmp / "scheduler.json"
    bindir = Path(sys.executable).parent
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = [subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--dashboard-address", ":0", "--scheduler-file", str(sched_file)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)]  # fmt: skip
    deadline = time.monotonic() + 60
    while not sched_file.exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert sched_file.exists(), "the Dask scheduler did not start"
    for i in range(2):
        procs.append(subprocess.Popen([str(bindir / "dask"), "worker", "--scheduler-file", str(sched_file),
                                       "--nworkers", "1", "--nthreads", "1", "--name", f"w{i}",
                                       "--local-directory", str(tmp / f"w{i}")],
                                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env))  # fmt: skip
    from distributed import Client

    client = Client(scheduler_file=str(sched_file), timeout=60)
    client.wait_for_workers(2, timeout=120)
    address = client.scheduler.address
    client.close()
    yield address
    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


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
