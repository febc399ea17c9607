"""Reference tables for origin evidence: languages by country, single-country currencies, public second-level
domains, brand ccTLDs and coarse country boxes for ICBM coordinates. Small, reviewable, no downloads."""

from __future__ import annotations

#: where a language is the first language of a large share (about a fifth or more) of the population (ISO 639-1 →
#: ISO 3166-1); official minority or second languages (Swedish in Finland, English in India) are left out. The
#: language signal only counts when exactly one of the policy's jurisdictions is in the list: Spanish is not Spain.
LANG_COUNTRIES: dict[str, tuple[str, ...]] = {
    "en": ("GB", "US", "IE", "AU", "NZ", "CA"),
    "de": ("DE", "AT", "CH", "LI", "LU"),
    "fr": ("FR", "BE", "CH", "LU", "MC", "CA", "SN", "CI", "MA", "TN", "DZ"),
    "sv": ("SE",),
    "fi": ("FI",),
    "da": ("DK",),
    "no": ("NO",), "nb": ("NO",), "nn": ("NO",),
    "is": ("IS",),
    "nl": ("NL", "BE", "SR"),
    "it": ("IT", "CH", "SM", "VA"),
    "es": ("ES", "MX", "AR", "CO", "CL", "PE", "VE", "EC", "GT", "CU", "BO", "DO", "HN", "PY", "SV", "NI", "CR",
           "PA", "UY", "PR"),
    "pt": ("PT", "BR", "AO", "MZ", "CV"),
    "pl": ("PL",), "cs": ("CZ",), "sk": ("SK",), "hu": ("HU",), "ro": ("RO", "MD"), "bg": ("BG",),
    "hr": ("HR", "BA"), "sl": ("SI",), "sr": ("RS", "BA", "ME"), "et": ("EE",), "lv": ("LV",), "lt": ("LT",),
    "el": ("GR", "CY"), "mt": ("MT",), "ga": ("IE",), "cy": ("GB",), "uk": ("UA",), "be": ("BY",),
    "ru": ("RU", "BY", "KZ", "KG"), "tr": ("TR", "CY"), "ja": ("JP",), "ko": ("KR",), "zh": ("CN", "TW", "SG", "HK"),
    "ar": ("SA", "EG", "AE", "MA", "DZ", "IQ", "JO", "KW", "LB", "LY", "OM", "QA", "SY", "TN", "YE", "BH", "SD"),
    "he": ("IL",), "hi": ("IN",), "bn": ("BD",), "id": ("ID",), "ms": ("MY", "BN"), "th": ("TH",),
    "vi": ("VN",), "tl": ("PH",), "fa": ("IR", "AF"), "ur": ("PK",), "ka": ("GE",), "hy": ("AM",), "sq": ("AL",),
    "mk": ("MK",), "eu": ("ES",), "ca": ("ES", "AD"), "gl": ("ES",), "lb": ("LU",), "fo": ("FO",), "kl": ("GL",),
}  # fmt: skip

#: currency tokens that name one country (the euro, the krone/krona "kr" and the dollar sign name many: absent)
CURRENCIES: dict[str, str] = {
    "£": "GB", "GBP": "GB", "¥": "JP", "JPY": "JP", "円": "JP", "CHF": "CH", "zł": "PL", "PLN": "PL", "Kč": "CZ",
    "CZK": "CZ", "HUF": "HU", "Ft": "HU", "₽": "RU", "RUB": "RU", "руб": "RU", "₺": "TR", "TRY": "TR", "₩": "KR",
    "KRW": "KR", "원": "KR", "₹": "IN", "INR": "IN", "SEK": "SE", "NOK": "NO", "DKK": "DK", "ISK": "IS", "R$": "BR",
    "BRL": "BR", "SGD": "SG", "S$": "SG", "AUD": "AU", "A$": "AU", "CAD": "CA", "C$": "CA", "NZD": "NZ", "฿": "TH",
    "THB": "TH", "₫": "VN", "VND": "VN", "IDR": "ID", "SAR": "SA", "﷼": "SA", "CNY": "CN", "RMB": "CN", "元": "CN",
    "US$": "US", "USD": "US", "MXN": "MX", "RON": "RO", "lei": "RO", "BGN": "BG", "лв": "BG", "UAH": "UA", "₴": "UA",
    "₪": "IL", "ILS": "IL", "HKD": "HK", "TWD": "TW", "NT$": "TW", "ZAR": "ZA", "₦": "NG", "₱": "PH",
}  # fmt: skip

#: currencies written out after an amount, in the languages that use them (`20 kroner`, `150 złotych`, `50 TL`) →
#: the countries whose currency the word names; a word of several countries (kroner: Denmark, Norway, the Faroes,
#: Greenland) counts only for the one that speaks the page's language. Words that are also common nouns of their
#: language (Vietnamese đồng, Thai บาท as in บาทหลวง) and words shared by neighbours speaking one language (рубль:
#: Russia and Belarus; ريال: Saudi Arabia, Qatar, Oman, Yemen) are left out
CURRENCY_WORDS: dict[str, tuple[str, ...]] = {
    "kroner": ("DK", "NO", "FO", "GL"), "kronor": ("SE",), "krónur": ("IS", "FO"), "złotych": ("PL",),
    "złote": ("PL",), "złoty": ("PL",), "korun": ("CZ",), "forint": ("HU",), "TL": ("TR",), "rupiah": ("ID",),
    "रुपये": ("IN",), "रुपए": ("IN",), "yuan": ("CN",), "人民币": ("CN",),
}  # fmt: skip

#: public second-level (and a few first-level) domains reserved for one country's public bodies: strong evidence,
#: stronger than the ccTLD itself (a gov.uk page on a US content-delivery network is still British)
PUBLIC_SUFFIXES: dict[str, str] = {
    "gov": "US", "mil": "US", "fed.us": "US",
    "gov.uk": "GB", "ac.uk": "GB", "nhs.uk": "GB", "police.uk": "GB", "mod.uk": "GB", "parliament.uk": "GB",
    "gouv.fr": "FR", "gov.ie": "IE", "bund.de": "DE", "gv.at": "AT", "ac.at": "AT", "admin.ch": "CH",
    "gob.es": "ES", "gov.it": "IT", "gov.pl": "PL", "edu.pl": "PL", "gov.pt": "PT", "gov.cz": "CZ", "gov.gr": "GR",
    "gov.si": "SI", "gov.hr": "HR", "gov.lv": "LV", "gov.lt": "LT", "gov.ee": "EE", "gov.ro": "RO", "gov.bg": "BG",
    "gov.mt": "MT", "gov.cy": "CY", "gov.il": "IL", "ac.il": "IL", "gov.tr": "TR", "edu.tr": "TR", "gov.ru": "RU",
    "go.jp": "JP", "ac.jp": "JP", "lg.jp": "JP", "ed.jp": "JP", "go.kr": "KR", "ac.kr": "KR", "gov.cn": "CN",
    "edu.cn": "CN", "gov.tw": "TW", "edu.tw": "TW", "gov.hk": "HK", "gov.sg": "SG", "edu.sg": "SG", "gov.my": "MY",
    "go.id": "ID", "ac.id": "ID", "go.th": "TH", "ac.th": "TH", "gov.vn": "VN", "gov.ph": "PH", "gov.in": "IN",
    "nic.in": "IN", "ac.in": "IN", "gov.sa": "SA", "gov.ae": "AE", "gov.au": "AU", "edu.au": "AU", "govt.nz": "NZ",
    "ac.nz": "NZ", "gc.ca": "CA", "gov.br": "BR", "edu.br": "BR", "gob.mx": "MX", "gob.ar": "AR", "gov.ar": "AR",
    "gob.cl": "CL", "gov.co": "CO", "gov.za": "ZA", "ac.za": "ZA", "gov.ng": "NG", "go.ke": "KE", "gov.eg": "EG",
}  # fmt: skip

#: ccTLDs sold worldwide as brands: they say nothing about the country (treated as generic)
BRAND_CCTLDS = frozenset(
    ("io", "co", "tv", "me", "ai", "fm", "ly", "to", "cc", "ws", "gg", "sh", "am", "la", "nu", "tk", "ml", "ga",
     "cf", "gq", "cx", "ac", "vc", "im")
)  # fmt: skip

#: coarse (south, west, north, east) boxes; an ICBM point counts only when it falls in exactly one box
COUNTRY_BOXES: dict[str, tuple[float, float, float, float]] = {
    "SE": (55.3, 11.1, 69.1, 24.2), "FI": (59.7, 20.5, 70.1, 31.6), "NO": (57.9, 4.6, 71.2, 31.1),
    "DK": (54.5, 8.0, 57.8, 15.2), "IS": (63.3, -24.6, 66.6, -13.5), "DE": (47.3, 5.9, 55.1, 15.0),
    "FR": (42.3, -4.8, 51.1, 8.2), "ES": (36.0, -9.3, 43.8, 3.3), "PT": (36.9, -9.5, 42.2, -6.2),
    "IT": (36.6, 6.6, 47.1, 18.5), "NL": (50.7, 3.3, 53.6, 7.2), "BE": (49.5, 2.5, 51.5, 6.4),
    "GB": (49.9, -8.2, 60.9, 1.8), "IE": (51.4, -10.5, 55.4, -6.0), "PL": (49.0, 14.1, 54.9, 24.2),
    "CZ": (48.5, 12.1, 51.1, 18.9), "AT": (46.4, 9.5, 49.0, 17.2), "CH": (45.8, 5.9, 47.8, 10.5),
    "HU": (45.7, 16.1, 48.6, 22.9), "GR": (34.8, 19.4, 41.8, 28.2), "TR": (35.8, 26.0, 42.1, 44.8),
    "JP": (24.0, 122.9, 45.6, 146.0), "KR": (33.1, 124.6, 38.6, 131.9), "SG": (1.15, 103.6, 1.48, 104.1),
    "TH": (5.6, 97.3, 20.5, 105.6), "VN": (8.4, 102.1, 23.4, 109.5), "IN": (6.7, 68.1, 35.5, 97.4),
}  # fmt: skip

#: country-code prefixes some sites write before a postcode (D-10115, F-75001, CH-8001, S-114 55)
POSTAL_PREFIXES: dict[str, str] = {
    "D": "DE", "DE": "DE", "F": "FR", "FR": "FR", "CH": "CH", "A": "AT", "AT": "AT", "S": "SE", "SE": "SE",
    "FI": "FI", "SF": "FI", "N": "NO", "NO": "NO", "DK": "DK", "I": "IT", "IT": "IT", "E": "ES", "ES": "ES",
    "NL": "NL", "B": "BE", "BE": "BE", "L": "LU", "LU": "LU", "PL": "PL", "CZ": "CZ", "H": "HU", "P": "PT",
}  # fmt: skip
