"""Writing a release's documents: the AI Act summary (JSON and Markdown), `croissant.json` and `README.md`, at
publication (`write_release_docs`) or later from the release's own files (`regenerate_docs`, `terroir docs`).

Every document is deterministic: the same release gives byte-identical files (no generation timestamp; the release's
own `created_at` is used), so rewriting the documents of an approved release changes nothing.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

from release.documents.card import dataset_card
from release.documents.croissant import croissant_metadata
from release.documents.eu_summary import ai_act_summary, render_ai_act_summary_md
from release.documents.facts import scan_shards
from release.stats import ReleaseStats, compute_release_stats

SUMMARY_JSON = "summary/eu_ai_act_summary.json"
SUMMARY_MD = "summary/eu_ai_act_summary.md"
CROISSANT = "croissant.json"
CARD = "README.md"


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_release_docs(release_dir: str | os.PathLike, manifest: dict, stats: ReleaseStats, policy,
                       shard_paths: list, *, sme: bool | None = None) -> list[dict]:  # fmt: skip
    """Write the AI Act summary (JSON and Markdown), croissant.json and README.md into the release folder.

    `shard_paths` are the published shards (local paths, (filesystem, path) pairs or open pyarrow files); they are
    scanned once. Returns one entry per file, `{"path", "bytes", "sha256"}` with paths relative to the release
    folder: store it as the manifest's `docs` list and `verify` checks these files too.
    """
    out = Path(release_dir)
    facts = scan_shards(shard_paths)
    summary = ai_act_summary(manifest, stats, policy, shard_paths, sme=sme, facts=facts)
    croissant = croissant_metadata(manifest, stats, policy, summary=summary)
    files = {
        SUMMARY_JSON: json.dumps(summary, indent=2, ensure_ascii=False) + "\n",
        SUMMARY_MD: render_ai_act_summary_md(summary),
        CROISSANT: json.dumps(croissant, indent=2, ensure_ascii=False) + "\n",
        CARD: dataset_card(manifest, stats, policy, summary=summary),
    }
    written = []
    for rel, text in files.items():
        data = text.encode("utf-8")
        _write(out / rel, data)
        written.append({"path": rel, "bytes": len(data), "sha256": hashlib.sha256(data).hexdigest()})
    return written


def regenerate_docs(release_dir: str | os.PathLike, policy_path: str | os.PathLike, *,
                    sme: bool | None = None) -> list[dict]:  # fmt: skip
    """Write the documents of an already published release from its own files (manifest, ledger, shards).

    Raises `ReleaseError` when the release cannot be read or `policy_path` is not the policy it was built with (its
    sha256 differs from the manifest's), and `PolicyError` for a bad policy file. The files come out identical to
    those written at publication unless something changed, which `verify` reports when the manifest lists `docs`.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    from release.manifest import ReleaseError, published_shards, read_manifest, shard_location
    from schemas import LEDGER_SCHEMA
    from schemas.policy import load_policy

    manifest, _sha = read_manifest(release_dir)
    policy = load_policy(policy_path)
    expected = (manifest.get("policy") or {}).get("sha256")
    if expected and policy.sha256 != expected:
        raise ReleaseError(
            f"policy {policy_path} (sha256 {policy.sha256}) is not the policy release {release_dir} was built with "
            f"(sha256 {expected})"
        )
    from release.files import region_storages

    storages = region_storages(policy, release_dir)  # shards outside the folder: only under the policy's storage
    tables = []
    for entry in manifest.get("ledger", []):
        fsys, path = shard_location(release_dir, entry, storages)
        with fsys.open_input_file(path) as f:
            tables.append(pq.read_table(f))
    ledger = pa.concat_tables(tables) if tables else LEDGER_SCHEMA.empty_table()
    shards = [shard_location(release_dir, e, storages) for e in published_shards(manifest)]
    with contextlib.ExitStack() as stack:
        files = [stack.enter_context(fsys.open_input_file(p)) for fsys, p in shards]
        stats = compute_release_stats(ledger, files, policy)
    return write_release_docs(release_dir, manifest, stats, policy, shards, sme=sme)
