"""The per-document stages alone (`DocumentStages.process`), two source trees side by side: CPU seconds of one process
over the same documents of the benchmark corpus, in alternating rounds (the machines are noisy; compare the minima).

    git worktree add ../terroir-before <commit>
    python benchmarks/bench_stage_runner.py --before ../terroir-before --after . --docs 1000 --rounds 3

Each tree runs in its own interpreter with itself first on `sys.path`; documents are read before the clock starts,
and the stages are set up and warmed on 100 documents first.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

CHILD = r"""
import copy, os, sys, time
tree, corpus, policy_path, rounds = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
sys.path.insert(0, tree)
from pipelines.sources.reader import InputFile, read_file
from pipelines.stages.document import DocumentStages
from schemas.policy import load_policy

assert sys.modules["pipelines.stages.document"].__file__.startswith(tree)
docs = [item for name in sorted(os.listdir(corpus))
        for kind, item in read_file(InputFile("crawl", os.path.join(corpus, name), name, "warc")) if kind == "doc"]
stages = DocumentStages(load_policy(policy_path))
stages.setup()
for d in copy.deepcopy(docs[:100]):
    list(stages.process(d))
for _ in range(rounds):
    batch = copy.deepcopy(docs)
    t0 = time.process_time()
    for d in batch:
        list(stages.process(d))
    print(len(docs), time.process_time() - t0, flush=True)
"""


def run_tree(tree: Path, corpus: Path, policy: Path, rounds: int) -> tuple[int, list[float]]:
    proc = subprocess.run([sys.executable, "-c", CHILD, str(tree), str(corpus), str(policy), str(rounds)],
                          cwd=tree, capture_output=True, text=True, check=False)  # fmt: skip
    if proc.returncode != 0:
        raise SystemExit(f"{tree}: failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    lines = [ln.split() for ln in proc.stdout.strip().splitlines()]
    return int(lines[0][0]), [float(s) for _, s in lines]


def main() -> None:
    from bench_e2e import corpus_and_policy

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", type=Path, required=True, help="source tree of the baseline")
    ap.add_argument("--after", type=Path, default=REPO, help="source tree of the change (default: this one)")
    ap.add_argument("--docs", type=int, default=1000)
    ap.add_argument("--rounds", type=int, default=3, help="timed rounds per tree and pair")
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--work", type=Path, default=None, help="folder for the corpus (kept)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="terroir-stage-runner-"))
    corpus, policy = corpus_and_policy(work, args.docs, 1)
    best: dict[str, list[float]] = {"before": [], "after": []}
    n = 0
    for i in range(args.pairs):
        for name in ("before", "after") if i % 2 == 0 else ("after", "before"):
            n, times = run_tree((args.before if name == "before" else args.after).resolve(), corpus, policy, args.rounds)
            best[name].append(min(times))
        print(f"pair {i + 1}: before {best['before'][-1]:.3f} s, after {best['after'][-1]:.3f} s CPU (best of "
              f"{args.rounds}), ratio {best['after'][-1] / best['before'][-1]:.3f}", flush=True)  # fmt: skip
    b, a = min(best["before"]), min(best["after"])
    print(f"\n{n:,} documents through the per-document stages, one process: before {b:.3f} s ({n / b:,.0f} docs/s), "
          f"after {a:.3f} s ({n / a:,.0f} docs/s); after/before {a / b:.3f} (median of pairs "
          f"{statistics.median(x / y for x, y in zip(best['after'], best['before'])):.3f})")  # fmt: skip


if __name__ == "__main__":
    main()
