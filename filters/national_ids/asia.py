"""National identifiers of Japan, Taiwan, Singapore, China and Israel."""

from __future__ import annotations

from filters.national_ids.base import NationalIdRecognizer, StdnumRecognizer, bounded


class JpMyNumberRecognizer(StdnumRecognizer):
    """Japan's Individual Number (マイナンバー, 個人番号): 12 digits, the last a mod-11 check digit."""

    ENTITY = "JP_MY_NUMBER"
    COUNTRY = "JP"
    LANGUAGES = ("ja",)
    STDNUM = "jp.in_"
    STRONG_CHECK = False  # one check digit and no date: 1 random 12-digit number in 11 passes
    PATTERNS = (
        ("My Number (4-4-4)", bounded(r"\d{4}[ \-]\d{4}[ \-]\d{4}"), 0.5),
        ("My Number (12 digits)", bounded(r"\d{12}"), 0.3),
    )
    CONTEXT = ("マイナンバー", "個人番号", "my number", "mynumber", "individual number")


# Taiwan's letters map to two-digit numbers in this order, starting at 10 (I, O and W were added last).
_TW_LETTERS = {c: i for i, c in enumerate("ABCDEFGHJKLMNPQRSTUVXYWZIO", start=10)}


class TwNationalIdRecognizer(NationalIdRecognizer):
    """Taiwan's national identification number: a letter, 1 or 2 (8 or 9 for the 2021 resident numbers), 8 digits.

    python-stdnum has no module for it (only the business number), so the check is implemented here: the letter's
    two-digit value contributes its tens digit with weight 1 and its units digit with weight 9, the next eight
    digits weights 8..1, the check digit weight 1; the total must be divisible by 10.
    """

    ENTITY = "TW_NATIONAL_ID"
    COUNTRY = "TW"
    LANGUAGES = ("zh",)
    PATTERNS = (("Taiwan ID (letter + 9 digits)", bounded(r"[A-Z][1289]\d{8}"), 0.5),)
    CONTEXT = ("身分證", "身份證", "統一證號", "居留證", "national id", "id no", "id number", "identity card")

    def check(self, value: str) -> bool | None:
        v = value.strip().upper()
        if len(v) != 10 or v[0] not in _TW_LETTERS or not v[1:].isdigit() or not v[1:].isascii():
            return False
        n = _TW_LETTERS[v[0]]
        total = n // 10 + (n % 10) * 9 + sum(int(d) * w for d, w in zip(v[1:9], range(8, 0, -1))) + int(v[9])
        return total % 10 == 0


# Check letters of Singapore's NRIC (S, T: citizens and PRs) and FIN (F, G: foreigners); T and G add 4.
_SG_TABLES = {"S": (0, "JZIHGFEDCBA"), "T": (4, "JZIHGFEDCBA"), "F": (0, "XWUTRQPNMLK"), "G": (4, "XWUTRQPNMLK")}
_SG_WEIGHTS = (2, 7, 6, 5, 4, 3, 2)


class SgNricFinRecognizer(NationalIdRecognizer):
    """Singapore NRIC/FIN with its check letter (Presidio's own recognizer matches the pattern only).

    python-stdnum has no module for it. The check: weights 2,7,6,5,4,3,2 over the seven digits, +4 for the T and G
    series, remainder mod 11 indexes the prefix's letter table. The M series (FINs issued since 2022) uses a table
    that is not published by the issuing authority; rather than guess it, an M number is reported as a pattern hit
    (never validated, never dropped).
    """

    ENTITY = "SG_NRIC_FIN"
    COUNTRY = "SG"
    LANGUAGES = ("en", "zh", "ms", "ta")
    PATTERNS = (("NRIC/FIN", bounded(r"[STFGM]\d{7}[A-Z]"), 0.5),)
    CONTEXT = ("nric", "fin no", "fin number", "identity card", "ic no", "ic number", "身份证", "kad pengenalan")

    def check(self, value: str) -> bool | None:
        v = value.strip().upper()
        if len(v) != 9 or not v[1:8].isdigit() or not v[1:8].isascii():
            return False
        if v[0] == "M":
            return None
        if v[0] not in _SG_TABLES:
            return False
        offset, table = _SG_TABLES[v[0]]
        total = offset + sum(w * int(d) for w, d in zip(_SG_WEIGHTS, v[1:8]))
        return table[total % 11] == v[8]


class CnResidentIdRecognizer(StdnumRecognizer):
    """China's resident identity card number: region, YYYYMMDD birth date, serial, ISO 7064 check (0-9 or X)."""

    ENTITY = "CN_RESIDENT_ID"
    COUNTRY = "CN"
    LANGUAGES = ("zh",)
    STDNUM = "cn.ric"
    PATTERNS = (
        (
            "Resident ID (18 characters)",
            bounded(r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[\dX]"),
            0.5,
        ),
    )
    CONTEXT = ("身份证", "公民身份号码", "身份号码", "resident identity", "id card", "identity card")


class IlIdentityNumberRecognizer(StdnumRecognizer):
    """Israel's identity number (mispar zehut): up to 9 digits, the last a Luhn-style check digit."""

    ENTITY = "IL_ID_NUMBER"
    COUNTRY = "IL"
    LANGUAGES = ("he", "ar")
    STDNUM = "il.idnr"
    STRONG_CHECK = False  # one check digit over a bare 9-digit run
    PATTERNS = (
        ("Identity number (NNNNNNNN-C)", bounded(r"\d{7,8}-\d"), 0.5),
        ("Identity number (9 digits)", bounded(r"\d{9}"), 0.3),
    )
    CONTEXT = ("תעודת זהות", "ת.ז", 'ת"ז', "מספר זהות", "رقم الهوية", "identity number", "teudat zehut", "id number")
