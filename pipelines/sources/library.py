"""Library packages: a METS or DIDL file that groups ALTO pages into articles or an issue, resolved against the
files next to it. Used by the METS/DIDL reader in `pipelines/sources/reader.py` and by the run planner (which ALTO files a
package claims, so they are not read a second time on their own)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from filters.extract import ExtractionError, href_to_relpath, parse_mets
from filters.extract.didl import is_didl, parse_didl
from filters.extract.mets import MetsDocument, adopt_group

_SAFE = re.compile(r"[^A-Za-z0-9]+")


@dataclass
class Package:
    """A parsed package: its structure, the local path of every text file found, and notes for the ledger."""

    mets: MetsDocument
    paths: dict[str, Path]  # file ID → local ALTO file
    missing: list[str] = field(default_factory=list)  # references with no local file
    refused: list[tuple[str, str]] = field(default_factory=list)  # (reference, why) for files outside the input
    notes: list[tuple[str, str, str, dict]] = field(default_factory=list)  # (key, decision, reason, detail)
    kind: str = "METS"


def _is_alto(path: Path) -> bool:
    try:
        with open(path, "rb") as f:
            return b"<alto" in f.read(4096)
    except OSError:
        return False


def member_path(mets_path: str, href: str, root: Path) -> Path:
    """The file a METS `href` names, resolved against the METS file's folder, symbolic links followed; raises
    ExtractionError when it lies outside the input folder `root` (`../../`, an absolute `file://` path)."""
    target = (Path(mets_path).parent / href_to_relpath(href)).resolve()
    if not target.is_relative_to(root.resolve()):
        raise ExtractionError(f"METS reference {href_to_relpath(href)} lies outside the input folder; refused")
    return target


def _local_path(path: str, ref: str, root: Path, listing: list[str] | None) -> Path | None:
    """The local file a reference of the package at `path` names: a relative path or `file://` URL (raises
    ExtractionError when it lies outside the input folder `root`), else (a resolver URL as Delpher writes them) a
    file in the package's folder named after the URL's last path segment or its `urn=` identifier."""
    base = Path(path).parent
    u = urlparse(ref)
    if u.scheme in ("", "file"):
        p = member_path(path, ref, root)
        return p if p.is_file() else None
    names = [Path(u.path).name] if Path(u.path).suffix == ".xml" else []
    for urn in parse_qs(u.query).get("urn", []):
        names.append(_SAFE.sub("_", urn).strip("_"))
    if not names or listing is None:
        return None
    for name in names:
        key = name.lower().removesuffix(".xml")
        for entry in listing:
            stem = entry.lower().removesuffix(".xml")
            if entry.lower().endswith(".xml") and (stem == key or stem.endswith("_" + key) or key.endswith(stem)):
                found = (base / entry).resolve()
                return found if found.is_relative_to(root.resolve()) and found.is_file() else None
    return None


def load_package(path: str, root: Path) -> Package:
    """Parse the METS or DIDL file at `path` and find its text files inside the input folder `root` (references
    outside it are refused, never read). A METS file group whose USE is neither text nor images is looked into:
    read when its files are ALTO, else noted as not read. Raises `ExtractionError` when the file does not parse."""
    data = Path(path).read_bytes()
    base = Path(path).parent
    didl = is_didl(data[:4096])
    mets = parse_didl(data) if didl else parse_mets(data)
    notes: list[tuple[str, str, str, dict]] = []
    for group in list(mets.other_groups):
        first = next(iter(group.files.values()), None)
        try:
            local = _local_path(path, first, root, None) if first else None
        except ExtractionError:
            local = None
        n = len(group.files)
        if local is not None and _is_alto(local):
            mets = adopt_group(data, mets, group)
            decision = "kept"
            reason = f"file group USE={group.use!r} read as ALTO text (recognised by content; {n} file(s))"
        else:
            why = "its files are not ALTO" if local is not None else "its files are not found next to the METS file"
            mimes = list(group.mimetypes) or "not given"
            decision = "dropped"
            reason = f"file group USE={group.use!r} not read: {why} ({n} file(s), MIME types {mimes})"
        notes.append((f"group:{group.use}", decision, reason, {"files": n}))
    listing = sorted(os.listdir(base)) if didl else None
    paths: dict[str, Path] = {}
    missing: list[str] = []
    refused: list[tuple[str, str]] = []
    for fid, href in mets.files.items():
        try:
            p = _local_path(path, href, root, listing)
        except ExtractionError as exc:
            refused.append((_rel_or_href(href), str(exc)))
            continue
        if p is None:
            missing.append(href if didl else _rel_or_href(href))
        else:
            paths[fid] = p
    return Package(mets=mets, paths=paths, missing=missing, refused=refused, notes=notes,
                   kind="DIDL" if didl else "METS")  # fmt: skip


def _rel_or_href(href: str) -> str:
    try:
        return href_to_relpath(href)
    except ExtractionError:
        return href


def package_claims(path: str, root: Path) -> tuple[str, ...]:
    """Absolute paths of the ALTO files inside `root` a METS or DIDL file groups (empty when it cannot be parsed)."""
    try:
        pkg = load_package(path, root)
    except Exception:  # noqa: BLE001 - the worker reports the damage; the driver only plans
        return ()
    return tuple(str(p.resolve()) for p in pkg.paths.values())
