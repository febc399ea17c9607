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
import resource
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


def make_corpus(n_docs: int, seed: int) -> tuple[list[str], list[str], list[int]]:
    """(doc_ids, texts, family of each document), deterministic for (n_docs, seed)."""
    by_lang = load_sentences()
    langs = sorted(by_lang)
    rng = random.Random(seed)
    texts: list[str] = []
    family: list[int] = []
    fam = 0
    while len(texts) < n_docs:
        pool = by_lang[rng.choice(langs)]
        base = [[rng.choice(pool) for _ in range(rng.randint(2, 5))] for _ in range(rng.randint(2, 5))]
        if rng.random() < 0.2:
            base.append([rng.choice(BOILERPLATE)])  # unrelated pages carry the same furniture too
        size = 1 if rng.random() < 0.5 else rng.randint(2, 5)
        members = [base] + [perturb(base, pool, rng) for _ in range(size - 1)]
        for m in members[: n_docs - len(texts)]:
            texts.append(render(m))
            family.append(fam)
        fam += 1
    order = list(range(n_docs))
    rng.shuffle(order)  # ids follow the shuffled order, so a family's original is not always its lowest id
    texts = [texts[i] for i in order]
    family = [family[i] for i in order]
    return [f"doc{i:07d}" for i in range(n_docs)], texts, family


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


# --- scaling (one child process per size, so each peak RSS is its own) ----------------------------------------------


def single(args) -> dict:
    w0, c0 = time.perf_counter(), time.process_time()
    _ids, texts, family = make_corpus(args.single, args.seed)
    gen = time.perf_counter() - w0
    exact = ShingleCache(texts, args.mode, args.width, args.ngrams)
    w1, c1 = time.perf_counter(), time.process_time()
    res = dedup(texts, args, exact)
    wall, cpu = time.perf_counter() - w1, time.process_time() - c1
    truth = truth_pairs(family, exact, args.threshold)
    sc = score(res, truth, family, args.threshold)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {"docs": len(texts), "chars": sum(len(t) for t in texts), "generate_s": gen, "dedup_wall_s": wall,
            "dedup_cpu_s": cpu, "seconds": res["seconds"], "peak_rss_mb": peak, "score": sc,
            "total_cpu_s": time.process_time() - c0}  # fmt: skip


def child_args(args, n: int) -> list[str]:
    return [sys.executable, __file__, "--single", str(n), "--bands", str(args.bands), "--rows", str(args.rows),
            "--mode", args.mode, "--width", str(args.width), "--ngrams", str(args.ngrams), "--bits", str(args.bits),
            "--seed", str(args.seed), "--threshold", str(args.threshold)]  # fmt: skip


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
    ap.add_argument("--single", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)

    if args.single:
        print(json.dumps(single(args)))
        return 0

    print(f"Terroir fuzzy dedup benchmark — {machine()}")
    print(f"command: {' '.join([Path(sys.executable).name, *sys.argv])}")
    _ids, texts, family = make_corpus(args.docs, args.seed)
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
        print("\nScaling: whole dedup (signatures, band keys, candidates, both verifications, components), "
              "one child process per size")  # fmt: skip
        print(f"  {'docs':>9}{'wall s':>9}{'CPU s':>9}{'signatures s':>14}{'docs/s':>9}{'peak RSS MB':>13}"
              f"{'P (est)':>9}{'R (est)':>9}{'P (exact)':>11}{'R (exact)':>11}")  # fmt: skip
        for n in sizes:
            out = subprocess.run(child_args(args, n), capture_output=True, text=True, check=True)
            r = json.loads(out.stdout.strip().splitlines()[-1])
            e, t = r["score"]["estimated"], r["score"]["true"]
            print(f"  {r['docs']:>9,}{r['dedup_wall_s']:>9.1f}{r['dedup_cpu_s']:>9.1f}"
                  f"{r['seconds']['signatures']:>14.1f}{r['docs'] / r['dedup_wall_s']:>9,.0f}"
                  f"{r['peak_rss_mb']:>13,.0f}"
                  f"{e['precision']:>9.4f}{e['recall']:>9.4f}{t['precision']:>11.4f}{t['recall']:>11.4f}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
