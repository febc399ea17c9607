"""Identifiers known only by their label: patient, record, insurance and registration numbers.

Hospitals, insurers and registries number people with plain digit runs ("NHC: 5467980", "NASS: 14 9096265001 02",
"Versichertennummer 123456789") that have no national format and no check digit. `LabelledIdRecognizer` finds a run
of 4 to 20 digits (single spaces, hyphens, dots or slashes allowed between them) with a score too low to be redacted
on its own (0.15); a label among the context words just before it (`filters.pii.context.PrecedingWordsContextEnhancer`
adds 0.35) lifts it to 0.5. Enable it with the entity `LABELLED_ID` in a policy's `pii.entities`; hits are always in
the "pattern" tier.
"""

from __future__ import annotations

import regex
from presidio_analyzer import Pattern, PatternRecognizer

ENTITY = "LABELLED_ID"

# Labels in lower case (the enhancer compares lower-cased text), several languages; kept specific on purpose:
# "no." or "nr" alone would lift any number.
LABELS = (
    # English
    "patient id", "patient number", "medical record", "record number", "mrn", "hospital number", "case number",
    "member id", "membership number", "insurance number", "policy number", "registration number", "licence number",
    "license number",
    # Spanish (clinical records: MEDDOCAN's labels among them)
    "nhc", "historia clínica", "número de historia", "nass", "afiliación", "cipa", "episodio", "nºcol", "nº col",
    "n.º col", "colegiado", "número de paciente", "tarjeta sanitaria",
    # French, German, Italian, Portuguese, Dutch, Nordic
    "numéro de dossier", "n° de dossier", "numéro de patient", "numéro d'assuré", "patientennummer",
    "versichertennummer", "aktenzeichen", "fallnummer", "cartella clinica", "numero di tessera", "número de utente",
    "processo clínico", "patiëntnummer", "dossiernummer", "journalnummer", "patientnummer", "medlemsnummer",
)  # fmt: skip


class LabelledIdRecognizer(PatternRecognizer):
    """A 4-20 digit identifier that counts only when a label such as "NHC:" or "patient id" comes just before."""

    def __init__(self, supported_language: str = "en", name: str | None = None) -> None:
        super().__init__(
            supported_entity=ENTITY,
            name=name,
            supported_language=supported_language,
            patterns=[
                Pattern(
                    "Labelled identifier (4-20 digits)",
                    r"(?<![\w.,/])(?<!\d-)\d(?:[ ./-]?\d){3,19}(?![\w/-]|[.,]\d)",
                    0.15,
                )
            ],
            context=list(LABELS),
            global_regex_flags=regex.DOTALL | regex.MULTILINE,
        )
