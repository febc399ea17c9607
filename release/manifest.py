"""A published release's manifest and where its files are: release.json, the errors every release reader raises,
and the locations of shard entries (relative to the folder, or under the region's storage the policy names).

A release is published when `release.json` exists (it is written last). It lists every file of the release (shards,
ledger, generated documents, and under `files` the report, gate results and quarantine) with size and sha256, so its
own sha256 is a digest of everything published. The effective approval state is `approval.json`
(`release.approval.approve`), not `release.approval.state` inside the manifest: that field records the state at
publication (`pending_review`) and stays as written, because changing it would change the approved hash.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from release.files import OutsideReleaseError, locate, region_storages

MANIFEST = "release.json"
APPROVAL = "approval.json"
_CHUNK = 1 << 20

class ReleaseError(Exception):
    """A release folder that cannot be used as asked; the message says which folder and why."""


class UnapprovedReleaseError(ReleaseError):
    """No valid approval: none, one over another manifest, unsigned, or signed by an untrusted or revoked key."""


class UnsafeReleaseError(ReleaseError):
    """The manifest names a file outside the release folder (and outside its region's storage); nothing was read."""


# ---------------------------------------------------------------- manifest and locations


def read_manifest(release_dir: str | os.PathLike) -> tuple[dict, str]:
    """(manifest, sha256 of the manifest's bytes). Raises `ReleaseError` when release.json is missing or not JSON."""
    path = Path(release_dir) / MANIFEST
    if not path.is_file():
        raise ReleaseError(f"{release_dir}: no {MANIFEST}; the folder holds no published release")
    data = path.read_bytes()
    try:
        manifest = json.loads(data)
    except ValueError as exc:
        raise ReleaseError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(manifest, dict) or not isinstance(manifest.get("shards"), list):
        raise ReleaseError(f"{path}: not a Terroir manifest (no `shards` list)")
    return manifest, hashlib.sha256(data).hexdigest()


def shard_location(release_dir: str | os.PathLike, entry: dict, storages: dict | None = None):
    """(pyarrow filesystem, path) of one manifest file entry; `UnsafeReleaseError` when it points outside.

    A relative path lives under the release folder (so a copied or moved folder still resolves). An absolute path or
    URI is accepted only under the storage that the policy names for the entry's region (`storages`, from
    `release_files.region_storages`), and opened through that storage URI, so its options apply (credentials come
    from the environment, as for the run). See `release.files.locate`.
    """
    try:
        return locate(release_dir, entry, storages)
    except OutsideReleaseError as exc:
        raise UnsafeReleaseError(f"{release_dir}: {exc}") from None


def published_shards(manifest: dict, regions: Iterable[str] | None = None) -> list[dict]:
    """The manifest's published shard entries, sorted by path, optionally only those of `regions`.

    Raises `ReleaseError` when a requested region has no shard, so a typo never yields an empty corpus silently.
    """
    shards = sorted(manifest["shards"], key=lambda s: s["path"])
    if regions is None:
        return shards
    wanted = set(regions)
    present = {s["residency_region"] for s in shards}
    missing = sorted(wanted - present)
    if missing:
        raise ReleaseError(f"region(s) {missing} have no published shard; the release has {sorted(present)}")
    return [s for s in shards if s["residency_region"] in wanted]


def _hash(fsys, path: str) -> tuple[int, str]:
    h = hashlib.sha256()
    size = 0
    with fsys.open_input_stream(path) as f:
        while chunk := f.read(_CHUNK):
            h.update(chunk)
            size += len(chunk)
    return size, h.hexdigest()


def _storages(release_dir, policy) -> dict | None:
    return region_storages(policy, release_dir) if policy is not None else None


def _policy(policy):
    """A `Policy` from a path (or None, or a Policy); `PolicyError` for a bad file."""
    if isinstance(policy, str | os.PathLike):
        from schemas.policy import load_policy

        return load_policy(policy)
    return policy
