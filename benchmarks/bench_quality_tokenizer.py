"""Do the quality heuristics decide the same with the fast regex tokenizer as with datatrove's tokenizers?

Runs Gopher quality, Gopher repetition and FineWeb on the same documents with both tokenizers and prints agreement
per language and the speed of each. Documents: generated pages (benchmarks/corpus.py) extracted with resiliparse.

    python benchmarks/bench_quality_tokenizer.py --docs 1000
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=1000)
    args = ap.parse_args()
    from corpus import generate

    from filters.extract import get_extractor
    from filters.langid import LanguageIdentifier
    from filters.quality import QualityFilter
    from pipelines.sources.reader import InputFile, read_file

    work = Path(tempfile.mkdtemp(prefix="terroir-qtok-"))
    generate(work, args.docs)
    docs = [d for f in sorted(work.glob("*.warc.gz")) for k, d in read_file(InputFile("b", str(f), f.name, "warc"))
            if k == "doc"]  # fmt: skip
    ex, lid = get_extractor("resiliparse"), LanguageIdentifier()
    texts = [ex.extract(d.html) for d in docs]
    langs = [lid.predict(t)[0] for t in texts]
    names = ("gopher_quality", "gopher_repetition", "fineweb")
    results, seconds = {}, {}
    for tok in ("datatrove", "fast"):
        q = QualityFilter(names, tokenizer=tok)
        for t, lang in zip(texts[:30], langs[:30]):
            q.check(t, lang)  # load tokenizers before timing
        t0 = time.perf_counter()
        results[tok] = [q.check(t, lang)[0] for t, lang in zip(texts, langs)]
        seconds[tok] = time.perf_counter() - t0
    agree, total = Counter(), Counter()
    for lang, a, b in zip(langs, results["datatrove"], results["fast"]):
        total[lang] += 1
        agree[lang] += a == b
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(f"{len(texts)} documents, {mb:.1f} MB of text")
    for tok in ("datatrove", "fast"):
        print(f"{tok:<10} {len(texts) / seconds[tok]:8.0f} docs/s  {mb / seconds[tok]:6.2f} MB/s  "
              f"kept {sum(results[tok])}")  # fmt: skip
    print(f"decisions agree on {sum(agree.values())}/{len(texts)} documents "
          f"({sum(agree.values()) / len(texts):.1%}); speed-up {seconds['datatrove'] / seconds['fast']:.1f}x")
    print("per language: " + ", ".join(f"{lang} {agree[lang]}/{total[lang]}" for lang in sorted(total)))


if __name__ == "__main__":
    main()
