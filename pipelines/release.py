"""What happens to a published release: a compliance officer approves it, anyone verifies it, a training job reads it.

A release is published when `release.json` exists (it is written last). It lists every file of the release (shards,
ledger, generated documents, and under `files` the report, gate results, data docs and quarantine) with size and
sha256, so its own sha256 is a digest of everything published. An approval is an Ed25519 signature by a compliance
officer's key over that digest, the approver's name, the note and the time (`pipelines.signing`); `release.json`
itself is never touched again. `verify` refuses manifest paths that point outside the release (or its regions'
storage, as the policy names it) before reading anything, re-hashes every listed file (local or remote, through
pyarrow's filesystems), reports stray files, and checks the signature against a trust list of officer public keys.
The readers (`open_release`, `iter_documents`, `hf_dataset`, `TerroirIterableDataset`) refuse a release that is
unapproved, signed by an untrusted or revoked key, or whose files differ from the manifest, unless the caller says
otherwise in so many words.

The effective approval state is `approval.json`, not `release.approval.state` inside the manifest: that field records
the state at publication (`pending_review`) and stays as written, because changing it would change the approved hash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from pipelines import signing
from pipelines.release_files import OutsideReleaseError, locate, path_problems, region_storages, stray_files

log = logging.getLogger("terroir.release")

MANIFEST = "release.json"
APPROVAL = "approval.json"
_CHUNK = 1 << 20


class ReleaseError(Exception):
    """A release folder that cannot be used as asked; the message says which folder and why."""


class TamperedReleaseError(ReleaseError):
    """Files of the release differ from what its manifest records; `report` holds every difference found."""

    def __init__(self, message: str, report: VerifyReport):
        super().__init__(message)
        self.report = report


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
    from the environment, as for the run). See `pipelines.release_files.locate`.
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


# ---------------------------------------------------------------- verification


@dataclass
class FileCheck:
    """One file compared with its manifest entry; `problem` is None when size and sha256 both match."""

    kind: str  # shard, ledger, doc, file
    path: str
    expected_bytes: int | None
    expected_sha256: str
    actual_bytes: int | None = None
    actual_sha256: str | None = None
    problem: str | None = None

    @property
    def ok(self) -> bool:
        return self.problem is None


@dataclass
class VerifyReport:
    """The outcome of `verify`: integrity of the files, and whether a valid signed approval covers this manifest."""

    release_dir: str
    manifest_sha256: str | None = None
    files: list[FileCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # integrity problems, one line each
    stray: list[str] = field(default_factory=list)  # files in the folder the manifest does not list
    approval: dict | None = None
    approval_problem: str | None = None
    signer: str | None = None  # owner of the trusted key that signed, as the trust list names it

    @property
    def integrity_ok(self) -> bool:
        """Every listed file exists with the recorded size and sha256, the manifest could be read, no stray file."""
        return self.manifest_sha256 is not None and not self.problems

    @property
    def approved(self) -> bool:
        """approval.json is a valid signature over the manifest's current sha256 by a trusted, unrevoked key."""
        return self.approval is not None and self.approval_problem is None

    @property
    def ok(self) -> bool:
        return self.integrity_ok and self.approved

    def to_json(self) -> dict:
        return {
            "release_dir": self.release_dir,
            "ok": self.ok,
            "integrity_ok": self.integrity_ok,
            "approved": self.approved,
            "manifest_sha256": self.manifest_sha256,
            "problems": self.problems,
            "stray_files": self.stray,
            "approval": self.approval,
            "approval_problem": self.approval_problem,
            "signer": self.signer,
            "files": [asdict(f) | {"ok": f.ok} for f in self.files],
        }

    def summary(self) -> str:
        """Human-readable lines: what was checked, every problem, the approval."""
        n = {k: sum(1 for f in self.files if f.kind == k) for k in ("shard", "ledger", "doc", "file")}
        lines = [f"release:  {self.release_dir}", f"manifest: sha256 {self.manifest_sha256 or '-'}",
                 (f"checked:  {n['shard']} shard(s), {n['ledger']} ledger file(s), {n['doc']} document(s), "
                  f"{n['file']} report and other file(s)")]  # fmt: skip
        lines += [f"PROBLEM   {p}" for p in self.problems]
        if self.approved:
            a = self.approval or {}
            lines.append(f"approval: signed by key {a.get('key_id')} ({self.signer or 'no owner in the trust list'}) "
                         f"as {a.get('approved_by')!r} at {a.get('approved_at')}")  # fmt: skip
        else:
            lines.append(f"approval: NOT APPROVED ({self.approval_problem})")
        verdict = "OK" if self.ok else "FAILED" if not self.integrity_ok else "INTACT BUT UNAPPROVED"
        lines.append(f"result:   {verdict}")
        return "\n".join(lines)


def read_approval(release_dir: str | os.PathLike) -> dict | None:
    """The approval record, or None when the release has none. Raises `ReleaseError` when approval.json is not JSON."""
    path = Path(release_dir) / APPROVAL
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise ReleaseError(f"{path}: not valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise ReleaseError(f"{path}: not an approval record")
    return data


def _approval_status(release_dir, manifest_sha: str, trust) -> tuple[dict | None, str | None, str | None]:
    """(approval record, problem or None, signer's owner name) for the manifest with sha256 `manifest_sha`."""
    try:
        approval = read_approval(release_dir)
    except ReleaseError as exc:
        return None, str(exc), None
    if approval is None:
        return None, f"no {APPROVAL}", None
    key, problem = signing.check_approval(approval, manifest_sha, trust)
    return approval, problem, (key.owner if key is not None and problem is None else None)


def verify(release_dir: str | os.PathLike, *, shards: Iterable[str] | None = None, ledger: bool = True,
           trust=None, policy=None, strays: bool = True) -> VerifyReport:  # fmt: skip
    """Check where the manifest points, re-hash the release's files, and check its signed approval; reports, never
    raises for a bad release (a bad `policy` raises `PolicyError`, a bad trust file is the approval problem).

    Every manifest path must lie inside the release folder, or for a shard under its region's storage as `policy`
    (a path or `Policy`) names it; one that does not is a problem and is never opened. Then every published shard (or
    only the manifest paths in `shards`), every ledger file when `ledger` is true, every generated document and every
    other published file (`files`: report, gate results, quarantine) is compared by size and sha256 with the manifest;
    a missing or unreadable file is a problem, not an exception. With `strays`, files in the folder that the manifest
    does not list are problems too. The approval is checked against `trust` (see `signing.resolve_trust`).
    """
    report = VerifyReport(release_dir=str(release_dir))
    try:
        manifest, report.manifest_sha256 = read_manifest(release_dir)
    except ReleaseError as exc:
        report.problems.append(str(exc))
        report.approval_problem = "no manifest to approve"
        return report
    policy = _policy(policy)
    storages = _storages(release_dir, policy)
    unsafe = path_problems(release_dir, manifest, storages)
    report.problems += unsafe
    wanted = set(shards) if shards is not None else None
    entries = [("shard", s) for s in published_shards(manifest) if wanted is None or s["path"] in wanted]
    if wanted is not None:
        unknown = sorted(wanted - {s["path"] for s in manifest["shards"]})
        report.problems += [f"shard {p}: not in the manifest" for p in unknown]
    if ledger:
        entries += [("ledger", e) for e in manifest.get("ledger", [])]
    entries += [("doc", e) for e in manifest.get("docs", [])]
    if shards is None:
        entries += [("file", e) for e in manifest.get("files", [])]
    for kind, entry in entries:
        check = FileCheck(kind, entry["path"], entry.get("bytes"), entry.get("sha256", ""))
        try:
            fsys, path = locate(release_dir, entry, storages)
        except OutsideReleaseError:
            check.problem = "not read: points outside the release"  # reported above, with the reason
            report.files.append(check)
            continue
        try:
            check.actual_bytes, check.actual_sha256 = _hash(fsys, path)
        except (OSError, ValueError) as exc:  # missing file, unreachable store: a finding, not a crash
            check.problem = f"cannot be read: {' '.join(str(exc).split())[:200]}"
        else:
            if check.expected_bytes is not None and check.actual_bytes != check.expected_bytes:
                check.problem = f"size {check.actual_bytes} bytes, manifest says {check.expected_bytes}"
            elif check.actual_sha256 != check.expected_sha256:
                check.problem = f"sha256 {check.actual_sha256}, manifest says {check.expected_sha256}"
        if check.problem:
            report.problems.append(f"{kind} {check.path}: {check.problem}")
        report.files.append(check)
    if strays and shards is None:
        report.stray = stray_files(release_dir, manifest)
        report.problems += [f"stray file {p}: in the release folder but not in the manifest (no reader sees it; "
                            "remove it, or find out who put it there)" for p in report.stray]  # fmt: skip
    try:
        trust = signing.resolve_trust(trust, policy)
    except signing.SigningError as exc:
        report.approval, report.approval_problem = _read_approval_quietly(release_dir), f"trust list unusable: {exc}"
        return report
    report.approval, report.approval_problem, report.signer = _approval_status(release_dir, report.manifest_sha256,
                                                                               trust)  # fmt: skip
    return report


def _read_approval_quietly(release_dir) -> dict | None:
    try:
        return read_approval(release_dir)
    except ReleaseError:
        return None


def approve(release_dir: str | os.PathLike, by: str | None = None, note: str = "", *, key=None,
            passphrase_env: str | None = None, trust=None, policy=None) -> dict:  # fmt: skip
    """Sign an approval of exactly the manifest now in the folder; return the record written to approval.json.

    `key` is the officer's private key file (default: `signing.find_signing_key()`); `by` defaults to the owner
    named in the key's `.pub` file. Refuses (`ReleaseError`) without a name, without a usable key, with a key file
    inside the release folder, when release.json is missing, and when a trust list is configured (`trust`, the
    environment or the policy) that would not accept the key; refuses (`TamperedReleaseError`) when any file differs
    from the manifest, a path points outside or a stray file is present (the full `verify` runs first, so an approval
    is never given to files nobody checked). release.json is not modified; an earlier approval.json is replaced.
    `pipeline_version` names the Terroir version that verified and signed.
    """
    from pipelines.run import PIPELINE_VERSION

    try:
        key_path = signing.find_signing_key(key)
        inside = signing.release_folder_above(key_path)
        if inside is not None:
            raise signing.SigningError(f"private key {key_path} lies inside the release folder {inside}; move it to "
                                       "your key folder, out of every release")  # fmt: skip
        private, key_id, owner = signing.load_private_key(key_path, passphrase_env)
    except signing.SigningError as exc:
        raise ReleaseError(str(exc)) from None
    by = (by or owner or "").strip()
    if not by:
        raise ReleaseError("an approval needs the approver's name (--by), or a key whose .pub file names its owner")
    policy = _policy(policy)
    report = verify(release_dir, trust=trust, policy=policy)
    if report.manifest_sha256 is None:
        raise ReleaseError("; ".join(report.problems))
    if not report.integrity_ok:
        raise TamperedReleaseError(
            f"{release_dir}: refusing to approve, {len(report.problems)} problem(s):\n  "
            + "\n  ".join(report.problems),
            report,
        )
    record = signing.sign_approval(private, {
        "manifest_sha256": report.manifest_sha256, "approved_by": by, "note": note or "",
        "approved_at": signing.now_utc(), "pipeline_version": PIPELINE_VERSION,
    })  # fmt: skip
    try:
        configured = signing.resolve_trust(trust, policy)
    except signing.SigningError as exc:
        raise ReleaseError(f"trust list unusable: {exc}") from None
    if configured is not None:
        _key, problem = signing.check_approval(record, report.manifest_sha256, configured)
        if problem:
            raise ReleaseError(f"refusing to approve: the configured trust list would not accept it ({problem}); "
                               "add the public key with `terroir keys trust`")  # fmt: skip
    path = Path(release_dir) / APPROVAL
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    log.info("approved %s: manifest sha256 %s, key %s", release_dir, record["manifest_sha256"], key_id)
    return record


def _guard(release_dir, allow_unapproved: bool, verify_files: bool, shards: Iterable[str] | None = None,
           trust=None, policy=None) -> tuple[dict, str, dict | None]:  # fmt: skip
    """(manifest, its sha256, region storages) after the checks asked for; raises Unsafe-, Tampered- or
    UnapprovedReleaseError otherwise. Manifest paths are always checked, before any file is read."""
    manifest, sha = read_manifest(release_dir)
    policy = _policy(policy)
    storages = _storages(release_dir, policy)
    unsafe = path_problems(release_dir, manifest, storages)
    if unsafe:
        raise UnsafeReleaseError(f"{release_dir}: the manifest names {len(unsafe)} file(s) outside the release; "
                                 "refusing to read any of it:\n  " + "\n  ".join(unsafe))  # fmt: skip
    if verify_files:
        report = verify(release_dir, shards=shards, ledger=False, policy=policy, strays=False)
        if not report.integrity_ok:
            raise TamperedReleaseError(
                f"{release_dir}: {len(report.problems)} file(s) differ from the manifest; refusing to read it "
                "(pass verify=False to read anyway):\n  " + "\n  ".join(report.problems),
                report,
            )
    if not allow_unapproved:
        try:
            resolved = signing.resolve_trust(trust, policy)
        except signing.SigningError as exc:
            raise UnapprovedReleaseError(f"{release_dir}: cannot check the approval, trust list unusable: "
                                         f"{exc}") from None  # fmt: skip
        _approval, problem, _signer = _approval_status(release_dir, sha, resolved)
        if problem:
            raise UnapprovedReleaseError(
                f"{release_dir}: release is not approved ({problem}); a compliance officer approves it with "
                "`terroir approve DIR --key KEYFILE`, or pass allow_unapproved=True to read it anyway"
            )
    return manifest, sha, storages


# ---------------------------------------------------------------- readers


def open_release(release_dir: str | os.PathLike, allow_unapproved: bool = False, verify: bool = True,
                 regions: Iterable[str] | None = None, *, trust=None, policy=None):  # fmt: skip
    """A `pyarrow.dataset.Dataset` over the release's published shards (all regions, or only `regions`).

    Raises `UnsafeReleaseError`, before reading anything, when a manifest path points outside the release (or, for a
    shard, outside the storage `policy` names for its region); `UnapprovedReleaseError` unless approval.json is a
    valid signature over the manifest as it is by a key of the trust list (`trust`, $TERROIR_TRUST or the policy's
    `approval.trusted_keys`; not checked with `allow_unapproved`); and `TamperedReleaseError` when a shard's size or
    sha256 differs from the manifest (unless `verify=False`, which skips re-hashing: every byte of every shard is read
    once to verify). Files are those the manifest lists, never a folder listing, so a stray or quarantined file is
    never visible. The schema is the corpus contract.
    """
    import pyarrow.dataset as pads

    from schemas import CORPUS_SCHEMA

    manifest, _sha, storages = _guard(release_dir, allow_unapproved, verify, trust=trust, policy=policy)
    entries = published_shards(manifest, regions)
    groups: dict[str, tuple[object, list[str]]] = {}
    for entry in entries:
        fsys, path = shard_location(release_dir, entry, storages)
        # one child dataset per store: regions may live in different buckets or on different endpoints
        store = storages[entry["residency_region"]].uri if "://" in entry["path"] else ""
        groups.setdefault(store, (fsys, []))[1].append(path)
    children = [pads.dataset(paths, schema=CORPUS_SCHEMA, format="parquet", filesystem=fsys)
                for fsys, paths in groups.values()]  # fmt: skip
    if len(children) == 1:
        return children[0]
    if not children:
        return pads.dataset([], schema=CORPUS_SCHEMA, format="parquet")
    return pads.dataset(children)


def assign_shards(paths: list[str], rank: int, world_size: int, worker_id: int = 0, num_workers: int = 1) -> list[str]:
    """The shard files one reader gets: sorted by path, round-robin by rank, then round-robin by data-loader worker.

    Deterministic for a given file list, rank and world size. Ranks get whole files, so row counts per rank differ
    when shards differ in size, and a rank gets no file when there are fewer shards than ranks.
    """
    if world_size < 1 or not 0 <= rank < world_size:
        raise ValueError(f"rank {rank} is not in 0..{world_size - 1}")
    if num_workers < 1 or not 0 <= worker_id < num_workers:
        raise ValueError(f"worker_id {worker_id} is not in 0..{num_workers - 1}")
    mine = sorted(paths)[rank::world_size]
    return mine[worker_id::num_workers]


def _rows(fsys, path: str, columns: list[str] | None, batch_size: int) -> Iterator[dict]:
    import pyarrow.parquet as pq

    with fsys.open_input_file(path) as f:
        pf = pq.ParquetFile(f)
        for batch in pf.iter_batches(batch_size=batch_size, columns=columns):
            for row in batch.to_pylist():
                if "pii_counts" in row and row["pii_counts"] is not None:
                    row["pii_counts"] = dict(row["pii_counts"])  # Arrow map → plain dict
                yield row


def iter_documents(release_dir: str | os.PathLike, rank: int = 0, world_size: int = 1, *,
                   columns: list[str] | None = None, regions: Iterable[str] | None = None, batch_size: int = 1024,
                   worker_id: int = 0, num_workers: int = 1, allow_unapproved: bool = False,
                   verify: bool = True, trust=None, policy=None) -> Iterator[dict]:  # fmt: skip
    """Rows (dicts) of this reader's shard files in file order, rows in the order stored; no torch needed.

    Files are split by `assign_shards`. With `verify`, only this reader's files are re-hashed (each rank checks its
    own share, not the whole release). Refuses unsafe, unapproved or tampered releases like `open_release`.
    `pii_counts` comes back as a dict of entity type to count.
    """
    manifest, _sha = read_manifest(release_dir)
    by_path = {s["path"]: s for s in published_shards(manifest, regions)}
    mine = assign_shards(list(by_path), rank, world_size, worker_id, num_workers)
    _m, _s, storages = _guard(release_dir, allow_unapproved, verify, shards=mine, trust=trust, policy=policy)
    if not mine and worker_id == 0:
        log.warning("rank %d of %d gets no shard file: the release has %d", rank, world_size, len(by_path))
    for p in mine:
        fsys, path = shard_location(release_dir, by_path[p], storages)
        yield from _rows(fsys, path, columns, batch_size)


def __getattr__(name: str):
    # PEP 562: the framework readers and the command line live in their own modules; importing this one imports
    # neither torch nor `datasets`
    if name in ("hf_dataset", "TerroirIterableDataset"):
        from pipelines import release_loaders

        value = getattr(release_loaders, name)
        globals()[name] = value
        return value
    if name in ("add_release_commands", "run_release_command"):
        from pipelines import release_cli

        return getattr(release_cli, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
