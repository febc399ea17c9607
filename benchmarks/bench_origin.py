"""Origin evidence where the truth is known (issue 14's acceptance 1 and 2).

On the benchmark corpus with planted origin signals (`corpus.py --origin-signals`) and on the real WARC files of
`../shared/data/warc`, every page goes through the real per-document stages (reading, rights, extraction, language
ID, residency). Each residency ledger row lists every signal seen, so the decisions are recomputed from the ledger:

- hidden TLD: ccTLD pages decided from the other signals alone (registry signals removed), against the ccTLD's
  country: per-country precision and coverage, and the confusion table;
- generic-domain pages (truth from the generator): placed vs unplaced before (ccTLD and domain table only, the
  pipeline until now) and after (origin evidence), and the precision of what is placed;
- ccTLD pages with their TLD: precision before and after (a contradicted ccTLD is now quarantined, never moved).

    python benchmarks/bench_origin.py --docs 10000 [--json results.json]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

POLICY = """
policy_id: bench-origin
{residency}admission:
  default_min_lang_score: 0.0
quality: {{enabled: false}}
"""
THRESHOLDS = (0.4, 0.5, 0.6, 0.7)


def residency_rows(warc_dir: Path, policy_path: Path) -> list[tuple[str, dict]]:
    """(url, residency detail) of every page that reached the residency step."""
    from pipelines.sources.reader import InputFile, read_file
    from pipelines.stages.document import DocumentStages
    from schemas.policy import load_policy

    policy = load_policy(policy_path)
    stages = DocumentStages(policy)
    out = []
    for path in sorted(warc_dir.iterdir()):
        if not path.name.endswith((".warc", ".warc.gz", ".arc.gz")):
            continue
        spec = InputFile("web", str(path), path.name, "warc")
        for kind, item in read_file(spec):
            if kind != "doc":
                continue
            url = item.url
            for k, row in stages.process(item):
                if k == "ledger" and row["stage"] == "residency":
                    out.append((url, json.loads(row["detail"]) if row["detail"] else {}))
    return out


def _signals(detail: dict, hide_registry: bool):
    from filters.origin import Signal

    sigs = [Signal(s["signal"], s["country"], s["value"], s["weight"]) for s in detail.get("signals", [])]
    return [s for s in sigs if not (hide_registry and s.family == "registry")]


def decide(detail: dict, hide_registry: bool, threshold: float) -> str | None:
    from filters.origin import combine

    return combine(_signals(detail, hide_registry), threshold).country


def before(url: str, policy_countries: set[str]) -> str | None:
    from filters.residency import origin_jurisdiction

    j, _ = origin_jurisdiction(url, None, {})
    return j if j in policy_countries else None


def scores(pairs: list[tuple[str, str | None]]) -> dict[str, dict]:
    """Per true country: pages, placed, correct; precision = correct / predicted as that country."""
    by_true: dict[str, Counter] = defaultdict(Counter)
    predicted: Counter = Counter()
    for truth, pred in pairs:
        by_true[truth]["pages"] += 1
        if pred is not None:
            by_true[truth]["placed"] += 1
            predicted[pred] += 1
            if pred == truth:
                by_true[truth]["correct"] += 1
    out = {}
    for c in sorted(by_true):
        t = by_true[c]
        out[c] = {"pages": t["pages"], "placed": t["placed"], "correct": t["correct"],
                  "precision": t["correct"] / predicted[c] if predicted[c] else None,
                  "coverage": t["placed"] / t["pages"]}  # fmt: skip
    return out


def _pct(x) -> str:
    return "   n/a" if x is None else f"{100 * x:5.1f}%"


def print_scores(title: str, pairs: list[tuple[str, str | None]]) -> dict:
    s = scores(pairs)
    print(f"\n{title}")
    print(f"{'country':8} {'pages':>6} {'placed':>6} {'correct':>7} {'precision':>9} {'coverage':>8}")
    for c, r in s.items():
        print(f"{c:8} {r['pages']:6} {r['placed']:6} {r['correct']:7} {_pct(r['precision']):>9} {_pct(r['coverage']):>8}")
    placed = sum(1 for _, p in pairs if p is not None)
    correct = sum(1 for t, p in pairs if p is not None and p == t)
    total = {"pages": len(pairs), "placed": placed, "correct": correct,
             "precision": correct / placed if placed else None, "coverage": placed / len(pairs) if pairs else None}
    print(f"{'all':8} {len(pairs):6} {placed:6} {correct:7} {_pct(total['precision']):>9} {_pct(total['coverage']):>8}")
    worst_p = min((r["precision"] for r in s.values() if r["precision"] is not None), default=None)
    worst_c = min((r["coverage"] for r in s.values()), default=None)
    print(f"lowest per-country precision {_pct(worst_p)}, lowest per-country coverage {_pct(worst_c)}")
    return {"per_country": s, "all": total, "min_precision": worst_p, "min_coverage": worst_c}


def print_confusion(pairs: list[tuple[str, str | None]]) -> dict:
    truths = sorted({t for t, _ in pairs})
    preds = Counter(p for _, p in pairs if p is not None)
    cols = [c for c in truths if c in preds] + sorted(c for c in preds if c not in truths)
    table = {t: Counter() for t in truths}
    for t, p in pairs:
        table[t][p or "none"] += 1
    print("\nconfusion (rows: true country, columns: predicted; 'none' = not placed)")
    print("true  " + "".join(f"{c:>5}" for c in [*cols, "none"]))
    for t in truths:
        print(f"{t:5} " + "".join(f"{table[t].get(c, 0) or '.':>5}" for c in [*cols, "none"]))
    return {t: dict(c) for t, c in table.items()}


def run_corpus(docs: int, work: Path, threshold: float) -> dict:
    from corpus import WORLD_RESIDENCY, generate

    warc = work / "warc"
    t0 = time.perf_counter()
    truth = generate(warc, docs, origin_signals=True)["origin"]
    t_gen = time.perf_counter() - t0
    policy = work / "policy.yaml"
    policy.write_text(POLICY.format(residency=WORLD_RESIDENCY))
    t0 = time.perf_counter()
    rows = residency_rows(warc, policy)
    t_stages = time.perf_counter() - t0
    from filters.origin.countries import BRAND_CCTLDS
    from filters.residency import host_of
    from schemas.policy import load_policy

    countries = set(load_policy(policy).region_of)
    cctld, generic = [], []
    for url, detail in rows:
        if url not in truth:
            continue
        tld = (host_of(url) or "").rsplit(".", 1)[-1]
        (generic if tld in BRAND_CCTLDS or before(url, countries) is None else cctld).append((url, detail))
    print(f"benchmark corpus: {docs} pages generated in {t_gen:.1f} s; {len(rows)} reached residency "
          f"({len(cctld)} on ccTLDs, {len(generic)} on generic domains) in {t_stages:.1f} s")
    res: dict = {"docs": docs, "reached_residency": len(rows), "cctld_pages": len(cctld), "generic_pages": len(generic)}
    hidden = [(truth[u], decide(d, True, threshold)) for u, d in cctld]
    res["hidden_tld"] = print_scores(f"1. ccTLD pages, TLD hidden, threshold {threshold}", hidden)
    res["hidden_tld"]["confusion"] = print_confusion(hidden)
    gen_after = [(truth[u], decide(d, False, threshold)) for u, d in generic]
    res["generic_after"] = print_scores("generic-domain pages, origin evidence", gen_after)
    print_confusion(gen_after)
    n = len(generic) or 1
    placed_before = sum(1 for u, _ in generic if before(u, countries) is not None)
    placed_after = sum(1 for _, p in gen_after if p is not None)
    print(f"\n2. generic-domain pages placed: before {placed_before}/{len(generic)} ({100 * placed_before / n:.1f}%), "
          f"after {placed_after}/{len(generic)} ({100 * placed_after / n:.1f}%); "
          f"quarantined after: {len(generic) - placed_after} ({100 * (len(generic) - placed_after) / n:.1f}%)")
    cc_before = [(truth[u], before(u, countries)) for u, _ in cctld]
    cc_after = [(truth[u], decide(d, False, threshold)) for u, d in cctld]
    for name, pairs in (("before", cc_before), ("after", cc_after)):
        placed = [(t, p) for t, p in pairs if p is not None]
        prec = sum(t == p for t, p in placed) / len(placed) if placed else 0
        print(f"   ccTLD pages {name}: precision {100 * prec:.2f}%, coverage {100 * len(placed) / len(pairs):.2f}%")
        res[f"cctld_{name}"] = {"precision": prec, "coverage": len(placed) / len(pairs), "pages": len(pairs)}
    res["generic_before_placed"] = placed_before
    res["generic_after_placed"] = placed_after
    print("\nthreshold scan (TLD hidden on ccTLD pages | generic pages): lowest per-country precision, coverage")
    res["scan"] = {}
    for th in THRESHOLDS:
        h = scores([(truth[u], decide(d, True, th)) for u, d in cctld])
        g = scores([(truth[u], decide(d, False, th)) for u, d in generic])
        mp = lambda s: min((r["precision"] for r in s.values() if r["precision"] is not None), default=None)
        cov = lambda s: sum(r["placed"] for r in s.values()) / max(1, sum(r["pages"] for r in s.values()))
        print(f"  {th:.2f}: hidden {_pct(mp(h))} {_pct(cov(h))} | generic {_pct(mp(g))} {_pct(cov(g))}")
        res["scan"][th] = {"hidden_min_precision": mp(h), "hidden_coverage": cov(h), "generic_min_precision": mp(g),
                           "generic_coverage": cov(g)}  # fmt: skip
    return res


def run_shared(threshold: float, work: Path) -> dict:
    """The real WARC files: ccTLD pages with the TLD hidden, against the ccTLD's country."""
    from filters.origin.countries import BRAND_CCTLDS
    from filters.residency import host_of
    from schemas.jurisdictions import ISO_3166_ALPHA2

    shared = REPO.parent / "shared" / "data" / "warc"
    if not shared.is_dir():
        print("\n../shared/data/warc not found: skipped")
        return {}
    codes = ", ".join(f'"{c}"' for c in sorted(ISO_3166_ALPHA2))
    policy = work / "policy-all.yaml"
    policy.write_text(POLICY.format(residency=f"residency:\n  regions:\n    all: {{jurisdictions: [{codes}], "
                                              "storage: shards/all}\n"))  # fmt: skip
    rows = residency_rows(shared, policy)
    countries = set(ISO_3166_ALPHA2)
    pairs, examples = [], []
    for url, detail in rows:
        tld = (host_of(url) or "").rsplit(".", 1)[-1]
        true = before(url, countries)
        if true is None or tld in BRAND_CCTLDS:
            continue
        pred = decide(detail, True, threshold)
        pairs.append((true, pred))
        examples.append(f"   {url[:60]:60} true {true} -> {pred or 'none'} "
                        f"({', '.join(s['signal'] + ':' + s['country'] for s in detail.get('signals', []) if s['signal'] != 'cctld')})")  # fmt: skip
    print(f"\n1b. ../shared/data/warc: {len(rows)} pages reached residency, {len(pairs)} on ccTLDs (TLD hidden)")
    out = print_scores("real WARC pages, TLD hidden", pairs)
    print_confusion(pairs)
    print("\n".join(examples[:40]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--docs", type=int, default=10000)
    ap.add_argument("--min-confidence", type=float, default=None, help="default: the policy default")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    from filters.origin import DEFAULT_MIN_CONFIDENCE

    th = args.min_confidence if args.min_confidence is not None else DEFAULT_MIN_CONFIDENCE
    with tempfile.TemporaryDirectory(prefix="bench-origin-") as tmp:
        res = {"corpus": run_corpus(args.docs, Path(tmp), th), "shared_warc": run_shared(th, Path(tmp))}
    if args.json:
        args.json.write_text(json.dumps(res, indent=1, default=str))


if __name__ == "__main__":
    main()
