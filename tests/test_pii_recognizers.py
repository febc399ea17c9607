"""Terroir's scan-based PII recognizers: real strings in, spans out, lookalikes left alone; one linear scan per text."""

from __future__ import annotations

import pytest

from filters.pii.engine import PiiRedactor
from filters.pii.recognizers import scan as pii_scan
from filters.pii.registry import PATTERN_ENTITIES

ENTITIES = tuple(e for e in PATTERN_ENTITIES if e not in ("URL", "LABELLED_ID"))
COUNTRIES = ("ES", "DE", "FR", "GB", "IT", "SE", "NL")


@pytest.fixture(scope="module")
def redactor():
    return PiiRedactor(("es", "de", "fr", "en", "it", "sv", "nl"), ENTITIES, COUNTRIES)


def found(redactor, text: str, lang: str, region: str | None = None) -> set[tuple[str, str]]:
    return {(h.entity_type, text[h.start : h.end]) for h in redactor.find(text, lang, region)}


def entity_values(redactor, text, lang, region, entity) -> set[str]:
    return {v for e, v in found(redactor, text, lang, region) if e == entity}


# -- phone numbers -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "region", "number"),
    [
        ("Llámame al 612 34 56 78 mañana.", "es", "ES", "612 34 56 78"),
        ("Consulta: 91 234 56 78 (mañanas).", "es", "ES", "91 234 56 78"),
        ("Das Büro ist unter 030 1234567 erreichbar.", "de", "DE", "030 1234567"),
        ("Handy 0151 23456789, abends.", "de", "DE", "0151 23456789"),
        ("Vous pouvez joindre Marie au 06 12 34 56 78.", "fr", "FR", "06 12 34 56 78"),
        ("Our office is on 020 7946 0958 on weekdays.", "en", "GB", "020 7946 0958"),
        ("Segreteria 02 1234 5678, dal lunedì.", "it", "IT", "02 1234 5678"),
        ("Ring 08-123 456 78 efter lunch.", "sv", "SE", "08-123 456 78"),
        ("Bel 020-123 4567 voor een afspraak.", "nl", "NL", "020-123 4567"),
        ("Rufen Sie +49 30 1234567 an.", "de", None, "+49 30 1234567"),
        ("Contact: 0034 612 345 678", "es", None, "0034 612 345 678"),
        ("Tfno. +0034948255400, Pamplona", "es", "ES", "+0034948255400"),
    ],
)
def test_phone_numbers_in_national_formats_are_found(redactor, text, lang, region, number):
    assert entity_values(redactor, text, lang, region, "PHONE_NUMBER") == {number}


def test_a_bare_digit_run_is_a_phone_number_only_with_a_context_word(redactor):
    assert entity_values(redactor, "Teléfono: 612345678.", "es", "ES", "PHONE_NUMBER") == {"612345678"}
    assert entity_values(redactor, "Código del producto 612345678.", "es", "ES", "PHONE_NUMBER") == set()


@pytest.mark.parametrize(
    "text",
    [
        "Pedido nº 2024-118-3391 enviado.",
        "Actualice a la versión 3.10.2 antes del lunes.",
        "El hospital abrió en 1998 y amplió en 2016.",
        "Ingresó el 11/02/1970 y el 2016-05-28.",
        "El servidor 192.168.10.24 no responde.",
        "Tensión arterial 120/80 mmHg.",
        "Rechnung Nr. FAC-2023-00017 über 1.234,56 €.",
        "ISBN 978-3-16-148410-0",
    ],
)
def test_lookalikes_are_not_phone_numbers(redactor, text):
    assert entity_values(redactor, text, "es", "ES", "PHONE_NUMBER") == set()


def test_a_number_of_another_region_needs_its_prefix(redactor):
    text = "Ring oss på 08-123 456 78."
    assert entity_values(redactor, text, "sv", "SE", "PHONE_NUMBER") == {"08-123 456 78"}
    assert entity_values(redactor, text, "sv", "ES", "PHONE_NUMBER") == set()


def test_an_international_number_is_not_reported_as_an_italian_vat_code(redactor):
    text = "Tel. +39 02 1234 5678 oppure 0121 234 3030."
    assert found(redactor, text, "it", "IT") >= {("PHONE_NUMBER", "+39 02 1234 5678")}
    assert not any(e == "IT_VAT_CODE" for e, _ in found(redactor, text, "it", "IT"))


# -- IBANs and cards -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "iban",
    [
        "ES91 2100 0418 4502 0005 1332",
        "ES9121000418450200051332",
        "es91 2100 0418 4502 0005 1332",
        "ES 91 2100 0418 4502 0005 1332",
        "ES9121000418 45020005 1332",
        "DE89-3704-0044-0532-0130-00",
        "DE89 370 400 440 532 013 000",
        "NL91.ABNA.0417.1643.00",
        "GB29 NWBK 6016 1331 9268 19",
    ],
)
def test_ibans_in_odd_groupings_are_found(redactor, iban):
    text = f"Transferencia a {iban} antes del viernes."
    assert entity_values(redactor, text, "es", "ES", "IBAN_CODE") == {iban}


def test_an_iban_with_a_wrong_check_or_too_short_is_not_found(redactor):
    text = "Cuenta ES92 2100 0418 4502 0005 1332 y referencia ES12 3456."
    assert entity_values(redactor, text, "es", "ES", "IBAN_CODE") == set()


@pytest.mark.parametrize(
    "card",
    ["4111 1111 1111 1111", "4111-1111-1111-1111", "4111 - 1111 - 1111 - 1111", "4111111111111111",
     "3782 822463 10005", "5500 0000 0000 0004", "6011 0009 9013 9424"],
)  # fmt: skip
def test_cards_with_spaces_or_dashes_are_found(redactor, card):
    text = f"Pagó con la tarjeta {card} ayer."
    assert entity_values(redactor, text, "es", "ES", "CREDIT_CARD") == {card}


def test_numbers_failing_luhn_or_mixing_separators_are_not_cards(redactor):
    for text in ("Pedido 4111 1111 1111 1112.", "Lote 4111-1111 1111-1111.", "Tel. +49 1512 3456373"):
        assert entity_values(redactor, text, "es", "ES", "CREDIT_CARD") == set(), text


# -- dates of birth ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "date"),
    [
        ("Fecha de nacimiento: 11/02/1970.", "es", "11/02/1970"),
        ("La paciente, nacida el 3 de marzo de 1985, refiere dolor.", "es", "3 de marzo de 1985"),
        ("Geburtsdatum: 03.03.1985", "de", "03.03.1985"),
        ("Frau K., geboren am 3. März 1985 in Köln", "de", "3. März 1985"),
        ("Marie, née le 11 févr. 1970 à Lyon", "fr", "11 févr. 1970"),
        ("Date of birth: February 11, 1970", "en", "February 11, 1970"),
        ("He was born on 11 February 1970.", "en", "11 February 1970"),
        ("Data di nascita: 11/02/1970", "it", "11/02/1970"),
        ("Född den 1970-02-11 i Uppsala.", "sv", "1970-02-11"),
        ("Geboortedatum: 11-02-1970", "nl", "11-02-1970"),
        ("生年月日 1970年2月11日", "ja", "1970年2月11日"),
    ],
)
def test_dates_after_a_birth_cue_are_dates_of_birth(redactor, text, lang, date):
    assert entity_values(redactor, text, lang, None, "DATE_OF_BIRTH") == {date}


@pytest.mark.parametrize(
    "text",
    [
        "Fecha de ingreso: 28/05/2016.",
        "Fecha de nacimiento: .\nFecha de Ingreso: 17/04/2014.",
        "He was born in 1970 in Leeds.",
        "Fecha de nacimiento: 31/02/1970.",
        "Nacido en Madrid, ingresó en 2016; la cirugía fue el 12/03/2024, muchos años después de aquello.",
    ],
)
def test_other_dates_and_impossible_dates_are_not_dates_of_birth(redactor, text):
    assert entity_values(redactor, text, "es", None, "DATE_OF_BIRTH") == set()


# -- addresses and postcodes ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang", "street"),
    [
        ("Domicilio: Av. Beniarda, 13.\nLocalidad: Valencia.", "es", "Av. Beniarda, 13"),
        ("Hospital Dr. Peset, Avda. Gaspar Aguilar, 90 46017 Valencia.", "es", "Avda. Gaspar Aguilar, 90"),
        ("Vive en la Calle de la fuente 96, 8B desde 2010.", "es", "Calle de la fuente 96, 8B"),
        ("Sede: Paseo de Barranco de la Ballena, s/n. Las Palmas", "es", "Paseo de Barranco de la Ballena, s/n"),
        ("Sie wohnt in der Hauptstraße 5, 10115 Berlin.", "de", "Hauptstraße 5"),
        ("Il habite 12, rue de la Paix, 75002 Paris.", "fr", "12, rue de la Paix"),
        ("He lives at 221B Baker Street, London NW1 6XE.", "en", "221B Baker Street"),
        ("Ufficio in Via Roma 12, 00184 Roma.", "it", "Via Roma 12"),
        ("Kontor på Drottninggatan 3, 111 51 Stockholm.", "sv", "Drottninggatan 3"),
        ("Servicio de Urología, Doctor Esquerdo, 46, 28007 Madrid.", "es", "Doctor Esquerdo, 46"),
    ],
)
def test_street_addresses_are_found(redactor, text, lang, street):
    assert street in entity_values(redactor, text, lang, None, "STREET_ADDRESS")


@pytest.mark.parametrize(
    "text",
    [
        "La AV era de 20/20 en OD y de 0,1 en OI.",
        "Una úlcera de 2 cm de largo por 1,5 de ancho.",
        "Cruzó la calle principal 3 veces.",
        "Infusión a lo largo de 10 horas.",
    ],
)
def test_clinical_prose_is_not_an_address(redactor, text):
    assert entity_values(redactor, text, "es", "ES", "STREET_ADDRESS") == set()


@pytest.mark.parametrize(
    ("text", "lang", "code"),
    [
        ("Localidad: Valencia.\nCP: 46271.\nNHC: 5467980.", "es", "46271"),
        ("Avda. Gaspar Aguilar, 90 46017 Valencia.", "es", "46017"),
        ("Doctor Esquerdo, 46, 28007, Madrid", "es", "28007"),
        ("PLZ 10115", "de", "10115"),
        ("Storgatan 47, 211 20 Malmö.", "sv", "211 20"),
        ("Kalverstraat 92, 1012 PH Amsterdam", "nl", "1012 PH"),
        ("10 Downing Street, London SW1A 2AA.", "en", "SW1A 2AA"),
    ],
)
def test_postcodes_are_found(redactor, text, lang, code):
    assert code in entity_values(redactor, text, lang, None, "POSTCODE")


@pytest.mark.parametrize(
    "text",
    [
        "Carcinoma epidermoide de pulmón (T2N0M0) en el centro.",
        "Factura FAC-2023-997. Web: ejemplo",
        "NºCol: 46 28 52938.\nInforme clínico del paciente.",
        "Desde 1998 Madrid ha crecido.",
        "Teléfono 02.1234.5678 Piazza",
        "Se contaron 12345 células en total.",
    ],
)
def test_lookalikes_are_not_postcodes(redactor, text):
    assert entity_values(redactor, text, "es", "ES", "POSTCODE") == set()


# -- personal URLs -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "https://www.facebook.com/jan.kowalski", "https://github.com/jdoe", "https://www.linkedin.com/in/maria-garcia-42",
        "https://example.org/~jdoe/", "www.foro-salud.es/usuarios/ana_lopez", "https://mastodon.social/@ana",
        "blog.example.de/profil/anna-schmidt", "https://portal.example.com/view?user=jdoe",
    ],
)  # fmt: skip
def test_urls_with_personal_paths_are_found(redactor, url):
    text = f"Más información en {url} (consultado en 2024)."
    assert entity_values(redactor, text, "es", "ES", "PERSONAL_URL") == {url}


@pytest.mark.parametrize(
    "url",
    ["https://www.who.int/news/item/2024-05-01", "www.boe.es/diario_boe/", "https://github.com/about",
     "https://www.facebook.com/help", "https://en.wikipedia.org/wiki/Madrid", "E.coli/mg.kg-1"],
)  # fmt: skip
def test_organisations_urls_are_not_personal(redactor, url):
    assert entity_values(redactor, f"Véase {url} para más datos.", "es", "ES", "PERSONAL_URL") == set()


# -- the shared scan -----------------------------------------------------------------------------------------------

BLOCK = (
    "Datos del paciente. NHC: 5467980. Domicilio: Av. Beniarda, 13. CP: 46271. Fecha de nacimiento: 11/02/1970. "
    "Tel. 612 34 56 78. IBAN ES91 2100 0418 4502 0005 1332. Tarjeta 4111 1111 1111 1111. "
    "Perfil https://github.com/jdoe. Pedido 2024-118-3391, versión 3.10.2, en 1998. "
    "Presentaba dolor abdominal de tres días de evolución, sin fiebre ni vómitos.\n"
)


def test_one_scan_per_text_serves_every_recognizer(redactor):
    scans, _ = pii_scan.stats()
    text = BLOCK * 3
    hits = redactor.find(text, "es", "ES")
    assert pii_scan.stats()[0] - scans == 1
    assert {h.entity_type for h in hits} >= {"PHONE_NUMBER", "DATE_OF_BIRTH", "STREET_ADDRESS", "POSTCODE",
                                             "IBAN_CODE", "CREDIT_CARD", "PERSONAL_URL"}  # fmt: skip


def test_the_work_around_candidates_grows_linearly_with_the_text(redactor):
    work = []
    for copies in (10, 20, 40):
        text = BLOCK * copies
        before = pii_scan.stats()[1]
        redactor.find(text, "es", "ES")
        work.append(pii_scan.stats()[1] - before)
        candidates = pii_scan.scan(text)
        assert sum(len(v) for v in candidates.spans.values()) == copies * len(
            [s for v in pii_scan.scan(BLOCK).spans.values() for s in v]
        )
    # characters examined around candidates: proportional to the text (a constant per copy, up to the last copy)
    per_copy = [w / c for w, c in zip(work, (10, 20, 40), strict=True)]
    assert max(per_copy) - min(per_copy) <= 0.05 * min(per_copy)
    assert work[2] < 4.2 * work[0]


def test_fast_path_and_stock_presidio_agree_with_the_new_recognizers(redactor):
    text = BLOCK + "Contact: +49 30 1234567, Hauptstraße 5, 10115 Berlin, geboren am 3. März 1985."
    fast = {(r.start, r.end, r.entity_type, round(r.score, 6)) for r in redactor.analyze(text, "es", "ES")}
    stock = {
        (r.start, r.end, r.entity_type, round(r.score, 6)) for r in redactor.analyze_with_presidio(text, "es", "ES")
    }
    assert fast == stock and len(fast) >= 8
