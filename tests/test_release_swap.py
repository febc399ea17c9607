"""--overwrite over an approved release, killed (SIGKILL, a real process) at every point of publication: the output
folder holds either the previous release, whole and still approved, or the new one, whole; never a mix, never
nothing. The rerun publishes the new release and removes the previous one's shards, in the output folder and in a
region storage outside it."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parent.parent


def _policy(tmp_path: Path) -> Path:
    """The demo policy with the UK region's storage outside the output folder (an absolute folder)."""
    from pipelines.tools.demo import demo_policy_path

    text = demo_policy_path().read_text(encoding="utf-8")
    assert "storage: shards/uk" in text
    policy = tmp_path / "policy.yaml"
    policy.write_text(text.replace("storage: shards/uk", f"storage: {tmp_path / 'uk-storage'}"), encoding="utf-8")
    return policy


def _run(policy: Path, inputs: list[str], out: Path, fault: str | None = None) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--policy", str(policy), "--output", str(out),
           "--workers", "1", "--overwrite"]  # fmt: skip
    for i in inputs:
        cmd += ["--input", i]
    env = {k: v for k, v in os.environ.items() if k != "TERROIR_FAULT"}
    if fault:
        env["TERROIR_FAULT"] = fault
    return subprocess.run(cmd, check=False, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)


def _verify(out: Path, policy: Path):
    from release.approval import verify

    return verify(out, policy=str(policy))


def _storage_files(storage: Path) -> set[str]:
    return {p.relative_to(storage).as_posix() for p in storage.rglob("*") if p.is_file()}


@pytest.mark.parametrize(
    ("fault", "survivor"),
    [
        ("before_publish:1", "old"),  # the graph is done, nothing gated yet
        ("after_publish_shard:1", "old"),  # the first new shard is in its storage (the UK one outside the output)
        ("after_publish_shard:3", "old"),  # most new shards are in place
        ("before_swap:1", "old"),  # the new release is complete beside the output, its manifest written
        ("after_swap:1", "new"),  # swapped in; the previous release not yet removed
    ],
)
def test_a_crash_while_publishing_leaves_one_whole_release(demo_data, tmp_path, officer, fault, survivor):
    from pipelines.tools.demo import demo_inputs
    from release.approval import approve

    policy, out, storage = _policy(tmp_path), tmp_path / "release", tmp_path / "uk-storage"
    web, library, tei, dumps = demo_inputs(demo_data)
    first = _run(policy, [web, tei], out)
    assert first.returncode == 0, first.stderr[-2000:]
    approve(out, note="reviewed", policy=str(policy))
    old_manifest, old_approval = (out / "release.json").read_bytes(), (out / "approval.json").read_bytes()
    old = json.loads(old_manifest)
    old_uk = [s for s in old["shards"] if s["residency_region"] == "uk"]
    assert old_uk and all(s["path"].startswith(str(storage) + "/release-") for s in old_uk)
    assert _verify(out, policy).ok

    crashed = _run(policy, [web, library, tei, dumps], out, fault)
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr[-2000:]
    report = _verify(out, policy)
    assert report.integrity_ok, report.summary()  # whole: every file as its manifest says, no stray file
    manifest = json.loads((out / "release.json").read_bytes())
    if survivor == "old":
        assert (out / "release.json").read_bytes() == old_manifest
        assert (out / "approval.json").read_bytes() == old_approval
        assert report.approved, report.summary()
    else:
        assert {i["source_id"] for i in manifest["inputs"]} == {"demo-web", "demo-library", "demo-tei", "demo-dumps"}
        assert not (out / "approval.json").exists() and not report.approved  # an approval covers one manifest
    assert sorted(s["sha256"] for s in manifest["shards"]) == sorted(f.actual_sha256 for f in report.files
                                                                     if f.kind == "shard")  # fmt: skip

    rerun = _run(policy, [web, library, tei, dumps], out)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    report = _verify(out, policy)
    assert report.integrity_ok and not report.approved, report.summary()
    new = json.loads((out / "release.json").read_text())
    assert {i["source_id"] for i in new["inputs"]} == {"demo-web", "demo-library", "demo-tei", "demo-dumps"}
    # the previous release's shards are gone from the outside storage: only the new ones and the owner mark remain
    new_uk = {Path(s["path"]).relative_to(storage).as_posix() for s in new["shards"] if s["residency_region"] == "uk"}
    assert new_uk and _storage_files(storage) == new_uk | {".terroir-release"}
    from pipelines.run import work_dir_of

    assert not work_dir_of(out).exists()


def test_the_same_outcome_is_published_under_the_same_names(demo_data, tmp_path):
    """Shards outside the output folder go into a folder named after what is published: a rerun of the same inputs
    writes the same names with the same bytes, and leaves one release folder in the storage."""
    from pipelines.tools.demo import demo_inputs

    policy, out, storage = _policy(tmp_path), tmp_path / "release", tmp_path / "uk-storage"
    web, _, tei, _ = demo_inputs(demo_data)
    assert _run(policy, [web, tei], out).returncode == 0
    first = json.loads((out / "release.json").read_text())
    assert _run(policy, [web, tei], out).returncode == 0
    second = json.loads((out / "release.json").read_text())
    assert [(s["path"], s["sha256"]) for s in first["shards"]] == [(s["path"], s["sha256"]) for s in second["shards"]]
    assert len([p for p in storage.iterdir() if p.is_dir()]) == 1
    assert _verify(out, policy).integrity_ok


def _release(folder: Path, tag: str) -> Path:
    folder.mkdir(parents=True)
    (folder / "ledger").mkdir()
    (folder / "ledger" / "part.parquet").write_text(tag)
    (folder / "release.json").write_text(json.dumps({"tag": tag, "shards": []}))
    return folder


def test_swap_without_exchange_uses_two_renames_and_recovers_between_them(tmp_path, monkeypatch):
    """Where the filesystem cannot exchange folders, two renames swap them; a crash between the two (simulated by
    doing only the first) is undone by `recover` on the next run: the previous release is back."""
    from release import swap

    monkeypatch.setattr(swap, "_exchange", lambda a, b: False)
    work = tmp_path / ".out.terroir-work"
    out, build = _release(tmp_path / "out", "old"), _release(swap.build_folder(work), "new")
    previous = swap.swap_in(out, build, work)
    assert json.loads((out / "release.json").read_text())["tag"] == "new"
    assert json.loads((previous / "release.json").read_text())["tag"] == "old"
    swap.remove_superseded(previous, out, {"shards": []}, {})
    assert not previous.exists() and (out / "ledger" / "part.parquet").read_text() == "new"

    os.rename(out, swap.previous_folder(work))  # the first rename of a swap, then the crash
    out.mkdir()  # the rerun creates the output folder again before it takes the lock
    swap.recover(out, work)
    assert json.loads((out / "release.json").read_text())["tag"] == "new"
    assert not swap.previous_folder(work).exists()


def test_swap_of_an_output_that_cannot_be_renamed_moves_its_entries(tmp_path, monkeypatch):
    """An output folder that is a mount point cannot be renamed: its entries are replaced, manifest last."""
    from release import swap

    monkeypatch.setattr(swap, "_exchange", lambda a, b: False)
    work = tmp_path / ".out.terroir-work"
    out, build = _release(tmp_path / "out", "old"), _release(swap.build_folder(work), "new")
    (out / "approval.json").write_text("{}")
    real_rename = os.rename

    def rename(src, dst):
        if Path(src) == out:
            raise OSError(errno.EBUSY, "Device or resource busy", str(src))
        real_rename(src, dst)

    monkeypatch.setattr(swap.os, "rename", rename)
    previous = swap.swap_in(out, build, work)
    assert json.loads((out / "release.json").read_text())["tag"] == "new"
    assert not (out / "approval.json").exists() and (previous / "approval.json").exists()
    assert (out / "ledger" / "part.parquet").read_text() == "new"


def test_files_that_are_no_part_of_the_release_go_on_in_the_new_folder(tmp_path):
    """An operator's notes beside the release (not in its manifest) are not lost with the previous release: they are
    hard-linked into the new folder before the swap, and stay in the old one until then."""
    from release import swap

    work = tmp_path / ".out.terroir-work"
    out, build = _release(tmp_path / "out", "old"), _release(swap.build_folder(work), "new")
    (out / "release.json").write_text(json.dumps({"ledger": [{"path": "ledger/part.parquet"}]}))
    (out / "notes").mkdir()
    (out / "notes" / "operator.txt").write_text("ask legal about source X")
    (out / "progress.log").write_text("old progress\n")
    previous = swap.swap_in(out, build, work)
    assert (out / "notes" / "operator.txt").read_text() == "ask legal about source X"
    assert (out / "ledger" / "part.parquet").read_text() == "new"  # the old release's own files are not carried
    swap.remove_superseded(previous, out, {"shards": []}, {})
    assert (out / "notes" / "operator.txt").read_text() == "ask legal about source X"


def test_exchange_swaps_two_folders_in_one_step(tmp_path):
    """On this machine's filesystem the swap is the kernel's atomic exchange (the path the crash tests exercise)."""
    from release import swap

    a, b = _release(tmp_path / "a", "a"), _release(tmp_path / "b", "b")
    if not swap._exchange(a, b):
        pytest.skip("this filesystem cannot exchange folders (the two-rename fallback is tested above)")
    assert json.loads((a / "release.json").read_text())["tag"] == "b"
    assert json.loads((b / "release.json").read_text())["tag"] == "a"
