"""End to end, side by side in one run: Terroir (`terroir run`, local runner) against a datatrove pipeline doing
the comparable work on the same WARC files and the same fastText lid.176 model (from the local file, no download).

datatrove: WarcReader → Trafilatura → LanguageFilter → GopherQualityFilter (its English stop-word rule off, as
Terroir applies it to English only) → JsonlWriter, then MinHash dedup in its
four stages (signatures, buckets, clusters, filter) → PIIFormatter → ParquetWriter.
Terroir additionally does rights, residency, Gopher repetition and FineWeb filters, exact dedup, national-ID PII,
validation gates, ledger and report.

    python benchmarks/bench_e2e.py --docs 2000 --workers 2 [--extractor resiliparse|trafilatura]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

BENCH_POLICY = """
policy_id: bench
{world}admission:
  default_min_lang_score: 0.65
extraction:
  html_extractor: {extractor}
quality:
  filters: [gopher_quality, gopher_repetition, fineweb]
pii:
  countries: [DE, SE, FI, ES, IT, GB]
dedup:
  exact: true
  fuzzy: {{enabled: true, mode: word, ngrams: 5, bits: 64, bands: 14, rows: 8, threshold: 0.8}}
output:
  shards_per_region: {workers}
"""


def corpus_and_policy(work: Path, docs: int, workers: int) -> tuple[Path, Path]:
    """The generated benchmark corpus of `docs` pages (made once, kept in `work`) and the bench policy beside it."""
    from corpus import WORLD_RESIDENCY, generate

    work.mkdir(parents=True, exist_ok=True)
    corpus = work / f"corpus-{docs}"
    if not corpus.is_dir():
        generate(corpus, docs)
    policy = work / "bench-policy.yaml"
    policy.write_text(BENCH_POLICY.format(extractor="resiliparse", workers=workers, world=WORLD_RESIDENCY))
    return corpus, policy


def _children_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024


def run_terroir(warc_dir: Path, work: Path, workers: int, extractor: str) -> dict:
    policy = work / "bench-policy.yaml"
    from corpus import WORLD_RESIDENCY

    policy.write_text(BENCH_POLICY.format(extractor=extractor, workers=workers, world=WORLD_RESIDENCY))
    out = work / "terroir-out"
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--policy", str(policy), "--input", f"crawl={warc_dir}",
           "--output", str(out), "--workers", str(workers), "--overwrite"]  # fmt: skip
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    manifest = json.loads((out / "release.json").read_text())
    return {"wall_s": wall, "published": manifest["counts"]["documents_published"], "peak_rss_mb": _children_rss_mb()}


def _datatrove_script(warc_dir: Path, work: Path, workers: int, lid_path: str) -> str:
    return f'''
import sys, time
from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.readers import WarcReader, JsonlReader
from datatrove.pipeline.extractors import Trafilatura
from datatrove.pipeline.filters import LanguageFilter, GopherQualityFilter
from datatrove.pipeline.dedup import MinhashDedupSignature, MinhashDedupBuckets, MinhashDedupCluster, MinhashDedupFilter
from datatrove.pipeline.dedup.minhash import MinhashConfig
from datatrove.pipeline.formatters import PIIFormatter
from datatrove.pipeline.writers import JsonlWriter, ParquetWriter
from datatrove.utils.hashing import HashConfig


class LocalModelLanguageFilter(LanguageFilter):
    """datatrove's filter on the same lid.176 model as Terroir, read from a local file instead of downloaded."""

    def filter(self, doc):
        if self.model._model is None:
            from fasttext.FastText import _FastText
            self.model._model = _FastText({lid_path!r})
        return super().filter(doc)


def main():
    W = {workers}
    work = {str(work)!r}
    cfg = MinhashConfig(hash_config=HashConfig(precision=64), num_buckets=14, hashes_per_bucket=8)
    stages = [
        ("extract+langid+quality", LocalPipelineExecutor([
            WarcReader({str(warc_dir)!r}, glob_pattern="*.warc.gz"),
            Trafilatura(favour_precision=True, timeout=10.0),
            LocalModelLanguageFilter(language_threshold=0.65),
            GopherQualityFilter(min_stop_words=None),  # English stop words would drop every other language
            JsonlWriter(f"{{work}}/stage1"),
        ], tasks=W, workers=W, logging_dir=f"{{work}}/logs/1")),
        ("minhash signatures", LocalPipelineExecutor([
            JsonlReader(f"{{work}}/stage1"), MinhashDedupSignature(output_folder=f"{{work}}/sigs", config=cfg),
        ], tasks=W, workers=W, logging_dir=f"{{work}}/logs/2")),
        ("minhash buckets", LocalPipelineExecutor([
            MinhashDedupBuckets(input_folder=f"{{work}}/sigs", output_folder=f"{{work}}/buckets", config=cfg),
        ], tasks=cfg.num_buckets, workers=W, logging_dir=f"{{work}}/logs/3")),
        ("minhash clusters", LocalPipelineExecutor([
            MinhashDedupCluster(input_folder=f"{{work}}/buckets", output_folder=f"{{work}}/remove", config=cfg),
        ], tasks=1, workers=1, logging_dir=f"{{work}}/logs/4")),
        ("filter+pii+parquet", LocalPipelineExecutor([
            JsonlReader(f"{{work}}/stage1"), MinhashDedupFilter(input_folder=f"{{work}}/remove"), PIIFormatter(),
            ParquetWriter(f"{{work}}/out"),
        ], tasks=W, workers=W, logging_dir=f"{{work}}/logs/5")),
    ]
    for name, ex in stages:
        t = time.perf_counter()
        ex.run()
        print(f"STAGE\\t{{name}}\\t{{time.perf_counter() - t:.2f}}", flush=True)


if __name__ == "__main__":
    main()
'''


def run_datatrove(warc_dir: Path, work: Path, workers: int) -> dict:
    from filters.langid import bundled_model_path

    dt_work = work / "datatrove"
    shutil.rmtree(dt_work, ignore_errors=True)
    dt_work.mkdir(parents=True)
    script = dt_work / "pipeline.py"
    script.write_text(_datatrove_script(warc_dir, dt_work, workers, bundled_model_path()))
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, str(script)], cwd=dt_work, check=True, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    stages = {ln.split("\t")[1]: float(ln.split("\t")[2]) for ln in proc.stdout.splitlines() if ln.startswith("STAGE")}
    import pyarrow.parquet as pq

    published = sum(pq.read_metadata(p).num_rows for p in (dt_work / "out").rglob("*.parquet"))
    return {"wall_s": wall, "published": published, "stages": stages, "peak_rss_mb": _children_rss_mb()}


def main() -> None:
    ap = argparse.ArgumentParser(description="Terroir vs datatrove, end to end, same input, same run")
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--extractor", default="resiliparse", choices=("resiliparse", "trafilatura"))
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()
    from corpus import generate

    work = args.work or Path(tempfile.mkdtemp(prefix="terroir-bench-"))
    warc_dir = work / "warc"
    if not warc_dir.exists():
        generate(warc_dir, args.docs)
    mb = sum(p.stat().st_size for p in warc_dir.glob("*.warc.gz")) / 1e6
    dt = run_datatrove(warc_dir, work, args.workers)
    te = run_terroir(warc_dir, work, args.workers, args.extractor)
    cores = min(args.workers, os.cpu_count() or 1)
    print(f"\nEnd to end on {args.docs} pages ({mb:.1f} MB gzipped WARC), {cores} cores, Terroir extractor "
          f"{args.extractor}")  # fmt: skip
    print(f"{'pipeline':<12}{'wall s':>9}{'pages/s/core':>14}{'published':>11}{'peak RSS MB':>13}")
    for name, r in (("datatrove", dt), ("terroir", te)):
        print(f"{name:<12}{r['wall_s']:>9.1f}{args.docs / r['wall_s'] / cores:>14.1f}{r['published']:>11}"
              f"{r['peak_rss_mb']:>13.0f}")  # fmt: skip
    print(f"ratio (terroir throughput / datatrove throughput): {dt['wall_s'] / te['wall_s']:.2f}x")
    print("datatrove stages (s): " + ", ".join(f"{k} {v:.1f}" for k, v in dt["stages"].items()))


if __name__ == "__main__":
    main()
