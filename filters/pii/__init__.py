"""PII detection and redaction, one concern per module (import from the module that defines a name):

- `engine`: `PiiRedactor`, the facade a stage uses (find, redact, redact many, status), and `PiiAnalysisError`;
- `registry`: which recognizers a policy enables, per language (`PATTERN_ENTITIES`, `NER_ENTITIES`);
- `regex_shape`, `prescan`: where a pattern can possibly match in a text (candidate spans from its parse tree);
- `analyzer`: Presidio's pattern logic run only on those candidates (`FastAnalyzer`); `context`: context words;
- `resolve`: overlapping findings resolved, confidence tiers (`PiiHit`, `resolve_overlaps`);
- `operators`: how a kept span is replaced (placeholder, salted hash, mask) (`Redaction`);
- `policy`: the policy's PII section checked without loading Presidio (preflight);
- `metadata`: URLs and record locators scrubbed with the same redactor;
- `recognizers/`: Terroir's own recognizers (IBAN, card, phone, dates of birth, addresses, personal URLs, labelled
  identifiers) and their shared candidate scan. National identifiers live in `filters/national_ids/`.

Nothing is imported here, so `filters.pii.policy` stays cheap for the preflight.
"""
