"""The cost of origin evidence (issue 14, acceptance 3): the whole pipeline (`terroir run`, local runner, the policy
of `bench_e2e.py`: quality filters, fuzzy dedup, PII) on the same corpus with `residency.evidence` on and off, side
by side in one run, alternating so that a machine shared with other work slows both alike.

    python benchmarks/bench_origin_cost.py --docs 10000 --rounds 2 [--workers 2] [--origin-signals]

By default the corpus is the benchmark corpus of the other benchmarks (ccTLD pages only): both runs publish the same
documents, so the difference is the cost of gathering and weighing the evidence. With `--origin-signals` the corpus
carries generic-domain pages and planted signals: evidence on then places (and so processes downstream) about a
third more pages, which costs what processing them costs.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))


def run(warc: Path, work: Path, workers: int, evidence: bool) -> dict:
    from bench_e2e import BENCH_POLICY
    from corpus import WORLD_RESIDENCY

    residency = WORLD_RESIDENCY + f"  evidence: {{enabled: {'true' if evidence else 'false'}}}\n"
    policy = work / f"policy-{evidence}.yaml"
    policy.write_text(BENCH_POLICY.format(extractor="resiliparse", workers=workers, world=residency))
    out = work / f"out-{evidence}"
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--policy", str(policy), "--input", f"crawl={warc}",
           "--output", str(out), "--workers", str(workers), "--overwrite", "--no-resume"]  # fmt: skip
    t0 = time.perf_counter()
    subprocess.run(cmd, cwd=REPO, check=True, capture_output=True)
    wall = time.perf_counter() - t0
    m = json.loads((out / "release.json").read_text())
    return {"wall_s": wall, "published": m["counts"]["documents_published"],
            "quarantined": m["counts"]["documents_quarantined"]}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--origin-signals", action="store_true")
    args = ap.parse_args()
    from corpus import generate

    with tempfile.TemporaryDirectory(prefix="bench-origin-cost-") as tmp:
        work = Path(tmp)
        generate(work / "warc", args.docs, origin_signals=args.origin_signals)
        runs: dict[bool, list[dict]] = {False: [], True: []}
        for r in range(args.rounds):
            for ev in ((False, True) if r % 2 == 0 else (True, False)):
                res = run(work / "warc", work, args.workers, ev)
                runs[ev].append(res)
                print(f"round {r + 1} evidence {'on ' if ev else 'off'}: {res['wall_s']:.1f} s, "
                      f"{res['published']} published, {res['quarantined']} quarantined", flush=True)  # fmt: skip
    off = statistics.median(r["wall_s"] for r in runs[False])
    on = statistics.median(r["wall_s"] for r in runs[True])
    print(f"\n{args.docs} pages, {args.workers} workers: median wall evidence off {off:.1f} s, on {on:.1f} s, "
          f"difference {100 * (on - off) / off:+.1f}% (best of each: off {min(r['wall_s'] for r in runs[False]):.1f} s,"
          f" on {min(r['wall_s'] for r in runs[True]):.1f} s)")  # fmt: skip


if __name__ == "__main__":
    main()
