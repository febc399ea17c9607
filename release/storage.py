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


OWNER_FILE = ".terroir-release"  # in a storage folder outside the output: the output folder it belongs to


def _local(location: str, output_dir: Path) -> Path | None:
    """A local storage or allowed location as a normalised absolute path (relative ones under the output folder);
    None for a URI of a remote filesystem."""
    if location.startswith("file://"):
        location = location.removeprefix("file://")
    elif "://" in location:
        return None
    return Path(os.path.normpath(location if os.path.isabs(location) else output_dir / location))


def resolve(policy, output_dir: Path) -> dict[str, RegionStorage]:
    """Each region's storage, local paths normalised (`a/../b` is `b`: checks see the folder that is written)."""
    out = {}
    for region in policy.regions:
        local = _local(region.storage, output_dir)
        out[region.name] = RegionStorage(region.name, str(local) if local is not None else region.storage)
    return out


def _path_problem(region, st: RegionStorage, output_dir: Path) -> str | None:
    s = region.storage
    if st.is_local:
        given = s.removeprefix("file://")
        if not os.path.isabs(given) and not Path(st.uri).is_relative_to(output_dir):
            return (f"storage {s} leaves the output folder; a relative storage stays inside it (give an absolute "
                    "path to store elsewhere)")  # fmt: skip
    elif ".." in s.partition("?")[0].split("://", 1)[1].split("/"):
        return f"storage {s} has a '..' segment; give the location itself"
    if region.allowed_locations:
        allowed = []
        for loc in region.allowed_locations:
            local = _local(loc, output_dir)
            allowed.append(Path(st.uri).is_relative_to(local) if local is not None and st.is_local
                           else local is None and not st.is_local and _within(st.uri, loc))  # fmt: skip
        if not any(allowed):
            return f"storage {s} is not in the region's allowed locations {list(region.allowed_locations)}"
    return None


def _foreign_files(st: RegionStorage, output_dir: Path) -> str | None:
    """A local storage folder outside the output folder must be empty or this output's own: never overwrite the
    shards of another release."""
    folder = Path(st.uri)
    if folder.is_relative_to(output_dir) or not folder.is_dir():
        return None
    owner = folder / OWNER_FILE
    if owner.is_file():
        mine = owner.read_text(encoding="utf-8").strip() == str(output_dir)
        return None if mine else f"storage {folder} belongs to the release in {owner.read_text().strip()}"
    present = [p for p in folder.rglob("*") if p.is_file() and not p.name.startswith(".terroir-probe")]
    if present:
        return (f"storage {folder} already holds {len(present)} file(s) of no Terroir release of this output "
                f"(e.g. {present[0].relative_to(folder)}); choose an empty folder, or empty this one")  # fmt: skip
    return None


def claim(storages: dict[str, RegionStorage], output_dir: Path) -> None:
    """Mark each local storage folder outside the output as this output's (checked by the next run's preflight)."""
    for st in storages.values():
        folder = Path(st.uri)
        if st.is_local and not folder.is_relative_to(output_dir):
            folder.mkdir(parents=True, exist_ok=True)
            (folder / OWNER_FILE).write_text(str(output_dir) + "\n", encoding="utf-8")


def check(policy, storages: dict[str, RegionStorage], output_dir: Path) -> None:
    """Raise `StorageError` unless every region's storage is allowed, reachable and writable (a probe is written):
    paths are normalised first, a relative storage must stay inside the output folder, and a local storage elsewhere
    must be empty or already this output's."""
    for region in policy.regions:
        st = storages.get(region.name)
        if st is None:
            raise StorageError(f"region {region.name}: no storage declared")
        problem = _path_problem(region, st, output_dir) or (_foreign_files(st, output_dir) if st.is_local else None)
        if problem:
            raise StorageError(f"region {region.name}: {problem}")
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
