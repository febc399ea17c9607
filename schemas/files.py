"""The files of the contracts: the one file checksum (sha256 read in 1 MiB pieces) and the one Parquet writer of
shards and ledger parts. Nothing heavy is imported at module level, so loaders and verifiers can use it."""

from __future__ import annotations

import hashlib
import os


def sha256_of(path: str | os.PathLike) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()

def write_parquet_atomically(table, path: str) -> None:
    """Write next to the target, then rename: a reader never sees a half-written file."""
    import pyarrow.parquet as pq

    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp-{os.getpid()}"
    pq.write_table(table, tmp, compression="zstd", compression_level=3, write_statistics=True,
                   use_dictionary=["source_id", "source_type", "lang", "origin_jurisdiction", "origin_basis",
                                   "residency_region", "license", "rights_status", "rights_basis", "policy_id",
                                   "pipeline_version", "stage", "decision"])  # fmt: skip
    os.replace(tmp, path)
