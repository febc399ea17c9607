"""Per-stage throughput on the same documents, one process (one core): documents/s, MB/s and peak RSS for reading,
extraction (trafilatura and resiliparse, with extraction quality against the known article text), language ID
(against raw fastText predict on the same texts), quality heuristics, PII, exact dedup, fuzzy dedup signatures,
Parquet writing and the validation gate.

    python benchmarks/bench_stages.py --docs 2000
"""

from __future__ import annotations

import argparse
import hashlib
import resource
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


class Table:
    def __init__(self) -> None:
        self.rows: list[tuple] = []

    def add(self, stage: str, docs: int, nbytes: int, seconds: float, note: str = "") -> None:
        self.rows.append((stage, docs, nbytes, seconds, note, _rss_mb()))

    def print(self) -> None:
        print(f"{'stage':<30}{'docs':>7}{'docs/s/core':>13}{'MB/s/core':>11}{'peak RSS MB':>13}  note")
        for stage, docs, nbytes, sec, note, rss in self.rows:
            print(f"{stage:<30}{docs:>7}{docs / sec:>13.0f}{nbytes / 1e6 / sec:>11.2f}{rss:>13.0f}  {note}")


def _word_f1(extracted: str, truth: str) -> float:
    from collections import Counter

    a, b = Counter(extracted.split()), Counter(truth.split())
    overlap = sum((a & b).values())
    if not overlap:
        return 0.0
    p, r = overlap / sum(a.values()), overlap / sum(b.values())
    return 2 * p * r / (p + r)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=2000)
    args = ap.parse_args()

    import re
    from html import unescape

    from corpus import generate

    from filters.document import Document, content_hash
    from pipelines.sources.reader import InputFile, read_file

    table = Table()
    work = Path(tempfile.mkdtemp(prefix="terroir-stages-"))
    generate(work / "warc", args.docs)
    files = sorted((work / "warc").glob("*.warc.gz"))

    # reading: WARC records, payload decoding, charset
    t = time.perf_counter()
    docs: list[Document] = []
    for f in files:
        spec = InputFile("bench", str(f), f.name, "warc")
        docs += [d for k, d in read_file(spec) if k == "doc"]
    html_bytes = sum(len(d.html.encode()) for d in docs)
    table.add("read (warcio + decode)", len(docs), sum(f.stat().st_size for f in files), time.perf_counter() - t)

    truths = [" ".join(unescape(p) for p in re.findall(r"<p>(.*?)</p>", d.html, re.DOTALL)) for d in docs]
    texts = {}
    for name in ("trafilatura", "resiliparse"):
        from filters.extract import get_extractor

        ex = get_extractor(name)
        t = time.perf_counter()
        out = [ex.extract(d.html) for d in docs]
        sec = time.perf_counter() - t
        f1 = sum(_word_f1(o, tr) for o, tr in zip(out, truths)) / len(docs)
        table.add(f"extract ({name})", len(docs), html_bytes, sec, f"word F1 vs article text {f1:.3f}")
        texts[name] = out
    chosen = texts["resiliparse"]
    text_bytes = sum(len(x.encode()) for x in chosen)

    from filters.langid import LanguageIdentifier

    lid = LanguageIdentifier()
    t = time.perf_counter()
    lid._model.predict([x.replace("\n", " ") for x in chosen], k=1)  # fastText predicts one line per text
    raw = time.perf_counter() - t
    t = time.perf_counter()
    langs = [lid.predict(x) for x in chosen]
    ours = time.perf_counter() - t
    table.add("langid (raw fastText batch)", len(docs), text_bytes, raw)
    table.add("langid (terroir, per doc)", len(docs), text_bytes, ours, f"{raw / ours:.0%} of raw fastText")

    from filters.quality import QualityFilter

    q = QualityFilter(("gopher_quality", "gopher_repetition", "fineweb"))
    t = time.perf_counter()
    kept = [q.check(x, lang)[0] for x, (lang, _) in zip(chosen, langs)]
    table.add("quality (gopher+repetition+fineweb)", len(docs), text_bytes, time.perf_counter() - t,
              f"{sum(kept)} kept")  # fmt: skip

    from filters.pii.engine import PiiRedactor

    red = PiiRedactor(("en", "de", "fr", "sv", "fi", "es"), ("EMAIL_ADDRESS", "IBAN_CODE", "CREDIT_CARD",
                      "IP_ADDRESS", "PHONE_NUMBER"), ("DE", "SE", "FI", "ES", "GB"))  # fmt: skip
    t = time.perf_counter()
    found = sum(sum(red.redact(x, lang)[1].values()) for x, (lang, _) in zip(chosen, langs))
    table.add("pii (terroir fast path)", len(docs), text_bytes, time.perf_counter() - t, f"{found} values redacted")

    t = time.perf_counter()
    hashes = {content_hash(x) for x in chosen}
    table.add("exact dedup (content hash)", len(docs), text_bytes, time.perf_counter() - t,
              f"{len(docs) - len(hashes)} duplicates")  # fmt: skip

    from filters.dedup import MinHasher

    mh = MinHasher(200, mode="char", width=5, bits=64, seed=42, backend="cpu")
    t = time.perf_counter()
    mh.signatures(chosen)
    table.add("fuzzy dedup signatures (char)", len(docs), text_bytes, time.perf_counter() - t, "5-char, 64-bit, 200")
    mw = MinHasher(200, mode="word", ngrams=5, bits=64, seed=42, backend="cpu")
    t = time.perf_counter()
    mw.signatures(chosen)
    table.add("fuzzy dedup signatures (word)", len(docs), text_bytes, time.perf_counter() - t, "5-gram, 64-bit, 200")

    import pyarrow as pa

    from schemas import CORPUS_SCHEMA
    from schemas.files import write_parquet_atomically

    rows = []
    for d, x, (lang, score) in zip(docs, chosen, langs):
        rows.append({"doc_id": d.doc_id, "text": x, "source_id": "bench", "source_type": "web", "url": d.url,
                     "registrable_domain": None, "record_locator": d.record_locator, "collected_at": d.collected_at,
                     "lang": lang, "lang_score": score, "origin_jurisdiction": "DE", "origin_basis": "cctld",
                     "residency_region": "world", "license": None, "rights_status": "allowed",
                     "rights_basis": "no-reservation-signal", "pii_counts": [],
                     "content_hash": hashlib.sha256(x.encode()).hexdigest() + d.doc_id[:4],
                     "dup_cluster": None, "policy_id": "bench", "pipeline_version": "bench"})  # fmt: skip
    t = time.perf_counter()
    table_ = pa.Table.from_pylist(rows, schema=CORPUS_SCHEMA)
    shard = work / "shard.parquet"
    write_parquet_atomically(table_, str(shard))
    table.add("parquet writing (zstd)", len(docs), text_bytes, time.perf_counter() - t)

    from expectations.gate import Gate
    from schemas.policy import load_policy

    pol = work / "p.yaml"
    pol.write_text("policy_id: bench\nresidency: {regions: {world: {jurisdictions: [DE], storage: x}}}\n"
                   "admission: {default_min_lang_score: 0.0}\n")  # fmt: skip
    policy = load_policy(pol)
    gate = Gate("corpus_shard", {"allowed_regions": ["world"], "allowed_rights": ["allowed"], "min_text_chars": 1,
                                 "max_text_chars": 10**7, "max_residual_pii": 10**9})  # fmt: skip
    t = time.perf_counter()
    gate.validate(str(shard), "world/shard", "world", policy)
    table.add("gate (GX suite + derived columns)", len(docs), text_bytes, time.perf_counter() - t)

    print(f"\nPer-stage throughput, {len(docs)} generated pages ({html_bytes / 1e6:.1f} MB HTML, "
          f"{text_bytes / 1e6:.1f} MB extracted text), one core\n")  # fmt: skip
    table.print()


if __name__ == "__main__":
    main()
