"""Fuzzy dedup benchmark: quality on a near-duplicate corpus with known pairs, signature throughput against datatrove,
and wall time / peak memory as the corpus grows.

    .venv/bin/python benchmarks/bench_dedup.py --docs 10000 [--scale 10000,100000]

The corpus is generated deterministically (--seed) from the Universal Dependencies test sentences in
../shared/data/langid/ud_test_sentences.tsv, read at run time: families of documents made of paragraphs of real
sentences in one of 24 languages, whose members are perturbed copies of the first (word edits, inserted sentences,
reordered paragraphs, boilerplate lines). Ground truth: every pair within a family whose exact Jaccard similarity
(same shingles as the signatures) is at least --threshold. Documents of different families share at most a few
random sentences or a boilerplate line; any such pair found at or above the threshold is counted too and reported.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")  # per-core figures: keep every library on one thread

import argparse
import json
import platform
import random
import subprocess
import sys
import tempfile
import time
from itertools import combinations
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from filters.dedup import (
    MinHasher,
    band_keys,
    candidate_pairs,
    connected_components,
    estimated_jaccard,
    shingle_strings,
)

SENTENCES = REPO.parent / "shared" / "data" / "langid" / "ud_test_sentences.tsv"

# site furniture of the kind crawls repeat on every page (written for this benchmark)
BOILERPLATE = [
    "Accept all cookies | Manage preferences | Privacy notice",
    "Home > News > Regional > Article",
    "Subscribe to our newsletter and never miss a story.",
    "© 2026 Regional Media Group. All rights reserved.",
    "Share on social media: Facebook · X · LinkedIn · E-mail",
    "Skip to main content. Menu. Search. Log in.",
]


# --- corpus ---------------------------------------------------------------------------------------------------------


def load_sentences(path: Path = SENTENCES) -> dict[str, list[str]]:
    by_lang: dict[str, list[str]] = {}
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        lang, _, _, text = line.split("\t", 3)
        by_lang.setdefault(lang, []).append(text)
    return by_lang


def render(paragraphs: list[list[str]]) -> str:
    return "\n\n".join(" ".join(p) for p in paragraphs)


def perturb(paras: list[list[str]], pool: list[str], rng: random.Random) -> list[list[str]]:
    """A near-duplicate of `paras`: 1-3 of word edits, inserted sentences, reordered paragraphs, boilerplate."""
    paras = [list(p) for p in paras]
    for op in rng.sample(["edit", "insert", "reorder", "boilerplate"], rng.randint(1, 3)):
        if op == "edit":
            rate = rng.uniform(0.002, 0.12)  # spans the threshold: light edits stay duplicates, heavy ones do not
            vocab = rng.choice(pool).split()
            for p in paras:
                for k, sent in enumerate(p):
                    words = []
                    for w in sent.split(" "):
                        r = rng.random()
                        if r < rate / 3:
                            continue  # deleted
                        words.append(rng.choice(vocab) if r < 2 * rate / 3 else w)
                        if r >= 2 * rate / 3 and r < rate:
                            words.append(w)  # duplicated
                    p[k] = " ".join(words)
        elif op == "insert":
            for _ in range(rng.randint(1, 2)):
                p = rng.choice(paras)
                p.insert(rng.randint(0, len(p)), rng.choice(pool))
        elif op == "reorder" and len(paras) > 1:
            rng.shuffle(paras)
        elif op == "boilerplate":
            line = [rng.choice(BOILERPLATE)]
            paras = [line] + paras if rng.random() < 0.5 else paras + [line]
    return paras


def iter_corpus(n_docs: int, seed: int):
    """(doc_id, text, family) for `n_docs` documents, deterministic for (n_docs, seed), generated family by family
    with ids drawn from a shuffled range (so a family's original is not always its lowest id): constant memory."""
    by_lang = load_sentences()
    langs = sorted(by_lang)
    rng = random.Random(seed)
    perm = np.random.default_rng(seed).permutation(n_docs)
    k = fam = 0
    while k < n_docs:
        pool = by_lang[rng.choice(langs)]
        base = [[rng.choice(pool) for _ in range(rng.randint(2, 5))] for _ in range(rng.randint(2, 5))]
        if rng.random() < 0.2:
            base.append([rng.choice(BOILERPLATE)])  # unrelated pages carry the same furniture too
        size = 1 if rng.random() < 0.5 else rng.randint(2, 5)
        members = [base] + [perturb(base, pool, rng) for _ in range(size - 1)]
        for m in members[: n_docs - k]:
            yield f"doc{int(perm[k]):07d}", render(m), fam
            k += 1
        fam += 1


def make_corpus(n_docs: int, seed: int) -> tuple[list[str], list[str], list[int]]:
    """(doc_ids, texts, family of each document) in doc_id order, deterministic for (n_docs, seed)."""
    rows = sorted(iter_corpus(n_docs, seed))
    return [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows]


def write_corpus(path: Path, n_docs: int, seed: int, row_group: int = 10_000) -> None:
    """The same corpus as Parquet (doc_id, text, family), written a row group at a time."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema([("doc_id", pa.string()), ("text", pa.string()), ("family", pa.int32())])
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".partial")
    with pq.ParquetWriter(tmp, schema) as w:
        buf: list = []
        for row in iter_corpus(n_docs, seed):
            buf.append(row)
            if len(buf) == row_group:
                w.write_table(pa.table(list(zip(*buf)), schema=schema))
                buf = []
        if buf:
            w.write_table(pa.table(list(zip(*buf)), schema=schema))
    tmp.rename(path)


# --- dedup pipeline and scoring -------------------------------------------------------------------------------------


class ShingleCache:
    """Exact Jaccard between documents, keeping the most recent shingle sets (pairs come sorted by first id)."""

    def __init__(self, texts: list[str], mode: str, width: int, ngrams: int) -> None:
        self.texts, self.mode, self.width, self.ngrams = texts, mode, width, ngrams
        self.cache: dict[int, set[str]] = {}

    def get(self, i: int) -> set[str]:
        s = self.cache.get(i)
        if s is None:
            if len(self.cache) > 64:
                self.cache.clear()
            s = self.cache[i] = shingle_strings(self.texts[i], self.mode, self.width, self.ngrams)
        return s

    def jaccard(self, i: int, j: int) -> float:
        a, b = self.get(i), self.get(j)
        if not a and not b:
            return 1.0
        inter = len(a & b)
        return inter / (len(a) + len(b) - inter)


def truth_pairs(family: list[int], exact: ShingleCache, threshold: float) -> set[tuple[int, int]]:
    members: dict[int, list[int]] = {}
    for i, f in enumerate(family):
        members.setdefault(f, []).append(i)
    out = set()
    for idx in members.values():
        for i, j in combinations(sorted(idx), 2):
            if exact.jaccard(i, j) >= threshold:
                out.add((i, j))
    return out


def dedup(texts: list[str], args, exact: ShingleCache) -> dict:
    """Signatures, band keys, candidates, verification (estimated and exact), components; with timings."""
    t0 = time.perf_counter()
    mh = MinHasher(args.bands * args.rows, mode=args.mode, width=args.width, ngrams=args.ngrams, bits=args.bits,
                   seed=args.seed, backend="cpu")  # fmt: skip
    sig = mh.signatures(texts)
    t1 = time.perf_counter()
    idx = list(range(len(texts)))
    cands = candidate_pairs(idx, band_keys(sig, args.bands, args.rows))
    t2 = time.perf_counter()
    ca = np.array([c[0] for c in cands], dtype=np.int64)
    cb = np.array([c[1] for c in cands], dtype=np.int64)
    est = estimated_jaccard(sig[ca], sig[cb]) if cands else np.zeros(0)
    edges_est = [c for c, e in zip(cands, est) if e >= args.threshold]
    t3 = time.perf_counter()
    true_j = {c: exact.jaccard(*c) for c in cands}
    edges_true = [c for c in cands if true_j[c] >= args.threshold]
    t4 = time.perf_counter()
    comp_est = connected_components(edges_est)
    comp_true = connected_components(edges_true)
    t5 = time.perf_counter()
    seconds = {"signatures": t1 - t0, "lsh": t2 - t1, "verify_estimated": t3 - t2, "verify_true": t4 - t3,
               "components": t5 - t4}  # fmt: skip
    return {"sig": sig, "candidates": cands, "true_j": true_j, "seconds": seconds,
            "edges": {"estimated": edges_est, "true": edges_true},
            "components": {"estimated": comp_est, "true": comp_true}}  # fmt: skip


def prf(predicted: set, truth: set) -> tuple[float, float]:
    tp = len(predicted & truth)
    return (tp / len(predicted) if predicted else 1.0), (tp / len(truth) if truth else 1.0)


def score(result: dict, truth: set, family: list[int], threshold: float) -> dict:
    # cross-family pairs found at or above the threshold are real near-duplicates: count them as truth
    extra = {c for c, j in result["true_j"].items() if j >= threshold and family[c[0]] != family[c[1]]}
    truth = truth | extra
    truth_comp = connected_components(truth)
    truth_dropped = {d for d, r in truth_comp.items() if d != r}
    near = sum(1 for j in result["true_j"].values() if abs(j - threshold) < 0.05)
    out = {"truth_pairs": len(truth), "cross_family_truth": len(extra), "candidates": len(result["candidates"]),
           "candidates_near_threshold": near}  # fmt: skip
    for verify in ("estimated", "true"):
        p, r = prf(set(result["edges"][verify]), truth)
        dropped = {d for d, rep in result["components"][verify].items() if d != rep}
        dp, dr = prf(dropped, truth_dropped)
        out[verify] = {"precision": p, "recall": r, "drop_precision": dp, "drop_recall": dr, "dropped": len(dropped)}
    out["truth_dropped"] = len(truth_dropped)
    return out


# --- throughput against datatrove -----------------------------------------------------------------------------------


def datatrove_step(args, folder: str):
    from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupSignature
    from datatrove.utils.hashing import HashConfig

    cfg = MinhashConfig(num_buckets=args.bands, hashes_per_bucket=args.rows, seed=args.seed,
                        hash_config=HashConfig(precision=args.bits))  # fmt: skip
    return MinhashDedupSignature(output_folder=folder, config=cfg, language="en")


def cpu_time(fn) -> tuple[float, float]:
    w, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - w, time.process_time() - c


def throughput(texts: list[str], args) -> list[dict]:
    """Signatures per CPU-second of datatrove's MinhashDedupSignature and of Terroir's CPU backend, same documents."""
    rows = []
    with tempfile.TemporaryDirectory() as folder:
        step = datatrove_step(args, folder)
        for t in texts[:20]:  # warm-up: spaCy tokenizer, hash function, numpy
            step.get_signature(step.get_shingles(t))
        wall, cpu = cpu_time(lambda: [step.get_signature(step.get_shingles(t)) for t in texts])
        rows.append({"name": f"datatrove MinhashDedupSignature (word 5-grams, xxhash{args.bits})", "wall": wall,
                     "cpu": cpu})  # fmt: skip
    for mode in ("char", "word"):
        for bits in (args.bits, 32 if args.bits == 64 else 64):
            mh = MinHasher(args.bands * args.rows, mode=mode, width=args.width, ngrams=args.ngrams, bits=bits,
                           seed=args.seed, backend="cpu")  # fmt: skip
            mh.signatures(texts[:20])
            wall, cpu = cpu_time(lambda mh=mh: mh.signatures(texts))
            what = f"width {args.width}" if mode == "char" else f"ngrams={args.ngrams}"
            rows.append({"name": f"Terroir CPU {mode} ({what}), {bits}-bit", "wall": wall, "cpu": cpu})
    return rows


# --- scaling: `terroir dedup` end to end on a Parquet corpus, one process tree per size -------------------------------


def scale_run(n: int, args, work: Path) -> dict:
    from bench_scaling import PEAK_RSS_SAMPLER

    corpus = work / f"corpus-{n}-seed{args.seed}.parquet"
    if not corpus.exists():
        t = time.perf_counter()
        subprocess.run([sys.executable, __file__, "--write-corpus", str(n), "--to", str(corpus), "--seed",
                        str(args.seed)], check=True)  # fmt: skip
        print(f"  (generated {n:,} documents into {corpus.name} in {time.perf_counter() - t:.0f} s, not timed below)")
    out = work / f"dedup-{n}"
    cmd = [sys.executable, "-c", PEAK_RSS_SAMPLER, sys.executable, "-m", "pipelines.cli", "dedup", "--input",
           str(corpus), "--output", str(out), "--overwrite", "--backend", "cpu", "--workers", str(args.workers),
           "--mode", args.mode, "--width", str(args.width), "--ngrams", str(args.ngrams), "--bits", str(args.bits),
           "--bands", str(args.bands), "--rows", str(args.rows), "--seed", str(args.seed), "--threshold",
           str(args.threshold), "--verify", "true"]  # fmt: skip
    t = time.perf_counter()
    proc = subprocess.run(cmd, check=False, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode:
        raise SystemExit(f"terroir dedup failed at {n:,} documents:\n{proc.stderr[-3000:]}")
    peak = int(next(ln.split()[1] for ln in proc.stdout.splitlines() if ln.startswith("PEAK_RSS")))
    summary = json.loads((out / "summary.json").read_text())
    row = {"docs": n, "wall_s": wall, "peak_rss_mb": peak / 2**20, "summary": summary, "corpus": corpus, "out": out}
    if n <= args.score_max:
        row["score"] = score_engine(corpus, out, args)
    return row


def score_engine(corpus: Path, out: Path, args) -> dict:
    """Pair and drop precision/recall of a `terroir dedup` output against the corpus's families (exact Jaccard)."""
    import pyarrow.parquet as pq

    t = pq.read_table(corpus)
    ids, texts, family = (t.column(c).to_pylist() for c in ("doc_id", "text", "family"))
    pos = {d: i for i, d in enumerate(ids)}
    exact = ShingleCache(texts, args.mode, args.width, args.ngrams)
    truth = {(min(i, j), max(i, j)) for i, j in truth_pairs(family, exact, args.threshold)}
    e = pq.read_table(out / "edges.parquet")
    found = {tuple(sorted((pos[a], pos[b]))) for a, b in zip(e.column(0).to_pylist(), e.column(1).to_pylist())}
    truth |= {c for c in found if family[c[0]] != family[c[1]]}  # verified exactly: real near-duplicates
    p, r = prf(found, truth)
    truth_comp = connected_components((ids[i], ids[j]) for i, j in truth)
    truth_dropped = {d for d, rep in truth_comp.items() if d != rep}
    dropped = set(pq.read_table(out / "removals.parquet").column("doc_id").to_pylist())
    dp, dr = prf(dropped, truth_dropped)
    return {"precision": p, "recall": r, "drop_precision": dp, "drop_recall": dr, "truth_pairs": len(truth)}


# --- report ---------------------------------------------------------------------------------------------------------


def machine() -> str:
    model = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return (f"{os.cpu_count()} logical cores ({model or platform.processor()}), Python {platform.python_version()}, "
            f"numpy {np.__version__}")  # fmt: skip


def print_quality(sc: dict, args, seconds: dict) -> None:
    print(
        f"\nQuality: Jaccard >= {args.threshold}, {args.bands} bands x {args.rows} rows, {args.mode} shingles "
        f"({'width ' + str(args.width) if args.mode == 'char' else 'ngrams=' + str(args.ngrams)}), {args.bits}-bit"
    )
    print(f"  true duplicate pairs {sc['truth_pairs']:,} (of which across families {sc['cross_family_truth']}), "
          f"LSH candidate pairs {sc['candidates']:,}, documents to drop {sc['truth_dropped']:,}")  # fmt: skip
    print(f"  candidate pairs with exact Jaccard within 0.05 of the threshold: {sc['candidates_near_threshold']:,} "
          f"({sc['candidates_near_threshold'] / max(sc['candidates'], 1):.0%}), where a {args.bands * args.rows}-"
          "permutation estimate (standard error about 0.03) decides either way")  # fmt: skip
    print(f"  {'verification':<28}{'pair precision':>15}{'pair recall':>13}{'drop precision':>16}{'drop recall':>13}")
    for verify, label in (("estimated", "estimated (signatures)"), ("true", "exact Jaccard")):
        s = sc[verify]
        print(f"  {label:<28}{s['precision']:>15.4f}{s['recall']:>13.4f}{s['drop_precision']:>16.4f}"
              f"{s['drop_recall']:>13.4f}")  # fmt: skip
    print("  stage seconds: " + ", ".join(f"{k} {v:.2f}" for k, v in seconds.items()))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=10_000, help="corpus size for quality and throughput")
    ap.add_argument("--scale", default="", help="comma-separated corpus sizes for wall time and peak RSS")
    ap.add_argument("--throughput-docs", type=int, default=1000, help="documents timed against datatrove")
    ap.add_argument("--bands", type=int, default=20)
    ap.add_argument("--rows", type=int, default=10)
    ap.add_argument("--mode", choices=("char", "word"), default="char")
    ap.add_argument("--width", type=int, default=5)
    ap.add_argument("--ngrams", type=int, default=5)
    ap.add_argument("--bits", type=int, choices=(32, 64), default=64)
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--workers", type=int, default=2, help="worker processes of `terroir dedup` in --scale runs")
    ap.add_argument("--score-max", type=int, default=100_000, help="score --scale runs up to this size (exact "
                    "Jaccard of every within-family pair: minutes at 1M)")  # fmt: skip
    ap.add_argument("--work", type=Path, default=None, help="folder for --scale corpora and outputs (kept)")
    ap.add_argument("--write-corpus", type=int, default=0, help=argparse.SUPPRESS)
    ap.add_argument("--to", type=Path, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.write_corpus:
        write_corpus(args.to, args.write_corpus, args.seed)
        return 0

    print(f"Terroir fuzzy dedup benchmark — {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    ids, texts, family = make_corpus(args.docs, args.seed)
    print(f"corpus: {len(texts):,} documents, {sum(len(t) for t in texts) / len(texts):,.0f} characters on average, "
          f"{len(set(family)):,} families, seed {args.seed}")  # fmt: skip

    exact = ShingleCache(texts, args.mode, args.width, args.ngrams)
    res = dedup(texts, args, exact)
    sc = score(res, truth_pairs(family, exact, args.threshold), family, args.threshold)
    print_quality(sc, args, res["seconds"])

    sample = texts[: min(args.throughput_docs, len(texts))]
    rows = throughput(sample, args)
    base = rows[0]["cpu"]
    print(f"\nSignature throughput on the same {len(sample):,} documents, {args.bands * args.rows} permutations, "
          "one process (CPU time = per core)")  # fmt: skip
    print(f"  {'implementation':<58}{'docs/s per core':>16}{'MB/s per core':>15}{'vs datatrove':>14}")
    mb = sum(len(t.encode()) for t in sample) / 1e6
    for r in rows:
        print(f"  {r['name']:<58}{len(sample) / r['cpu']:>16,.0f}{mb / r['cpu']:>15.2f}{base / r['cpu']:>13.1f}x")

    sizes = [int(s) for s in args.scale.split(",") if s.strip()]
    if sizes:
        work = args.work or Path(tempfile.mkdtemp(prefix="terroir-dedup-bench-"))
        print(f"\nScaling: `terroir dedup` end to end (read Parquet, signatures, spilled band buckets, exact "
              f"verification, components, deduplicated shards and ledger written), {args.workers} workers, peak RSS "
              f"of the whole process tree; corpora and outputs in {work}")  # fmt: skip
        rows = []
        for n in sizes:
            rows.append(scale_run(n, args, work))
        print(f"  {'docs':>10}{'wall s':>9}{'ms/doc':>8}{'peak RSS MB':>13}{'sign':>7}{'buckets':>8}{'verify':>8}"
              f"{'write':>7}{'candidates':>12}{'removed':>9}{'P':>8}{'R':>8}{'drop P':>8}{'drop R':>8}")  # fmt: skip
        for r in rows:
            s, sec = r["summary"], r["summary"]["seconds"]
            sc = r.get("score")
            q = (f"{sc['precision']:>8.4f}{sc['recall']:>8.4f}{sc['drop_precision']:>8.4f}{sc['drop_recall']:>8.4f}"
                 if sc else f"{'-':>8}{'-':>8}{'-':>8}{'-':>8}")  # fmt: skip
            print(f"  {r['docs']:>10,}{r['wall_s']:>9.1f}{r['wall_s'] / r['docs'] * 1000:>8.2f}{r['peak_rss_mb']:>13,.0f}"
                  f"{sec['sign']:>7.0f}{sec['buckets']:>8.1f}{sec['verify']:>8.0f}{sec['write']:>7.0f}"
                  f"{s['candidate_pairs']:>12,}{s['removed']:>9,}{q}")  # fmt: skip
        same = next((r for r in rows if r["docs"] == args.docs), None)
        if same is not None:
            import pyarrow.parquet as pq

            ref = {d for d, rep in res["components"]["true"].items() if d != rep}
            got = set(pq.read_table(same["out"] / "removals.parquet").column("doc_id").to_pylist())
            verdict = "the same" if {ids[i] for i in ref} == got else "DIFFERENT"
            print(f"  at {args.docs:,} documents `terroir dedup` removes {verdict} documents as the in-memory "
                  f"reference above ({len(got):,})")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
