"""Deterministic benchmark corpus: realistic web-archive pages in many languages, with planted PII, exact and near
duplicates, written as gzipped WARC files.

Sentences come from the language-labelled treebank sentences in `../shared/data/langid/` (read in place; never
copied into the repository) and from the demo prose. Page structure imitates news sites: navigation, sidebar,
article, comments, footer, scripts and styles, so extraction does real work.

    python benchmarks/corpus.py --docs 10000 --out bench-corpus [--origin-signals]

`--origin-signals` moves about a third of the pages to generic domains (.com, .org, .io …) and plants origin
evidence (server IP, locale tags, addresses, phones; `origin_corpus.py`); the truth (`truth["origin"]`: URL →
country) lets `bench_origin.py` measure placement. Without it the files are as they always were.
"""

from __future__ import annotations

import argparse
import gzip
import io
import random
import uuid
from collections import defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
UD = REPO.parent / "shared" / "data" / "langid" / "ud_test_sentences.tsv"

# languages → ccTLD of the sites that publish them (so residency has real evidence to work with)
TLD = {"en": "co.uk", "de": "de", "fr": "fr", "sv": "se", "fi": "fi", "es": "es", "nl": "nl", "it": "it",
       "da": "dk", "no": "no", "pl": "pl", "pt": "pt", "cs": "cz", "is": "is", "ru": "ru", "tr": "tr",
       "ja": "jp", "ko": "kr", "zh": "cn", "ar": "sa", "hi": "in", "id": "id", "th": "th", "vi": "vn"}  # fmt: skip
#: the residency block every benchmark policy uses: one region holding the corpus's ccTLD jurisdictions
WORLD_RESIDENCY = """residency:
  regions:
    world:
      jurisdictions: [GB, DE, FR, SE, FI, ES, NL, IT, DK, "NO", PL, PT, CZ, IS, RU, TR, JP, KR, CN, SA, IN, ID, TH, VN]
      storage: shards/world
"""
FIRST = ["anna", "lars", "mika", "sofia", "jonas", "elena", "pieter", "giulia", "claire", "tomas", "ines", "omar"]
LAST = ["lindqvist", "virtanen", "schneider", "moreau", "garcia", "jansen", "rossi", "walsh", "berg", "kowalski"]
BOILER = ["Subscribe to our newsletter", "Cookie settings", "Privacy policy", "Terms of use", "Contact us",
          "Advertise with us", "About us", "Careers", "Sitemap", "RSS"]  # fmt: skip


def load_sentences() -> dict[str, list[str]]:
    by_lang: dict[str, list[str]] = defaultdict(list)
    if UD.is_file():
        for line in UD.read_text(encoding="utf-8").splitlines()[1:]:
            parts = line.split("\t")
            if len(parts) == 4 and parts[0] in TLD and len(parts[3]) > 25:
                by_lang[parts[0]].append(parts[3])
    if not by_lang:
        from pipelines.tools.demo_text import SENTENCES

        for lang, sents in SENTENCES.items():
            by_lang[lang].extend(sents)
    return {k: v for k, v in by_lang.items() if len(v) >= 20}


def _luhn_card(rng: random.Random) -> str:
    digits = [4] + [rng.randrange(10) for _ in range(14)]
    total = sum((d * 2 - 9 if d * 2 > 9 else d * 2) if i % 2 == 0 else d for i, d in enumerate(reversed(digits)))
    digits.append((10 - total % 10) % 10)
    s = "".join(map(str, digits))
    return " ".join(s[i : i + 4] for i in range(0, 16, 4))


def _iban(rng: random.Random) -> str:
    bban = "".join(rng.choice("0123456789") for _ in range(18))
    check = 98 - int("".join(str(int(c, 36)) for c in bban + "DE00")) % 97
    s = f"DE{check:02d}{bban}"
    return " ".join(s[i : i + 4] for i in range(0, len(s), 4))


def _pii_sentence(rng: random.Random, domain: str) -> str:
    kind = rng.randrange(4)
    if kind == 0:
        return f"Contact: {rng.choice(FIRST)}.{rng.choice(LAST)}@{domain}."
    if kind == 1:
        return f"Donations: IBAN {_iban(rng)}."
    if kind == 2:
        return f"Paid with card {_luhn_card(rng)}."
    return f"Phone +49 30 {rng.randrange(1000000, 9999999)}."


def _article(rng: random.Random, sents: list[str]) -> list[str]:
    paras = []
    for _ in range(rng.randint(4, 8)):
        paras.append(" ".join(rng.choice(sents) for _ in range(rng.randint(2, 5))))
    return paras


def _perturb(rng: random.Random, paras: list[str]) -> list[str]:
    """A near duplicate: a few word edits, an inserted sentence, sometimes two paragraphs swapped."""
    out = []
    for p in paras:
        words = p.split()
        for _ in range(max(1, len(words) // 40)):
            i = rng.randrange(len(words))
            words[i] = words[i][::-1] if len(words[i]) > 3 else words[i]
        out.append(" ".join(words))
    if len(out) > 3 and rng.random() < 0.5:
        i = rng.randrange(len(out) - 1)
        out[i], out[i + 1] = out[i + 1], out[i]
    out.insert(rng.randrange(len(out)), "Updated: this article was revised after publication.")
    return out


def _html(lang: str, title: str, paras: list[str], rng: random.Random, origin: dict | None = None) -> str:
    from html import escape

    o = origin or {}
    lang_attr, extra_head = o.get("lang_attr", lang), o.get("head", "")
    if o.get("contact"):
        paras = [*paras, o["contact"]] if not o.get("contact_in_footer") else paras

    nav = "".join(f'<li><a href="/s/{i}">{escape(b)}</a></li>' for i, b in enumerate(rng.sample(BOILER, 6)))
    side = "".join(f'<li><a href="/a/{rng.randrange(10**6)}">{escape(t)}</a></li>' for t in rng.sample(BOILER, 4))
    body = "\n".join(f"<p>{escape(p)}</p>" for p in paras)
    comments = "".join(f'<div class="comment"><b>{rng.choice(FIRST)}</b>: {escape(rng.choice(BOILER))}</div>'
                       for _ in range(rng.randint(0, 3)))  # fmt: skip
    footer = " | ".join(BOILER) + (" | " + escape(o["contact"]) if o.get("contact_in_footer") else "")
    return (f'<!doctype html><html lang="{lang_attr}"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f"{extra_head}"
            '<style>body{font-family:sans-serif}.nav li{display:inline}</style>'
            '<script>window.dataLayer=window.dataLayer||[];function gtag(){dataLayer.push(arguments)}</script>'
            f'</head><body><header><ul class="nav">{nav}</ul></header><aside><ul>{side}</ul></aside>'
            f"<main><article><h1>{escape(title)}</h1>{body}</article></main>"
            f'<section class="comments">{comments}</section><footer>{footer}</footer>'
            "</body></html>")  # fmt: skip


#: corpora above this size are written in independent segments of this many pages (own seed, own duplicate
#: history), in parallel; smaller ones are one segment, as they always were
SEGMENT = 250_000


def generate(out: Path, docs: int, seed: int = 7, docs_per_file: int | None = None, workers: int = 2,
             origin_signals: bool = False) -> dict:
    """Write `docs` pages into `out/*.warc.gz`; returns ground truth (near-duplicate and exact-duplicate pairs).

    The same arguments always give the same files, whatever `workers` (it only sets how many segments are written at
    once)."""
    # real crawls come as many WARC files; both pipelines parallelize over files
    docs_per_file = docs_per_file or max(100, min(5000, docs // 8))
    if docs <= SEGMENT:
        return _segment((out, 0, docs, seed, docs_per_file, origin_signals))
    per_segment = SEGMENT - SEGMENT % docs_per_file  # whole files per segment: file names continue across segments
    jobs = [(out, start, min(per_segment, docs - start), seed + k, docs_per_file, origin_signals)
            for k, start in enumerate(range(0, docs, per_segment))]  # fmt: skip
    from concurrent.futures import ProcessPoolExecutor

    truth = {"near_pairs": [], "exact_pairs": [], "pii_pages": 0, "docs": docs, "origin": {}}
    with ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        for part in pool.map(_segment, jobs):
            truth["near_pairs"] += part["near_pairs"]
            truth["exact_pairs"] += part["exact_pairs"]
            truth["pii_pages"] += part["pii_pages"]
            truth["origin"].update(part["origin"])
    return truth


def _segment(job) -> dict:
    """Pages `first` .. `first + docs - 1` of a corpus, with their own random stream and duplicate history."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    out, first, docs, seed, docs_per_file, origin_signals = job
    rng = random.Random(seed)
    sentences = load_sentences()
    langs = sorted(sentences)
    out.mkdir(parents=True, exist_ok=True)
    truth = {"near_pairs": [], "exact_pairs": [], "pii_pages": 0, "docs": docs, "origin": {}}
    history: list[tuple[str, str, list[str]]] = []
    writer = f = None
    for n in range(first, first + docs):
        if n % docs_per_file == 0:
            if f:
                f.close()
            f = open(out / f"bench-{n // docs_per_file:05d}.warc.gz", "wb")  # noqa: SIM115 - closed above/below
            writer = WARCWriter(f, gzip=True)
        r = rng.random()
        if history and r < 0.03:
            src_url, lang, paras = history[rng.randrange(len(history))]
            kind = "exact"
        elif history and r < 0.08:
            src_url, lang, old = history[rng.randrange(len(history))]
            paras = _perturb(rng, old)
            kind = "near"
        else:
            lang = rng.choice(langs)
            paras = _article(rng, sentences[lang])
            kind = "new"
        domain = f"site{rng.randrange(400)}.{TLD[lang]}"
        origin = None
        if origin_signals:
            from origin_corpus import plan

            from schemas.jurisdictions import cctld_to_jurisdiction

            country = cctld_to_jurisdiction(TLD[lang])
            origin = plan(n, seed, lang, country, kind)
            if origin["tld"]:
                domain = f"{lang}-{domain.split('.')[0]}.{origin['tld']}"
        url = f"https://www.{domain}/news/{n}"
        if origin is not None:
            truth["origin"][url] = country
            origin["head"] = origin["head"].replace("{url}", url)
        if kind == "new" and rng.random() < 0.1:
            paras = [*paras[:-1], paras[-1] + " " + _pii_sentence(rng, domain)]
            truth["pii_pages"] += 1
        if kind == "near":
            truth["near_pairs"].append([src_url, url])
        elif kind == "exact":
            truth["exact_pairs"].append([src_url, url])
        else:
            history.append((url, lang, paras))
        html = _html(lang, f"News {n}", paras, rng, origin).encode()
        headers = [("Content-Type", "text/html; charset=utf-8"), *(origin["headers"] if origin else [])]
        if rng.random() < 0.3:
            html = gzip.compress(html, mtime=0)
            headers.append(("Content-Encoding", "gzip"))
        headers.append(("Content-Length", str(len(html))))
        http = StatusAndHeaders("200 OK", headers, protocol="HTTP/1.1")
        rid = f"<urn:uuid:{uuid.UUID(int=rng.getrandbits(128))}>"
        warc_headers = {"WARC-Date": "2026-06-01T12:00:00Z", "WARC-Record-ID": rid}
        if origin and origin["ip"]:
            warc_headers["WARC-IP-Address"] = origin["ip"]
        rec = writer.create_warc_record(url, "response", payload=io.BytesIO(html), http_headers=http,
                                        warc_headers_dict=warc_headers)  # fmt: skip
        writer.write_record(rec)
    if f:
        f.close()
    return truth


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--origin-signals", action="store_true", help="generic-domain pages and planted origin evidence")
    args = ap.parse_args()
    truth = generate(args.out, args.docs, args.seed, origin_signals=args.origin_signals)
    size = sum(p.stat().st_size for p in args.out.glob("*.warc.gz"))
    print(f"{args.docs} pages, {size / 1e6:.1f} MB gzipped, {len(truth['near_pairs'])} near and "
          f"{len(truth['exact_pairs'])} exact duplicates, {truth['pii_pages']} pages with PII")  # fmt: skip


if __name__ == "__main__":
    main()
