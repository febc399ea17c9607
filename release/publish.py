"""After the Beam graph: gate every staged shard, publish passing shards to their region's storage, quarantine the
rest with the failure, move the ledger into place, compute the release statistics once (`release_stats.ReleaseStats`,
from ledger and shards, never from runner metrics), render the report and documents from them, and return the
manifest for the caller to write last.
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import time
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from release.stats import compute_release_stats as release_stats
from release.swap import shard_targets
from schemas import CORPUS_SCHEMA, LEDGER_SCHEMA, PIPELINE_VERSION, SCHEMA_VERSION
from schemas.files import sha256_of, write_parquet_atomically
from schemas.ledger import ledger_row


def _display(path: Path, out: Path) -> str:
    try:
        return path.resolve().relative_to(out).as_posix()
    except ValueError:
        return str(path.resolve())


def _move(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    tmp = dst.with_name(dst.name + ".tmp")
    shutil.copyfile(src, tmp)
    os.replace(tmp, dst)
    src.unlink()


def publish(policy, inputs: list[dict], origin_evidence: dict, storage, out: Path, staging: Path, opts,
            t_pipeline: float, into: Path | None = None) -> dict:  # fmt: skip
    """Build the release of `out` in `into` (default: `out` itself), shards in storage outside it under the
    release's own folder (`swap.shard_targets`), and return its manifest; `storage` is where the regions' shards live
    as seen from `out` (what the manifest records)."""
    from expectations.gate import Gate
    from release.documents.origin import origin_stats
    from release.documents.report import render_report
    from schemas.faults import maybe_crash

    t0 = time.monotonic()
    maybe_crash("before_publish")
    final_out, out = out, into or out  # everything below is written into the folder the release is built in
    report_dir = out / "report"
    shutil.rmtree(report_dir, ignore_errors=True)
    report_dir.mkdir(parents=True)
    for old in ("ledger", "quarantine"):
        shutil.rmtree(out / old, ignore_errors=True)

    staged = sorted((staging / "shards").rglob("*.parquet")) if (staging / "shards").exists() else []
    from expectations.derived import allowed_rights_statuses

    params = {
        "allowed_regions": list(policy.region_names),
        "allowed_rights": allowed_rights_statuses(policy),
        "max_residual_pii": policy.max_residual_pii,
        "min_text_chars": policy.min_text_chars,
        "max_text_chars": policy.max_text_chars,
    }
    # no Great Expectations Data Docs: their pages load scripts and styles from CDNs (blank offline) and call a shard
    # published with warnings "Failed"; the report renders the results, beside GX's raw JSON per shard
    gate = Gate(policy.gate_suite, params) if staged else None
    residual_ids = _national_id_finder(policy) if staged else None
    shards, quarantined, held_docs, gate_results, gate_rows = [], [], [], [], []
    to_put = []  # (staged file, manifest entry) of each shard that passed: copied once every shard is gated
    for path in staged:
        rel = path.relative_to(staging / "shards").as_posix()
        region = rel.split("/", 1)[0]
        schema_ok = pq.read_schema(path).equals(CORPUS_SCHEMA, check_metadata=False)
        df = gate.frame(str(path), region, policy, residual_ids)
        result = gate.validate_frame(df, rel)
        held = None
        if not schema_ok:
            result.passed = False
        elif not result.passed:
            held = _hold_back(gate, df, result, path, rel, out)
            if held is not None:
                result = held["result"]
        raw_path = report_dir / "validations" / f"{rel}.json"
        raw_path.parent.mkdir(parents=True, exist_ok=True)
        raw_path.write_text(json.dumps(result.raw, indent=2, sort_keys=True, default=str))
        gate_results.append(result.to_json() | {"schema_matches_contract": schema_ok,
                                                "validation_json": raw_path.relative_to(report_dir).as_posix()}
                            | ({"held_back": held["summary"]} if held else {}))  # fmt: skip
        if held:
            held_docs.append(held["entry"])
            for doc_id, source_id, labels in held["rows"]:
                gate_rows.append(ledger_row(doc_id, "gate", "quarantined",
                                            f"failed {', '.join(labels)} in shard {rel}; held back alone",
                                            source_id, None, {"expectations": labels,
                                                              "quarantine": held["entry"]["path"]}))  # fmt: skip
        if held and held["entry"]["shard_rows"] == 0:
            continue  # every row was held back: nothing of this shard is published
        meta = pq.read_metadata(path)
        doc_ids = pq.read_table(path, columns=["doc_id", "source_id"]).to_pylist()
        if result.passed:
            size, digest = path.stat().st_size, sha256_of(path)
            shards.append({
                "path": rel.split("/", 1)[1], "residency_region": region, "storage": storage[region].uri,
                "rows": meta.num_rows, "bytes": size, "sha256": digest, "schema_version": SCHEMA_VERSION,
            })  # fmt: skip
            to_put.append((path, shards[-1]))
            decision, reason = "kept", f"shard {rel} passed the gate"
        else:
            dest = out / "quarantine" / "shards" / rel
            _move(path, dest)
            failed = [o.label() for o in result.critical_failures]
            if not schema_ok:
                failed.insert(0, "schema differs from the corpus contract")
            (dest.with_name(dest.name + ".gate.json")).write_text(json.dumps(result.to_json(), indent=2))
            quarantined.append({
                "path": _display(dest, out), "residency_region": region, "rows": meta.num_rows,
                "failed_expectations": failed,
            })  # fmt: skip
            decision, reason = "quarantined", f"shard {rel} failed the gate: {', '.join(failed)}"
        for r in doc_ids:
            gate_rows.append(ledger_row(r["doc_id"], "gate", decision, reason, r["source_id"], None))
    if held_docs:
        _attribute_inputs(held_docs, gate_rows, staging / "ledger", out)
    targets = shard_targets(storage, final_out, out, [s | {"name": s["path"]} for _, s in to_put])
    published_files = _put_shards(to_put, targets, out)

    # ledger: Beam's parts plus the gate's decisions
    ledger_dir = out / "ledger"
    ledger_dir.mkdir(parents=True)
    for part in sorted((staging / "ledger").glob("*.parquet")) if (staging / "ledger").exists() else []:
        _move(part, ledger_dir / part.name)
    if gate_rows:
        gate_rows.sort(key=lambda r: r["doc_id"])
        write_parquet_atomically(pa.Table.from_pylist(gate_rows, schema=LEDGER_SCHEMA), str(ledger_dir / "gate.parquet"))
    ledger_files = sorted(ledger_dir.glob("*.parquet"))
    ledger = pa.concat_tables([pq.read_table(p) for p in ledger_files]) if ledger_files else LEDGER_SCHEMA.empty_table()

    stats = release_stats(ledger, [fsys.open_input_file(p) for fsys, p in published_files], policy)
    stats = dataclasses.replace(stats, origin=origin_stats(ledger))
    (report_dir / "gate_results.json").write_text(json.dumps(gate_results, indent=2))
    manifest = {
        "manifest_version": 1,
        "release": {
            "policy_id": policy.policy_id,
            "pipeline_version": PIPELINE_VERSION,
            "schema_version": SCHEMA_VERSION,
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            "runner": opts.runner,
            "approval": {"state": "pending_review", "note": "a compliance officer approves after reading the report"},
        },
        "policy": {"policy_id": policy.policy_id, "path": os.path.basename(policy.path), "sha256": policy.sha256},
        "inputs": inputs,
        "shards": shards,
        "quarantined_shards": quarantined,
        "quarantined_documents": held_docs,
        "ledger": [{"path": _display(p, out), "rows": pq.read_metadata(p).num_rows, "sha256": sha256_of(p)}
                   for p in ledger_files],
        "gate": {
            "suite": policy.gate_suite,
            "shards_passed": len(shards),
            "shards_quarantined": len(quarantined),
            "documents_held_back": sum(h["rows"] for h in held_docs),
            "results": "report/gate_results.json",
            "validations": "report/validations/" if gate else None,
        },
        "counts": stats.counts.to_json(),
        "origin_evidence": origin_evidence,
        "report": "report/index.html",
        "timings_s": {"pipeline": round(t_pipeline, 2), "gate_and_publish": round(time.monotonic() - t0, 2)},
    }
    render_report(report_dir / "index.html", manifest, stats, gate_results, policy)
    from release.documents.writer import write_release_docs

    manifest["docs"] = write_release_docs(out, manifest, stats, policy, published_files)
    from release.files import other_published_files

    # the report, gate results and quarantine go under the manifest's digest too
    manifest["files"] = other_published_files(out, manifest, [s.uri for s in targets.values() if s.is_local])
    return manifest


def _put_shards(to_put: list[tuple[Path, dict]], targets: dict, out: Path) -> list:
    """Copy each passing shard to its region's storage (the entry's `path` becomes where it lies) and remove the
    staged file; returns the (filesystem, path) of each, to compute the statistics from."""
    from schemas.faults import maybe_crash

    published = []
    for path, entry in to_put:
        target, name = targets[entry["residency_region"]], entry["path"]
        location = target.put(path, name)
        fsys, base = target.filesystem()
        published.append((fsys, f"{base.rstrip('/')}/{name}"))
        entry["path"] = _display(Path(location), out) if target.is_local else location
        path.unlink()
        maybe_crash("after_publish_shard")
    return published


def _hold_back(gate, df, result, path: Path, rel: str, out: Path) -> dict | None:
    """Quarantine by document: when every critical failure of a shard is traced to rows, hold back those rows alone
    (into `quarantine/documents/`) and publish the rest, provided the rest passes the whole suite again. Returns None
    when the shard must be quarantined whole (a failure about the shard itself, or the remainder still failing)."""
    import numpy as np

    traced = gate.rows_to_hold(df, result)
    if traced is None:
        return None
    mask, labels = traced
    before = {o.label(): o.unexpected_count for o in result.critical_failures}
    rest = df[~mask].reset_index(drop=True)
    again = gate.validate_frame(rest, rel) if len(rest) else None
    if again is not None and not again.passed:
        return None
    table = pq.read_table(path)
    bad_idx = np.flatnonzero(mask)
    bad = table.take(pa.array(bad_idx))
    dest = out / "quarantine" / "documents" / rel
    dest.parent.mkdir(parents=True, exist_ok=True)
    write_parquet_atomically(bad, str(dest))
    if len(rest):
        write_parquet_atomically(table.filter(pa.array(~mask)), str(path))
    else:
        path.unlink()
    ids, sources = bad.column("doc_id").to_pylist(), bad.column("source_id").to_pylist()
    rows = [(d, s, labels[int(i)]) for d, s, i in zip(ids, sources, bad_idx)]
    counts = Counter(label for _, _, ls in rows for label in ls)
    summary = {"rows_held": len(rows), "failed_before": before, "held_by_expectation": dict(sorted(counts.items()))}
    entry = {"path": _display(dest, out), "residency_region": rel.split("/", 1)[0], "shard": rel, "rows": len(rows),
             "shard_rows": len(rest), "failed_expectations": dict(sorted(counts.items()))}  # fmt: skip
    (dest.with_name(dest.name + ".gate.json")).write_text(json.dumps(summary, indent=2))
    final = again if again is not None else result
    if again is None:
        final.passed = False
    return {"result": final, "summary": summary, "entry": entry, "rows": rows}


def _attribute_inputs(held_docs: list[dict], gate_rows: list[dict], staged_ledger: Path, out: Path) -> None:
    """Name the input file of every held-back document (from the staged ledger: shards carry no input path), in its
    gate ledger row and, counted, in its quarantine entry, so the report can say which input broke the gate."""
    held = {r["doc_id"] for r in gate_rows if r["detail"] and "quarantine" in json.loads(r["detail"])}
    where: dict[str, str] = {}
    for part in sorted(staged_ledger.glob("*.parquet")) if staged_ledger.exists() else []:
        t = pq.read_table(part, columns=["doc_id", "input_path"])
        t = t.filter(pc.and_(pc.is_in(t["doc_id"], pa.array(sorted(held), pa.string())), pc.is_valid(t["input_path"])))
        for d, p in zip(t.column("doc_id").to_pylist(), t.column("input_path").to_pylist()):
            where.setdefault(d, p)
    by_quarantine: dict[str, Counter] = defaultdict(Counter)
    for r in gate_rows:
        if r["doc_id"] in held and r["decision"] == "quarantined":
            r["input_path"] = where.get(r["doc_id"])
            by_quarantine[json.loads(r["detail"])["quarantine"]][r["input_path"] or "unknown"] += 1
    for h in held_docs:
        h["inputs"] = dict(sorted(by_quarantine[h["path"]].items()))


def _national_id_finder(policy):
    """Counts validated national identifiers of the policy's countries left in a text (for the gate's residual check).

    Pattern-only hits are not counted: a bare digit run of the right length is not evidence of personal data.
    """
    from filters.national_ids.recognizer import VALIDATED
    from filters.national_ids.registry import national_ids_of
    from filters.pii.engine import PiiRedactor

    entities = tuple(sorted({row.entity for c in policy.pii_countries for row in national_ids_of(c)}))
    if not entities:
        return None
    redactor = PiiRedactor(tuple(policy.languages) or ("en",), entities, policy.pii_countries)

    def count(text: str) -> int:
        return sum(1 for h in redactor.find(text, None) if h.tier == VALIDATED and h.entity_type in entities)

    return count
