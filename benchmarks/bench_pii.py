"""Benchmark: Terroir's PII stage against stock Presidio on the same documents, in one process.

    .venv/bin/python benchmarks/bench_pii.py [--docs 400] [--seed 7] [--pii-share 0.2] [--repeat 3]

Documents (~2 KB each) are built deterministically from the language-labelled sentences in
`../shared/data/langid/ud_test_sentences.tsv` (read in place, never copied): each document is in one language and
comes from that language's jurisdiction; a share of them gets planted values (national identifiers with valid
check digits, e-mail addresses, IBANs, card and phone numbers) after a context phrase. Both sides use the same
recognizer instances and context enhancer: stock Presidio is `AnalyzerEngine.analyze` (NoOpNlpEngine), Terroir is
`PiiRedactor.analyze`, the prescan path. The script checks that both find the same set of (start, end, type) on
every document (exit status 1 otherwise), then prints documents per second, MB/s per core (bytes over process CPU
time: one core does all the work) and the ratio; the full `redact` (overlap resolution, tiers, placeholders) is
timed as well.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SENTENCES = ROOT.parent / "shared" / "data" / "langid" / "ud_test_sentences.tsv"

# language → the jurisdiction its documents come from
ORIGIN = {
    "en": "GB", "sv": "SE", "no": "NO", "da": "DK", "fi": "FI", "de": "DE", "fr": "FR", "es": "ES", "it": "IT",
    "nl": "NL", "pt": "BR", "pl": "PL", "cs": "CZ", "is": "IS", "ja": "JP",
}  # fmt: skip

# Valid values per jurisdiction (check digits, dates and check letters pass), in the formats people write them.
NATIONAL_IDS = {
    "GB": ["943 476 5919"],  # NHS number
    "SE": ["811218-9876", "19811218-9876"],
    "NO": ["151086 95088", "15108695088"],
    "DK": ["211062-5629"],
    "FI": ["131052-308T"],
    "DE": ["65929970489"],  # Steuer-ID
    "FR": ["2 95 10 99 126 111 93", "295109912611193"],
    "ES": ["12345678Z", "X1234567L"],
    "IT": ["RSSMRA85T10A562S"],
    "NL": ["1112.22.333", "111222333"],
    "BR": ["390.533.447-05", "39053344705"],
    "PL": ["44051401359"],
    "CZ": ["710319/2745"],
    "IS": ["120174-3399"],
    "JP": ["6214 9832 0257"],
}
CONTEXT = {
    "en": "Her NHS number is", "sv": "Personnummer:", "no": "Fødselsnummer:", "da": "CPR-nr.", "fi": "Henkilötunnus",
    "de": "Steuer-ID:", "fr": "Numéro de sécurité sociale :", "es": "DNI", "it": "Codice fiscale", "nl": "BSN:",
    "pt": "CPF:", "pl": "PESEL", "cs": "Rodné číslo:", "is": "Kennitala:", "ja": "マイナンバー：",
}  # fmt: skip
PHONES = {
    "GB": "020 7946 0958", "SE": "08-123 456 78", "NO": "22 33 44 55", "DK": "32 12 34 56", "FI": "09 1234 5678",
    "DE": "030 1234567", "FR": "01 23 45 67 89", "ES": "912 345 678", "IT": "06 1234 5678", "NL": "020 123 4567",
    "BR": "(11) 2345-6789", "PL": "22 123 45 67", "CZ": "224 123 456", "IS": "551 2345", "JP": "03-1234-5678",
}  # fmt: skip
IBANS = ["SE45 5000 0000 0583 9825 7466", "DE89 3704 0044 0532 0130 00", "GB82 WEST 1234 5698 7654 32",
         "FR14 2004 1010 0505 0001 3M02 606", "NO93 8601 1117 947"]  # fmt: skip
TLD = {"GB": "co.uk"}  # e-mail domains under the jurisdiction's ccTLD (".gb" is not in use)
CARDS = ["4111 1111 1111 1111", "5500 0000 0000 0004", "3400 000000 00009"]
DOC_CHARS = 2000


def load_sentences(path: Path = SENTENCES) -> dict[str, list[str]]:
    """Sentences per language code, in file order."""
    by_lang: dict[str, list[str]] = defaultdict(list)
    with path.open(encoding="utf-8") as f:
        next(f)
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 4 and parts[0] in ORIGIN:
                by_lang[parts[0]].append(parts[3])
    return by_lang


def planted_values(rng: random.Random, lang: str) -> list[tuple[str, str]]:
    """(context phrase, value) pairs to plant in one document of `lang`."""
    region = ORIGIN[lang]
    options = [
        (CONTEXT[lang], rng.choice(NATIONAL_IDS[region])),
        (
            "E-mail:",
            f"{rng.choice(['anna', 'jonas', 'mari', 'pekka'])}.{rng.randint(10, 99)}@example.{TLD.get(region, region.lower())}",
        ),
        ("Tel.", PHONES[region]),
        ("IBAN", rng.choice(IBANS)),
        ("Card", rng.choice(CARDS)),
    ]
    return rng.sample(options, rng.randint(1, 3))


def make_documents(n: int, seed: int, pii_share: float) -> list[tuple[str, str, str, list[str]]]:
    """(text, language, jurisdiction, planted values) for n documents; the same arguments give the same documents."""
    sentences = load_sentences()
    langs = sorted(ORIGIN)
    rng = random.Random(seed)
    docs = []
    for i in range(n):
        lang = langs[i % len(langs)]
        pool = sentences[lang]
        parts: list[str] = []
        while sum(len(p) + 1 for p in parts) < DOC_CHARS:
            parts.append(rng.choice(pool))
        planted: list[str] = []
        if rng.random() < pii_share:
            for phrase, value in planted_values(rng, lang):
                parts.insert(rng.randrange(len(parts) + 1), f"{phrase} {value}.")
                planted.append(value)
        docs.append((" ".join(parts), lang, ORIGIN[lang], planted))
    return docs


def spans(results) -> set[tuple[int, int, str]]:
    return {(r.start, r.end, r.entity_type) for r in results}


def timed(fn, docs, repeat: int) -> tuple[float, float, list]:
    """(best wall seconds, best CPU seconds, outputs of the last round) over `repeat` rounds."""
    best_wall = best_cpu = float("inf")
    out: list = []
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        out = [fn(text, lang, region) for text, lang, region, _ in docs]
        best_wall = min(best_wall, time.perf_counter() - w0)
        best_cpu = min(best_cpu, time.process_time() - c0)
    return best_wall, best_cpu, out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=400)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--pii-share", type=float, default=0.2)
    ap.add_argument("--repeat", type=int, default=3, help="rounds per side; the best is reported")
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT))
    from filters.pii.engine import PiiRedactor
    from schemas.policy import DEFAULT_PII_ENTITIES

    docs = make_documents(args.docs, args.seed, args.pii_share)
    nbytes = sum(len(t.encode("utf-8")) for t, *_ in docs)
    countries = tuple(sorted(set(ORIGIN.values())))
    redactor = PiiRedactor(tuple(sorted(ORIGIN)), DEFAULT_PII_ENTITIES, countries)
    # warm both paths (tldextract's suffix trie, libphonenumber metadata, compiled patterns)
    for text, lang, region, _ in docs[: len(ORIGIN)]:
        redactor.analyze(text, lang, region)
        redactor.analyze_with_presidio(text, lang, region)

    stock_wall, stock_cpu, stock = timed(redactor.analyze_with_presidio, docs, 1)
    fast_wall, fast_cpu, fast = timed(redactor.analyze, docs, args.repeat)
    red_wall, red_cpu, _ = timed(redactor.redact, docs, args.repeat)

    mismatched = [i for i, (a, b) in enumerate(zip(stock, fast)) if spans(a) != spans(b)]
    found = sum(len(r) for r in fast)
    planted = sum(len(p) for *_, p in docs)
    leaked = sum(1 for (text, lang, region, p) in docs for v in p if v in redactor.redact(text, lang, region)[0])
    n_rec = len(redactor.recognizers("en", "GB"))

    def row(name: str, wall: float, cpu: float) -> str:
        return f"{name:<26}{len(docs) / wall:>10.1f}{nbytes / cpu / 1e6:>14.3f}{wall * 1e3 / len(docs):>12.2f}"

    print(f"{len(docs)} documents, {nbytes / 1e6:.2f} MB, {len(ORIGIN)} languages, {len(countries)} countries, "
          f"{n_rec} recognizers per language, {planted} planted values, seed {args.seed}")  # fmt: skip
    print(f"{'':<26}{'docs/s':>10}{'MB/s/core':>14}{'ms/doc':>12}")
    print(row("stock Presidio analyze", stock_wall, stock_cpu))
    print(row("Terroir analyze", fast_wall, fast_cpu))
    print(row("Terroir redact", red_wall, red_cpu))
    print(f"ratio (CPU time, analyze): {stock_cpu / fast_cpu:.1f}x; with redaction: {stock_cpu / red_cpu:.1f}x")
    print(f"same (start, end, type) on {len(docs) - len(mismatched)}/{len(docs)} documents; "
          f"{found} findings; planted values left after redaction: {leaked}/{planted}")  # fmt: skip
    if mismatched:
        i = mismatched[0]
        print(f"first mismatch: document {i}: stock-only {sorted(spans(stock[i]) - spans(fast[i]))}, "
              f"fast-only {sorted(spans(fast[i]) - spans(stock[i]))}")  # fmt: skip
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
