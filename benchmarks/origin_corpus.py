"""Planted origin signals for the benchmark corpus (`corpus.py --origin-signals`): generic-domain pages whose true
country is known, and, on every page, the evidence a real site of that country often carries, each only sometimes:
the server's IP address, locale tags, hreflang, og:locale, geo.region, schema.org addressCountry, a postal address,
a phone number, a price. Realistic noise too: sites on foreign content-delivery networks, CMS-default `en_US`
og:locale tags, and pages with no evidence at all.

Each page's signals come from their own random stream (seeded by page number), so the corpus's text, duplicates
and PII are the same as without `--origin-signals`.
"""

from __future__ import annotations

import random
from functools import lru_cache

GENERIC_TLDS = ("com", "org", "net", "eu", "info", "io", "co")
GENERIC_SHARE = 0.35

#: a street address per country, in the country's own format ({n} house number, {p} postcode digits)
ADDRESSES = {
    "DE": "Hafenstraße {n}, {p5} Hamburg", "FR": "{n} rue de la République, {p5} Lyon",
    "SE": "Storgatan {n}, {p3} {p2} Göteborg", "FI": "Satamakatu {n}, {p5} Helsinki",
    "ES": "Calle Mayor {n}, {p5} Madrid", "NL": "Havenstraat {n}, {p4} AB Rotterdam",
    "IT": "Via Roma {n}, {p5} Genova", "DK": "Havnegade {n}, {p4} København",
    "NO": "Havnegata {n}, {p4} Bergen", "PL": "ul. Portowa {n}, {p2}-{p3} Gdańsk",
    "PT": "Rua do Porto {n}, {p4}-{p3} Lisboa", "CZ": "Přístavní ulice {n}, {p3} {p2} Praha",
    "GB": "{n} Harbour Road, Bristol BS1 {n1}RN", "JP": "〒{p3}-{p4} 東京都千代田区丸の内 {n}",
    "IS": "Hafnarstræti {n}, 1{p2} Reykjavík", "TR": "Atatürk Cad. No: {n}, 34{p3} Kadıköy/İstanbul",
    "RU": "ул. Портовая, д. {n}, Москва, 125{p3}", "CN": "北京市朝阳区建国路{n}号，邮编：100{p3}",
    "IN": "{n}, जनपथ मार्ग, नई दिल्ली - 110{p3}", "ID": "Jl. Pelabuhan No. {n}, Jakarta Utara 14{p3}",
    "KR": "(0{p4}) 서울특별시 중구 세종대로 {n}", "SA": "طريق الملك فهد {n}، حي العليا، الرياض 12{p3}",
    "TH": "{n} ถนนสุขุมวิท แขวงคลองเตย เขตคลองเตย กรุงเทพฯ 10{p3}", "VN": "Số {n} Phố Tràng Tiền, Hoàn Kiếm, Hà Nội 1{p4}",
}  # fmt: skip
CURRENCY = {"GB": "£{v}", "SE": "{v} SEK", "DK": "{v} DKK", "NO": "{v} NOK", "PL": "{v} zł", "CZ": "{v} Kč",
            "JP": "{v}円", "KR": "₩{v}", "CN": "{v}元", "IN": "₹{v}", "TH": "฿{v}", "VN": "{v}₫", "SA": "{v} SAR",
            "TR": "₺{v}", "RU": "{v} ₽", "IS": "{v} ISK", "ID": "IDR {v}"}  # fmt: skip
CONTACT = {"de": "Telefon", "fr": "Tél.", "sv": "Tfn", "fi": "Puh.", "es": "Teléfono", "nl": "Telefoon",
           "it": "Telefono", "da": "Telefon", "no": "Telefon", "pl": "Tel.", "pt": "Tel.", "cs": "Tel."}  # fmt: skip
CDN_COUNTRIES = ("US", "US", "US", "IE", "NL")
NEIGHBOURS = ("DE", "FR", "SE", "FI", "NL", "PL", "JP", "SG", "RU", "IN")


@lru_cache(maxsize=64)
def country_ips(cc: str, want: int = 8) -> tuple[str, ...]:
    """Some public addresses the installed IP database assigns to `cc` (deterministic for one database)."""
    import iptocc

    cands = [f"{a}.{b}.{(a * 7 + b) % 256}.{1 + (a + b) % 250}" for a in range(1, 224) for b in range(0, 256, 3)]
    found = [ip for ip, got in zip(cands, iptocc.country_code(cands), strict=True) if got == cc]
    return tuple(found[:: max(1, len(found) // want)][:want])


@lru_cache(maxsize=64)
def _phone(cc: str) -> object | None:
    import phonenumbers

    return phonenumbers.example_number_for_type(cc, phonenumbers.PhoneNumberType.FIXED_LINE)


def plan(n: int, seed: int, lang: str, cctld_country: str, kind: str) -> dict:
    """What page `n` carries: `tld` (None: keep the ccTLD), `ip`, `headers`, `head` (HTML), `contact` (text)."""
    rng = random.Random(seed * 1_000_003 + n)
    cc = cctld_country
    out: dict = {"tld": None, "ip": None, "headers": [], "head": "", "contact": "", "lang_attr": lang}
    if kind == "new" and rng.random() < GENERIC_SHARE:
        out["tld"] = rng.choice(GENERIC_TLDS)
    if rng.random() < 0.9:
        r = rng.random()
        # hosted at home, on a content-delivery network, or at a hoster in another country of the corpus
        host = cc if r < 0.6 else rng.choice(CDN_COUNTRIES) if r < 0.9 else rng.choice(NEIGHBOURS)
        ips = country_ips(host)
        out["ip"] = rng.choice(ips) if ips else None
    region_tag = f"{lang}-{cc}"
    r = rng.random()
    if r < 0.6:
        out["lang_attr"] = region_tag
    elif r < 0.7:
        out["lang_attr"] = "en-US"  # a theme's default, whatever the site's language
    if rng.random() < 0.2:
        out["headers"].append(("Content-Language", region_tag))
    head = []
    if rng.random() < 0.2:
        head.append(f'<link rel="alternate" hreflang="{region_tag}" href="{{url}}">')
        head.append('<link rel="alternate" hreflang="x-default" href="{url}">')
    r = rng.random()
    if r < 0.4:
        head.append(f'<meta property="og:locale" content="{lang}_{cc}">')
    elif r < 0.5:
        head.append('<meta property="og:locale" content="en_US">')  # a CMS default, wrong for most sites
    if rng.random() < 0.05:
        head.append(f'<meta name="geo.region" content="{cc}">')
    if rng.random() < 0.1:
        head.append('<script type="application/ld+json">{"@context":"https://schema.org","@type":"NewsMediaOrganization",'
                    f'"address":{{"@type":"PostalAddress","addressCountry":"{cc}"}}}}</script>')  # fmt: skip
    out["head"] = "".join(head)
    contact = []
    if rng.random() < 0.25 and cc in ADDRESSES:
        contact.append(ADDRESSES[cc].format(n=rng.randint(1, 99), n1=rng.randint(1, 9), p2=rng.randint(10, 99),
                                            p3=rng.randint(100, 999), p4=rng.randint(1000, 9999),
                                            p5=rng.randint(10000, 99999)) + ".")  # fmt: skip
    if rng.random() < 0.3:
        num = _phone(cc)
        if num is not None:
            import phonenumbers

            if rng.random() < 0.6 or lang not in CONTACT:
                contact.append("Tel " + phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.INTERNATIONAL))
            else:
                contact.append(f"{CONTACT[lang]}: "
                               + phonenumbers.format_number(num, phonenumbers.PhoneNumberFormat.NATIONAL))  # fmt: skip
    if rng.random() < 0.1 and cc in CURRENCY:
        contact.append(CURRENCY[cc].format(v=rng.randint(2, 90) * 10))
    out["contact"] = " ".join(contact)
    out["contact_in_footer"] = rng.random() < 0.5
    return out
