"""`approval.html`: the approval state of a release, as a page a compliance officer opens beside the report.

The report is part of the signed release, so it cannot change when the release is approved; its header shows the
state at publication and links here. This page is rendered from `approval.json` and the manifest only (no clock,
no environment), at publication (pending review) and by `terroir approve`, so `verify` can render it again and
report a page that differs from what approval.json says: a forged "approved" page is caught.
"""

from __future__ import annotations

import os
from pathlib import Path

from release.documents.templating import render

APPROVAL_PAGE = "approval.html"
_SHOWN = ("approved_by", "approved_at", "key_id", "algorithm", "manifest_sha256", "note", "pipeline_version")


def context(manifest: dict, manifest_sha256: str, record: dict | None) -> dict:
    """The template's values: the release's name and digest, and the approval record (None: pending review)."""
    rel = manifest.get("release", {})
    approved = record is not None
    return {
        "policy_id": rel.get("policy_id", ""),
        "created_at": rel.get("created_at", ""),
        "manifest_sha256": manifest_sha256,
        "approved": approved,
        "covers": approved and record.get("manifest_sha256") == manifest_sha256,
        "state": "approved" if approved else "pending review",
        "record": {k: record.get(k, "") for k in _SHOWN} if approved else {},
    }


def render_approval_page(manifest: dict, manifest_sha256: str, record: dict | None) -> str:
    return render("approval.html.j2", **context(manifest, manifest_sha256, record))


def write_approval_page(release_dir: str | os.PathLike, manifest: dict, manifest_sha256: str,
                        record: dict | None) -> Path:  # fmt: skip
    """Write approval.html atomically (next to it, then rename); returns its path."""
    path = Path(release_dir) / APPROVAL_PAGE
    tmp = path.with_name(f".{APPROVAL_PAGE}.tmp-{os.getpid()}")
    tmp.write_text(render_approval_page(manifest, manifest_sha256, record), encoding="utf-8")
    os.replace(tmp, path)
    return path


def approval_page_problem(release_dir: str | os.PathLike, manifest: dict, manifest_sha256: str,
                          record: dict | None) -> str | None:  # fmt: skip
    """None when approval.html is absent or shows exactly what approval.json says; else what is wrong."""
    path = Path(release_dir) / APPROVAL_PAGE
    if not path.is_file():
        return None
    try:
        shown = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        shown = None
    if shown == render_approval_page(manifest, manifest_sha256, record):
        return None
    return (f"{APPROVAL_PAGE} does not show what approval.json says (edited, or left from another approval); "
            "`terroir approve` writes it again, or delete it")  # fmt: skip
