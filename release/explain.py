"""`terroir explain`: what happened to one document, from the release's ledger alone; or which documents left for a
given reason. The drill-down behind every reason of the report: the report names sample doc_ids, this shows their
rows. doc_ids are hashes of the source and locator, and ledger rows hold reasons, counts and scrubbed paths, never
document text, so nothing printed here is personal data from the documents.
"""

from __future__ import annotations

import json
from pathlib import Path

from release.manifest import ReleaseError, read_manifest

COLUMNS = ["doc_id", "stage", "decision", "reason", "source_id", "input_path", "detail"]


def _ledger(release_dir: str | Path, columns: list[str], filter_=None):
    import pyarrow.dataset as pads

    manifest, _sha = read_manifest(release_dir)
    paths = [str(Path(release_dir) / e["path"]) for e in manifest.get("ledger", [])]
    if not paths:
        raise ReleaseError(f"{release_dir}: the manifest lists no ledger")
    return pads.dataset(paths, format="parquet").to_table(columns=columns, filter=filter_)


def document_rows(release_dir: str | Path, doc_id: str) -> list[dict]:
    """Every ledger row of `doc_id`, in the order the ledger holds them (the order of the stages)."""
    import pyarrow.compute as pc

    return _ledger(release_dir, COLUMNS, pc.field("doc_id") == doc_id).to_pylist()


def documents_with_reason(release_dir: str | Path, text: str, limit: int = 50) -> tuple[int, list[dict]]:
    """(how many rows, the first `limit` of them by doc_id) whose reason contains `text` (case-insensitive);
    kept rows are left out."""
    import pyarrow.compute as pc

    table = _ledger(release_dir, ["doc_id", "stage", "decision", "reason"], pc.field("decision") != "kept")
    table = table.filter(pc.match_substring(table["reason"], text, ignore_case=True))
    table = table.sort_by([("doc_id", "ascending"), ("stage", "ascending")])
    return table.num_rows, table.slice(0, limit).to_pylist()


def add_explain_command(sub) -> None:
    e = sub.add_parser("explain", help="a document's ledger rows, or the documents that left for a reason")
    e.add_argument("release", metavar="DIR", help="release folder (holds release.json)")
    what = e.add_mutually_exclusive_group(required=True)
    what.add_argument("--doc-id", metavar="ID", help="a doc_id (the report names samples for each reason)")
    what.add_argument("--reason", metavar="TEXT", help="documents whose reason contains TEXT (case-insensitive)")
    e.add_argument("--limit", type=int, default=50, help="documents listed with --reason (default 50)")
    e.add_argument("--json", action="store_true", help="print JSON lines")


def run_explain_command(args) -> int:
    try:
        if args.doc_id:
            rows = document_rows(args.release, args.doc_id)
            total = len(rows)
        else:
            total, rows = documents_with_reason(args.release, args.reason, args.limit)
    except ReleaseError as exc:
        print(f"error: {exc}")
        return 2
    if not rows:
        print(f"no ledger row of {args.release} matches" + (f" doc_id {args.doc_id}" if args.doc_id else
                                                           f" a reason containing {args.reason!r}"))  # fmt: skip
        return 1
    for r in rows:
        if args.json:
            print(json.dumps(r, ensure_ascii=False, sort_keys=True))
            continue
        line = f"{r['doc_id']}  {r['stage']:<12} {r['decision']:<11} {r['reason']}"
        if r.get("input_path"):
            line += f"  [{r['input_path']}]"
        if r.get("detail"):
            line += f"  {r['detail']}"
        print(line)
    if not args.doc_id and total > len(rows):
        print(f"... {total - len(rows):,} more (--limit)")
    return 0
