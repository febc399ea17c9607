"""The demo: a small multilingual corpus written by Terroir itself, and a run of the demo policy over it.

The corpus holds what a real intake holds: web pages in eight languages (with planted e-mail addresses, IBANs and
card numbers, exact duplicates, a near duplicate, rights reservations, an unknown-origin site, a gzip-encoded
response, an error page and an image), a digitized newspaper (ALTO pages grouped into articles by METS, with
hyphenated line ends), a TEI text, and a JSONL dump with one malformed line. Generation is deterministic.
"""

from __future__ import annotations

import gzip
import io
import json
import random
import shutil
import uuid
from pathlib import Path
from xml.sax.saxutils import escape, quoteattr

from pipelines.tools.demo_text import CARD, CONTACT, DONATE, SENTENCES

SEED = 20261123
TLD = {"en": "co.uk", "de": "de", "fr": "fr", "sv": "se", "fi": "fi", "es": "es", "nl": "nl", "it": "it"}
SITE = {"en": "harbourtimes", "de": "hafenblatt", "fr": "journal-du-port", "sv": "hamnbladet", "fi": "satamasanomat",
        "es": "diariodelpuerto", "nl": "havenkrant", "it": "gazzettadelporto"}  # fmt: skip
IBAN_BBAN = {"de": ("DE", 18), "sv": ("SE", 20), "fi": ("FI", 14), "nl": ("NL", None), "es": ("ES", 20),
             "fr": ("FR", 23), "it": ("IT", None), "en": ("GB", None)}  # fmt: skip
FIRST = ["anna", "lars", "mika", "sofia", "jonas", "elena", "pieter", "giulia", "claire", "tomas"]
LAST = ["lindqvist", "virtanen", "schneider", "moreau", "garcia", "jansen", "rossi", "walsh", "berg", "nieminen"]


def _iban(rng: random.Random, lang: str) -> str:
    from stdnum import iban

    country, n = IBAN_BBAN[lang]
    for _ in range(100_000):
        if country == "NL":
            bban = "ABNA" + "".join(rng.choice("0123456789") for _ in range(10))
        elif country == "IT":
            bban = rng.choice("ABCDEFGHIJ") + "".join(rng.choice("0123456789") for _ in range(22))
        elif country == "GB":
            bban = "NWBK" + "".join(rng.choice("0123456789") for _ in range(14))
        else:
            bban = "".join(rng.choice("0123456789") for _ in range(n))
        digits = "".join(str(int(c, 36)) for c in bban + country + "00")
        check = 98 - int(digits) % 97
        candidate = f"{country}{check:02d}{bban}"
        if iban.is_valid(candidate):
            return " ".join(candidate[i : i + 4] for i in range(0, len(candidate), 4))
    raise RuntimeError(f"could not make a valid {country} IBAN")


def _card(rng: random.Random) -> str:
    digits = [rng.choice([4, 5])] + [rng.randrange(10) for _ in range(14)]
    if digits[0] == 5:
        digits[1] = rng.randrange(1, 6)
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = d * 2 if i % 2 == 0 else d
        total += d - 9 if d > 9 else d
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return " ".join(s[i : i + 4] for i in range(0, 16, 4))


def _email(rng: random.Random, domain: str) -> str:
    return f"{rng.choice(FIRST)}.{rng.choice(LAST)}@{domain}"


def _paragraphs(rng: random.Random, lang: str, n_par: int = 3, per_par: int = 3) -> list[str]:
    pool = rng.sample(SENTENCES[lang], min(len(SENTENCES[lang]), n_par * per_par))
    return [" ".join(pool[i : i + per_par]) for i in range(0, len(pool), per_par)]


def _html(title: str, paragraphs: list[str], lang: str, extra_head: str = "") -> str:
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paragraphs)
    nav = '<nav><a href="/">Home</a> | <a href="/news">News</a> | <a href="/contact">Contact</a></nav>'
    return (f'<!doctype html>\n<html lang="{lang}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"{extra_head}</head>\n<body>{nav}\n<article><h1>{escape(title)}</h1>\n{body}\n</article>\n"
            "<footer>© Demo Press</footer></body></html>\n")  # fmt: skip


class _Warc:
    def __init__(self, path: Path) -> None:
        from warcio.warcwriter import WARCWriter

        self._f = open(path, "wb")  # noqa: SIM115 - closed by close()
        self._w = WARCWriter(self._f, gzip=True)
        self._n = 0

    def response(self, url: str, body: bytes, ctype: str = "text/html; charset=utf-8", status: str = "200 OK",
                 headers: list[tuple[str, str]] | None = None, ip: str | None = None) -> None:  # fmt: skip
        from warcio.statusandheaders import StatusAndHeaders

        self._n += 1
        h = [("Content-Type", ctype), ("Content-Length", str(len(body)))] + (headers or [])
        http = StatusAndHeaders(status, h, protocol="HTTP/1.1")
        rid = f"<urn:uuid:{uuid.uuid5(uuid.NAMESPACE_URL, f'{url}#{self._n}')}>"
        rec = self._w.create_warc_record(
            url, "response", payload=io.BytesIO(body), http_headers=http,
            warc_headers_dict={"WARC-Date": f"2026-0{1 + self._n % 9}-15T10:00:00Z", "WARC-Record-ID": rid,
                               **({"WARC-IP-Address": ip} if ip else {})},
        )  # fmt: skip
        self._w.write_record(rec)

    def close(self) -> None:
        self._f.close()


def write_web(folder: Path, rng: random.Random) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    warc = _Warc(folder / "demo-crawl.warc.gz")
    planted: dict[str, list[str]] = {"email": [], "iban": [], "card": []}
    pages: dict[tuple[str, int], str] = {}
    for lang, tld in TLD.items():
        domain = f"{SITE[lang]}.{tld}"
        for i in range(4):
            paras = _paragraphs(rng, lang)
            if i == 0:
                email = _email(rng, domain)
                planted["email"].append(email)
                paras[1] += " " + CONTACT[lang].format(email=email)
            elif i == 1:
                acct = _iban(rng, lang)
                planted["iban"].append(acct)
                paras[2] += " " + DONATE[lang].format(iban=acct)
            elif i == 2:
                card = _card(rng)
                planted["card"].append(card)
                paras[0] += " " + CARD[lang].format(card=card)
            html = _html(f"{SITE[lang]} {i + 1}", paras, lang)
            pages[(lang, i)] = html
            url = f"https://www.{domain}/news/{i + 1}"
            if lang == "de" and i == 3:
                # served gzip-compressed, as many servers do; the reader must decode it
                warc.response(url, gzip.compress(html.encode(), mtime=0), headers=[("Content-Encoding", "gzip")])
            else:
                warc.response(url, html.encode())
    # exact duplicates: syndicated copies on other sites of the same country
    warc.response("https://www.mirror-nachrichten.de/artikel/1", pages[("de", 0)].encode())
    warc.response("https://www.kustposten.se/nyheter/1", pages[("sv", 0)].encode())
    # a near duplicate: the same article with one sentence changed
    near = pages[("fr", 3)].replace("</article>", "<p>Mise à jour : la réunion a été reportée d'une semaine.</p></article>")
    warc.response("https://www.echo-du-littoral.fr/actu/4", near.encode())
    # rights reservations (TDMRep header, meta robots noai) and an unknown-origin site
    warc.response("https://www.tidningen-reserverad.se/a/1", _html("Reserverad", _paragraphs(rng, "sv"), "sv").encode(),
                  headers=[("tdm-reservation", "1")])  # fmt: skip
    warc.response("https://www.kein-ki.de/a/1", _html(
        "Kein KI-Training", _paragraphs(rng, "de"), "de", '<meta name="robots" content="noai, noimageai">').encode())
    warc.response("https://global-news.example.com/story/1", _html("Global", _paragraphs(rng, "en"), "en").encode())
    # a generic-domain site placed by origin evidence: a German server, a de-DE locale and a Hamburg address
    address = "Redaktion: Hafenstraße 12, 20457 Hamburg. Telefon +49 40 3099 1234."
    warc.response("https://www.hafenkurier-online.com/artikel/1", _html(
        "Hafenkurier", [*_paragraphs(rng, "de"), address], "de-DE", '<meta property="og:locale" content="de_DE">'
    ).encode(), headers=[("Content-Language", "de-DE")], ip="217.160.0.1")  # fmt: skip
    warc.response("https://www.minato-shimbun.jp/news/1",
                  _html("港新聞", [" ".join(SENTENCES["ja"])], "ja").encode())  # fmt: skip
    # what a crawl also holds: an error page, an image, and a page with no main text
    warc.response("https://www.hamnbladet.se/missing", b"<html><body>Not found</body></html>", status="404 Not Found")
    warc.response("https://www.hamnbladet.se/logo.png", b"\x89PNG\r\n\x1a\n" + bytes(64), ctype="image/png")
    warc.response("https://www.havenkrant.nl/menu", b"<html><body><nav><a href='/'>Home</a></nav></body></html>")
    warc.close()
    return planted


def _alto_lines(text: str, width: int = 44) -> list[list[tuple[str, str | None]]]:
    """Wrap text into lines of (word, hyphenation part) pairs, hyphenating long words that do not fit."""
    lines: list[list[tuple[str, str | None]]] = [[]]
    used = 0
    for word in text.split():
        room = width - used - (1 if used else 0)
        if len(word) <= room:
            lines[-1].append((word, None))
            used += len(word) + (1 if used else 0)
        elif len(word) >= 9 and room >= 4 and word.isalpha():
            cut = max(3, min(room - 1, len(word) - 3))
            lines[-1].append((word[:cut], "HypPart1"))
            lines.append([(word[cut:], "HypPart2")])
            used = len(word) - cut
        else:
            lines.append([(word, None)])
            used = len(word)
    return [ln for ln in lines if ln]


def _alto_page(page_no: int, blocks: list[tuple[str, str]]) -> str:
    out = ['<?xml version="1.0" encoding="UTF-8"?>',
           '<alto xmlns="http://www.loc.gov/standards/alto/ns-v4#">',
           "<Description><MeasurementUnit>pixel</MeasurementUnit></Description>",
           f'<Layout><Page ID="P{page_no}" PHYSICAL_IMG_NR="{page_no}" HEIGHT="3000" WIDTH="2000">',
           '<PrintSpace HPOS="0" VPOS="0" HEIGHT="3000" WIDTH="2000">']  # fmt: skip
    for b, (block_id, text) in enumerate(blocks):
        out.append(f'<TextBlock ID="{block_id}">')
        for ln, line in enumerate(_alto_lines(text)):
            out.append(f'<TextLine ID="{block_id}_L{ln}">')
            full = None
            for w, (word, part) in enumerate(line):
                if w:
                    out.append("<SP/>")
                attrs = f"CONTENT={quoteattr(word)}"
                if part:
                    if part == "HypPart1":
                        full = word + line_next_first(text, word)
                    attrs += f' SUBS_TYPE="{part}"'
                out.append(f"<String {attrs}/>")
            if line[-1][1] == "HypPart1":
                out.append('<HYP CONTENT="-"/>')
            out.append("</TextLine>")
            del full
        out.append("</TextBlock>")
    out.append("</PrintSpace></Page></Layout></alto>")
    return "\n".join(out) + "\n"


def line_next_first(text: str, part: str) -> str:  # the rest of a hyphenated word, for SUBS_CONTENT if wanted
    for w in text.split():
        if w.startswith(part) and len(w) > len(part):
            return w[len(part):]
    return ""


def write_library(folder: Path, rng: random.Random) -> None:
    issue = folder / "newspaper-1907-03-02"
    (issue / "alto").mkdir(parents=True, exist_ok=True)
    # Finland's press is bilingual: Finnish and Swedish articles in one issue
    articles = [("fi", 4), ("sv", 4), ("fi", 3)]
    texts = [" ".join(rng.sample(SENTENCES[lang], n)) for lang, n in articles]
    page1 = [("P1_TB1", texts[0]), ("P1_TB2", texts[1][: len(texts[1]) // 2].rsplit(" ", 1)[0])]
    rest = texts[1][len(page1[1][1]):].strip()
    page2 = [("P2_TB1", rest), ("P2_TB2", texts[2])]
    (issue / "alto" / "00001.xml").write_text(_alto_page(1, page1), encoding="utf-8")
    (issue / "alto" / "00002.xml").write_text(_alto_page(2, page2), encoding="utf-8")
    mets = """<?xml version="1.0" encoding="UTF-8"?>
<mets xmlns="http://www.loc.gov/METS/" xmlns:xlink="http://www.w3.org/1999/xlink">
<fileSec><fileGrp USE="Text">
<file ID="ALTO1" MIMETYPE="text/xml"><FLocat LOCTYPE="URL" xlink:href="file://./alto/00001.xml"/></file>
<file ID="ALTO2" MIMETYPE="text/xml"><FLocat LOCTYPE="URL" xlink:href="file://./alto/00002.xml"/></file>
</fileGrp></fileSec>
<structMap TYPE="PHYSICAL"><div TYPE="Newspaper">
<div TYPE="PAGE" ORDER="1"><fptr><area FILEID="ALTO1" BETYPE="IDREF" BEGIN="P1"/></fptr></div>
<div TYPE="PAGE" ORDER="2"><fptr><area FILEID="ALTO2" BETYPE="IDREF" BEGIN="P2"/></fptr></div>
</div></structMap>
<structMap TYPE="LOGICAL"><div TYPE="ISSUE" LABEL="Satamasanomat 2.3.1907">
<div ID="ART1" TYPE="ARTICLE" LABEL="Valtuusto"><fptr><area FILEID="ALTO1" BEGIN="P1_TB1"/></fptr></div>
<div ID="ART2" TYPE="ARTICLE" LABEL="Fullmäktige"><fptr><seq><area FILEID="ALTO1" BEGIN="P1_TB2"/><area FILEID="ALTO2" BEGIN="P2_TB1"/></seq></fptr></div>
<div ID="ART3" TYPE="ARTICLE" LABEL="Leipomo"><fptr><area FILEID="ALTO2" BEGIN="P2_TB2"/></fptr></div>
</div></structMap>
</mets>
"""
    (issue / "mets.xml").write_text(mets, encoding="utf-8")
    # a loose page with no METS: one document per page
    loose = [("P1_TB1", " ".join(rng.sample(SENTENCES["sv"], 5)))]
    (folder / "loose-page-1911.xml").write_text(_alto_page(1, loose), encoding="utf-8")


def write_tei(folder: Path, rng: random.Random) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    paras = "\n".join(f"<p>{escape(p)}</p>" for p in _paragraphs(rng, "sv", 3, 4))
    tei = f"""<?xml version="1.0" encoding="UTF-8"?>
<TEI xmlns="http://www.tei-c.org/ns/1.0" xml:lang="sv">
<teiHeader><fileDesc><titleStmt><title>Berättelser från hamnen</title><author>Terroir demo</author></titleStmt>
<publicationStmt><p>Written for the Terroir demo; public domain.</p></publicationStmt>
<sourceDesc><p>Born digital.</p></sourceDesc></fileDesc>
<profileDesc><langUsage><language ident="sv">Swedish</language></langUsage></profileDesc></teiHeader>
<text><body><div type="chapter"><head>Hamnen om vintern</head>
{paras}
<note>Editor's note: not part of the text.</note>
</div></body></text>
</TEI>
"""
    (folder / "hamnen.xml").write_text(tei, encoding="utf-8")


def write_jsonl(folder: Path, rng: random.Random) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    lines = []
    for n, lang in enumerate(["de", "fr", "es", "it", "nl", "fi", "sv", "en"]):
        text = "\n\n".join(_paragraphs(rng, lang))
        lines.append(json.dumps({"id": f"gov-{n:03d}", "text": text,
                                 "url": f"https://www.{SITE[lang]}.{TLD[lang]}/archiv/{n}"}, ensure_ascii=False))
    lines.insert(3, '{"id": "gov-broken", "text": "this line was cut off')
    lines.append(json.dumps({"id": "gov-notext", "body": "a record without the configured text field"}))
    (folder / "government-dump.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")


def generate(folder: str | Path) -> dict:
    """Write the demo corpus under `folder` (replacing an older one); returns the planted PII values."""
    root = Path(folder)
    shutil.rmtree(root, ignore_errors=True)
    rng = random.Random(SEED)
    planted = write_web(root / "web", rng)
    write_library(root / "library", rng)
    write_tei(root / "tei", rng)
    write_jsonl(root / "dumps", rng)
    return planted


def demo_policy_path() -> Path:
    return Path(__file__).resolve().parents[2] / "policies" / "demo-eu.yaml"


def demo_inputs(data: Path) -> list[str]:
    return [f"demo-web={data / 'web'}", f"demo-library={data / 'library'}", f"demo-tei={data / 'tei'}",
            f"demo-dumps={data / 'dumps'}"]  # fmt: skip


def run_demo(output: str, workers: int = 2):
    from pipelines.run import RunOptions, execute

    out = Path(output)
    data = out / "data"
    planted = generate(data)
    opts = RunOptions(policy_path=str(demo_policy_path()), inputs=demo_inputs(data), output_dir=str(out / "release"),
                      workers=workers, overwrite=True)  # fmt: skip
    result = execute(opts)
    result.planted_pii = planted  # for tests: the raw values that must not survive
    return result
