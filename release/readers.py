"""Reading an approved release: a pyarrow dataset (`open_release`) or rows per rank (`iter_documents`).

The readers (`open_release`, `iter_documents`, and `hf_dataset`/`TerroirIterableDataset` in `release.loaders`) refuse
a release that is unapproved, signed by an untrusted or revoked key, or whose files differ from the manifest, unless
the caller says otherwise in so many words.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator

from release import signing
from release.approval import TamperedReleaseError, _approval_status, verify
from release.files import path_problems
from release.manifest import (
    UnapprovedReleaseError,
    UnsafeReleaseError,
    _policy,
    _storages,
    published_shards,
    read_manifest,
    shard_location,
)

log = logging.getLogger("terroir.release")

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
                "`terroir approve DIR --trust TRUST_LIST`, or pass allow_unapproved=True to read it anyway"
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
            for row in upgrade_batch(batch).to_pylist():
                if "pii_counts" in row and row["pii_counts"] is not None:
                    row["pii_counts"] = {e["entity"]: e["count"] for e in row["pii_counts"]}
                yield row


def upgrade_batch(batch):
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
