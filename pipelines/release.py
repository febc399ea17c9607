"""What happens to a published release: a compliance officer approves it, anyone verifies it, a training job reads it.

A release is published when `release.json` exists (it is written last). An approval is a statement about exactly
those bytes: `approval.json` records the sha256 of `release.json` next to who approved and why, and `release.json`
itself is never touched again. `verify` re-hashes every shard (local or remote, through pyarrow's filesystems), every
ledger file and every generated document the manifest lists, and checks that the approval names the manifest as it
is now. The readers (`open_release`, `iter_documents`, `hf_dataset`, `TerroirIterableDataset`) refuse a release that
is unapproved or whose files differ from the manifest, unless the caller says otherwise in so many words.

The effective approval state is `approval.json`, not `release.approval.state` inside the manifest: that field records
the state at publication (`pending_review`) and stays as written, because changing it would change the approved hash.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

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
    """The release has no approval, or its approval names another manifest than the one in the folder."""


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


def shard_location(release_dir: str | os.PathLike, entry: dict):
    """(pyarrow filesystem, path) of one manifest file entry.

    A relative path lives under the release folder (so a copied or moved folder still resolves); an absolute path is
    local; a URI is opened through the storage URI recorded for its region when the path lies under it, so options
    such as `endpoint_override` in that URI apply (credentials come from the environment, as for the run).
    """
    from pyarrow import fs

    path = entry["path"]
    if "://" not in path:
        local = Path(path) if os.path.isabs(path) else Path(release_dir) / path
        return fs.LocalFileSystem(), str(local)
    storage = entry.get("storage") or ""
    base = storage.partition("?")[0].rstrip("/")
    if "://" in storage and path.startswith(base + "/"):
        fsys, root = fs.FileSystem.from_uri(storage)
        return fsys, f"{root.rstrip('/')}/{path[len(base) + 1 :]}"
    return fs.FileSystem.from_uri(path)


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


# ---------------------------------------------------------------- verification


@dataclass
class FileCheck:
    """One file compared with its manifest entry; `problem` is None when size and sha256 both match."""

    kind: str  # shard, ledger, doc
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
    """The outcome of `verify`: integrity of the files, and whether a valid approval covers this manifest."""

    release_dir: str
    manifest_sha256: str | None = None
    files: list[FileCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # integrity problems, one line each
    approval: dict | None = None
    approval_problem: str | None = None

    @property
    def integrity_ok(self) -> bool:
        """Every listed file exists with the recorded size and sha256, and the manifest could be read."""
        return self.manifest_sha256 is not None and not self.problems

    @property
    def approved(self) -> bool:
        """approval.json exists and names the manifest's current sha256."""
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
            "approval": self.approval,
            "approval_problem": self.approval_problem,
            "files": [asdict(f) | {"ok": f.ok} for f in self.files],
        }

    def summary(self) -> str:
        """Human-readable lines: what was checked, every problem, the approval."""
        n = {k: sum(1 for f in self.files if f.kind == k) for k in ("shard", "ledger", "doc")}
        lines = [f"release:  {self.release_dir}", f"manifest: sha256 {self.manifest_sha256 or '-'}",
                 f"checked:  {n['shard']} shard(s), {n['ledger']} ledger file(s), {n['doc']} document(s)"]  # fmt: skip
        lines += [f"PROBLEM   {p}" for p in self.problems]
        if self.approved:
            a = self.approval or {}
            lines.append(f"approval: approved by {a.get('approved_by')} at {a.get('approved_at')}")
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


def _approval_status(release_dir, manifest_sha: str) -> tuple[dict | None, str | None]:
    try:
        approval = read_approval(release_dir)
    except ReleaseError as exc:
        return None, str(exc)
    if approval is None:
        return None, f"no {APPROVAL}"
    if approval.get("manifest_sha256") != manifest_sha:
        return approval, (f"{APPROVAL} approves manifest sha256 {approval.get('manifest_sha256')}, but {MANIFEST} "
                          f"now has sha256 {manifest_sha}")  # fmt: skip
    return approval, None


def verify(release_dir: str | os.PathLike, *, shards: Iterable[str] | None = None,
           ledger: bool = True) -> VerifyReport:  # fmt: skip
    """Re-hash the release's files and check its approval; never raises for a bad release, it reports.

    Checks every published shard (or only the manifest paths in `shards`), every ledger file when `ledger` is true,
    and every generated document the manifest lists under `docs`, comparing size and sha256 with the manifest. A
    missing or unreadable file is a problem, not an exception. The approval check needs no file reads beyond
    release.json and approval.json, so it is always done.
    """
    report = VerifyReport(release_dir=str(release_dir))
    try:
        manifest, report.manifest_sha256 = read_manifest(release_dir)
    except ReleaseError as exc:
        report.problems.append(str(exc))
        report.approval_problem = "no manifest to approve"
        return report
    wanted = set(shards) if shards is not None else None
    entries = [("shard", s) for s in published_shards(manifest) if wanted is None or s["path"] in wanted]
    if wanted is not None:
        unknown = sorted(wanted - {s["path"] for s in manifest["shards"]})
        report.problems += [f"shard {p}: not in the manifest" for p in unknown]
    if ledger:
        entries += [("ledger", e) for e in manifest.get("ledger", [])]
    entries += [("doc", e) for e in manifest.get("docs", [])]
    for kind, entry in entries:
        check = FileCheck(kind, entry["path"], entry.get("bytes"), entry.get("sha256", ""))
        try:
            fsys, path = shard_location(release_dir, entry)
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
    report.approval, report.approval_problem = _approval_status(release_dir, report.manifest_sha256)
    return report


def approve(release_dir: str | os.PathLike, by: str, note: str = "") -> dict:
    """Record an approval of exactly the manifest now in the folder; return the record written to approval.json.

    Refuses (`ReleaseError`) when `by` is empty, when release.json is missing, or when any file differs from the
    manifest (the full `verify` runs first, so an approval is never given to files nobody checked). release.json is
    not modified; an earlier approval.json is replaced. `pipeline_version` names the Terroir version that verified
    and approved (the version that built the release is inside the approved manifest).
    """
    from pipelines.run import PIPELINE_VERSION

    if not by or not by.strip():
        raise ReleaseError("an approval needs the approver's name (--by)")
    report = verify(release_dir)
    if report.manifest_sha256 is None:
        raise ReleaseError("; ".join(report.problems))
    if not report.integrity_ok:
        raise TamperedReleaseError(
            f"{release_dir}: refusing to approve, {len(report.problems)} file(s) differ from the manifest:\n  "
            + "\n  ".join(report.problems),
            report,
        )
    record = {
        "manifest_sha256": report.manifest_sha256,
        "approved_by": by.strip(),
        "note": note,
        "approved_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "pipeline_version": PIPELINE_VERSION,
    }
    path = Path(release_dir) / APPROVAL
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(record, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return record


def _guard(release_dir, allow_unapproved: bool, verify_files: bool,
           shards: Iterable[str] | None = None) -> tuple[dict, str]:  # fmt: skip
    """(manifest, its sha256) after the checks asked for; raises Tampered- or UnapprovedReleaseError otherwise."""
    manifest, sha = read_manifest(release_dir)
    if verify_files:
        report = verify(release_dir, shards=shards, ledger=False)
        if not report.integrity_ok:
            raise TamperedReleaseError(
                f"{release_dir}: {len(report.problems)} file(s) differ from the manifest; refusing to read it "
                "(pass verify=False to read anyway):\n  " + "\n  ".join(report.problems),
                report,
            )
    if not allow_unapproved:
        _approval, problem = _approval_status(release_dir, sha)
        if problem:
            raise UnapprovedReleaseError(
                f"{release_dir}: release is not approved ({problem}); a compliance officer approves it with "
                "`terroir approve DIR --by NAME`, or pass allow_unapproved=True to read it anyway"
            )
    return manifest, sha


# ---------------------------------------------------------------- readers


def open_release(release_dir: str | os.PathLike, allow_unapproved: bool = False, verify: bool = True,
                 regions: Iterable[str] | None = None):  # fmt: skip
    """A `pyarrow.dataset.Dataset` over the release's published shards (all regions, or only `regions`).

    Raises `UnapprovedReleaseError` unless an approval names the manifest as it is (or `allow_unapproved`), and
    `TamperedReleaseError` when a shard's size or sha256 differs from the manifest (unless `verify=False`, which skips
    re-hashing: every byte of every shard is read once to verify). Files are those the manifest lists, never a folder
    listing, so a stray or quarantined file is never visible. The schema is the corpus contract.
    """
    import pyarrow.dataset as pads

    from schemas import CORPUS_SCHEMA

    manifest, _sha = _guard(release_dir, allow_unapproved, verify)
    entries = published_shards(manifest, regions)
    groups: dict[str, tuple[object, list[str]]] = {}
    for entry in entries:
        fsys, path = shard_location(release_dir, entry)
        # one child dataset per store: regions may live in different buckets or on different endpoints
        store = (entry.get("storage") or "") if "://" in entry["path"] else ""
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
            for row in _upgrade(batch).to_pylist():
                if "pii_counts" in row and row["pii_counts"] is not None:
                    row["pii_counts"] = {e["entity"]: e["count"] for e in row["pii_counts"]}
                yield row


def _upgrade(batch):
    """A batch in the current corpus schema: `pii_counts` stored as an Arrow map (schema 1.0.0 releases) becomes the
    list of {entity, count} structs of schema 2.0.0; a batch already current, or without the column, is returned as is.
    """
    import pyarrow as pa

    from schemas import PII_COUNT_TYPE

    i = batch.schema.get_field_index("pii_counts")
    if i < 0 or not pa.types.is_map(batch.schema.field(i).type):
        return batch
    old = batch.column(i)
    entries = pa.StructArray.from_arrays([old.keys, old.items.cast(pa.int32())], fields=list(PII_COUNT_TYPE))
    new = pa.ListArray.from_arrays(old.offsets, entries, type=pa.list_(PII_COUNT_TYPE), mask=old.is_null())
    return batch.set_column(i, "pii_counts", new)


def iter_documents(release_dir: str | os.PathLike, rank: int = 0, world_size: int = 1, *,
                   columns: list[str] | None = None, regions: Iterable[str] | None = None, batch_size: int = 1024,
                   worker_id: int = 0, num_workers: int = 1, allow_unapproved: bool = False,
                   verify: bool = True) -> Iterator[dict]:  # fmt: skip
    """Rows (dicts) of this reader's shard files in file order, rows in the order stored; no torch needed.

    Files are split by `assign_shards`. With `verify`, only this reader's files are re-hashed (each rank checks its
    own share, not the whole release). Refuses unapproved or tampered releases like `open_release`. `pii_counts`
    comes back as a dict of entity type to count.
    """
    manifest, _sha = read_manifest(release_dir)
    by_path = {s["path"]: s for s in published_shards(manifest, regions)}
    mine = assign_shards(list(by_path), rank, world_size, worker_id, num_workers)
    _guard(release_dir, allow_unapproved, verify, shards=mine)
    if not mine and worker_id == 0:
        log.warning("rank %d of %d gets no shard file: the release has %d", rank, world_size, len(by_path))
    for p in mine:
        fsys, path = shard_location(release_dir, by_path[p])
        yield from _rows(fsys, path, columns, batch_size)


def hf_dataset(release_dir: str | os.PathLike, *, split: str = "train", streaming: bool = False,
               regions: Iterable[str] | None = None, allow_unapproved: bool = False, verify: bool = True):  # fmt: skip
    """The release as a Hugging Face `datasets.Dataset` (or `IterableDataset` with `streaming=True`).

    Needs the optional `datasets` package (`pip install 'terroir[hf]'`); raises ImportError naming it otherwise.
    Refuses unapproved or tampered releases like `open_release`. Every column is as stored (`pii_counts` a list of
    {"entity", "count"} records; a schema 1.0.0 release's Arrow map column is given in that form too).
    Rows come in shard path order, then stored order. The non-streaming dataset is written to the `datasets` cache
    under a fingerprint of the approved manifest, so a second call reads the cache.
    """
    try:
        import datasets
    except ImportError:
        raise ImportError(
            "hf_dataset needs Hugging Face `datasets`, an optional dependency: pip install 'terroir[hf]' "
            "(or pip install datasets)"
        ) from None

    manifest, sha = _guard(release_dir, allow_unapproved, verify)
    entries = published_shards(manifest, regions)
    features = datasets.Features.from_arrow_schema(_hf_schema())
    # a list in gen_kwargs is what `datasets` splits between workers and nodes: one item per shard file
    gen_kwargs = {"release_dir": str(release_dir), "entries": entries}
    if streaming:
        return datasets.IterableDataset.from_generator(_hf_rows, features=features, gen_kwargs=gen_kwargs,
                                                       split=datasets.Split(split))  # fmt: skip
    key = json.dumps([sha, [e["path"] for e in entries], "terroir-hf-2"])
    return datasets.Dataset.from_generator(_hf_rows, features=features, gen_kwargs=gen_kwargs,
                                           split=datasets.Split(split),
                                           fingerprint=hashlib.sha256(key.encode()).hexdigest())  # fmt: skip


def _hf_schema():
    from schemas import CORPUS_SCHEMA

    return CORPUS_SCHEMA.remove_metadata()


def _hf_rows(release_dir: str, entries: list[dict]) -> Iterator[dict]:
    import pyarrow.parquet as pq

    for entry in entries:
        fsys, path = shard_location(release_dir, entry)
        with fsys.open_input_file(path) as f:
            for batch in pq.ParquetFile(f).iter_batches(batch_size=1024):
                yield from _upgrade(batch).to_pylist()


def _torch_dataset_class():
    try:
        import torch.utils.data as tud
    except ImportError:
        raise ImportError(
            "TerroirIterableDataset needs PyTorch, an optional dependency: pip install 'terroir[torch]' "
            "(or pip install torch)"
        ) from None

    class TerroirIterableDataset(tud.IterableDataset):
        """Rows of this rank's share of an approved release, for `torch.utils.data.DataLoader`.

        Shard files are sorted by path and dealt round-robin to ranks (`rank`, `world_size`), then round-robin to
        the DataLoader's workers inside a rank; rows come in file order. The release is checked once, when the
        dataset is built (approval, and the sha256 of this rank's files with `verify=True`); refused like
        `open_release` unless `allow_unapproved`. Items are dicts of column name to Python value.
        """

        def __init__(self, release_dir, rank: int = 0, world_size: int = 1, *, columns: list[str] | None = None,
                     regions: Iterable[str] | None = None, batch_size: int = 1024, allow_unapproved: bool = False,
                     verify: bool = True):  # fmt: skip
            super().__init__()
            self.release_dir = str(release_dir)
            self.rank, self.world_size = rank, world_size
            self.columns, self.batch_size = columns, batch_size
            self.regions = list(regions) if regions is not None else None
            manifest, _sha = read_manifest(self.release_dir)
            self._entries = {s["path"]: s for s in published_shards(manifest, self.regions)}
            self.files = assign_shards(list(self._entries), rank, world_size)
            _guard(self.release_dir, allow_unapproved, verify, shards=self.files)

        def __iter__(self):
            info = tud.get_worker_info()
            worker_id, num_workers = (info.id, info.num_workers) if info is not None else (0, 1)
            for p in assign_shards(list(self._entries), self.rank, self.world_size, worker_id, num_workers):
                fsys, path = shard_location(self.release_dir, self._entries[p])
                yield from _rows(fsys, path, self.columns, self.batch_size)

    # a module-level name, so DataLoader workers started with "spawn" can unpickle the dataset
    TerroirIterableDataset.__module__ = __name__
    TerroirIterableDataset.__qualname__ = "TerroirIterableDataset"
    return TerroirIterableDataset


def __getattr__(name: str):
    # PEP 562: the torch class is built on first use, so importing this module never imports torch
    if name == "TerroirIterableDataset":
        cls = _torch_dataset_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# ---------------------------------------------------------------- command line


def add_release_commands(sub) -> None:
    """Add `approve`, `verify` and `docs` to the `terroir` argparse sub-parsers."""
    a = sub.add_parser("approve", help="approve a verified release: records who approved exactly this manifest")
    a.add_argument("release", metavar="DIR", help="release folder (holds release.json)")
    a.add_argument("--by", required=True, metavar="NAME", help="who approves (recorded in approval.json)")
    a.add_argument("--note", default="", metavar="TEXT", help="why, or with what reservation")
    v = sub.add_parser("verify", help="re-hash a release's shards and ledger, and check its approval")
    v.add_argument("release", metavar="DIR", help="release folder (holds release.json)")
    v.add_argument("--json", action="store_true", help="print the full report as JSON")
    v.add_argument("--allow-unapproved", action="store_true", help="exit 0 when intact even if not approved")
    d = sub.add_parser("docs", help="(re)write a release's AI Act summary, Croissant metadata and dataset card")
    d.add_argument("release", metavar="DIR", help="release folder (holds release.json)")
    d.add_argument("--policy", required=True, help="the policy file the release was built with")
    d.add_argument("--sme", action="store_true", help="list the top 5%% of domains (at most 1,000), as for SMEs")


def run_release_command(args) -> int:
    """Run `approve`, `verify` or `docs`; return the exit code (0 ok, 1 refused or failed, 2 unusable input)."""
    import sys

    if args.command == "approve":
        try:
            record = approve(args.release, args.by, args.note)
        except TamperedReleaseError as exc:
            print(f"terroir: {exc}", file=sys.stderr)
            return 1
        except ReleaseError as exc:
            print(f"terroir: {exc}", file=sys.stderr)
            return 2
        print(f"approved: {args.release} (manifest sha256 {record['manifest_sha256']}) by {record['approved_by']}")
        return 0
    if args.command == "verify":
        report = verify(args.release)
        print(json.dumps(report.to_json(), indent=2) if args.json else report.summary())
        if report.manifest_sha256 is None:
            return 2
        return 0 if report.integrity_ok and (report.approved or args.allow_unapproved) else 1
    if args.command == "docs":
        from pipelines.release_docs import regenerate_docs
        from schemas.policy import PolicyError

        try:
            written = regenerate_docs(args.release, args.policy, sme=args.sme)
        except (ReleaseError, PolicyError) as exc:
            print(f"terroir: {exc}", file=sys.stderr)
            return 2
        for entry in written:
            print(f"wrote:    {Path(args.release) / entry['path']}")
        return 0
    raise ValueError(f"not a release command: {args.command}")
