"""Terroir's data contracts: corpus row, ledger row, manifest and policy schemas. Depends on nothing in Terroir."""

from schemas.corpus import (
    CORPUS_COLUMNS,
    CORPUS_SCHEMA,
    DECISIONS,
    LEDGER_COLUMNS,
    LEDGER_SCHEMA,
    PII_COUNT_TYPE,
    PIPELINE_VERSION,
    PROVENANCE_COLUMNS,
    SCHEMA_VERSION,
)

__all__ = [
    "CORPUS_COLUMNS",
    "CORPUS_SCHEMA",
    "DECISIONS",
    "LEDGER_COLUMNS",
    "LEDGER_SCHEMA",
    "PII_COUNT_TYPE",
    "PIPELINE_VERSION",
    "PROVENANCE_COLUMNS",
    "SCHEMA_VERSION",
]
