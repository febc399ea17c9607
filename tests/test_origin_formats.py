"""Origin evidence (issue 14, acceptance 1): the address and phone formats of the countries whose pages the signals
missed: postcode-last and labelled addresses (CN, IN, ID, KR, RU, SA, TH, VN), Turkish and Icelandic street
addresses, national phone numbers without a trunk 0, a phone number followed by a price, and the footer read again
in the detected language. Each format with realistic strings, and lookalikes that must not match."""

from __future__ import annotations

import pytest

from filters.origin import EvidenceConfig, OriginEvidence
from filters.origin.contact import footer_phones
from filters.origin.content import phone_signals, postal_signals

W = EvidenceConfig().weights
#: the benchmark's 24 countries plus neighbours sharing a script, a postcode length or a calling code
WORLD = ("GB", "DE", "FR", "SE", "FI", "ES", "NL", "IT", "DK", "NO", "PL", "PT", "CZ", "IS", "RU", "TR", "JP", "KR",
         "CN", "SA", "IN", "ID", "TH", "VN", "SG", "RO", "EG", "BY", "KZ", "AT", "CH")  # fmt: skip

ADDRESSES = [
    ("RU", "Адрес редакции: ул. Тверская, д. 7, Москва, 125009."),
    ("RU", "125009, г. Москва, ул. Тверская, д. 7"),
    ("RU", "Почтовый адрес: 190000, Санкт-Петербург, наб. реки Мойки, д. 12"),
    ("CN", "地址：北京市朝阳区建国路88号，邮编：100022。"),
    ("CN", "上海市黄浦区南京东路100号 200001"),
    ("CN", "邮政编码: 510000 广州市天河区"),
    ("IN", "पता: 12, जनपथ मार्ग, नई दिल्ली - 110001."),
    ("IN", "12 MG Marg, Sector 5, Noida, Uttar Pradesh 201301"),
    ("IN", "Connaught Place, Rajiv Nagar, New Delhi, PIN: 110001"),
    ("ID", "Jl. Merdeka Barat No. 12, Jakarta Pusat 10110."),
    ("ID", "Jalan Sudirman Kav. 52, Jakarta Selatan 12190"),
    ("ID", "Jl. Asia Afrika 8, Bandung, Kode Pos 40111"),
    ("KR", "(04524) 서울특별시 중구 세종대로 110"),
    ("KR", "서울특별시 종로구 사직로 161 우편번호 03045"),
    ("KR", "부산광역시 해운대구 센텀중앙로 79 (우)48058"),
    ("SA", "طريق الملك فهد، حي العليا، الرياض 12214."),
    ("SA", "ص.ب 1234 جدة 21411"),
    ("TH", "1 ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพฯ 10110"),
    ("TH", "99 หมู่ 3 ตำบลสุเทพ อำเภอเมือง จังหวัดเชียงใหม่ 50200"),
    ("VN", "Số 12 Phố Tràng Tiền, Hoàn Kiếm, Hà Nội 10000."),
    ("VN", "268 Lý Thường Kiệt, Phường 14, Quận 10, TP. Hồ Chí Minh 700000"),
    ("TR", "Atatürk Cad. No: 12, 34000 Kadıköy/İstanbul."),
    ("TR", "Cumhuriyet Mah. Halaskargazi Cad. No:5 34367 Şişli/İstanbul"),
    ("IS", "Laugavegur 12, 101 Reykjavík."),
    ("IS", "Hafnarstræti 20, 101 Reykjavík. 900 ISK"),
    ("IT", "Una partie di calcio. Via Roma 47, 45447 Genova."),  # a French "-tie" in the prose is not a Finnish street
    ("IT", "Via Vittoria 5, 00100 Roma."),  # the "tori" inside Vittoria is not a Finnish square
    ("NO", "Havnegata 37, 5573 Bergen. 130 NOK"),
    ("SE", "Storgatan 12, 312 92 Göteborg. 490 SEK"),
]

LOOKALIKES = [
    "В 2020 году на улице было 125000 человек.",  # a count, not after a comma, followed by a word
    "Население района, 125009 человек, живёт на улице Тверской.",
    "北京市有215000人在建国路工作。",  # no numbered street, no 邮编
    "2019年共有100022人",
    "कुल 150000 रुपये नगर निगम को दिए गए।",  # an amount followed by a word
    "Jalan-jalan ke Bali menghabiskan 50000 rupiah.",
    "Dia berjalan ke Jakarta 10110 kali.",
    "(12345) 사건",  # brackets without a road address
    "서울특별시 중구 인구 12345명",  # a road address without a bracketed or labelled postcode
    "بلغ عدد السكان في شارع الملك 12345 نسمة",
    "Quận Hoàn Kiếm có 150000 dân.",
    "tỉnh Nghệ An 150000 người",
    "Orchard Road, Singapore 238801.",  # Singapore's 6 digits are not an Indian PIN
    "Strada Victoriei 12, București 010061",  # nor Romania's
    "Storgata 12, 130 NOK",  # a price after a street is not an Icelandic postcode
    "Order 123456, delivered.",
    "Version 1.12345 released",
    "Tracking DE12345 Hamburg",
]


@pytest.mark.parametrize(("cc", "text"), ADDRESSES)
def test_address_formats_of_the_world(cc, text):
    got = postal_signals(text, WORLD, 0.45)
    assert [s.country for s in got] == [cc]
    assert not any(ch.isdigit() for ch in got[0].value)  # the value names the format, never the postcode


@pytest.mark.parametrize("text", LOOKALIKES)
def test_address_lookalikes_do_not_match(text):
    assert postal_signals(text, WORLD, 0.45) == []


def test_address_formats_count_only_for_the_policy_countries():
    assert postal_signals("Jl. Merdeka Barat No. 12, Jakarta Pusat 10110.", ("DE", "FR"), 0.45) == []
    assert postal_signals("(04524) 서울특별시 중구 세종대로 110", ("JP",), 0.45) == []


PHONES = [
    ("pl", "Redakcja, tel.: 12 345 67 89", "PL"),
    ("pt", "Contacto: Tel.: 21 234 5678", "PT"),
    ("no", "Telefon: 21 23 45 67", "NO"),
    ("no", "Sentralbord tlf. 21 23 45 67", "NO"),
    ("da", "Telefon: 32 12 34 56", "DK"),
    ("es", "Teléfono: 810 12 34 56", "ES"),
    ("cs", "Tel.: 212 345 678", "CZ"),
    ("ru", "Тел.: 8 (301) 123-45-67", "RU"),  # trunk 8; valid for KZ too, but not for its region
    ("is", "Sími 410 1234", "IS"),
    ("tr", "Tel: (0212) 345 67 89", "TR"),
    ("nl", "Telefoon: 010 123 4567", "NL"),
    ("is", "Tel +354 410 1234 880 ISK", "IS"),  # a price after the number
    ("vi", "Tel +84 210 1234 567 110₫", "VN"),
    ("ru", "Tel +7 301 123-45-67 560 ₽", "RU"),
    ("sv", "Tfn: 08-12 34 56 720 SEK", "SE"),
]


@pytest.mark.parametrize(("lang", "text", "cc"), PHONES)
def test_national_and_trailing_phone_formats(lang, text, cc):
    assert [s.country for s in phone_signals(text, lang, WORLD, 0.4)] == [cc]


@pytest.mark.parametrize(("lang", "text"), [
    ("da", "Tel Aviv 2019 2020 blev"),  # not a label right before the digits
    ("no", "Hotel 21 23 45 67"),
    ("pl", "Telewizja 12 345 67 89"),
    ("da", "telefonen kostede 3212 3456 kr"),
    ("no", "Tel: 2019-2020"),  # too short to be a number
])  # fmt: skip
def test_phone_lookalikes_do_not_match(lang, text):
    assert phone_signals(text, lang, WORLD, 0.4) == []


FOOTER = """<!doctype html><html lang="en-US"><head><title>Havneavisen</title></head><body>
<article><p>Det var travelt i havna.</p></article>
<footer>Havneavisen AS | Telefon: 21 23 45 67</footer></body></html>"""


def test_footer_phone_read_again_in_the_detected_language():
    ev = OriginEvidence(EvidenceConfig(), ("GB", "NO", "US"), {})
    page = ev.page_signals(FOOTER, {}, "https://havneavisen.com/a/1")
    assert [s for s in page if s.name == "phone"] == []  # read as English (the theme's lang): no English number
    again = footer_phones(page, "no", ev.jurisdictions, ev.weights)
    assert [(s.country, s.value) for s in again] == [("NO", "national format (NO) (page footer)")]
    assert footer_phones(page, "en", ev.jurisdictions, ev.weights) == []  # the language it was read with
    d = ev.decide("https://havneavisen.com/a/1", None, "Det var travelt i havna.", "no", page)
    assert ("phone", "NO") in {(s.name, s.country) for s in d.signals}  # weighed with the rest (en-US opposes)
    assert "21 23" not in str(d.detail())


@pytest.mark.parametrize(("lang", "text", "cc"), [
    ("no", "En brukerdose koster 20 kroner, sier Endresen.", "NO"),  # a Norwegian treebank sentence
    ("da", "Billetten koster 120 kroner.", "DK"),  # the same word, the other country that speaks Danish
    ("sv", "Det kan kosta 600 000 kronor.", "SE"),
    ("pl", "Bilet kosztuje 150 złotych.", "PL"),
    ("tr", "Fiyatı 50 TL.", "TR"),
    ("id", "Harganya 50.000 rupiah.", "ID"),
    ("hi", "कीमत 500 रुपये है।", "IN"),
])  # fmt: skip
def test_currency_written_out_after_an_amount(lang, text, cc):
    from filters.origin.content import currency_signals

    assert [s.country for s in currency_signals(text, 0.2, None, lang)] == [cc]


@pytest.mark.parametrize(("lang", "text"), [
    ("en", "It cost 20 kroner."),  # Danish or Norwegian: English does not say which
    ("no", "Vi fikk 5 kronerne tilbake."),  # not the word itself
    ("tr", "5 TLC kanalı"),
    ("pl", "W 2019 roku złoty kurs"),  # the word not after the amount
])  # fmt: skip
def test_currency_word_lookalikes(lang, text):
    from filters.origin.content import currency_signals

    assert currency_signals(text, 0.2, None, lang) == []


def test_a_locale_tag_wrong_about_the_language_says_nothing_about_the_region():
    from filters.origin import Signal
    from filters.origin.locale import check_tag_languages

    page = [Signal("html_lang", "US", "en-US", 0.35), Signal("og_locale", "NO", "nb_NO", 0.35),
            Signal("server_ip", "NO", "77.18.45.96", 0.4)]  # fmt: skip
    got = check_tag_languages(page, "no")
    assert got[0] == Signal("html_lang", "US", "en-US (page in no)", 0.0)  # kept for the ledger, at weight 0
    assert got[1:] == page[1:]  # nb is Norwegian; a server is not a tag
    assert check_tag_languages(page, "en")[0] == page[0] and check_tag_languages(page, "en")[1].weight == 0.0
    assert check_tag_languages(page, None) == page
    ev = OriginEvidence(EvidenceConfig(), ("GB", "NO", "US"), {})
    text = "Det var travelt i havna."
    with_theme = ev.decide("https://havneavisen.com/a/1", None, text, "no", page[:1] + page[2:])
    assert (with_theme.country, with_theme.confidence) == ("NO", 0.55)  # server + Norwegian, the theme's tag unheard
    assert with_theme.supporting == ("server_ip", "language")
    # the same page in English: the tag counts and contradicts the server
    english = ev.decide("https://havneavisen.com/a/1", None, "It was busy.", "en", page[:1] + page[2:])
    assert english.country is None and "contradicted by html_lang" in english.reason
