"""Which files make up a release, and where a manifest path may point.

A path in a manifest is accepted only when it stays inside the release folder (relative, no `..`, no symbolic link
that leads out) or, for a shard, lies under the storage that the policy names for the shard's residency region (an
absolute local folder or an object-store URI). The check looks at the path text and the folder's links, before any
file is opened; without a policy, only paths inside the release folder are accepted. A URI is opened through the
policy's storage URI (its options, such as `endpoint_override`), never through the storage written in the manifest.

Every file of a release folder is listed in the manifest (shards, ledger, generated documents, and `files`: the
report, the gate results, the data docs, the quarantine), except the manifest itself, the approval (approval.json and
the page that shows it, approval.html) and the run's own scratch (`progress.log`, `_work/`, `_staging/`). Anything
else found in the folder is a stray file, which `verify` reports.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from schemas.files import sha256_of as _sha256

NOT_RELEASE_FILES = frozenset({"release.json", "approval.json", "approval.html", "progress.log"})
SCRATCH_DIRS = frozenset({"_work", "_staging"})


class OutsideReleaseError(ValueError):
    """A manifest path that points outside the release folder and outside its region's storage."""


def region_storages(policy, release_dir: str | os.PathLike) -> dict:
    """Region name → `RegionStorage` as the policy names it (relative folders resolve under the release folder)."""
    from release import storage as st

    if isinstance(policy, str | os.PathLike):
        from schemas.policy import load_policy

        policy = load_policy(policy)
    return st.resolve(policy, Path(release_dir).resolve())


def _within(child: Path, parent: Path) -> bool:
    return child == parent or parent in child.parents


def locate(release_dir: str | os.PathLike, entry: dict, storages: dict | None = None):
    """(pyarrow filesystem, path) of one manifest file entry, after checking where it points.

    Raises `OutsideReleaseError` for a path with `..`, an absolute path or URI that is not under the policy's
    storage of the entry's region (or when no policy was given), and a relative path that leads out of the release
    folder through a symbolic link. Nothing is opened.
    """
    from pyarrow import fs

    path = str(entry.get("path", ""))
    region = entry.get("residency_region")
    what = f"{path!r}" + (f" (region {region})" if region else "")
    if not path or "\x00" in path:
        raise OutsideReleaseError(f"manifest path {what}: empty or not a file name")
    if ".." in PurePosixPath(path.partition("://")[2] if "://" in path else path.replace("\\", "/")).parts:
        raise OutsideReleaseError(f"manifest path {what}: contains '..'; a release only names files inside it")
    root = Path(release_dir).resolve()
    if "://" not in path and (not os.path.isabs(path) or _within(Path(path).resolve(), root)):
        target = (root / path).resolve()
        if not _within(target, root):
            raise OutsideReleaseError(f"manifest path {what}: leads outside the release folder through a "
                                      "symbolic link")  # fmt: skip
        return fs.LocalFileSystem(), str(target)
    store = (storages or {}).get(region) if region else None
    if store is None:
        hint = ("pass the policy that names the region's storage (--policy / policy=)" if storages is None
                else f"the policy names no storage for region {region!r}" if region else
                "only shards may live outside the release folder")  # fmt: skip
        raise OutsideReleaseError(f"manifest path {what}: outside the release folder; {hint}")
    if "://" in path:
        base = store.uri.partition("?")[0].rstrip("/")
        if store.is_local or not path.startswith(base + "/"):
            raise OutsideReleaseError(f"manifest path {what}: not under the storage the policy names for region "
                                      f"{region} ({base})")  # fmt: skip
        fsys, root = store.filesystem()
        return fsys, f"{root.rstrip('/')}/{path[len(base) + 1 :]}"
    root = Path(store.uri).resolve()
    if not store.is_local or not _within(Path(path).resolve(), root):
        raise OutsideReleaseError(f"manifest path {what}: not under the storage the policy names for region "
                                  f"{region} ({store.uri})")  # fmt: skip
    return fs.LocalFileSystem(), str(Path(path).resolve())


def manifest_file_entries(manifest: dict) -> list[tuple[str, dict]]:
    """(kind, entry) for every file the manifest names: shard, ledger, doc, file, quarantined."""
    out = [("shard", s) for s in manifest.get("shards", [])]
    out += [("ledger", e) for e in manifest.get("ledger", [])]
    out += [("doc", e) for e in manifest.get("docs", [])]
    out += [("file", e) for e in manifest.get("files", [])]
    out += [("quarantined", e) for e in manifest.get("quarantined_shards", [])]
    return out


def path_problems(release_dir: str | os.PathLike, manifest: dict, storages: dict | None) -> list[str]:
    """One line per manifest path that points outside the release (and its regions' storage); empty when none does."""
    problems = []
    for kind, entry in manifest_file_entries(manifest):
        if not isinstance(entry, dict):
            problems.append(f"{kind} entry {entry!r}: not a file entry")
            continue
        try:
            locate(release_dir, entry, storages)
        except OutsideReleaseError as exc:
            problems.append(f"{kind} {exc}")
    return problems


def _folder_files(root: Path):
    """Relative posix paths of every file (and linked folder) under the release folder except the manifest, approval
    and scratch."""
    for dirpath, dirnames, filenames in os.walk(root):
        here = Path(dirpath)
        if here == root:
            dirnames[:] = [d for d in dirnames if d not in SCRATCH_DIRS]
        for name in dirnames:
            if (here / name).is_symlink():  # not followed: a linked folder is itself a stray entry
                yield (here / name).relative_to(root).as_posix()
        for name in filenames:
            rel = (here / name).relative_to(root).as_posix()
            if rel not in NOT_RELEASE_FILES:
                yield rel


def _listed(manifest: dict, hashed_only: bool = False) -> set[str]:
    """Relative paths the manifest names (only those it records a sha256 for, with `hashed_only`)."""
    return {PurePosixPath(e["path"]).as_posix() for _k, e in manifest_file_entries(manifest)
            if isinstance(e, dict) and "://" not in str(e.get("path", "")) and not os.path.isabs(str(e.get("path")))
            and (e.get("sha256") or not hashed_only)}  # fmt: skip


def stray_files(release_dir: str | os.PathLike, manifest: dict) -> list[str]:
    """Files in the release folder that the manifest does not list (a dropped-in shard, a leftover), sorted."""
    return sorted(set(_folder_files(Path(release_dir))) - _listed(manifest))




def other_published_files(out: str | os.PathLike, manifest: dict, shard_folders=()) -> list[dict]:
    """{path, bytes, sha256} of every file in the release folder the manifest does not list with a checksum yet (the
    report, gate results, data docs, quarantined shards and their gate results), so that the manifest's digest, and
    the approval over it, covers them too. Files under `shard_folders` (local region storage) are left out: an
    unlisted file there is a leftover, which `verify` reports as stray."""
    root = Path(out).resolve()
    skip = [Path(f).resolve() for f in shard_folders]
    rels = sorted(set(_folder_files(root)) - _listed(manifest, hashed_only=True))
    rels = [r for r in rels if (root / r).is_file() and not any(_within((root / r).resolve(), f) for f in skip)]
    return [{"path": rel, "bytes": (root / rel).stat().st_size, "sha256": _sha256(root / rel)} for rel in rels]
