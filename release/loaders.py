"""Readers of a release for the optional training frameworks: Hugging Face `datasets` and PyTorch.

They refuse exactly what `release.open_release` refuses (paths outside the release, no valid signed approval
from a trusted key, files that differ from the manifest), through the same guard. Both are importable from
`release` as well; neither framework is imported until it is used.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Iterator

from release.manifest import published_shards, read_manifest, shard_location
from release.readers import _guard, _rows, assign_shards


def hf_dataset(release_dir: str | os.PathLike, *, split: str = "train", streaming: bool = False,
               regions: Iterable[str] | None = None, allow_unapproved: bool = False, verify: bool = True,
               trust=None, policy=None):  # fmt: skip
    """The release as a Hugging Face `datasets.Dataset` (or `IterableDataset` with `streaming=True`).

    Needs the optional `datasets` package (`pip install 'terroir[hf]'`); raises ImportError naming it otherwise.
    Refuses unsafe, unapproved or tampered releases like `open_release`. Every column is as stored (`pii_counts` a
    list of {"entity", "count"} records; a schema 1.0.0 release's Arrow map column is given in that form too).
    Rows come in shard path order, then stored order. The non-streaming dataset is written to the
    `datasets` cache under a fingerprint of the approved manifest, so a second call reads the cache.
    """
    try:
        import datasets
    except ImportError:
        raise ImportError(
            "hf_dataset needs Hugging Face `datasets`, an optional dependency: pip install 'terroir[hf]' "
            "(or pip install datasets)"
        ) from None

    manifest, sha, storages = _guard(release_dir, allow_unapproved, verify, trust=trust, policy=policy)
    entries = published_shards(manifest, regions)
    features = datasets.Features.from_arrow_schema(_hf_schema())
    # a list in gen_kwargs is what `datasets` splits between workers and nodes: one item per shard file
    gen_kwargs = {"release_dir": str(release_dir), "entries": entries, "storages": storages}
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


def _hf_rows(release_dir: str, entries: list[dict], storages: dict | None = None) -> Iterator[dict]:
    import pyarrow.parquet as pq

    from release.readers import upgrade_batch

    for entry in entries:
        fsys, path = shard_location(release_dir, entry, storages)
        with fsys.open_input_file(path) as f:
            for batch in pq.ParquetFile(f).iter_batches(batch_size=1024):
                yield from upgrade_batch(batch).to_pylist()


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
        dataset is built (manifest paths, the signed approval against `trust` / the policy, and the sha256 of this
        rank's files with `verify=True`); refused like `open_release` unless `allow_unapproved`. Items are dicts of
        column name to Python value.
        """

        def __init__(self, release_dir, rank: int = 0, world_size: int = 1, *, columns: list[str] | None = None,
                     regions: Iterable[str] | None = None, batch_size: int = 1024, allow_unapproved: bool = False,
                     verify: bool = True, trust=None, policy=None):  # fmt: skip
            super().__init__()
            self.release_dir = str(release_dir)
            self.rank, self.world_size = rank, world_size
            self.columns, self.batch_size = columns, batch_size
            self.regions = list(regions) if regions is not None else None
            manifest, _sha = read_manifest(self.release_dir)
            self._entries = {s["path"]: s for s in published_shards(manifest, self.regions)}
            self.files = assign_shards(list(self._entries), rank, world_size)
            _m, _s, self._storages = _guard(self.release_dir, allow_unapproved, verify, shards=self.files,
                                            trust=trust, policy=policy)  # fmt: skip

        def __iter__(self):
            info = tud.get_worker_info()
            worker_id, num_workers = (info.id, info.num_workers) if info is not None else (0, 1)
            for p in assign_shards(list(self._entries), self.rank, self.world_size, worker_id, num_workers):
                fsys, path = shard_location(self.release_dir, self._entries[p], self._storages)
                yield from _rows(fsys, path, self.columns, self.batch_size)

    # a module-level name, so DataLoader workers started with "spawn" can unpickle the dataset
    TerroirIterableDataset.__module__ = "release"
    TerroirIterableDataset.__qualname__ = "TerroirIterableDataset"
    return TerroirIterableDataset


def __getattr__(name: str):
    # PEP 562: the torch class is built on first use, so importing this module never imports torch
    if name == "TerroirIterableDataset":
        cls = _torch_dataset_class()
        globals()[name] = cls
        return cls
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
