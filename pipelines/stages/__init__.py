"""The per-document stages: extraction, rights, language, quality, residency, and PII redaction."""
