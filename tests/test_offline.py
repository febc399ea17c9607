"""The demo runs with no network at all: a fresh network namespace with only the loopback interface up (the local
runner's workers talk to it over gRPC on localhost). Any download attempt fails the run."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent


def _netns_available() -> bool:
    if shutil.which("unshare") is None or shutil.which("ip") is None:
        return False
    probe = subprocess.run(["unshare", "-n", "true"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _netns_available(), reason="creating a network namespace needs root (unshare -n)")
def test_demo_runs_without_network(tmp_path):
    out = tmp_path / "demo"
    script = f"ip link set lo up && {sys.executable} -m pipelines.cli demo --workers 1 --output {out}"
    proc = subprocess.run(["unshare", "-n", "sh", "-c", script], cwd=REPO, capture_output=True, text=True,
                          timeout=600, check=False)  # fmt: skip
    assert proc.returncode == 0, proc.stderr[-3000:]
    manifest = json.loads((out / "release" / "release.json").read_text())
    assert manifest["counts"]["documents_published"] > 30
    # the namespace really holds nothing but the loopback interface
    links = subprocess.run(["unshare", "-n", "ip", "-o", "link"], capture_output=True, text=True, check=True).stdout
    assert [ln.split(":")[1].strip() for ln in links.splitlines()] == ["lo"]
