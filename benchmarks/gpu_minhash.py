"""GPU parity check and throughput of the cuDF MinHash backend.

    .venv/bin/python benchmarks/gpu_minhash.py [--docs 20000]

On a machine with cuDF and a CUDA device it
1. runs cuDF itself on every vector of ../shared/reference/cudf_minhash_vectors.json (and the minhash64_ngrams
   docstring vector) and checks the published values;
2. computes signatures of a benchmark batch with `MinHasher(backend="gpu")` and with the CPU backend, for char and
   word mode at 32 and 64 bits, and requires them to be bit-identical;
3. prints GPU throughput (documents and MB per second, after a warm-up batch).

Exit status: 0 when everything matches, 1 on any mismatch, 2 when no GPU backend is available here (with the reason).
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from filters.dedup.minhash import MinHasher, gpu_unavailable_reason

VECTORS = REPO.parent / "shared" / "reference" / "cudf_minhash_vectors.json"


def check_vectors(path: Path) -> int:
    """Run cuDF on the published vectors; return the number of mismatching cases."""
    import cudf

    doc = json.loads(path.read_text())
    bad = 0
    for case in doc["character_cases"]:
        strings = [s["repeat"] * s["times"] if isinstance(s, dict) else s for s in case["strings"]]
        dt = np.uint32 if case["function"] == "minhash32" else np.uint64
        a, b = cudf.Series(np.array(case["a"], dtype=dt)), cudf.Series(np.array(case["b"], dtype=dt))
        ser = cudf.Series(strings)
        fn = ser.str.minhash if dt is np.uint32 else ser.str.minhash64
        got = fn(case["seed"], a=a, b=b, width=case["width"]).to_arrow().to_pylist()
        ok = got == case["expected"]
        bad += not ok
        print(f"  {'ok ' if ok else 'BAD'} {case['function']:<18} {case['source']}")
    ngram_cases = [*doc["ngram_cases"], {
        "function": "minhash64_ngrams", "tokens": None, "rows": [["this", "is", "my"], ["favorite", "book"]],
        "ngrams": 2, "seed": 0, "a": [2, 3], "b": [5, 6], "source": "cudf python docstring, minhash64_ngrams",
        "expected_rows": [[1304293339825194559, 1956440009737791829], [472203876238918632, 1861227318965224922]],
    }]  # fmt: skip
    for case in ngram_cases:
        rows = case.get("rows") or [case["tokens"]]
        want = case.get("expected_rows") or [case["expected"]]
        dt = np.uint64 if case["function"].startswith("minhash64") else np.uint32
        a, b = cudf.Series(np.array(case["a"], dtype=dt)), cudf.Series(np.array(case["b"], dtype=dt))
        ser = cudf.Series(rows)
        fn = ser.str.minhash64_ngrams if dt is np.uint64 else ser.str.minhash_ngrams
        got = fn(ngrams=case["ngrams"], seed=case["seed"], a=a, b=b).to_arrow().to_pylist()
        ok = got == want
        bad += not ok
        print(f"  {'ok ' if ok else 'BAD'} {case['function']:<18} {case['source']}")
    return bad


def batch(n: int, seed: int) -> list[str]:
    """The benchmark corpus when the shared sentences are here; otherwise synthetic multilingual text."""
    try:
        from benchmarks.bench_dedup import make_corpus

        return make_corpus(n, seed)[1]
    except (ImportError, OSError):
        rng = random.Random(seed)
        alphabet = "abcdefghij klmnop qrstuv wxyz éüåö ЖДЯ 中文字 عربي 😀\t\n"
        return ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3000))) for _ in range(n)]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=20_000)
    ap.add_argument("--num-perm", type=int, default=200)
    ap.add_argument("--seed", type=int, default=42)
    args = ap.parse_args(argv)

    reason = gpu_unavailable_reason()
    if reason:
        print(f"No GPU backend on this machine: {reason}.")
        print("GPU parity therefore rests on cuDF's published vectors (reproduced by the CPU backend in "
              "tests/test_minhash.py) until this script has run on a GPU.")  # fmt: skip
        return 2

    print(f"1. cuDF on the published vectors ({VECTORS.name})")
    bad = check_vectors(VECTORS)

    texts = batch(args.docs, args.seed)
    mb = sum(len(t.encode("utf-8", "replace")) for t in texts) / 1e6
    print(f"\n2-3. {len(texts):,} documents ({mb:.1f} MB), {args.num_perm} permutations: GPU vs CPU backend")
    print(f"  {'configuration':<22}{'identical':>10}{'GPU docs/s':>13}{'GPU MB/s':>10}{'CPU docs/s':>12}")
    for mode in ("char", "word"):
        for bits in (32, 64):
            kw = {"mode": mode, "bits": bits, "seed": args.seed}
            gpu = MinHasher(args.num_perm, backend="gpu", **kw)
            cpu = MinHasher(args.num_perm, backend="cpu", **kw)
            gpu.signatures(texts[:1000])  # warm-up: CUDA context, kernels, memory pool
            t = time.perf_counter()
            g = gpu.signatures(texts)
            gpu_s = time.perf_counter() - t
            t = time.perf_counter()
            c = cpu.signatures(texts)
            cpu_s = time.perf_counter() - t
            same = g.dtype == c.dtype and g.shape == c.shape and bool((g == c).all())
            if not same:
                rows = np.flatnonzero((g != c).any(axis=1)) if g.shape == c.shape else []
                print(f"  mismatching rows ({len(rows)}), first: {list(rows[:10])}")
            bad += not same
            print(f"  {mode + f' {bits}-bit':<22}{'yes' if same else 'NO':>10}{len(texts) / gpu_s:>13,.0f}"
                  f"{mb / gpu_s:>10.1f}{len(texts) / cpu_s:>12,.0f}")  # fmt: skip
    print("\nall identical" if not bad else f"\n{bad} mismatch(es)")
    return 1 if bad else 0


if __name__ == "__main__":
    raise SystemExit(main())
