"""Replace a published release in one step: a reader of the output folder sees the previous release whole, or the
new one whole, never a mix and never nothing.

A run builds its release in a folder of its own beside the output (`build_folder`, inside the run's work folder, so
on the same filesystem) and writes the manifest there last. Only then is that folder exchanged with the output folder
in one rename (Linux `renameat2(RENAME_EXCHANGE)`): until that instant the output folder holds the previous release
(manifest, approval, shards, ledger, report, documents) untouched; after it, the new one. The previous release, now in
the build folder's place, is removed afterwards.

Shards in region storage outside the output folder cannot move with it: they go into a folder of their own per
release, `release-<digest>/`, named after what is published (so a rerun with the same outcome writes the same names,
with the same bytes). The previous release's shards stay where its manifest says until the swap; then those the new
release does not name are removed, with any `release-*` folder of an earlier interrupted attempt.

Where the filesystem cannot exchange two folders (not Linux, NFS), two renames take its place, and `recover` puts
the previous release back if a crash fell between them; where the output folder cannot be renamed at all (it is a
mount point), its entries are moved one by one, the old manifest first out and the new manifest last in.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import logging
import os
import re
import shutil
import sys
from pathlib import Path

log = logging.getLogger("terroir.release")

RELEASE_FOLDER = re.compile(r"release-[0-9a-f]{16}")
_NO_EXCHANGE = (errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.ENOTSUP, errno.EPERM)


def build_folder(work: Path) -> Path:
    """Where a run builds its release before the swap (emptied first: a folder left by a crash is rebuilt)."""
    return work / "release"


def previous_folder(work: Path) -> Path:
    """Where the previous release waits between the two renames of the fallback swap."""
    return work / "previous"


def release_key(shards: list[dict]) -> str:
    """The folder name for one release's shards in storage outside the output folder: a digest of the published
    shards' region, name and sha256, so the same outcome always gets the same folder."""
    basis = sorted((s["residency_region"], s["name"], s["sha256"]) for s in shards)
    return "release-" + hashlib.sha256(json.dumps(basis).encode()).hexdigest()[:16]


def shard_targets(storage: dict, out: Path, build: Path, shards: list[dict]) -> dict:
    """Region → the `RegionStorage` a run writes its shards to: a storage inside the output folder moves into the
    build folder (it is swapped in with it); one elsewhere gets the release's own folder (see `release_key`)."""
    from release.storage import RegionStorage

    key = release_key(shards)
    targets = {}
    for region, st in storage.items():
        if st.is_local and Path(st.uri).is_relative_to(out):
            targets[region] = RegionStorage(region, str(build / Path(st.uri).relative_to(out)))
        elif st.is_local:
            targets[region] = RegionStorage(region, str(Path(st.uri) / key))
        else:
            base, sep, query = st.uri.partition("?")
            targets[region] = RegionStorage(region, f"{base.rstrip('/')}/{key}{sep}{query}")
    return targets


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one atomic rename; False where this system or filesystem cannot."""
    if not sys.platform.startswith("linux"):
        return False
    fn = getattr(ctypes.CDLL(None, use_errno=True), "renameat2", None)
    if fn is None:  # glibc before 2.28
        return False
    at_fdcwd, rename_exchange = -100, 2
    if fn(at_fdcwd, os.fsencode(str(a)), at_fdcwd, os.fsencode(str(b)), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in _NO_EXCHANGE:
        return False
    raise OSError(err, os.strerror(err), str(b))


def swap_in(out: Path, build: Path, work: Path) -> Path:
    """Make the complete release in `build` (its manifest already written) the one in `out`, in one step where the
    filesystem allows. Returns where the previous release now lies (to be removed by `remove_superseded`)."""
    progress = out / "progress.log"
    if progress.is_file():  # the run's progress log goes on in the new folder
        shutil.copyfile(progress, build / progress.name)
    _carry_foreign(out, build)
    if _exchange(build, out):
        return build
    log.warning("the filesystem of %s cannot exchange two folders in one step; swapping with two renames", out)
    old = previous_folder(work)
    shutil.rmtree(old, ignore_errors=True)
    try:
        os.rename(out, old)
    except OSError as exc:
        if exc.errno not in (errno.EBUSY, errno.EXDEV, errno.EACCES, errno.EPERM):
            raise
        return _swap_entries(out, build, old)
    os.rename(build, out)
    return old


def _carry_foreign(out: Path, build: Path) -> None:
    """Files in the output folder that are no part of the previous release (someone's notes, a stray file `verify`
    reported) go on in the new folder, as they did when releases were replaced in place: hard-linked into the build
    (same filesystem), so the originals stay where they were until the swap and a crash at any point loses none."""
    from release.files import NOT_RELEASE_FILES, SCRATCH_DIRS, stray_files

    try:
        previous = json.loads((out / "release.json").read_text(encoding="utf-8"))
        foreign = stray_files(out, previous) if isinstance(previous, dict) else None
    except (OSError, ValueError):
        foreign = None
    if foreign is None:  # no readable release here: everything but the run's own files is someone else's
        foreign = [p.relative_to(out).as_posix() for p in out.rglob("*")
                   if (p.is_file() or p.is_symlink()) and p.relative_to(out).parts[0] not in SCRATCH_DIRS
                   and p.relative_to(out).as_posix() not in NOT_RELEASE_FILES]  # fmt: skip
    for rel in foreign:
        src, dst = out / rel, build / rel
        if dst.exists() or dst.is_symlink() or not (src.is_file() or src.is_symlink()):
            continue  # the new release has a file of that name: it wins, as an in-place publish would have
        dst.parent.mkdir(parents=True, exist_ok=True)
        if src.is_symlink():
            os.symlink(os.readlink(src), dst)
        else:
            os.link(src, dst)


def _swap_entries(out: Path, build: Path, old: Path) -> Path:
    """The output folder itself cannot be renamed (a mount point): move its entries, the old manifest out first and
    the new manifest in last, so what is published at any moment is one release or none."""
    log.warning("%s cannot be renamed (a mount point?); replacing its entries one by one", out)
    old.mkdir(parents=True)
    first = [out / "release.json", out / "approval.json"]
    for entry in [p for p in first if p.exists()] + sorted(p for p in out.iterdir() if p not in first):
        os.rename(entry, old / entry.name)
    last = build / "release.json"
    for entry in sorted(p for p in build.iterdir() if p != last):
        os.rename(entry, out / entry.name)
    os.rename(last, out / last.name)
    return old


def recover(out: Path, work: Path) -> None:
    """After a crash between the two renames of the fallback swap: put the previous release back in `out`."""
    old = previous_folder(work)
    if (old / "release.json").is_file() and not (out / "release.json").exists():
        log.warning("putting back the release an interrupted publish had moved aside (%s)", old)
        out.mkdir(parents=True, exist_ok=True)
        for entry in sorted(old.iterdir(), key=lambda p: p.name == "release.json"):
            target = out / entry.name
            if target.is_dir():
                shutil.rmtree(target)
            os.replace(entry, target)
    shutil.rmtree(old, ignore_errors=True)


def remove_superseded(old: Path, out: Path, manifest: dict, storage: dict) -> None:
    """Remove the previous release (`old`, as `swap_in` left it) and its shards in storage outside the output folder
    that the new `manifest` does not name, with the `release-*` folders of earlier attempts. Failures are logged: the
    new release is published whatever happens here."""
    from pyarrow import fs

    from release.files import OutsideReleaseError, locate

    keep = {s["path"] for s in manifest.get("shards", [])}
    try:
        previous = json.loads((old / "release.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        previous = {}
    for entry in previous.get("shards", []) if isinstance(previous.get("shards"), list) else []:
        path = str(entry.get("path", "")) if isinstance(entry, dict) else ""
        if path in keep or not (os.path.isabs(path) or "://" in path):
            continue  # kept, or inside the old folder (removed with it)
        try:
            fsys, where = locate(out, entry, storage)
            fsys.delete_file(where)
        except (OutsideReleaseError, OSError) as exc:
            log.warning("could not remove a shard of the previous release: %s", " ".join(str(exc).split())[:200])
    kept_folders = {part for p in keep for part in re.split(r"[/?]", p) if RELEASE_FOLDER.fullmatch(part)}
    for st in storage.values():
        if st.is_local and Path(st.uri).is_relative_to(out):
            continue
        try:
            fsys, base = st.filesystem()
            for info in fsys.get_file_info(fs.FileSelector(base, allow_not_found=True)):
                if info.type == fs.FileType.Directory and RELEASE_FOLDER.fullmatch(info.base_name) \
                        and info.base_name not in kept_folders:  # fmt: skip
                    fsys.delete_dir(info.path)
        except OSError as exc:
            log.warning("could not tidy storage %s: %s", st.uri, " ".join(str(exc).split())[:200])
    shutil.rmtree(old, ignore_errors=True)
