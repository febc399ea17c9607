"""Scaling of the whole pipeline: wall time per document and peak RSS at several corpus sizes, with a PNG plot.

Each size runs `terroir run` in a fresh process on a generated corpus (`benchmarks/corpus.py`), two workers.

    python benchmarks/bench_scaling.py --sizes 10000,100000,1000000 --plot docs/scaling.png
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "benchmarks"))

POLICY_TEMPLATE = """
policy_id: bench-scaling
{world}admission: {default_min_lang_score: 0.65}
pii: {countries: [DE, SE, FI, ES, IT, GB]}
dedup:
  exact: true
  fuzzy: {enabled: true, mode: char, width: 5, bits: 64, bands: 20, rows: 10, threshold: 0.8, verify: "true"}
output: {shards_per_region: 4}
"""

# peak RSS of the whole process tree, sampled (the runner's workers are children of the driver)
PEAK_RSS_SAMPLER = """
import os, subprocess, sys, threading, time, psutil
proc = subprocess.Popen(sys.argv[1:])
peak = 0
while proc.poll() is None:
    try:
        p = psutil.Process(proc.pid)
        rss = p.memory_info().rss + sum(c.memory_info().rss for c in p.children(recursive=True))
        peak = max(peak, rss)
    except psutil.Error:
        pass
    time.sleep(0.2)
print(f"PEAK_RSS {peak}")
sys.exit(proc.returncode)
"""


def run_size(n: int, workers: int, work: Path) -> dict:
    from corpus import WORLD_RESIDENCY, generate

    data = work / f"corpus-{n}"
    if not data.exists():
        generate(data, n)
    policy = work / "policy.yaml"
    policy.write_text(POLICY_TEMPLATE.replace("{world}", WORLD_RESIDENCY))
    cmd = [sys.executable, "-c", PEAK_RSS_SAMPLER, sys.executable, "-m", "pipelines.cli", "run", "--policy", str(policy),
           "--input", f"crawl={data}", "--output", str(work / f"out-{n}"), "--workers", str(workers),
           "--overwrite", "--no-resume"]  # fmt: skip (never replay checkpoints of an earlier, interrupted run)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, check=False, cwd=REPO, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if proc.returncode:
        tail = "\n".join(proc.stderr.strip().splitlines()[-25:])
        sys.exit(f"terroir run at {n:,} documents failed (exit {proc.returncode}) after {wall:.0f} s; its stderr ends:\n{tail}")
    peak = int(next(ln.split()[1] for ln in proc.stdout.splitlines() if ln.startswith("PEAK_RSS")))
    return {"docs": n, "wall_s": wall, "ms_per_doc": wall / n * 1000, "peak_rss_mb": peak / 2**20}


def plot(rows: list[dict], path: Path) -> None:
    """A two-panel line plot drawn with Pillow (no plotting library needed)."""
    from PIL import Image, ImageDraw

    w, h, pad = 900, 420, 60
    img = Image.new("RGB", (w, h), "white")
    d = ImageDraw.Draw(img)
    panels = [("ms per document", "ms_per_doc", (0, 0)), ("peak RSS (MB)", "peak_rss_mb", (w // 2, 0))]
    xs = [r["docs"] for r in rows]
    import math

    lx = [math.log10(x) for x in xs]
    for title, key, (ox, oy) in panels:
        ys = [r[key] for r in rows]
        top = max(ys) * 1.15 or 1
        x0, y0, x1, y1 = ox + pad, oy + pad, ox + w // 2 - 20, h - pad
        d.rectangle([x0, y0, x1, y1], outline="black")
        d.text((x0, y0 - 25), title, fill="black")
        span = (max(lx) - min(lx)) or 1
        pts = [(x0 + (lxi - min(lx)) / span * (x1 - x0), y1 - yi / top * (y1 - y0)) for lxi, yi in zip(lx, ys)]
        d.line(pts, fill=(21, 101, 192), width=3)
        for (px, py), x, y in zip(pts, xs, ys):
            d.ellipse([px - 4, py - 4, px + 4, py + 4], fill=(21, 101, 192))
            d.text((px - 20, y1 + 8), f"{x:,}", fill="black")
            d.text((px + 6 if px < x1 - 60 else px - 60, py - 16), f"{y:,.1f}", fill="black")
        d.text((x0, y1 + 26), "documents (log scale)", fill="black")
    img.save(path)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", default="1000,10000")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--plot", type=Path, default=REPO / "docs" / "scaling.png")
    ap.add_argument("--work", type=Path, default=None)
    args = ap.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="terroir-scaling-"))
    rows = [run_size(int(n), args.workers, work) for n in args.sizes.split(",")]
    print(f"{'documents':>10}{'wall s':>10}{'ms/doc':>9}{'peak RSS MB':>13}   ({args.workers} workers, {os.cpu_count()} cores)")
    for r in rows:
        print(f"{r['docs']:>10,}{r['wall_s']:>10.1f}{r['ms_per_doc']:>9.2f}{r['peak_rss_mb']:>13.0f}")
    if len(rows) > 1:
        print(f"time per document at {rows[-1]['docs']:,} / at {rows[0]['docs']:,}: "
              f"{rows[-1]['ms_per_doc'] / rows[0]['ms_per_doc']:.2f}")  # fmt: skip
        plot(rows, args.plot)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
