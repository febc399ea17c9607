"""National identifiers of European states that Presidio lacks (python-stdnum performs every check)."""

from __future__ import annotations

from filters.national_ids.base import StdnumRecognizer, bounded


class NoFodselsnummerRecognizer(StdnumRecognizer):
    """Norway's fødselsnummer, D-nummer (day + 40) and H-nummer (month + 40): DDMMYY, 3 digits, 2 check digits."""

    ENTITY = "NO_FODSELSNUMMER"
    COUNTRY = "NO"
    LANGUAGES = ("no", "nb", "nn")
    STDNUM = "no.fodselsnummer"
    PATTERNS = (
        ("Fødselsnummer (DDMMYY IIIKK)", bounded(r"[0-7]\d[0145]\d{3} \d{5}"), 0.5),
        ("Fødselsnummer (11 digits)", bounded(r"[0-7]\d[0145]\d{8}"), 0.3),
    )
    CONTEXT = (
        "fødselsnummer", "fødselsnr", "personnummer", "d-nummer", "fnr",
        "national identity number", "birth number", "national id", "identity number",
    )  # fmt: skip


class DkCprRecognizer(StdnumRecognizer):
    """Denmark's CPR number, DDMMYY-SSSS. Only the date is checked: the mod-11 rule was dropped in 2007."""

    ENTITY = "DK_CPR"
    COUNTRY = "DK"
    LANGUAGES = ("da",)
    STDNUM = "dk.cpr"
    STRONG_CHECK = False  # a valid date alone: about 1 random 10-digit number in 27 passes
    PATTERNS = (
        ("CPR (DDMMYY-SSSS)", bounded(r"[0-3]\d[01]\d{3}-\d{4}"), 0.5),
        ("CPR (DDMMYY SSSS)", bounded(r"[0-3]\d[01]\d{3} \d{4}"), 0.3),
        ("CPR (10 digits)", bounded(r"[0-3]\d[01]\d{7}"), 0.3),
    )
    CONTEXT = (
        "cpr", "personnummer", "cpr-nummer", "cpr-nr", "civil registration", "personal identification number",
        "personal id",
    )  # fmt: skip


class FrNirRecognizer(StdnumRecognizer):
    """France's NIR (numéro de sécurité sociale): sex, YY, MM, département (2A/2B), commune, order, mod-97 key."""

    ENTITY = "FR_NIR"
    COUNTRY = "FR"
    LANGUAGES = ("fr",)
    STDNUM = "fr.nir"
    PATTERNS = (
        ("NIR (grouped)", bounded(r"[1-478] \d{2} \d{2} (?:\d{2}|2[AB]) ?\d{3} \d{3} \d{2}"), 0.5),
        ("NIR (15 characters)", bounded(r"[1-478]\d{4}(?:\d{2}|2[AB])\d{6} ?\d{2}"), 0.4),
    )
    CONTEXT = (
        "sécurité sociale", "securite sociale", "numéro de sécu", "n° de sécu", "nir", "insee",
        "social security",
    )  # fmt: skip


class NlBsnRecognizer(StdnumRecognizer):
    """The Netherlands' burgerservicenummer: 9 digits passing the "11-proef"."""

    ENTITY = "NL_BSN"
    COUNTRY = "NL"
    LANGUAGES = ("nl",)
    STDNUM = "nl.bsn"
    STRONG_CHECK = False  # 1 random 9-digit number in 11 passes the 11-proef
    PATTERNS = (
        ("BSN (NNNN.NN.NNN)", bounded(r"\d{4}\.\d{2}\.\d{3}"), 0.5),
        ("BSN (NNN.NNN.NNN)", bounded(r"\d{3}\.\d{3}\.\d{3}"), 0.3),
        ("BSN (NNN NNN NNN)", bounded(r"\d{3} \d{3} \d{3}"), 0.3),
        ("BSN (9 digits)", bounded(r"\d{9}"), 0.3),
    )
    CONTEXT = ("bsn", "burgerservicenummer", "sofinummer", "sofi-nummer", "citizen service number")


class BeNationalNumberRecognizer(StdnumRecognizer):
    """Belgium's national number (rijksregisternummer, numéro de registre national): YYMMDD, counter, mod-97."""

    ENTITY = "BE_NATIONAL_NUMBER"
    COUNTRY = "BE"
    LANGUAGES = ("nl", "fr", "de")
    STDNUM = "be.nn"
    PATTERNS = (
        ("National number (YY.MM.DD-NNN.CC)", bounded(r"\d{2}\.[0-5]\d\.[0-3]\d-\d{3}\.\d{2}"), 0.6),
        ("National number (YY MM DD NNN CC)", bounded(r"\d{2} [0-5]\d [0-3]\d[ \-]\d{3} \d{2}"), 0.5),
        ("National number (11 digits)", bounded(r"\d{2}[0-5]\d[0-3]\d{6}"), 0.3),
    )
    CONTEXT = (
        "rijksregisternummer", "rijksregister", "insz", "registre national", "numéro national", "niss",
        "nationalregisternummer", "national number", "national register",
    )  # fmt: skip


class BgEgnRecognizer(StdnumRecognizer):
    """Bulgaria's EGN (ЕГН): YYMMDD (month +20 for 1800s, +40 for 2000s), 3 digits, check digit."""

    ENTITY = "BG_EGN"
    COUNTRY = "BG"
    LANGUAGES = ("bg",)
    STDNUM = "bg.egn"
    PATTERNS = (("EGN (10 digits)", bounded(r"\d{2}[0-5]\d[0-3]\d{5}"), 0.3),)
    CONTEXT = ("егн", "единен граждански номер", "egn", "personal number", "civil number")


class ChAhvRecognizer(StdnumRecognizer):
    """Switzerland's AHV/AVS social security number: 756, 9 digits, EAN-13 check digit."""

    ENTITY = "CH_AHV"
    COUNTRY = "CH"
    LANGUAGES = ("de", "fr", "it", "rm")
    STDNUM = "ch.ssn"
    PATTERNS = (
        ("AHV (756.NNNN.NNNN.NN)", bounded(r"756\.\d{4}\.\d{4}\.\d{2}"), 0.6),
        ("AHV (13 digits)", bounded(r"756\d{10}"), 0.4),
    )
    CONTEXT = (
        "ahv", "avs", "sozialversicherungsnummer", "versichertennummer", "numéro avs", "numero avs",
        "social security",
    )  # fmt: skip


class CzRodneCisloRecognizer(StdnumRecognizer):
    """Czech birth number (rodné číslo): YYMMDD (month +50 women, +20/+70 since 2004) / 3-4 digits."""

    ENTITY = "CZ_RODNE_CISLO"
    COUNTRY = "CZ"
    LANGUAGES = ("cs",)
    STDNUM = "cz.rc"
    PATTERNS = (
        ("Rodné číslo (YYMMDD/NNNN)", bounded(r"\d{2}[0-35-8]\d[0-3]\d/\d{3,4}"), 0.5),
        ("Rodné číslo (9-10 digits)", bounded(r"\d{2}[0-35-8]\d[0-3]\d{4,5}"), 0.2),
    )
    CONTEXT = ("rodné číslo", "rodného čísla", "rodným číslem", "rodne cislo", "birth number", "personal number")

    def is_strong(self, value: str) -> bool:
        # 9-digit numbers (issued before 1954) carry no check digit: only the date was checked
        return sum(c.isdigit() for c in value) == 10


class SkRodneCisloRecognizer(CzRodneCisloRecognizer):
    """Slovak birth number (rodné číslo), the same scheme as the Czech one."""

    ENTITY = "SK_RODNE_CISLO"
    COUNTRY = "SK"
    LANGUAGES = ("sk",)
    STDNUM = "sk.rc"
    CONTEXT = ("rodné číslo", "rodného čísla", "rodným číslom", "rodne cislo", "birth number", "personal number")


class EeIsikukoodRecognizer(StdnumRecognizer):
    """Estonia's isikukood: century/sex digit, YYMMDD, serial, check digit."""

    ENTITY = "EE_ISIKUKOOD"
    COUNTRY = "EE"
    LANGUAGES = ("et",)
    STDNUM = "ee.ik"
    PATTERNS = (("Isikukood (11 digits)", bounded(r"[1-6]\d{2}[01]\d[0-3]\d{5}"), 0.3),)
    CONTEXT = ("isikukood", "isikukoodi", "personal identification code", "personal code", "id code")


class LtAsmensKodasRecognizer(StdnumRecognizer):
    """Lithuania's asmens kodas: century/sex digit, YYMMDD, serial, check digit."""

    ENTITY = "LT_ASMENS_KODAS"
    COUNTRY = "LT"
    LANGUAGES = ("lt",)
    STDNUM = "lt.asmens"
    PATTERNS = (("Asmens kodas (11 digits)", bounded(r"[1-6]\d{2}[01]\d[0-3]\d{5}"), 0.3),)
    CONTEXT = ("asmens kodas", "asmens kodą", "asmens kodo", "personal code", "personal number")


class HrOibRecognizer(StdnumRecognizer):
    """Croatia's OIB: 11 digits, ISO 7064 mod 11,10 check digit, optionally prefixed by HR."""

    ENTITY = "HR_OIB"
    COUNTRY = "HR"
    LANGUAGES = ("hr",)
    STDNUM = "hr.oib"
    STRONG_CHECK = False  # one check digit and no date
    PATTERNS = (
        ("OIB (HR + 11 digits)", bounded(r"HR ?\d{11}"), 0.5),
        ("OIB (11 digits)", bounded(r"\d{11}"), 0.3),
    )
    CONTEXT = ("oib", "osobni identifikacijski broj", "personal identification number")


class IePpsRecognizer(StdnumRecognizer):
    """Ireland's PPS number: 7 digits, a check letter, optionally a second letter (A, B, H; W, T, X before 2013)."""

    ENTITY = "IE_PPS"
    COUNTRY = "IE"
    LANGUAGES = ("en", "ga")
    STDNUM = "ie.pps"
    PATTERNS = (("PPS number", bounded(r"\d{7}[A-W][ABHTWX]?"), 0.5),)
    CONTEXT = ("pps", "ppsn", "personal public service", "uimhir phearsanta")


class IsKennitalaRecognizer(StdnumRecognizer):
    """Iceland's kennitala: DDMMYY (day +40 for organisations), 2 digits, check digit, century digit."""

    ENTITY = "IS_KENNITALA"
    COUNTRY = "IS"
    LANGUAGES = ("is",)
    STDNUM = "is_.kennitala"
    PATTERNS = (
        ("Kennitala (DDMMYY-NNNN)", bounded(r"[0-7]\d[01]\d{3}-\d{4}"), 0.5),
        ("Kennitala (10 digits)", bounded(r"[0-7]\d[01]\d{7}"), 0.3),
    )
    CONTEXT = ("kennitala", "kennitölu", "kennitölur", "kt.", "identity number", "id number")


class PtCitizenCardRecognizer(StdnumRecognizer):
    """Portugal's Cartão de Cidadão number: 8-digit civil number, check digit, 2-letter version, check digit."""

    ENTITY = "PT_CITIZEN_CARD"
    COUNTRY = "PT"
    LANGUAGES = ("pt",)
    STDNUM = "pt.cc"
    PATTERNS = (("Cartão de Cidadão", bounded(r"\d{8} ?\d ?[A-Z]{2}\d"), 0.5),)
    CONTEXT = (
        "cartão de cidadão", "cartao de cidadao", "identificação civil", "identificacao civil", "citizen card",
        "identity card",
    )  # fmt: skip


class RoCnpRecognizer(StdnumRecognizer):
    """Romania's CNP: sex/century digit, YYMMDD, county, serial, check digit."""

    ENTITY = "RO_CNP"
    COUNTRY = "RO"
    LANGUAGES = ("ro",)
    STDNUM = "ro.cnp"
    PATTERNS = (("CNP (13 digits)", bounded(r"[1-9]\d{2}[01]\d[0-3]\d{7}"), 0.3),)
    CONTEXT = ("cnp", "cod numeric personal", "codul numeric personal", "personal numeric code")


class SiEmsoRecognizer(StdnumRecognizer):
    """Slovenia's EMŠO: DDMMYYY, region, serial, check digit."""

    ENTITY = "SI_EMSO"
    COUNTRY = "SI"
    LANGUAGES = ("sl",)
    STDNUM = "si.emso"
    PATTERNS = (("EMŠO (13 digits)", bounded(r"[0-3]\d[01]\d{10}"), 0.3),)
    CONTEXT = ("emšo", "emso", "enotna matična številka", "master citizen number", "personal number")


class AtSvnrRecognizer(StdnumRecognizer):
    """Austria's social security number (Versicherungsnummer): serial, check digit, DDMMYY."""

    ENTITY = "AT_SVNR"
    COUNTRY = "AT"
    LANGUAGES = ("de",)
    STDNUM = "at.vnr"
    STRONG_CHECK = False  # one check digit; the six trailing digits are only "usually" a birth date
    PATTERNS = (
        ("SVNR (NNNN DDMMYY)", bounded(r"[1-9]\d{3} [0-3]\d[01]\d{3}"), 0.5),
        ("SVNR (10 digits)", bounded(r"[1-9]\d{3}[0-3]\d[01]\d{3}"), 0.2),
    )
    CONTEXT = (
        "versicherungsnummer", "sozialversicherungsnummer", "svnr", "sv-nr", "sv-nummer",
        "social security number",
    )  # fmt: skip


class GrAmkaRecognizer(StdnumRecognizer):
    """Greece's AMKA (social security number): DDMMYY, 4 digits, Luhn check digit."""

    ENTITY = "GR_AMKA"
    COUNTRY = "GR"
    LANGUAGES = ("el",)
    STDNUM = "gr.amka"
    PATTERNS = (("AMKA (11 digits)", bounded(r"[0-3]\d[01]\d{8}"), 0.3),)
    CONTEXT = ("αμκα", "α.μ.κ.α", "αριθμός μητρώου κοινωνικής ασφάλισης", "amka", "social security number")
