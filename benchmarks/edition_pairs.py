"""Edition duplicates: a second "transcription" of real TEI text, as another edition of the same book would give it.

`transcribe(text, seed)` keeps every word and changes what editions differ in: quotation marks and dashes in another
typographic convention, speaker names and headings in another case, commas and full stops added or left out where
editors disagree, old spellings (`ſ`, `ß`/`ss`), different line breaks and spacing. `edition_pairs(tei_dir, n)` cuts
the plays in `tei_dir` into `n` passages and pairs each with its transcription.

Run `python -m benchmarks.edition_pairs ../shared/data/tei` for the pairs found with and without normalisation
(the figures in docs/dedup.md); `--real DIR` measures real editions kept in a cache folder instead
(`benchmarks/real_editions.py`; a missing folder is reported, exit 0).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from pathlib import Path

# spellings that changed between 19th-century and modern editions of German plays
_SPELLINGS = [(r"\bThür", "Tür"), (r"\bTheil", "Teil"), (r"\bthun\b", "tun"), (r"\bseyn\b", "sein"),
              (r"\bgiebt\b", "gibt"), (r"\bdaß\b", "dass"), (r"\bmuß\b", "muss"), (r"\bHülfe", "Hilfe"),
              (r"ey\b", "ei"), (r"\bTod\b", "Tod"), (r"\bjetzo\b", "jetzt"), (r"\bNoth\b", "Not")]
_QUOTES = {"„": '"', "“": '"', "”": '"', "‚": "'", "‘": "'", "’": "'", "»": '"', "«": '"'}


def transcribe(text: str, seed: int) -> str:
    """Another edition's rendering of `text`: other punctuation, case, spellings and layout, and a few words misread
    (one in fifty, as OCR or a typesetter would)."""
    rng = random.Random(seed)
    out = "".join(_QUOTES.get(c, c) for c in text)
    for old, new in _SPELLINGS:
        out = re.sub(old, new, out)
    letters = "abcdefghiklmnoprstuvwz"
    out = re.sub(r"\w{4,}", lambda m: m.group(0) if rng.random() >= 0.02 else
                 m.group(0)[:2] + rng.choice(letters) + m.group(0)[3:], out)  # fmt: skip
    out = out.replace("—", " -- ").replace("–", "-")
    # speaker names and headings: all capitals in one edition, title case in the other
    out = re.sub(r"\b([A-ZÄÖÜ]{2,})\b", lambda m: m.group(1).title(), out)
    # commas and full stops editors add or drop; exclamation for a full stop
    out = re.sub(r",(?=\s)", lambda m: "" if rng.random() < 0.3 else ",", out)
    out = re.sub(r"(?<=\w) (?=(?:und|aber|denn|doch|als|wie) )", lambda m: ", " if rng.random() < 0.3 else " ", out)
    out = re.sub(r"\.(?=\s)", lambda m: "!" if rng.random() < 0.1 else ".", out)
    # older orthography in one edition: long s inside words, ss for ß
    out = re.sub(r"(?<=\w)s(?=[a-zäöü])", lambda m: "ſ" if rng.random() < 0.5 else "s", out)
    out = out.replace("ß", "ss") if rng.random() < 0.5 else out
    # layout: lines re-wrapped at another width, spaces before punctuation as in French-style typesetting
    words = out.split()
    lines, line = [], []
    width = rng.randint(40, 70)
    for w in words:
        if sum(len(x) + 1 for x in line) + len(w) > width:
            lines.append(" ".join(line))
            line = []
        line.append(w)
    lines.append(" ".join(line))
    out = "\n".join(lines)
    return re.sub(r"(?<=\w)([;:!?])", lambda m: " " + m.group(1) if rng.random() < 0.5 else m.group(1), out)


def edition_pairs(tei_dir: Path, n: int = 13, chars: int = 4000) -> list[tuple[str, str]]:
    """`n` (passage, transcription) pairs from the TEI plays in `tei_dir`, passages of about `chars` characters
    taken in turn from each play."""
    from filters.extract import tei_text

    texts = [tei_text(p.read_bytes())[0] for p in sorted(tei_dir.glob("*.xml"))]
    passages, k = [], 0
    while len(passages) < n:
        t = texts[k % len(texts)]
        start = (k // len(texts)) * chars
        if start + chars <= len(t):
            passages.append(t[start : start + chars])
        k += 1
        if k > 100 * n:
            break
    return [(p, transcribe(p, seed=i)) for i, p in enumerate(passages)]


def measure(pairs: list[tuple[str, str]], threshold: float = 0.8) -> dict:
    """Pairs found by MinHash-LSH (20 bands x 10 rows, char 5-grams, verified at `threshold`) with and without
    normalisation, and the exact Jaccard of each pair."""
    import numpy as np

    from filters.dedup import MinHasher, band_keys, candidate_pairs, true_jaccard

    result = {}
    for normalize in (False, True):
        mh = MinHasher(200, mode="char", width=5, bits=64, seed=42, backend="cpu", normalize=normalize)
        texts = [t for pair in pairs for t in pair]
        ids = [f"d{i:04d}" for i in range(len(texts))]
        cand = candidate_pairs(ids, band_keys(mh.signatures(texts), bands=20, rows=10))
        jac = [true_jaccard(a, b, normalize=normalize) for a, b in pairs]
        found = {(x, y) for x, y in cand if int(y[1:]) == int(x[1:]) + 1 and int(x[1:]) % 2 == 0
                 and jac[int(x[1:]) // 2] >= threshold}  # fmt: skip
        others = sum(1 for x, y in cand if (x, y) not in found
                     and true_jaccard(texts[int(x[1:])], texts[int(y[1:])], normalize=normalize) >= threshold)
        result["normalized" if normalize else "raw"] = {
            "pairs": len(pairs), "found": len(found), "other_pairs_above_threshold": others, "jaccard_min": round(float(np.min(jac)), 3),
            "jaccard_median": round(float(np.median(jac)), 3), "jaccard_max": round(float(np.max(jac)), 3),
        }  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("tei_dir", type=Path, nargs="?")
    ap.add_argument("--pairs", type=int, default=13)
    ap.add_argument("--real", type=Path, help="a cache folder of real editions (benchmarks/real_editions.py)")
    ap.add_argument("--json", type=Path, help="also write the --real figures as JSON")
    args = ap.parse_args(argv)
    if args.real is not None:
        return _real(args.real, args.json)
    if args.tei_dir is None:
        ap.error("give a TEI folder, or --real DIR")
    for name, r in measure(edition_pairs(args.tei_dir, args.pairs)).items():
        print(f"{name:>10}: {r['found']} of {r['pairs']} pairs found, {r['other_pairs_above_threshold']} other pairs; "
              f"Jaccard min {r['jaccard_min']} median "
              f"{r['jaccard_median']} max {r['jaccard_max']}")  # fmt: skip
    return 0


def _real(root: Path, json_out: Path | None) -> int:
    import json

    from benchmarks.real_editions import measure_real, print_real

    if not (root / "grimm").is_dir():
        print(f"no real editions at {root} (expected {root / 'grimm'}; see benchmarks/real_editions.py): skipped")
        return 0
    result = measure_real(root)
    print_real(result)
    if json_out:
        json_out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
