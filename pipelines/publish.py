"""After the Beam graph: gate every staged shard, publish passing shards to their region's storage, quarantine the
rest with the failure, move the ledger into place, compute the release statistics from ledger and shards (never
from runner metrics), render the report, and return the manifest for the caller to write last.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from collections import Counter, defaultdict
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.ledger import ledger_row
from pipelines.pipeline import write_parquet_atomically
from schemas import CORPUS_SCHEMA, LEDGER_SCHEMA, SCHEMA_VERSION


def sha256_of(path: str | Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


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


def publish(policy, inputs, storage, out: Path, staging: Path, opts, t_pipeline: float) -> dict:
    from expectations.gate import Gate
    from filters.pii_metadata import scrubber_for
    from pipelines.faults import maybe_crash
    from pipelines.origin_report import origin_stats
    from pipelines.report import render_report
    from pipelines.residency_stage import origin_manifest
    from pipelines.run import PIPELINE_VERSION, input_checksums

    t0 = time.monotonic()
    maybe_crash("before_publish")
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
    gate = Gate(policy.gate_suite, params, docs_dir=str(report_dir / "gx")) if staged else None
    residual_ids = _national_id_finder(policy) if staged else None
    shards, quarantined, held_docs, gate_results, gate_rows = [], [], [], [], []
    published_files = []  # (filesystem, path) of each published shard, to compute the statistics from
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
        gate_results.append(result.to_json() | {"schema_matches_contract": schema_ok}
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
            target = storage[region]
            size, digest = path.stat().st_size, sha256_of(path)
            location = target.put(path, rel.split("/", 1)[1])
            fsys, base = target.filesystem()
            published_files.append((fsys, f"{base.rstrip('/')}/{rel.split('/', 1)[1]}"))
            path.unlink()
            maybe_crash("after_publish_shard")
            shards.append({
                "path": _display(Path(location), out) if target.is_local else location, "residency_region": region,
                "storage": target.uri, "rows": meta.num_rows, "bytes": size, "sha256": digest,
                "schema_version": SCHEMA_VERSION,
            })  # fmt: skip
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

    stats = release_stats(ledger, [fsys.open_input_file(p) for fsys, p in published_files])
    stats["origin"] = origin_stats(ledger)
    if policy.fuzzy.enabled:
        from filters.dedup.minhash import gpu_available

        fz = policy.fuzzy
        backend = fz.backend if fz.backend != "auto" else ("gpu" if gpu_available() else "cpu")
        stats["fuzzy_note"] = (f", {fz.mode} {fz.width if fz.mode == 'char' else fz.ngrams}, {fz.bits}-bit, "
                               f"{fz.bands}×{fz.rows}, threshold {fz.threshold}, verify {fz.verify}, backend {backend}")
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
        "inputs": input_checksums(inputs, scrubber_for(policy)),
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
            "data_docs": "report/gx/index.html" if gate else None,
        },
        "counts": stats["counts"],
        "origin_evidence": origin_manifest(policy),
        "report": "report/index.html",
        "timings_s": {"pipeline": round(t_pipeline, 2), "gate_and_publish": round(time.monotonic() - t0, 2)},
    }
    render_report(report_dir / "index.html", manifest, stats, gate_results, policy)
    from pipelines.release_docs import write_release_docs

    manifest["docs"] = write_release_docs(out, manifest, stats, policy, published_files)
    from pipelines.release_files import other_published_files

    # the report, gate results and quarantine go under the manifest's digest too
    manifest["files"] = other_published_files(out, manifest, [s.uri for s in storage.values() if s.is_local])
    return manifest


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
    from filters.national_ids.registry import national_id_recognizer_classes
    from filters.pii import VALIDATED, PiiRedactor

    entities = tuple(sorted({cls.ENTITY for c in policy.pii_countries for cls in national_id_recognizer_classes(c)}))
    if not entities:
        return None
    redactor = PiiRedactor(tuple(policy.languages) or ("en",), entities, policy.pii_countries)

    def count(text: str) -> int:
        return sum(1 for h in redactor.find(text, None) if h.tier == VALIDATED and h.entity_type in entities)

    return count


def _groups(table: pa.Table, keys: list[str], aggs: list[tuple]) -> list[dict]:
    """Arrow group-by in first-appearance order of the groups (single-threaded), as a list of dicts: the same order a
    Python loop over the rows would meet them, so Counter ties break as they always did."""
    if not table.num_rows:
        return []
    return table.group_by(keys, use_threads=False).aggregate(aggs).to_pylist()


def release_stats(ledger: pa.Table, shard_paths: list) -> dict:
    """Everything the report shows, computed from the ledger and the published shards only.

    Column-wise with Arrow group-bys (a 1M-document release has some ten million ledger rows: never one Python object
    per row); JSON details and reason texts are parsed once per distinct value."""
    ledger = ledger.select(["doc_id", "stage", "decision", "reason", "input_path", "detail", "bytes"])
    funnel: dict[str, Counter] = defaultdict(Counter)
    bytes_by: dict[str, Counter] = defaultdict(Counter)
    for g in _groups(ledger, ["stage", "decision"], [([], "count_all"), ("bytes", "sum")]):
        funnel[g["stage"]][g["decision"]] += g["count_all"]
        bytes_by[g["stage"]][g["decision"]] += g["bytes_sum"] or 0
    rights_ledger: Counter = Counter()
    rights = ledger.filter(pc.and_(pc.equal(ledger["stage"], "rights"), pc.is_valid(ledger["detail"])))
    for g in _groups(rights, ["detail", "decision"], [([], "count_all")]):
        d = json.loads(g["detail"])
        rights_ledger[(d.get("status"), d.get("basis"), g["decision"])] += g["count_all"]
    reasons: dict[tuple[str, str], Counter] = defaultdict(Counter)
    not_kept = ledger.filter(pc.not_equal(ledger["decision"], "kept"))
    for g in _groups(not_kept, ["stage", "decision", "reason"], [([], "count_all")]):
        reasons[(g["stage"], g["decision"])][_reason_family(g["reason"])] += g["count_all"]
    errors = [{"stage": r["stage"], "input": r["input_path"], "reason": r["reason"]}
              for r in ledger.filter(pc.equal(ledger["decision"], "error")).to_pylist()]  # fmt: skip
    file_rows = ledger.filter(pc.equal(ledger["stage"], "input")).to_pylist()
    files = [{"input": r["input_path"], "decision": r["decision"], "reason": r["reason"]} for r in file_rows]
    pii_ledger: Counter = Counter()
    pii_tiers: Counter = Counter()
    redacted = ledger.filter(
        pc.and_(pc.and_(pc.equal(ledger["stage"], "pii"), pc.equal(ledger["decision"], "redacted")),
                pc.is_valid(ledger["detail"]))
    )  # fmt: skip
    for g in _groups(redacted, ["detail"], [([], "count_all")]):
        detail, n = json.loads(g["detail"]), g["count_all"]
        for k, v in detail.get("counts", {}).items():
            pii_ledger[k] += v * n
        for k, tiers in detail.get("tiers", {}).items():
            for tier, v in tiers.items():
                pii_tiers[(k, tier)] += v * n

    langs: Counter = Counter()
    lang_bytes: Counter = Counter()
    juris: Counter = Counter()
    regions: Counter = Counter()
    basis: Counter = Counter()
    domains: Counter = Counter()
    source_bytes: Counter = Counter()
    source_docs: Counter = Counter()
    rights: Counter = Counter()
    dup_clusters = 0
    published = 0
    for path in shard_paths:
        t = pq.read_table(path, columns=["text", "source_id", "lang", "origin_jurisdiction", "origin_basis",
                                         "residency_region", "registrable_domain", "rights_basis",
                                         "dup_cluster"])  # fmt: skip
        published += t.num_rows
        t = t.append_column("nbytes", pc.binary_length(pc.cast(t["text"], pa.large_binary()))).drop(["text"])
        count = [([], "count_all"), ("nbytes", "sum")]
        for g in _groups(t, ["lang"], count):
            langs[g["lang"]] += g["count_all"]
            lang_bytes[g["lang"]] += g["nbytes_sum"]
        for g in _groups(t, ["origin_jurisdiction", "residency_region"], count):
            juris[(g["origin_jurisdiction"], g["residency_region"])] += g["count_all"]
        for g in _groups(t, ["residency_region"], count):
            regions[g["residency_region"]] += g["count_all"]
        for g in _groups(t, ["origin_basis"], count):
            basis[g["origin_basis"]] += g["count_all"]
        for g in _groups(t, ["rights_basis"], count):
            rights[g["rights_basis"]] += g["count_all"]
        with_domain = t.filter(pc.is_valid(t["registrable_domain"]))
        with_domain = with_domain.filter(pc.not_equal(with_domain["registrable_domain"], ""))
        for g in _groups(with_domain, ["registrable_domain"], count):
            domains[g["registrable_domain"]] += g["nbytes_sum"]
        for g in _groups(t, ["source_id"], count):
            source_bytes[g["source_id"]] += g["nbytes_sum"]
            source_docs[g["source_id"]] += g["count_all"]
        dup = t["dup_cluster"]
        dup_clusters += pc.sum(pc.and_(pc.is_valid(dup), pc.not_equal(dup, ""))).as_py() or 0
    counts = {
        "input_files": len(file_rows),
        "input_files_with_errors": sum(1 for r in file_rows if r["decision"] == "error"),
        "records_read": sum(json.loads(r["detail"]).get("records", 0) for r in file_rows),
        "error_rows": len(errors),
        "documents_published": published,
        "documents_quarantined": sum(funnel[s]["quarantined"] for s in funnel),
        "documents_dropped": sum(funnel[s]["dropped"] for s in funnel if s != "input"),
        "pii_redacted": dict(sorted(pii_ledger.items())),
    }
    return {
        "counts": counts,
        "funnel": {s: dict(c) for s, c in funnel.items()},
        "funnel_bytes": {s: dict(c) for s, c in bytes_by.items()},
        "reasons": {f"{s}/{d}": c.most_common(12) for (s, d), c in sorted(reasons.items())},
        "errors": errors,
        "files": sorted(files, key=lambda f: f["input"] or ""),
        "languages": langs.most_common(),
        "language_bytes": dict(lang_bytes),
        "jurisdictions": sorted(((j, r, n) for (j, r), n in juris.items()), key=lambda x: -x[2]),
        "regions": regions.most_common(),
        "origin_basis": basis.most_common(),
        "rights_basis": rights.most_common(),
        "top_domains": domains.most_common(50),
        "domains_total": len(domains),
        "sources": [(s, source_docs[s], b) for s, b in source_bytes.most_common()],
        "rights_decisions": sorted(((st, b, d, n) for (st, b, d), n in rights_ledger.items()), key=lambda x: -x[3]),
        "documents_in_dup_clusters": dup_clusters,
        "pii_tiers": sorted(((k, t, n) for (k, t), n in pii_tiers.items())),
    }


def _reason_family(reason: str) -> str:
    """Group reasons that differ only by a number or id ("exact duplicate of 3fa…" → "exact duplicate of …")."""
    import re

    reason = re.sub(r"\b[0-9a-f]{32}\b", "…", reason)
    reason = re.sub(r"\d+(\.\d+)?", "N", reason)
    return reason[:160]
