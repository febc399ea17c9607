"""Residency storage: where a region's shards may live, checked before any work, written only there.

A region's `storage` is a local folder (relative ones live under the output folder), a `file://` URI, or any URI
pyarrow's filesystems understand (`s3://bucket/prefix?endpoint_override=...`, `gs://...`). Preflight refuses a region
whose storage cannot be reached or written, or lies outside the region's `allowed_locations`.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from pathlib import Path


class StorageError(ValueError):
    """A region's storage is unusable; the message names the region and the reason."""


@dataclass(frozen=True)
class RegionStorage:
    region: str
    uri: str  # as shown to users: a local absolute path or a URI without credentials

    @property
    def is_local(self) -> bool:
        return "://" not in self.uri

    def filesystem(self):
        """(pyarrow filesystem, base path)."""
        from pyarrow import fs

        if self.is_local:
            return fs.LocalFileSystem(), self.uri
        return fs.FileSystem.from_uri(self.uri)

    def location_of(self, name: str) -> str:
        if self.is_local:
            return str(Path(self.uri) / name)
        base = self.uri.partition("?")[0]
        return f"{base.rstrip('/')}/{name}"

    def put(self, local_file: Path, name: str) -> str:
        """Copy a staged file to `name` under this storage; a reader never sees a partial object."""
        fsys, base = self.filesystem()
        dest = f"{base.rstrip('/')}/{name}"
        parent = dest.rsplit("/", 1)[0]
        fsys.create_dir(parent, recursive=True)
        if self.is_local:
            tmp = f"{dest}.tmp-{uuid.uuid4().hex[:8]}"
            with open(local_file, "rb") as src, fsys.open_output_stream(tmp) as out:
                out.write(src.read())
            os.replace(tmp, dest)
        else:
            # object stores make a single PUT visible atomically
            with open(local_file, "rb") as src, fsys.open_output_stream(dest) as out:
                out.write(src.read())
        return self.location_of(name)


def resolve(policy, output_dir: Path) -> dict[str, RegionStorage]:
    out = {}
    for region in policy.regions:
        s = region.storage
        if s.startswith("file://"):
            uri = s.removeprefix("file://")
        elif "://" in s:
            uri = s
        else:
            uri = s if os.path.isabs(s) else str(output_dir / s)
        out[region.name] = RegionStorage(region.name, uri)
    return out


def check(policy, storages: dict[str, RegionStorage]) -> None:
    """Raise `StorageError` unless every region's storage is allowed, reachable and writable (a probe is written)."""
    for region in policy.regions:
        st = storages.get(region.name)
        if st is None:
            raise StorageError(f"region {region.name}: no storage declared")
        if region.allowed_locations and not any(
            _within(st.uri if "://" in region.storage else region.storage, loc) or _within(st.uri, loc)
            for loc in region.allowed_locations
        ):
            raise StorageError(
                f"region {region.name}: storage {region.storage} is not in the region's allowed locations "
                f"{list(region.allowed_locations)}"
            )
        try:
            fsys, base = st.filesystem()
            fsys.create_dir(base, recursive=True)
            probe = f"{base.rstrip('/')}/.terroir-probe-{uuid.uuid4().hex[:8]}"
            with fsys.open_output_stream(probe) as f:
                f.write(b"ok")
            fsys.delete_file(probe)
        except Exception as exc:  # noqa: BLE001 - any filesystem failure means the storage is not usable
            reason = " ".join(str(exc).split())[:300]
            raise StorageError(f"region {region.name}: storage {st.uri} is not reachable or not writable: {reason}")


def _within(uri: str, location: str) -> bool:
    a, b = uri.rstrip("/"), location.rstrip("/")
    return a == b or a.startswith((b + "/", b + "?")) or (b.endswith("://") and a.startswith(b))
