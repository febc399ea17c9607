"""Checks python-stdnum lacks, and per-value strength rules, named by rows of `identifiers.toml`.

A check returns True when the value's check digits / letter pass, False when they fail, None when the value has no
check that can fail; a strength rule says whether a passing check is enough to redact the value without context.
Both may raise on odd input: the recognizer turns any exception into "not validated", never into a message.
"""

from __future__ import annotations

import importlib
from functools import cache


@cache
def _stdnum(module: str):
    return importlib.import_module(f"stdnum.{module}")


def br_cpf(value: str) -> bool:
    """Brazil's CPF: python-stdnum's mod-11 check, and a run of one repeated digit is never valid."""
    digits = [c for c in value if c.isdigit()]
    if len(set(digits)) <= 1:  # 000.000.000-00 ... 999.999.999-99 pass the arithmetic but are never issued
        return False
    return bool(_stdnum("br.cpf").is_valid(value))


# Taiwan's letters map to two-digit numbers in this order, starting at 10 (I, O and W were added last).
_TW_LETTERS = {c: i for i, c in enumerate("ABCDEFGHJKLMNPQRSTUVXYWZIO", start=10)}


def tw_national_id(value: str) -> bool:
    """Taiwan's national identification number (python-stdnum has only the business number).

    The letter's two-digit value contributes its tens digit with weight 1 and its units digit with weight 9, the
    next eight digits weights 8..1, the check digit weight 1; the total must be divisible by 10.
    """
    v = value.strip().upper()
    if len(v) != 10 or v[0] not in _TW_LETTERS or not v[1:].isdigit() or not v[1:].isascii():
        return False
    n = _TW_LETTERS[v[0]]
    total = n // 10 + (n % 10) * 9 + sum(int(d) * w for d, w in zip(v[1:9], range(8, 0, -1))) + int(v[9])
    return total % 10 == 0


# Check letters of Singapore's NRIC (S, T: citizens and PRs) and FIN (F, G: foreigners); T and G add 4.
_SG_TABLES = {"S": (0, "JZIHGFEDCBA"), "T": (4, "JZIHGFEDCBA"), "F": (0, "XWUTRQPNMLK"), "G": (4, "XWUTRQPNMLK")}
_SG_WEIGHTS = (2, 7, 6, 5, 4, 3, 2)


def sg_nric_fin(value: str) -> bool | None:
    """Singapore's NRIC/FIN check letter (python-stdnum has no module for it).

    Weights 2,7,6,5,4,3,2 over the seven digits, +4 for the T and G series, remainder mod 11 indexes the prefix's
    letter table. The M series (FINs issued since 2022) uses a table that is not published by the issuing
    authority; rather than guess it, an M number has no check (None: a pattern hit, never validated, never dropped).
    """
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


def ten_digit_birth_number(value: str) -> bool:
    """Czech and Slovak birth numbers: only the 10-digit form carries a check digit (9-digit numbers, issued
    before 1954, had only their date checked)."""
    return sum(c.isdigit() for c in value) == 10


CHECKS = {"br_cpf": br_cpf, "tw_national_id": tw_national_id, "sg_nric_fin": sg_nric_fin}
STRENGTH_RULES = {"ten_digit_birth_number": ten_digit_birth_number}
