"""The one document model that flows through every stage, and the stable identifiers derived from it."""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field


@dataclass
class Document:
    """A record on its way to becoming a corpus row (see `schemas.corpus.CORPUS_SCHEMA`).

    `html` holds the decoded page for web records until extraction replaces it by `text`.
    """

    doc_id: str
    source_id: str
    source_type: str  # web, alto, tei, jsonl, parquet
    input_path: str
    record_locator: str
    text: str = ""
    html: str | None = None
    url: str | None = None
    registrable_domain: str | None = None
    collected_at: str | None = None
    http_headers: dict[str, str] = field(default_factory=dict)
    raw_bytes: int = 0
    server_ip: str | None = None  # WARC-IP-Address of the response, and an address from a `dns:` record of the same
    dns_ip: str | None = None  # WARC for the host: origin evidence (filters/origin/server.py)
    lang: str | None = None
    lang_score: float | None = None
    declared_lang: str | None = None
    origin_jurisdiction: str | None = None
    origin_basis: str | None = None
    residency_region: str | None = None
    license: str | None = None
    rights_status: str = "unknown"
    rights_basis: str = "none"
    pii_counts: dict[str, int] = field(default_factory=dict)
    content_hash: str = ""
    dup_cluster: str | None = None


def make_doc_id(source_id: str, record_locator: str) -> str:
    """Stable id from the source and the record's locator: the same record gets the same id in every run."""
    return hashlib.blake2b(f"{source_id}\x1f{record_locator}".encode(), digest_size=16).hexdigest()


_WS = re.compile(r"\s+")


def normalize_for_hash(text: str) -> str:
    """NFKC, case-folded, whitespace collapsed: two documents differing only in layout hash the same."""
    return _WS.sub(" ", unicodedata.normalize("NFKC", text).casefold()).strip()


def content_hash(text: str) -> str:
    return hashlib.sha256(normalize_for_hash(text).encode("utf-8")).hexdigest()
