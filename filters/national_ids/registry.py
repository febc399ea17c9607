"""Which national-identifier recognizers a policy's `pii.countries` enables: an explicit table by ISO code."""

from __future__ import annotations

from filters.national_ids import americas, asia, europe
from filters.national_ids.base import NationalIdRecognizer

NATIONAL_ID_RECOGNIZERS: dict[str, tuple[type[NationalIdRecognizer], ...]] = {
    "AT": (europe.AtSvnrRecognizer,),
    "BE": (europe.BeNationalNumberRecognizer,),
    "BG": (europe.BgEgnRecognizer,),
    "BR": (americas.BrCpfRecognizer,),
    "CH": (europe.ChAhvRecognizer,),
    "CL": (americas.ClRutRecognizer,),
    "CN": (asia.CnResidentIdRecognizer,),
    "CZ": (europe.CzRodneCisloRecognizer,),
    "DK": (europe.DkCprRecognizer,),
    "EE": (europe.EeIsikukoodRecognizer,),
    "FR": (europe.FrNirRecognizer,),
    "GR": (europe.GrAmkaRecognizer,),
    "HR": (europe.HrOibRecognizer,),
    "IE": (europe.IePpsRecognizer,),
    "IL": (asia.IlIdentityNumberRecognizer,),
    "IS": (europe.IsKennitalaRecognizer,),
    "JP": (asia.JpMyNumberRecognizer,),
    "LT": (europe.LtAsmensKodasRecognizer,),
    "MX": (americas.MxCurpRecognizer,),
    "NL": (europe.NlBsnRecognizer,),
    "NO": (europe.NoFodselsnummerRecognizer,),
    "PT": (europe.PtCitizenCardRecognizer,),
    "RO": (europe.RoCnpRecognizer,),
    "SG": (asia.SgNricFinRecognizer,),
    "SI": (europe.SiEmsoRecognizer,),
    "SK": (europe.SkRodneCisloRecognizer,),
    "TW": (asia.TwNationalIdRecognizer,),
}

#: Presidio recognizers that a Terroir recognizer supersedes for the same entity (Presidio's Singapore recognizer
#: matches the NRIC/FIN shape without its check letter; ours checks it).
SUPERSEDED_PRESIDIO: dict[str, frozenset[str]] = {"SG": frozenset({"SgFinRecognizer"})}


def national_id_recognizer_classes(country: str) -> tuple[type[NationalIdRecognizer], ...]:
    """Terroir's recognizer classes for one ISO 3166-1 alpha-2 code (empty when there are none)."""
    return NATIONAL_ID_RECOGNIZERS.get(country, ())


def national_languages(country: str) -> tuple[str, ...]:
    """The national language codes declared by the country's recognizers (empty when none are registered)."""
    seen: dict[str, None] = {}
    for cls in national_id_recognizer_classes(country):
        seen.update(dict.fromkeys(cls.LANGUAGES))
    return tuple(seen)
