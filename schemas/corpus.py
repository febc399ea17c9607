"""Data contracts of a Terroir release: the corpus row and the ledger row, as versioned Arrow schemas.

Every shard of every release carries `CORPUS_SCHEMA` exactly (same fields, same order, same types); the gate checks
it. Change a field only together with `SCHEMA_VERSION`.
"""

from __future__ import annotations

import pyarrow as pa

SCHEMA_VERSION = "2.0.0"
#: The Terroir version stamped on every corpus row (`pipeline_version`), in the manifest and in approvals.
PIPELINE_VERSION = "terroir-0.1.0"

#: One entry of `pii_counts`: an entity type and how many of it were redacted. A list of these structs rather than an
#: Arrow map (schema 1.0.0), since Hugging Face `datasets` has no map type and fails on such a column.
PII_COUNT_TYPE = pa.struct([pa.field("entity", pa.string()), pa.field("count", pa.int32())])

#: Provenance columns that must never be null in a published shard.
PROVENANCE_COLUMNS = (
    "doc_id",
    "source_id",
    "source_type",
    "record_locator",
    "origin_jurisdiction",
    "origin_basis",
    "residency_region",
    "rights_status",
    "rights_basis",
    "content_hash",
    "policy_id",
    "pipeline_version",
)

CORPUS_SCHEMA = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("text", pa.large_string(), nullable=False),
        pa.field("source_id", pa.string(), nullable=False),
        pa.field("source_type", pa.string(), nullable=False),
        pa.field("url", pa.string()),
        pa.field("registrable_domain", pa.string()),
        pa.field("record_locator", pa.string(), nullable=False),
        pa.field("collected_at", pa.string()),
        pa.field("lang", pa.string()),
        pa.field("lang_score", pa.float64()),
        pa.field("origin_jurisdiction", pa.string()),
        pa.field("origin_basis", pa.string()),
        pa.field("residency_region", pa.string()),
        pa.field("license", pa.string()),
        pa.field("rights_status", pa.string()),
        pa.field("rights_basis", pa.string()),
        pa.field("pii_counts", pa.list_(PII_COUNT_TYPE)),
        pa.field("content_hash", pa.string(), nullable=False),
        pa.field("dup_cluster", pa.string()),
        pa.field("policy_id", pa.string(), nullable=False),
        pa.field("pipeline_version", pa.string(), nullable=False),
    ],
    metadata={"terroir.schema": "corpus", "terroir.schema_version": SCHEMA_VERSION},
)

CORPUS_COLUMNS = tuple(CORPUS_SCHEMA.names)

#: Ledger decisions, in the users' words.
DECISIONS = ("kept", "dropped", "redacted", "quarantined", "error")

LEDGER_SCHEMA = pa.schema(
    [
        pa.field("doc_id", pa.string(), nullable=False),
        pa.field("stage", pa.string(), nullable=False),
        pa.field("decision", pa.string(), nullable=False),
        pa.field("reason", pa.string(), nullable=False),
        pa.field("source_id", pa.string()),
        pa.field("input_path", pa.string()),
        # JSON object: counts, entity types, offsets, hashes; never raw PII.
        pa.field("detail", pa.string()),
        pa.field("bytes", pa.int64()),
    ],
    metadata={"terroir.schema": "ledger", "terroir.schema_version": SCHEMA_VERSION},
)

LEDGER_COLUMNS = tuple(LEDGER_SCHEMA.names)
