"""The whole pipeline from two source trees, side by side on the same corpus: wall time of each, in alternating pairs
(these machines are noisy, so a change is judged on pairs run back to back), and whether the two releases hold
byte-identical shards and ledger parts.

    git worktree add ../terroir-before <commit>
    python benchmarks/bench_before_after.py --before ../terroir-before --after . --docs 10000 --pairs 2

Each tree runs `python -m pipelines.cli run` with itself first on PYTHONPATH, the bench policy of
`bench_e2e.py`, the generated benchmark corpus (`corpus.py`, made once), 2 workers and no checkpoints reused.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))


def _digests(out: Path) -> dict[str, str]:
    files = sorted(list((out / "shards").rglob("*.parquet")) + list((out / "ledger").glob("*.parquet")))
    return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest() for p in files}


def run_tree(tree: Path, policy: Path, corpus: Path, out: Path, workers: int) -> float:
    env = dict(os.environ, PYTHONPATH=str(tree))
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--policy", str(policy), "--input", f"crawl={corpus}",
           "--output", str(out), "--workers", str(workers), "--overwrite", "--no-resume"]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"{tree}: run failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    return wall


def main() -> None:
    from bench_e2e import corpus_and_policy

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--before", type=Path, required=True, help="source tree of the baseline")
    ap.add_argument("--after", type=Path, default=REPO, help="source tree of the change (default: this one)")
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--pairs", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--work", type=Path, default=None, help="folder for the corpus and releases (kept)")
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="terroir-before-after-"))
    corpus, policy = corpus_and_policy(work, args.docs, args.workers)
    times: dict[str, list[float]] = {"before": [], "after": []}
    identical = []
    for i in range(args.pairs):
        order = ("before", "after") if i % 2 == 0 else ("after", "before")
        outs = {}
        for name in order:
            tree = (args.before if name == "before" else args.after).resolve()
            outs[name] = work / f"release-{name}"
            shutil.rmtree(outs[name], ignore_errors=True)
            times[name].append(run_tree(tree, policy, corpus, outs[name], args.workers))
        same = _digests(outs["before"]) == _digests(outs["after"])
        identical.append(same)
        print(f"pair {i + 1}: before {times['before'][-1]:.1f} s, after {times['after'][-1]:.1f} s, "
              f"ratio {times['after'][-1] / times['before'][-1]:.3f}, shards and ledger "
              f"{'byte-identical' if same else 'DIFFER'}", flush=True)  # fmt: skip
    ratios = [a / b for a, b in zip(times["after"], times["before"])]
    print(f"\n{args.docs:,} documents, {args.workers} workers, {args.pairs} pair(s): median before "
          f"{statistics.median(times['before']):.1f} s, after {statistics.median(times['after']):.1f} s; "
          f"after/before per pair {', '.join(f'{r:.3f}' for r in ratios)} (median {statistics.median(ratios):.3f}); "
          f"byte-identical in {sum(identical)} of {len(identical)} pair(s)")  # fmt: skip


if __name__ == "__main__":
    main()
