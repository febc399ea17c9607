"""Shared fixtures: paths to the real data in ../shared/data, and helpers that run Terroir for real."""

from __future__ import annotations

import glob
import json
import os
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
    from pipelines.demo import run_demo

    out = tmp_path_factory.mktemp("demo")
    res = run_demo(str(out), workers=2)
    return out, res


def load_manifest(out: Path) -> dict:
    return json.loads((out / "release.json").read_text())
