"""Generated PII evaluation sets: planted, labelled personal data of the policies' countries, and lookalikes.

`generate(n, seed)` returns `n` documents, each a `Labelled(text, lang, region, gold)`; gold spans carry the
evaluation categories of `benchmarks/pii_eval.py` (PHONE, DATE_OF_BIRTH, ADDRESS, POSTCODE, URL, IBAN, CARD,
EMAIL). Every document also holds unlabelled lookalikes that are not personal data (order and invoice numbers,
versions, years, amounts, ISBNs, blood pressures, dates that are not birth dates, organisations' URLs), so precision
is measured as well as recall. The same seed gives the same documents. Phone numbers are valid for their region
(libphonenumber), IBANs and cards pass their checks (python-stdnum), written in national formats and odd groupings,
with and without context words.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field


@dataclass
class Labelled:
    text: str
    lang: str
    region: str
    gold: list[tuple[int, int, str]] = field(default_factory=list)  # (start, end, category)
    name: str = ""


# per country: language, filler sentences, phone context word, birth cue, postcode cue, street and city builders
COUNTRIES = {
    "ES": {
        "lang": "es",
        "phone_cue": "Teléfono:",
        "birth": "Fecha de nacimiento:",
        "born": "nacida el",
        "pc_cue": "CP:",
        "filler": [
            "El paciente acudió a consulta por dolor abdominal de tres días de evolución.",
            "Se realizó una ecografía que no mostró alteraciones significativas.",
            "La reunión del consejo se celebró el martes por la tarde.",
        ],
        "streets": ["Calle {N} {n}", "Avda. de {N}, {n}, {f}º {L}", "C/ {N}, {n}", "Paseo de {N} {n}"],
        "cities": [("28013", "Madrid"), ("46017", "Valencia"), ("08005", "Barcelona"), ("41001", "Sevilla")],
        "months": [
            "enero",
            "febrero",
            "marzo",
            "abril",
            "mayo",
            "junio",
            "julio",
            "agosto",
            "septiembre",
            "octubre",
            "noviembre",
            "diciembre",
        ],
        "textual": "{d} de {m} de {y}",
        "numeric": "{d:02d}/{mo:02d}/{y}",
        "names": ["Goya", "Cervantes", "Alcalá", "la Castellana", "Monforte"],
    },
    "DE": {
        "lang": "de",
        "phone_cue": "Tel.",
        "birth": "Geburtsdatum:",
        "born": "geboren am",
        "pc_cue": "PLZ",
        "filler": [
            "Die Sitzung des Gemeinderats fand am Dienstagabend statt.",
            "Der Bericht wurde nach der Prüfung veröffentlicht.",
            "Die Ergebnisse der Untersuchung waren unauffällig.",
        ],
        "streets": ["{N}straße {n}", "{N}weg {n}a", "{N}allee {n}"],
        "cities": [("10115", "Berlin"), ("80331", "München"), ("50667", "Köln"), ("20095", "Hamburg")],
        "months": [
            "Januar",
            "Februar",
            "März",
            "April",
            "Mai",
            "Juni",
            "Juli",
            "August",
            "September",
            "Oktober",
            "November",
            "Dezember",
        ],
        "textual": "{d}. {m} {y}",
        "numeric": "{d:02d}.{mo:02d}.{y}",
        "names": ["Haupt", "Linden", "Goethe", "Schiller", "Berg"],
    },
    "FR": {
        "lang": "fr",
        "phone_cue": "Tél. :",
        "birth": "Date de naissance :",
        "born": "née le",
        "pc_cue": "code postal",
        "filler": [
            "Le conseil municipal s'est réuni mardi soir.",
            "Le rapport a été publié après vérification.",
            "Les résultats de l'examen étaient normaux.",
        ],
        "streets": ["{n}, rue {N}", "{n} avenue de {N}", "{n} boulevard {N}"],
        "cities": [("75002", "Paris"), ("69001", "Lyon"), ("13001", "Marseille"), ("31000", "Toulouse")],
        "months": [
            "janvier",
            "février",
            "mars",
            "avril",
            "mai",
            "juin",
            "juillet",
            "août",
            "septembre",
            "octobre",
            "novembre",
            "décembre",
        ],
        "textual": "{d} {m} {y}",
        "numeric": "{d:02d}/{mo:02d}/{y}",
        "names": ["Victor Hugo", "la Paix", "Voltaire", "Pasteur", "Gambetta"],
    },
    "GB": {
        "lang": "en",
        "phone_cue": "Phone:",
        "birth": "Date of birth:",
        "born": "born on",
        "pc_cue": "postcode",
        "filler": [
            "The council met on Tuesday evening.",
            "The report was published after review.",
            "The results of the examination were normal.",
        ],
        "streets": ["{n} {N} Street", "{n} {N} Road", "Flat {f}, {n} {N} Lane"],
        "cities": [
            ("SW1A 1AA", "London"),
            ("M1 1AE", "Manchester"),
            ("EH1 1YZ", "Edinburgh"),
            ("B2 4QA", "Birmingham"),
        ],
        "months": [
            "January",
            "February",
            "March",
            "April",
            "May",
            "June",
            "July",
            "August",
            "September",
            "October",
            "November",
            "December",
        ],
        "textual": "{d} {m} {y}",
        "numeric": "{d:02d}/{mo:02d}/{y}",
        "names": ["Baker", "Church", "Station", "Victoria", "Mill"],
    },
    "IT": {
        "lang": "it",
        "phone_cue": "Tel.",
        "birth": "Data di nascita:",
        "born": "nata il",
        "pc_cue": "CAP",
        "filler": [
            "Il consiglio comunale si è riunito martedì sera.",
            "La relazione è stata pubblicata dopo la verifica.",
            "Gli esami non hanno mostrato alterazioni.",
        ],
        "streets": ["Via {N} {n}", "Viale {N}, {n}", "Piazza {N} {n}"],
        "cities": [("00184", "Roma"), ("20121", "Milano"), ("50122", "Firenze"), ("80133", "Napoli")],
        "months": [
            "gennaio",
            "febbraio",
            "marzo",
            "aprile",
            "maggio",
            "giugno",
            "luglio",
            "agosto",
            "settembre",
            "ottobre",
            "novembre",
            "dicembre",
        ],
        "textual": "{d} {m} {y}",
        "numeric": "{d:02d}/{mo:02d}/{y}",
        "names": ["Roma", "Garibaldi", "Mazzini", "Dante", "Verdi"],
    },
    "SE": {
        "lang": "sv",
        "phone_cue": "Tel.",
        "birth": "Födelsedatum:",
        "born": "född den",
        "pc_cue": "postnummer",
        "filler": [
            "Kommunfullmäktige samlades på tisdagskvällen.",
            "Rapporten publicerades efter granskning.",
            "Undersökningen visade inga avvikelser.",
        ],
        "streets": ["{N}gatan {n}", "{N}vägen {n}"],
        "cities": [("114 55", "Stockholm"), ("411 04", "Göteborg"), ("211 20", "Malmö"), ("753 10", "Uppsala")],
        "months": [
            "januari",
            "februari",
            "mars",
            "april",
            "maj",
            "juni",
            "juli",
            "augusti",
            "september",
            "oktober",
            "november",
            "december",
        ],
        "textual": "{d} {m} {y}",
        "numeric": "{y}-{mo:02d}-{d:02d}",
        "names": ["Drottning", "Kungs", "Stor", "Sveav", "Birger Jarls"],
    },
    "NL": {
        "lang": "nl",
        "phone_cue": "Telefoon:",
        "birth": "Geboortedatum:",
        "born": "geboren op",
        "pc_cue": "postcode",
        "filler": [
            "De gemeenteraad vergaderde dinsdagavond.",
            "Het rapport werd na controle gepubliceerd.",
            "Het onderzoek liet geen afwijkingen zien.",
        ],
        "streets": ["{N}straat {n}", "{N}laan {n}", "{N}gracht {n}"],
        "cities": [
            ("1012 AB", "Amsterdam"),
            ("3011 AD", "Rotterdam"),
            ("2511 CV", "Den Haag"),
            ("3511 LX", "Utrecht"),
        ],
        "months": [
            "januari",
            "februari",
            "maart",
            "april",
            "mei",
            "juni",
            "juli",
            "augustus",
            "september",
            "oktober",
            "november",
            "december",
        ],
        "textual": "{d} {m} {y}",
        "numeric": "{d:02d}-{mo:02d}-{y}",
        "names": ["Kalver", "Prinsen", "Heeren", "Meer", "Keizers"],
    },
}
IBAN_EXAMPLES = {"ES": "ES9121000418450200051332", "DE": "DE89370400440532013000", "FR": "FR1420041010050500013M02606",
                 "GB": "GB29NWBK60161331926819", "IT": "IT60X0542811101000000123456",
                 "SE": "SE4550000000058398257466", "NL": "NL91ABNA0417164300"}  # fmt: skip
FIRST = ["ana", "jan", "marie", "luca", "sofia", "erik", "emma", "pablo", "lena", "tom"]
LAST = ["garcia", "schmidt", "martin", "rossi", "andersson", "devries", "smith", "lopez", "muller", "bernard"]
PERSONAL_URLS = ["https://www.facebook.com/{f}.{l}", "https://github.com/{f}{l}", "https://www.linkedin.com/in/{f}-{l}-{n}",
                 "https://example.org/~{f}{l}/", "www.foro-salud.es/usuarios/{f}_{l}", "https://twitter.com/{f}_{l}",
                 "https://mastodon.social/@{f}{l}", "https://www.instagram.com/{f}.{l}{n}/",
                 "blog.example.de/profil/{f}-{l}", "https://portal.example.com/view?user={f}{l}"]  # fmt: skip
OTHER_URLS = ["https://www.who.int/news/item/2024-05-01", "www.boe.es/diario_boe/", "https://github.com/about",
              "https://www.facebook.com/help", "https://en.wikipedia.org/wiki/Madrid", "https://www.bund.de/DE/Home/",
              "http://www.legifrance.gouv.fr/affichTexte.do"]  # fmt: skip
LOOKALIKES = ["order no. {a}-{b}-{c}", "Pedido {a}{b}{c}", "Rechnung Nr. FAC-2023-{b}", "version {v}",
              "ISBN 978-3-16-148410-0", "in {y}", "{amount} €", "TA 120/80 mmHg", "Termin am {d}.{mo}.2024",
              "la cita del {d}/{mo}/2023", "Ref. {mo}/2023", "tracking 1Z999AA1{a}{b}", "{a} {b} {c}",
              "Ticket #{a}{b}", "v{v} (build {a}{b})", "glucosa 105 mg/dl", "du {d}/{mo}/2022 au {d}/{mo}/2023"]  # fmt: skip


def _phone(rng: random.Random, region: str) -> str:
    """A valid number of the region, in national or international format (or with odd separators)."""
    import phonenumbers
    from phonenumbers import PhoneNumberFormat, PhoneNumberType

    kind = rng.choice([PhoneNumberType.MOBILE, PhoneNumberType.FIXED_LINE])
    example = phonenumbers.example_number_for_type(region, kind) or phonenumbers.example_number(region)
    national = str(example.national_number)
    for _ in range(200):
        digits = national[:-4] + "".join(rng.choice("0123456789") for _ in range(4))
        number = phonenumbers.parse("+" + str(example.country_code) + digits, None)
        if phonenumbers.is_valid_number(number):
            break
    else:
        number = example
    style = rng.random()
    if style < 0.45:
        return phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    if style < 0.8:
        return phonenumbers.format_number(number, PhoneNumberFormat.INTERNATIONAL)
    text = phonenumbers.format_number(number, PhoneNumberFormat.NATIONAL)
    return text.replace(" ", rng.choice(["-", ".", " "]))


def _iban(rng: random.Random, country: str) -> str:
    from stdnum import iban

    base = IBAN_EXAMPLES[country]
    for _ in range(300):
        bban = "".join(rng.choice("0123456789") if c.isdigit() else c for c in base[4:])
        candidate = country + iban.calc_check_digits(country + "00" + bban) + bban
        if iban.is_valid(candidate):
            break
    else:
        candidate = base
    style = rng.randrange(6)
    if style == 0:
        return " ".join(candidate[i : i + 4] for i in range(0, len(candidate), 4))
    if style == 1:
        return candidate
    if style == 2:
        return "-".join(candidate[i : i + 4] for i in range(0, len(candidate), 4))
    if style == 3:
        return candidate[:4] + " " + " ".join(candidate[i : i + 3] for i in range(4, len(candidate), 3))
    if style == 4:
        return (candidate[:2] + " " + candidate[2:4] + " " + candidate[4:12] + " " + candidate[12:]).lower()
    return candidate[:12] + " " + candidate[12:]


def _card(rng: random.Random) -> str:
    from stdnum import luhn

    prefix, length = rng.choice([("4", 16), ("51", 16), ("55", 16), ("37", 15), ("34", 15), ("6011", 16), ("4", 13)])
    body = prefix + "".join(rng.choice("0123456789") for _ in range(length - len(prefix) - 1))
    number = body + luhn.calc_check_digit(body)
    if length == 15:
        groups = [number[:4], number[4:10], number[10:]]
    else:
        groups = [number[i : i + 4] for i in range(0, length, 4)]
    return rng.choice([" ", "-", "", "  ", " - "]).join(groups)


def _fill(template: str, rng: random.Random, names: list[str]) -> str:
    return template.format(N=rng.choice(names), n=rng.randint(1, 250), f=rng.randint(1, 9), L=rng.choice("ABCD"))


def _items(rng: random.Random, country: str) -> list[list[tuple[str, str | None]]]:
    """Sentences as (text piece, category or None) lists."""
    c = COUNTRIES[country]
    first, last = rng.choice(FIRST), rng.choice(LAST)
    y, mo, d = rng.randint(1935, 2005), rng.randint(1, 12), rng.randint(1, 28)
    date = (c["textual"] if rng.random() < 0.5 else c["numeric"]).format(d=d, mo=mo, y=y, m=c["months"][mo - 1])
    code, city = rng.choice(c["cities"])
    street = _fill(rng.choice(c["streets"]), rng, c["names"])
    url = rng.choice(PERSONAL_URLS).format(f=first, l=last, n=rng.randint(10, 99))
    phone_cue = c["phone_cue"] if rng.random() < 0.6 else ""
    return [
        [(f"{phone_cue} " if phone_cue else "", None), (_phone(rng, country), "PHONE"), (".", None)],
        [(f"{rng.choice([c['birth'], c['born']])} ", None), (date, "DATE_OF_BIRTH"), (".", None)],
        [(street, "ADDRESS"), (", ", None), (code, "POSTCODE"), (f" {city}.", None)]
        if country != "GB"
        else [(street, "ADDRESS"), (f", {city} ", None), (code, "POSTCODE"), (".", None)],
        [(f"{c['pc_cue']} ", None), (rng.choice(c["cities"])[0], "POSTCODE"), (".", None)],
        [("Web: ", None), (url, "URL"), (" ", None)],
        [("IBAN ", None), (_iban(rng, country), "IBAN"), (".", None)],
        [("Visa/Mastercard: " if rng.random() < 0.5 else "", None), (_card(rng), "CARD"), (".", None)],
        [(f"{first}.{last}@example.{rng.choice(['com', 'es', 'de', 'fr'])}", "EMAIL"), (".", None)],
    ]


def _lookalike(rng: random.Random) -> str:
    return rng.choice(LOOKALIKES).format(
        a=rng.randint(1000, 9999), b=rng.randint(100, 999), c=rng.randint(1000, 9999), y=rng.randint(1950, 2025),
        v=f"{rng.randint(1, 12)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}", amount=f"{rng.randint(1, 999)}.{rng.randint(100, 999)},{rng.randint(10, 99)}",
        d=rng.randint(1, 28), mo=rng.randint(1, 12),
    )  # fmt: skip


def generate(n: int = 300, seed: int = 18, countries: tuple[str, ...] = tuple(COUNTRIES)) -> list[Labelled]:
    """`n` short documents (about 0.5-1.2 KB), countries in turn, deterministic for a seed."""
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        country = countries[i % len(countries)]
        c = COUNTRIES[country]
        sentences: list[list[tuple[str, str | None]]] = [
            [(rng.choice(c["filler"]), None)] for _ in range(rng.randint(4, 10))
        ]
        sentences += rng.sample(_items(rng, country), rng.randint(3, 6))
        sentences += [[(f"{_lookalike(rng)}.", None)] for _ in range(rng.randint(2, 4))]
        sentences += [[(rng.choice(OTHER_URLS), None)]] if rng.random() < 0.4 else []
        rng.shuffle(sentences)
        text, gold = "", []
        for sentence in sentences:
            for piece, category in sentence:
                if category:
                    gold.append((len(text), len(text) + len(piece), category))
                text += piece
            text += rng.choice([" ", " ", "\n"])
        docs.append(Labelled(text, c["lang"], country, gold, f"gen-{i:04d}-{country}"))
    return docs


def concatenate(docs: list[Labelled], per_doc: int) -> list[Labelled]:
    """Long documents: `per_doc` consecutive documents joined by a blank line, gold offsets shifted."""
    out = []
    for i in range(0, len(docs) - per_doc + 1, per_doc):
        part = docs[i : i + per_doc]
        text, gold = "", []
        for d in part:
            gold += [(s + len(text), e + len(text), c) for s, e, c in d.gold]
            text += d.text + "\n\n"
        out.append(Labelled(text, part[0].lang, part[0].region, gold, f"{part[0].name}+{per_doc - 1}"))
    return out
