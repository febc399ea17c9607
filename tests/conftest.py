"""Shared fixtures: paths to the real data in ../shared/data, and helpers that run Terroir for real."""

from __future__ import annotations

import glob
import json
import os
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"


def pytest_collection_modifyitems(config, items):
    if not SHARED.is_dir():
        raise pytest.UsageError(f"the shared data folder is missing: expected {SHARED}")


@pytest.fixture(scope="session")
def shared() -> Path:
    return SHARED


def write_policy(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def run_terroir(policy: Path, inputs: list[str], out: Path, workers: int = 1, **kw):
    from pipelines.run import RunOptions, execute

    return execute(RunOptions(policy_path=str(policy), inputs=inputs, output_dir=str(out), workers=workers,
                              overwrite=True, **kw))  # fmt: skip


def read_ledger(out: Path) -> pa.Table:
    return pa.concat_tables([pq.read_table(p) for p in sorted(glob.glob(str(out / "ledger" / "*.parquet")))])


def read_shards(manifest: dict, out: Path) -> pa.Table:
    paths = [p if os.path.isabs(p) else str(out / p) for p in (s["path"] for s in manifest["shards"])]
    return pa.concat_tables([pq.read_table(p) for p in paths])


@pytest.fixture(scope="session")
def demo_release(tmp_path_factory):
    """The demo, run once per session exactly as `make demo` runs it."""
    from pipelines.tools.demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    res = run_demo(str(out), workers=2)
    return out, res


def load_manifest(out: Path) -> dict:
    return json.loads((out / "release.json").read_text())


@pytest.fixture(autouse=True)
def _no_officer_settings_from_outside(monkeypatch, tmp_path_factory):
    """A developer's own signing key or trust list never takes part in a test: keys default to an empty folder."""
    for var in ("TERROIR_TRUST", "TERROIR_SIGNING_KEY", "TERROIR_KEY_PASSPHRASE", "XDG_CONFIG_HOME"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("TERROIR_KEY_DIR", str(tmp_path_factory.mktemp("no-keys")))


@dataclass
class Officer:
    owner: str
    key_id: str
    private_path: Path
    public_path: Path
    trust_list: Path


@pytest.fixture
def officer(tmp_path_factory, monkeypatch) -> Officer:
    """A compliance officer: a real Ed25519 key in their own key folder (outside any release), whose public key is in
    a trust list that verifiers find through $TERROIR_TRUST; $TERROIR_SIGNING_KEY names the key for `approve`."""
    from release import cli as release_cli
    from release import signing

    home = tmp_path_factory.mktemp("officer")
    key = signing.generate_key("Maria Lindqvist", home / "keys")
    trust = home / "trust" / "officers.json"
    public, owner = signing.parse_public_key(key.public_path.read_text(encoding="utf-8"))
    release_cli.trust_key(str(trust), public, owner)
    monkeypatch.setenv("TERROIR_SIGNING_KEY", str(key.private_path))
    monkeypatch.setenv("TERROIR_TRUST", str(trust))
    return Officer(key.owner, key.key_id, key.private_path, key.public_path, trust)


# ------------------------------------------------------------------ shared fixtures and helpers


def start_dask_cluster(tmp: Path, workers: int = 1, pythonpath: str | None = None):
    """`dask scheduler` and `workers` `dask worker` processes, as a user starts them on a cluster; returns
    (scheduler address, processes). `pythonpath` is the workers' PYTHONPATH (where a user installs extra stages)."""
    import subprocess
    import sys
    import time

    from distributed import Client

    bindir = Path(sys.executable).parent
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    if pythonpath is not None:
        env["PYTHONPATH"] = pythonpath
    sched_file = tmp / "scheduler.json"
    quiet = {"cwd": tmp, "env": env, "stdout": subprocess.DEVNULL, "stderr": subprocess.DEVNULL}
    procs = [subprocess.Popen([str(bindir / "dask"), "scheduler", "--host", "127.0.0.1", "--port", "0",
                               "--dashboard-address", ":0", "--scheduler-file", str(sched_file)], **quiet)]  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while not sched_file.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sched_file.exists(), "the Dask scheduler did not start"
        for i in range(workers):
            procs.append(subprocess.Popen([str(bindir / "dask"), "worker", "--scheduler-file", str(sched_file),
                                           "--nworkers", "1", "--nthreads", "1", "--name", f"w{i}",
                                           "--local-directory", str(tmp / f"w{i}")], **quiet))  # fmt: skip
        client = Client(scheduler_file=str(sched_file), timeout=60)
        client.wait_for_workers(workers, timeout=120)
        address = client.scheduler.address
        client.close()
    except BaseException:
        stop_processes(procs)
        raise
    return address, procs


def stop_processes(procs) -> None:
    """Terminate, wait up to 20 s each, then kill."""
    import subprocess

    for p in procs:
        p.terminate()
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()


@pytest.fixture
def release_copy(demo_release, tmp_path):
    """A fresh, unapproved copy of the demo release for a test that changes it."""
    import shutil

    _out, res = demo_release
    folder = tmp_path / "release"
    shutil.copytree(res.output_dir, folder)
    return folder


@pytest.fixture(scope="module")
def demo_data(tmp_path_factory):
    """The demo's generated inputs, once per test module."""
    from pipelines.tools.demo import generate

    data = tmp_path_factory.mktemp("demo-data")
    generate(data)
    return data
