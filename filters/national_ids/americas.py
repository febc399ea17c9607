"""National identifiers of Brazil, Chile and Mexico (python-stdnum performs every check)."""

from __future__ import annotations

from filters.national_ids.base import StdnumRecognizer, bounded


class BrCpfRecognizer(StdnumRecognizer):
    """Brazil's CPF: 9 digits and two mod-11 check digits; a run of one repeated digit is never valid."""

    ENTITY = "BR_CPF"
    COUNTRY = "BR"
    LANGUAGES = ("pt",)
    STDNUM = "br.cpf"
    PATTERNS = (
        ("CPF (NNN.NNN.NNN-DD)", bounded(r"\d{3}\.\d{3}\.\d{3}-\d{2}"), 0.6),
        ("CPF (11 digits)", bounded(r"\d{11}"), 0.3),
    )
    CONTEXT = ("cpf", "cadastro de pessoas", "taxpayer id", "tax id")

    def check(self, value: str) -> bool | None:
        digits = [c for c in value if c.isdigit()]
        if len(set(digits)) <= 1:  # 000.000.000-00 ... 999.999.999-99 pass the arithmetic but are never issued
            return False
        return super().check(value)


class ClRutRecognizer(StdnumRecognizer):
    """Chile's RUT/RUN: 7-8 digits and a mod-11 check character (0-9 or K)."""

    ENTITY = "CL_RUT"
    COUNTRY = "CL"
    LANGUAGES = ("es",)
    STDNUM = "cl.rut"
    STRONG_CHECK = False  # one check character
    PATTERNS = (
        ("RUT (NN.NNN.NNN-C)", bounded(r"\d{1,2}\.\d{3}\.\d{3}-[\dkK]"), 0.5),
        ("RUT (NNNNNNNN-C)", bounded(r"\d{7,8}-[\dkK]"), 0.4),
    )
    CONTEXT = ("rut", "rol único", "rol unico", "cédula", "cedula", "tax number", "national id")


class MxCurpRecognizer(StdnumRecognizer):
    """Mexico's CURP: 4 letters, YYMMDD, sex, state, 3 consonants, a homonym character and a check digit."""

    ENTITY = "MX_CURP"
    COUNTRY = "MX"
    LANGUAGES = ("es",)
    STDNUM = "mx.curp"
    PATTERNS = (
        (
            "CURP (18 characters)",
            bounded(r"[A-Z][AEIOUX][A-Z]{2}\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])[HMX][A-Z]{5}[A-Z\d]\d"),
            0.6,
        ),
    )
    CONTEXT = ("curp", "clave única de registro", "clave unica de registro", "population registry")
