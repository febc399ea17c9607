"""How much work a rerun after a crash skips: one uninterrupted run, then a run killed (SIGKILL) after half of its
inputs were checkpointed and rerun with the same command. Prints wall times and the rerun's skipped inputs and bytes.

    python benchmarks/bench_resume.py --docs 2000 --files 4
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

POLICY_TEMPLATE = """
policy_id: bench-resume
{world}admission: {default_min_lang_score: 0.65}
extraction: {html_extractor: trafilatura}
"""


def _run(policy: Path, warc: Path, out: Path, workers: int, fault: str | None = None) -> tuple[float, int]:
    env = {k: v for k, v in os.environ.items() if k != "TERROIR_FAULT"}
    if fault:
        env["TERROIR_FAULT"] = fault
    cmd = [sys.executable, "-m", "pipelines.cli", "run", "--policy", str(policy), "--input", f"crawl={warc}",
           "--output", str(out), "--workers", str(workers), "--overwrite"]  # fmt: skip
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, check=False)
    return time.perf_counter() - t0, proc.returncode


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=2000)
    ap.add_argument("--files", type=int, default=4)
    args = ap.parse_args()
    from corpus import WORLD_RESIDENCY, generate

    work = Path(tempfile.mkdtemp(prefix="terroir-resume-"))
    warc = work / "warc"
    generate(warc, args.docs, docs_per_file=max(1, args.docs // args.files))
    policy = work / "policy.yaml"
    policy.write_text(POLICY_TEMPLATE.replace("{world}", WORLD_RESIDENCY))
    full_s, rc = _run(policy, warc, work / "full", 1)
    assert rc == 0, "the uninterrupted run failed"
    crash_s, rc = _run(policy, warc, work / "crashed", 1, fault=f"after_file:{args.files // 2}")
    assert rc == -9, f"expected SIGKILL, got {rc}"
    rerun_s, rc = _run(policy, warc, work / "crashed", 1)
    assert rc == 0, "the rerun failed"
    resume = json.loads((work / "crashed" / "release.json").read_text())["resume"]
    same = all(
        (work / "full" / p.relative_to(work / "crashed")).read_bytes() == p.read_bytes()
        for p in (work / "crashed" / "shards").rglob("*.parquet")
    )
    print(f"{args.docs} pages in {args.files} WARC files, 1 worker")
    print(f"uninterrupted run      {full_s:7.1f} s")
    print(f"killed after {args.files // 2} inputs   {crash_s:7.1f} s")
    print(f"rerun                  {rerun_s:7.1f} s  ({rerun_s / full_s:.0%} of an uninterrupted run)")
    print(f"rerun skipped {resume['inputs_from_checkpoint']}/{resume['inputs']} inputs, "
          f"{resume['bytes_from_checkpoint'] / 1e6:.1f}/{resume['bytes_total'] / 1e6:.1f} MB; shards identical: {same}")


if __name__ == "__main__":
    main()
