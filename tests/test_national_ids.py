"""National-identifier recognizers (filters/national_ids/): formats, checks, tiers, sentences in two languages."""

from __future__ import annotations

from functools import cache

import pytest

from filters.national_ids import (
    NATIONAL_ID_RECOGNIZERS,
    PATTERN,
    VALIDATED,
    NationalId,
    NationalIdRecognizer,
    national_languages,
)
from filters.national_ids.table import NATIONAL_IDS
from filters.pii.engine import PiiRedactor
from filters.pii.policy import supported_countries
from filters.pii.prescan import plan_pattern
from filters.pii.registry import recognizer_factories

# entity → (country, valid values in the formats people write, values whose check fails,
#           (language, sentence in the national language), sentence in English)
CASES = {
    "JP_MY_NUMBER": ("JP", ["6214 9832 0257", "621498320257", "6214-9832-0257"], ["6214 9832 0258"],
                     ("ja", "私のマイナンバーは{}です。"), "My individual number (My Number) is {}."),
    "NO_FODSELSNUMMER": ("NO", ["151086 95088", "15108695088", "55108695071"], ["15108695077"],
                         ("no", "Fødselsnummeret mitt er {}, sa hun."), "Her national identity number is {}."),
    "DK_CPR": ("DK", ["211062-5629", "211062 5629", "2110625629"], ["511062-5629", "321062-5629"],
               ("da", "Mit CPR-nummer er {}."), "Her CPR number is {}."),
    "FR_NIR": ("FR", ["2 95 10 99 126 111 93", "295109912611193", "253072B07300470"], ["295109912611199"],
               ("fr", "Mon numéro de sécurité sociale est le {}."), "Her social security number (NIR) is {}."),
    "NL_BSN": ("NL", ["1112.22.333", "111222333", "111 222 333"], ["1112.52.333"],
               ("nl", "Mijn burgerservicenummer (BSN) is {}."), "His citizen service number is {}."),
    "BR_CPF": ("BR", ["390.533.447-05", "39053344705"], ["231.002.999-00", "111.111.111-11"],
               ("pt", "Meu CPF é {} e está regular."), "Her Brazilian CPF is {}."),
    "TW_NATIONAL_ID": ("TW", ["A123456789", "B234567894"], ["A123456788"],
                       ("zh", "我的身分證字號是{}。"), "Her national ID number is {}."),
    "SG_NRIC_FIN": ("SG", ["S1234567D", "T1234567J", "F1234567N", "G1234567X"], ["S1234567A", "G1234567N"],
                    ("ms", "Nombor kad pengenalan (NRIC) saya ialah {}."), "My NRIC is {}."),
    "BE_NATIONAL_NUMBER": ("BE", ["85.07.30-033.28", "85 07 30 033 28", "85073003328"], ["85.07.30-033.29"],
                           ("nl", "Mijn rijksregisternummer is {}."), "His Belgian national number is {}."),
    "BG_EGN": ("BG", ["8032056031", "7523169263"], ["8032056032"],
               ("bg", "Моето ЕГН е {}."), "Her Bulgarian EGN is {}."),
    "CH_AHV": ("CH", ["756.9217.0769.85", "7569217076985"], ["756.9217.0769.84"],
               ("de", "Meine AHV-Nummer lautet {}."), "His Swiss social security number is {}."),
    "CZ_RODNE_CISLO": ("CZ", ["710319/2745", "7103192745"], ["710319/2746"],
                       ("cs", "Moje rodné číslo je {}."), "Her birth number is {}."),
    "SK_RODNE_CISLO": ("SK", ["710319/2745", "991231/123", "991231123"], ["7103192746"],
                       ("sk", "Moje rodné číslo je {}."), "His Slovak birth number is {}."),
    "EE_ISIKUKOOD": ("EE", ["36805280109"], ["36805280108"],
                     ("et", "Minu isikukood on {}."), "Her Estonian personal identification code is {}."),
    "LT_ASMENS_KODAS": ("LT", ["33309240064"], ["33309240164"],
                        ("lt", "Mano asmens kodas yra {}."), "His personal code is {}."),
    "HR_OIB": ("HR", ["33392005961", "HR33392005961", "HR 33392005961"], ["33392005962"],
               ("hr", "Moj OIB je {}."), "Her Croatian OIB is {}."),
    "IE_PPS": ("IE", ["6433435F", "6433435FT", "6433435OA"], ["6433435E"],
               ("ga", "Is é m'uimhir phearsanta seirbhíse poiblí (PPS) ná {}."), "My PPS number is {}."),
    "IS_KENNITALA": ("IS", ["120174-3399", "1201743399"], ["530575-0299"],
                     ("is", "Kennitalan mín er {}."), "Her kennitala is {}."),
    "PT_CITIZEN_CARD": ("PT", ["00000000 0 ZZ4", "000000000ZZ4"], ["00000000 0 ZZ3"],
                        ("pt", "O número do meu cartão de cidadão é {}."), "Her citizen card number is {}."),
    "RO_CNP": ("RO", ["1630615123457"], ["1630615123458"],
               ("ro", "Codul numeric personal (CNP) este {}."), "His Romanian CNP is {}."),
    "SI_EMSO": ("SI", ["0101006500006"], ["0101006500007"],
                ("sl", "Moja EMŠO je {}."), "Her EMSO is {}."),
    "AT_SVNR": ("AT", ["1237 010180", "1237010180"], ["2237 010180"],
                ("de", "Meine Sozialversicherungsnummer ist {}."), "His Austrian social security number is {}."),
    "CN_RESIDENT_ID": ("CN", ["360426199101010071", "11010519491231002X"], ["360426199101010072"],
                       ("zh", "我的身份证号码是{}。"), "Her resident identity card number is {}."),
    "GR_AMKA": ("GR", ["01013099997"], ["01013099999"],
                ("el", "Ο ΑΜΚΑ μου είναι {}."), "Her AMKA social security number is {}."),
    "IL_ID_NUMBER": ("IL", ["3933742-3", "039337423"], ["3933742-2"],
                     ("he", "מספר תעודת זהות שלי הוא {}."), "His Israeli identity number is {}."),
    "CL_RUT": ("CL", ["12.531.909-2", "76086428-5", "12531909-2"], ["12.531.909-3"],
               ("es", "Mi RUT es {}."), "Her Chilean RUT is {}."),
    "MX_CURP": ("MX", ["BOXW310820HNERXN09"], ["BOXW310820HNERXN08"],
                ("es", "Mi CURP es {}."), "Her CURP is {}."),
}  # fmt: skip

REQUIRED = {"JP", "NO", "DK", "FR", "NL", "BR", "TW", "SG"}


def _recognizer_class(entity: str) -> NationalId:
    # the table row: calling it builds the recognizer, as calling a recognizer class does
    country = CASES[entity][0]
    return next(row for row in NATIONAL_ID_RECOGNIZERS[country] if row.entity == entity)


@cache
def redactor_for(country: str) -> PiiRedactor:
    # e-mail only besides the country: phone numbers would compete for the same digits
    return PiiRedactor(("en",), ("EMAIL_ADDRESS",), (country,))


VALID = [(e, v) for e, case in CASES.items() for v in case[1]]
INVALID = [(e, v) for e, case in CASES.items() for v in case[2]]


def test_registry_covers_the_missing_identifiers_and_ten_more():
    countries = set(NATIONAL_ID_RECOGNIZERS)
    assert REQUIRED <= countries
    assert len(countries - REQUIRED) >= 10
    assert countries <= set(supported_countries())
    assert {row.entity for rows in NATIONAL_ID_RECOGNIZERS.values() for row in rows} == set(CASES)


def test_every_pattern_has_a_prescan_plan():
    # a pattern the prescan cannot bound would be scanned over every whole text
    for classes in NATIONAL_ID_RECOGNIZERS.values():
        for cls in classes:
            rec = cls()
            for p in rec.patterns:
                assert plan_pattern(p.regex, rec.global_regex_flags).mode not in ("always", "gate"), (cls, p.name)


@pytest.mark.parametrize(("entity", "value"), VALID)
def test_valid_values_are_found_and_validated(entity, value):
    rec = _recognizer_class(entity)()
    assert rec.tier(value) == VALIDATED
    assert rec.validate_result(value) in (True, None)  # None: a weak check leaves the score to the pattern
    text = f"ID: {value}\n"
    spans = {(r.start, r.end) for r in rec.analyze(text, [entity])}
    assert (4, 4 + len(value)) in spans


@pytest.mark.parametrize(("entity", "value"), INVALID)
def test_wrong_check_is_not_validated(entity, value):
    rec = _recognizer_class(entity)()
    assert rec.tier(value) == PATTERN
    assert rec.validate_result(value) is False  # Presidio drops the hit
    country, _, _, (lang, sentence), english = CASES[entity]
    for text, language in ((sentence.format(value), lang), (english.format(value), "en")):
        assert entity not in redactor_for(country).redact(text, language)[1]


@pytest.mark.parametrize(("entity", "value"), VALID)
def test_found_in_national_language_and_english_sentences(entity, value):
    country, _, _, (lang, sentence), english = CASES[entity]
    redactor = redactor_for(country)
    for text, language in ((sentence.format(value), lang), (english.format(value), "en")):
        result = redactor.redact_detail(text, language)
        assert value not in result.text, text
        assert result.counts.get(entity) == 1, (text, result.counts)
        assert result.tiers[entity] == {VALIDATED: 1}
        assert f"<{entity}>" in result.text


def test_recognizers_registered_for_national_languages_and_english():
    for country, classes in NATIONAL_ID_RECOGNIZERS.items():
        redactor = PiiRedactor(("en",), ("EMAIL_ADDRESS",), (country,))
        for lang in (*national_languages(country), "en"):
            assert lang in redactor.languages
            registered = {r.row for r in redactor.recognizers(lang) if isinstance(r, NationalIdRecognizer)}
            assert set(classes) <= registered, (country, lang)
            assert all(r.supported_language == lang for r in redactor.recognizers(lang))


def test_context_words_are_lower_case_and_include_english():
    # the enhancer compares lower-cased text: an upper-case context word would never match
    for classes in NATIONAL_ID_RECOGNIZERS.values():
        for cls in classes:
            assert cls.context and all(w == w.lower() for w in cls.context), cls
            assert any(w.isascii() and " " in w for w in cls.context), cls  # at least one English phrase


def test_weak_checks_need_context_or_the_usual_separators():
    redactor = redactor_for("DK")
    # a valid date in a bare 10-digit run is not evidence enough ...
    assert "DK_CPR" not in redactor.redact("Ordre 2110625629 blev sendt i går.", "da")[1]
    # ... a context word or the DDMMYY-SSSS separator is
    assert redactor.redact("CPR-nr. 2110625629 blev oplyst.", "da")[1] == {"DK_CPR": 1}
    assert redactor.redact("Ordre 211062-5629 blev sendt.", "da")[1] == {"DK_CPR": 1}
    # a strong check (two mod-11 digits over a birth date) is evidence enough without context
    assert redactor_for("NO").redact("Referanse 15108695088 ble sendt.", "no")[1] == {"NO_FODSELSNUMMER": 1}


def test_singapore_m_series_is_a_pattern_hit_and_presidio_shape_only_recognizer_is_replaced():
    result = redactor_for("SG").redact_detail("My FIN is M1234567K.", "en")
    assert result.tiers == {"SG_NRIC_FIN": {PATTERN: 1}}
    assert "SgFinRecognizer" not in {c.__name__ for c in recognizer_factories("SG") if isinstance(c, type)}


def test_korean_rrn_with_failed_checksum_is_kept_as_a_pattern_hit():
    # numbers issued since October 2020 end in random digits: a failed checksum must not drop the hit
    result = PiiRedactor(("en",), ("EMAIL_ADDRESS",), ("KR",)).redact_detail("RRN: 971013-1019903.", "en")
    assert result.tiers == {"KR_RRN": {PATTERN: 1}}
    assert "971013-1019903" not in result.text


def test_grouped_card_number_is_not_sliced_into_a_my_number():
    # "4111 1111 1111 1111" holds a 4-4-4 group; the boundaries keep it whole for the card recognizer
    r = PiiRedactor(("ja",), ("CREDIT_CARD",), ("JP",))
    assert r.redact("カード番号 4111 1111 1111 1111 です。", "ja")[1] == {"CREDIT_CARD": 1}


@pytest.mark.parametrize("row", NATIONAL_IDS, ids=lambda row: row.entity)
def test_every_table_row_builds_a_recognizer_that_finds_a_valid_value_and_drops_a_broken_check(row):
    # every row of identifiers.toml, through the one generic recognizer class: a new row without examples fails here
    assert row.entity in CASES, f"add a valid and an invalid example of {row.entity} to CASES"
    country, valid, invalid, _, _ = CASES[row.entity]
    assert row.country == country and row in NATIONAL_ID_RECOGNIZERS[country]
    for lang in (*row.languages, "en"):
        rec = row(supported_language=lang)
        assert isinstance(rec, NationalIdRecognizer)
        assert rec.supported_entities == [row.entity] and rec.supported_language == lang
        text = f"ID: {valid[0]}\n"
        found = [r for r in rec.analyze(text, [row.entity]) if (r.start, r.end) == (4, 4 + len(valid[0]))]
        assert found and rec.tier(valid[0]) == VALIDATED, (row.entity, lang)
        broken = f"ID: {invalid[0]}\n"
        assert rec.validate_result(invalid[0]) is False and rec.tier(invalid[0]) == PATTERN
        assert not [r for r in rec.analyze(broken, [row.entity]) if r.score > 0], (row.entity, lang)
