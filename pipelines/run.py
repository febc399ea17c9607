"""One Terroir run, end to end: plan (validate everything first), execute the Beam graph into staging, gate every
shard, publish or quarantine, report, and finally write `release.json`, whose presence publishes the release.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import os
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from pipelines.graph.progress import ProgressMonitor
from pipelines.graph.worker_logging import local_worker_log_level
from pipelines.sources.reader import InputFile, file_sha256, input_root, mets_claims, sniff_format
from schemas import PIPELINE_VERSION, SCHEMA_VERSION
from schemas.faults import maybe_crash
from schemas.policy import Policy, load_policy

log = logging.getLogger("terroir")

RUNNERS = ("local", "dask", "flink", "spark")


class ConfigError(ValueError):
    """Wrong configuration: raised before any work starts, with a message that says what to fix."""


class WorkersDidNotStart(RuntimeError):
    """The runner's workers never started: nothing was processed, and the message says what to check."""


@dataclass
class RunOptions:
    policy_path: str
    inputs: list[str]
    output_dir: str
    runner: str = "local"
    workers: int = 2
    dask_address: str | None = None
    overwrite: bool = False
    lid_model_path: str | None = None
    rights_snapshots: str | None = None
    resume: bool = True  # reuse per-input checkpoints left by an interrupted run with the same arguments
    keep_work: bool = False
    progress: bool = False  # echo progress lines on stderr (they always go to DIR/progress.log)
    job_endpoint: str | None = None  # Beam job server for flink and spark
    extra_beam_args: list[str] = field(default_factory=list)
    dedup_backend: str | None = None  # cpu, gpu or auto: overrides the policy's dedup.fuzzy.backend
    worker_start_timeout: float = 120.0  # seconds until the first worker must have started; 0 waits for ever


@dataclass
class RunResult:
    output_dir: str
    manifest_path: str
    report_path: str
    manifest: dict


def parse_input_arg(arg: str) -> tuple[str | None, str]:
    """`SOURCE_ID=PATH` or `PATH`."""
    if "=" in arg and not os.path.exists(arg):
        sid, path = arg.split("=", 1)
        return sid, path
    return None, arg


def _default_source_id(path: Path) -> str:
    name = path.name
    for suffix in (".gz", ".warc", ".arc", ".jsonl", ".parquet", ".xml"):
        name = name.removesuffix(suffix)
    clean = "".join(c if c.isalnum() or c in "._-" else "-" for c in name).strip("-.") or "input"
    return clean[:120]


def plan_inputs(policy: Policy, args: list[str]) -> list[InputFile]:
    """Expand input arguments into files. Raises `ConfigError` for a missing path or an empty folder."""
    if not args:
        raise ConfigError("no --input given; name at least one file or folder")
    from filters.pii.metadata import scrubber_for

    scrub = scrubber_for(policy)  # a file name can hold personal data: published paths never do
    files: list[InputFile] = []
    for arg in args:
        sid, raw = parse_input_arg(arg)
        root = Path(raw)
        if not root.exists():
            raise ConfigError(f"input {raw}: no such file or folder")
        sid = sid or _default_source_id(root)
        decl = policy.source(sid)
        if root.is_dir():
            paths = sorted(p for p in root.rglob("*") if p.is_file() and not p.name.startswith("."))
            base = root
        else:
            paths, base = [root], root.parent
        if not paths:
            raise ConfigError(f"input {raw}: folder holds no files")
        specs = []
        for p in paths:
            fmt = decl.format if decl.format != "auto" else sniff_format(str(p))
            specs.append((p, fmt))
        claimed: set[str] = set()
        members: dict[Path, tuple[str, ...]] = {}
        for p, fmt in specs:
            if fmt in ("mets", "didl"):  # METS or DIDL: the ALTO pages it groups are read through it
                members[p] = tuple(m for m in mets_claims(str(p), base) if os.path.isfile(m))
                claimed.update(members[p])
        for p, fmt in specs:
            if str(p.resolve()) in claimed:
                continue  # read through its METS, grouped into articles or issues
            files.append(
                InputFile(
                    source_id=sid, path=str(p.resolve()), rel=scrub.path(p.relative_to(base).as_posix()), format=fmt,
                    text_field=decl.text_field, id_field=decl.id_field, url_field=decl.url_field,
                    members=members.get(p, ()), max_record_bytes=policy.max_record_bytes,
                    max_decompressed_bytes=policy.max_decompressed_bytes,
                )
            )  # fmt: skip
    seen = {}
    for f in files:
        key = (f.source_id, f.rel)
        if key in seen:
            raise ConfigError(f"input file {f.rel} of source {f.source_id} is named twice")
        seen[key] = f
    return files


@dataclass
class Preflight:
    policy: Policy
    inputs: list[InputFile]
    storage: dict
    rights_snapshots: dict


def preflight(opts: RunOptions) -> Preflight:
    """Every check that can fail, before any work: policy, runner, extra stages, inputs, rights snapshots, storage,
    gate suite."""
    from filters.rights import load_snapshots
    from release import storage as st

    policy = load_policy(opts.policy_path)
    if opts.dedup_backend is not None:
        if opts.dedup_backend not in ("cpu", "gpu", "auto"):
            raise ConfigError(f"--dedup-backend {opts.dedup_backend}: choose cpu, gpu or auto")
        policy = dataclasses.replace(policy, fuzzy=dataclasses.replace(policy.fuzzy, backend=opts.dedup_backend))
    if policy.fuzzy.enabled and opts.runner == "local":
        # the local runner's workers are this machine: a backend that cannot run here fails now, not in a worker
        # (on a cluster the workers may have the GPU the driver lacks)
        from filters.dedup import MinHasher

        problem = MinHasher.settings_problem(policy.fuzzy)
        if problem:
            raise ConfigError(
                f"policy {policy.path}: dedup.fuzzy: {problem}; choose backend cpu or auto (policy or --dedup-backend)"
            )
    if opts.runner not in RUNNERS:
        raise ConfigError(f"--runner {opts.runner}: choose one of {', '.join(RUNNERS)}")
    if opts.runner == "dask" and not opts.dask_address:
        raise ConfigError("--runner dask needs --dask-address HOST:PORT of a running scheduler")
    if opts.runner in ("flink", "spark") and not opts.job_endpoint:
        raise ConfigError(f"--runner {opts.runner} needs --job-endpoint HOST:PORT of a Beam {opts.runner} job server")
    if opts.workers < 1:
        raise ConfigError("--workers must be at least 1")
    if opts.worker_start_timeout < 0:
        raise ConfigError("--worker-start-timeout must be 0 (wait for ever) or a number of seconds")
    if opts.runner == "local" and opts.workers > 1:
        problem = loopback_problem()
        if problem:
            raise ConfigError(
                f"the local runner's {opts.workers} worker processes talk to this process over the loopback "
                f"interface, which does not work here ({problem}); bring it up (`ip link set lo up`) or run with "
                "--workers 1, which needs no worker processes"
            )
    if opts.lid_model_path and not os.path.isfile(opts.lid_model_path):
        raise ConfigError(f"--lid-model {opts.lid_model_path}: no such file")
    from filters.origin import OriginDatabaseError
    from pipelines.stages.residency import check_origin_evidence

    try:
        check_origin_evidence(policy)
    except OriginDatabaseError as exc:
        raise ConfigError(f"policy {policy.path}: residency.evidence: {exc}") from None
    from pipelines.stages.extra import StageConfigError, check_stages

    try:
        check_stages(policy)  # imports each extra stage's module and builds the stage once
    except StageConfigError as exc:
        raise ConfigError(str(exc)) from None
    inputs = plan_inputs(policy, opts.inputs)
    if policy.allowed_sources:
        refused = sorted({f.source_id for f in inputs} - set(policy.allowed_sources))
        if refused:
            raise ConfigError(
                f"input source(s) {refused} are not in the policy's admission.sources {list(policy.allowed_sources)}"
            )
    snap_dir = opts.rights_snapshots or policy.rights.snapshots
    if snap_dir and not os.path.isdir(snap_dir):
        raise ConfigError(f"rights snapshots folder {snap_dir} does not exist")
    snapshots = load_snapshots(snap_dir) if snap_dir else {}
    out = Path(opts.output_dir)
    if (out / "release.json").exists() and not opts.overwrite:
        raise ConfigError(f"output {out} already holds a published release; pass --overwrite or choose a new folder")
    storages = st.resolve(policy, out.resolve())
    try:
        st.check(policy, storages, out.resolve())
    except st.StorageError as exc:
        raise ConfigError(str(exc)) from None
    from filters.pii.policy import check_pii_config

    try:
        check_pii_config(policy)
    except ValueError as exc:
        raise ConfigError(f"policy {policy.path}: {exc}") from None
    from expectations.gate import SuiteError, load_suite_dict

    try:
        load_suite_dict(policy.gate_suite)
    except SuiteError as exc:
        raise ConfigError(str(exc)) from None
    return Preflight(policy, inputs, storages, snapshots)


def loopback_problem(timeout_s: float = 2.0) -> str | None:
    """None when a TCP connection to `localhost` works (what the local runner's workers open to reach the driver),
    else what failed. Takes milliseconds; without it a run with the loopback interface down waits in gRPC timeouts."""
    import socket

    problems = []
    try:
        addresses = socket.getaddrinfo("localhost", None, type=socket.SOCK_STREAM)
    except OSError as exc:
        return f"localhost does not resolve: {exc}"
    for family, _, _, _, addr in addresses:
        try:
            with socket.socket(family, socket.SOCK_STREAM) as srv:
                srv.bind((addr[0], 0))
                srv.listen(1)
                srv.settimeout(timeout_s)
                with socket.create_connection(srv.getsockname()[:2], timeout=timeout_s):
                    srv.accept()[0].close()
            return None
        except OSError as exc:
            problems.append(f"{addr[0]}: {exc.strerror or exc}")
    return "; ".join(problems) or "localhost has no address"


def beam_options(opts: RunOptions):
    from apache_beam.options.pipeline_options import PipelineOptions

    args = list(opts.extra_beam_args)
    if opts.runner == "local":
        mode = "multi_processing" if opts.workers > 1 else "in_memory"
        args += [f"--direct_num_workers={opts.workers}", f"--direct_running_mode={mode}"]
    elif opts.runner == "dask":
        args += [f"--dask_client_address={opts.dask_address}"]
    elif opts.runner in ("flink", "spark"):
        # workers run Terroir's own image: the job server starts SDK harnesses from it
        args += [f"--job_endpoint={opts.job_endpoint}", "--environment_type=DOCKER",
                 f"--environment_config={os.environ.get('TERROIR_IMAGE', 'terroir:latest')}"]  # fmt: skip
    return PipelineOptions(args)


def make_runner(opts: RunOptions):
    if opts.runner in ("flink", "spark"):
        from apache_beam.runners.portability.portable_runner import PortableRunner

        return PortableRunner()
    if opts.runner == "dask":
        from apache_beam.runners.dask.dask_runner import DaskRunner

        return DaskRunner()
    from apache_beam.runners.portability.fn_api_runner import FnApiRunner

    return FnApiRunner()


def execute(opts: RunOptions) -> RunResult:
    """Run everything. Raises `ConfigError` / `PolicyError` before any work when the configuration is wrong."""
    t0 = time.monotonic()
    pre = preflight(opts)
    out = Path(opts.output_dir).resolve()
    out.mkdir(parents=True, exist_ok=True)
    with RunLock([out] + [Path(s.uri) for s in pre.storage.values() if s.is_local]) as lock:
        from release.storage import claim

        claim(pre.storage, out)
        return _execute(opts, pre, out, t0, lock)


def work_dir_of(out: Path) -> Path:
    """Checkpoints, spills and staged shards of a run: beside the release folder, never inside it (checkpoints hold
    unredacted text), so a crash leaves nothing raw in a folder that is published or copied. Same path on a rerun."""
    return out.parent / f".{out.name}.terroir-work"


class RunLock:
    """An exclusive lock on the output folder and on every local storage folder for the whole run: a second run on
    any of them fails at once instead of publishing a release that mixes both runs' inputs. The lock is the kernel's
    (flock on the folders themselves), so a killed run leaves nothing to clean up and no file in the release."""

    def __init__(self, folders: list[Path]) -> None:
        self.folders = sorted({f.resolve() for f in folders})
        self._fds: list[int] = []

    def __enter__(self):
        try:
            for folder in self.folders:
                self.add(folder)
        except BaseException:
            self.__exit__()
            raise
        return self

    def add(self, folder: Path) -> None:
        """Lock one more folder until the run ends (the release being built: once swapped in it is the output)."""
        import fcntl

        folder.mkdir(parents=True, exist_ok=True)
        fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
        self._fds.append(fd)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ConfigError(
                f"{folder} is in use by another terroir run (it holds the folder's lock); wait for that run "
                "to finish, or give this one another --output and storage"
            ) from None

    def __exit__(self, *exc) -> None:
        for fd in self._fds:
            os.close(fd)  # closing the descriptor releases its lock
        self._fds = []


def _execute(opts: RunOptions, pre: Preflight, out: Path, t0: float, lock: RunLock) -> RunResult:
    import apache_beam as beam

    from pipelines.graph.beam import RunPlan, build_pipeline
    from release import swap

    policy, inputs, storage = pre.policy, pre.inputs, pre.storage
    manifest_path = out / "release.json"
    work = work_dir_of(out)
    swap.recover(out, work)  # a publish cut between the two renames of the fallback swap
    if not opts.resume:
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    staging = work / "staging"
    shutil.rmtree(staging, ignore_errors=True)  # staged shards are cheap to rebuild from checkpoints
    staging.mkdir(parents=True)
    (work / "events.jsonl").unlink(missing_ok=True)
    shutil.rmtree(work / "spill", ignore_errors=True)  # spills between stages belong to one attempt
    total_bytes = sum(os.path.getsize(f.path) + sum(os.path.getsize(m) for m in f.members) for f in inputs)
    from pipelines.graph.checkpoint import checkpoint_name

    ordered = tuple(sorted(inputs, key=lambda s: (s.source_id, s.rel)))
    fingerprint = run_fingerprint(policy, pre.rights_snapshots, opts)
    # about 8 MB of input per hash partition keeps each partition's arrays small and the numpy work vectorized
    plan = RunPlan(policy, ordered, str(staging), PIPELINE_VERSION, str(work),
                   tuple(str(work / "checkpoints" / checkpoint_name(f, fingerprint)) for f in ordered),
                   opts.lid_model_path, pre.rights_snapshots, fingerprint,
                   partitions=max(4, min(4096, total_bytes // 8_000_000)),
                   log_level=logging.getLogger().getEffectiveLevel())  # fmt: skip
    log.info("run %s: %d input file(s), runner %s", policy.policy_id, len(inputs), opts.runner)
    (out / "progress.log").unlink(missing_ok=True)
    monitor = ProgressMonitor(str(work), str(out / "progress.log"), len(inputs), total_bytes, opts.progress).start()

    # Great Expectations (~7 s) and Presidio (~2.5 s) take long to import; do it while the workers run the graph
    import threading

    warm = threading.Thread(target=_prewarm_gate, name="terroir-prewarm", daemon=True)
    warm.start()
    stalled, handled = threading.Event(), threading.Event()
    if opts.worker_start_timeout:
        monitor.watch_worker_start(opts.worker_start_timeout, lambda: _on_stall(stalled, handled, opts))
    try:
        try:
            p = beam.Pipeline(runner=make_runner(opts), options=beam_options(opts))
            build_pipeline(p, plan)
            quiet = local_worker_log_level(work, plan.log_level) if opts.runner == "local" else contextlib.nullcontext()
            with quiet:
                result = p.run()
            try:
                result.wait_until_finish()
            finally:
                client = getattr(result, "client", None)  # the DaskRunner's client; close it or it outlives the run
                if client is not None:
                    client.close()
        except KeyboardInterrupt:
            if not stalled.is_set():
                raise
            handled.set()
            _stop_worker_processes()
            raise WorkersDidNotStart(_no_worker_message(opts)) from None
        t_pipeline = time.monotonic() - t0
        monitor.set_stage("gate and publish")

        from filters.pii.metadata import scrubber_for
        from pipelines.stages.residency import origin_manifest
        from release.documents.approval_view import write_approval_page
        from release.publish import publish
        from schemas.files import sha256_of

        # a release already published here (--overwrite) stays whole, approval included, until the new one is
        # complete beside it (manifest last); then one rename swaps them (release/swap.py)
        build = swap.build_folder(work)
        shutil.rmtree(build, ignore_errors=True)
        lock.add(build)
        manifest = publish(policy, input_checksums(inputs, scrubber_for(policy)), origin_manifest(policy), storage, out,
                           staging, opts, t_pipeline, into=build)  # fmt: skip
        manifest["resume"] = monitor.summary()
        manifest["timings_s"]["steps"] = monitor.step_summary()
        write_json_atomically(build / "release.json", manifest)
        # pending review, beside the report (written before the swap, so the new release arrives with it)
        write_approval_page(build, manifest, sha256_of(build / "release.json"), None)
        maybe_crash("before_swap")
        previous = swap.swap_in(out, build, work)
        maybe_crash("after_swap")
        monitor.set_stage("published")
    finally:
        monitor.stop()
    swap.remove_superseded(previous, out, manifest, storage)
    shutil.rmtree(staging, ignore_errors=True)
    if not opts.keep_work:
        shutil.rmtree(work, ignore_errors=True)
        shutil.rmtree(out / "_work", ignore_errors=True)  # where releases of earlier versions kept it
        shutil.rmtree(out / "_staging", ignore_errors=True)
    return RunResult(str(out), str(manifest_path), str(out / "report" / "index.html"), manifest)


def _no_worker_message(opts: RunOptions) -> str:
    return (f"no {opts.runner} runner worker started within {opts.worker_start_timeout:g} s, so nothing was processed; "
            "check that the workers can start and reach this machine (the local runner's workers use localhost; a "
            "cluster's need the scheduler), or raise --worker-start-timeout for a slow cluster")  # fmt: skip


def _on_stall(stalled, handled, opts: RunOptions) -> None:
    """No worker started in time: interrupt the main thread with a real SIGINT (it also ends a blocking wait there,
    which a simulated interrupt does not); if the run has not stopped 15 s later, end the process (exit 3)."""
    import signal
    import sys
    import threading

    stalled.set()
    os.kill(os.getpid(), signal.SIGINT)

    def last_resort() -> None:
        if handled.wait(15):
            return
        _stop_worker_processes()
        print(f"terroir: {_no_worker_message(opts)}", file=sys.stderr, flush=True)
        os._exit(3)

    threading.Thread(target=last_resort, name="terroir-stall", daemon=True).start()


def _stop_worker_processes() -> None:
    """End the worker processes this run started (a stalled runner leaves them waiting for the driver)."""
    import psutil

    children = psutil.Process().children(recursive=True)
    for child in children:
        child.terminate()
    _, alive = psutil.wait_procs(children, timeout=3)
    for child in alive:
        child.kill()


def _prewarm_gate() -> None:
    try:
        import great_expectations  # noqa: F401

        import expectations.gate  # noqa: F401
        import filters.pii.engine  # noqa: F401 - the gate's residual national-ID check; preflight skips Presidio
    except Exception:  # the gate imports it again and reports any real problem
        log.debug("pre-import of the gate failed", exc_info=True)


def run_fingerprint(policy: Policy, snapshots: dict, opts: RunOptions) -> str:
    """What per-document results depend on besides the input itself; a checkpoint is reused only if it matches."""
    import hashlib
    from dataclasses import asdict

    basis = {
        "policy": policy.raw,
        "takedown": asdict(policy.takedown),
        "snapshots": {h: [s.robots_txt, s.tdmrep_json] for h, s in sorted(snapshots.items())},
        "pipeline": PIPELINE_VERSION,
        "schema": SCHEMA_VERSION,
        "lid_model": opts.lid_model_path,
    }
    if policy.stages:  # the code of the policy's extra stages (a policy without any keeps its fingerprint)
        from pipelines.stages.extra import stage_code

        basis["stages"] = stage_code(policy)
    return hashlib.sha256(json.dumps(basis, sort_keys=True, default=str).encode()).hexdigest()


def write_json_atomically(path: Path, data: dict) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, sort_keys=False, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)


def input_checksums(inputs: list[InputFile], scrub=None) -> list[dict]:
    """Every file read, METS members included, with size and sha256 (member paths through `scrub.path` if given)."""
    out = []
    for f in sorted(inputs, key=lambda f: (f.source_id, f.rel)):
        out.append({"source_id": f.source_id, "path": f.rel, "format": f.format, "bytes": os.path.getsize(f.path),
                    "sha256": file_sha256(f.path)})  # fmt: skip
        root = input_root(f).resolve()
        for m in sorted(f.members):
            rel = Path(m).relative_to(root).as_posix()
            rel = scrub.path(rel) if scrub is not None else rel
            out.append({"source_id": f.source_id, "path": rel, "format": f"alto (via {f.rel})",
                        "bytes": os.path.getsize(m), "sha256": file_sha256(m)})  # fmt: skip
    return out


__all__ = ["SCHEMA_VERSION", "ConfigError", "RunOptions", "RunResult", "execute", "input_checksums", "preflight"]
