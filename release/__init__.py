"""A Terroir release: publishing it (gate, manifest, documents), approving it, verifying it, and reading it.

The pipeline (`pipelines.run`) calls `release.publish`; nothing here imports the pipeline. Importing this package is
cheap: the names below load their module on first use, and the framework loaders import neither torch nor `datasets`
until they are called.

    import release
    ds = release.open_release("out/")          # a pyarrow dataset of an approved, intact release
    for row in release.iter_documents("out/", rank=0, world_size=8): ...
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "ReleaseError": "release.manifest",
    "TamperedReleaseError": "release.approval",
    "UnapprovedReleaseError": "release.manifest",
    "UnsafeReleaseError": "release.manifest",
    "read_manifest": "release.manifest",
    "published_shards": "release.manifest",
    "shard_location": "release.manifest",
    "verify": "release.approval",
    "approve": "release.approval",
    "read_approval": "release.approval",
    "VerifyReport": "release.approval",
    "open_release": "release.readers",
    "iter_documents": "release.readers",
    "assign_shards": "release.readers",
    "upgrade_batch": "release.readers",
    "hf_dataset": "release.loaders",
    "TerroirIterableDataset": "release.loaders",
    "add_release_commands": "release.cli",
    "run_release_command": "release.cli",
}

__all__ = list(_EXPORTS)


def __getattr__(name: str):
    # PEP 562: a submodule is imported only when one of its names is first asked for
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
