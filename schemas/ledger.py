"""The one ledger writer: every stage's decision for every document, as rows of `schemas.LEDGER_SCHEMA`."""

from __future__ import annotations

import json

from schemas import DECISIONS


def ledger_row(
    doc_id: str,
    stage: str,
    decision: str,
    reason: str,
    source_id: str | None = None,
    input_path: str | None = None,
    detail: dict | None = None,
    nbytes: int | None = None,
) -> dict:
    """Build one ledger row. `detail` must hold counts, types, offsets or hashes only, never raw values."""
    if decision not in DECISIONS:
        raise ValueError(f"unknown ledger decision {decision!r}")
    return {
        "doc_id": doc_id,
        "stage": stage,
        "decision": decision,
        "reason": reason,
        "source_id": source_id,
        "input_path": input_path,
        "detail": json.dumps(detail, sort_keys=True, ensure_ascii=False) if detail else None,
        "bytes": nbytes,
    }
