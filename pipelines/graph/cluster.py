"""Cluster services behind the `terroir` command, so every container of docker-compose.yml runs a project entry
point: a Dask scheduler, CPU or GPU workers, and an S3-compatible object store for the residency buckets."""

from __future__ import annotations

import sys


def scheduler(argv: list[str]) -> int:
    """`terroir scheduler [dask scheduler options]`: a `distributed` scheduler."""
    from distributed.cli.dask_scheduler import main

    return _click(main, argv, "dask-scheduler")


def worker(argv: list[str], gpu: bool = False) -> int:
    """`terroir worker SCHEDULER [options]`; with `--gpu`, a dask-cuda worker (one per visible GPU)."""
    if gpu:
        try:
            from dask_cuda.cli import worker as cuda_worker
        except ImportError:
            print("terroir worker --gpu needs dask-cuda and cuDF: install the project with its [gpu] extra",
                  file=sys.stderr)  # fmt: skip
            return 2
        return _click(cuda_worker, argv, "dask-cuda-worker")
    from distributed.cli.dask_worker import main

    return _click(main, argv, "dask-worker")


def _click(command, argv: list[str], name: str) -> int:
    try:
        command.main(args=argv, prog_name=name, standalone_mode=False)
    except SystemExit as exc:
        return int(exc.code or 0)
    return 0


def objectstore(host: str, port: int, buckets: list[str], region: str) -> int:
    """An S3-compatible server (moto) with one bucket per residency region; runs until interrupted."""
    import os
    import signal
    import threading

    try:
        import boto3
        from moto.server import ThreadedMotoServer
    except ImportError:
        print("terroir objectstore needs moto[server]: install the project with its [cluster] extra", file=sys.stderr)
        return 2
    server = ThreadedMotoServer(ip_address=host, port=port)
    server.start()
    bound_host, bound_port = server.get_host_and_port()
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "terroir")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "terroir")
    client = boto3.client("s3", endpoint_url=f"http://{'127.0.0.1' if host == '0.0.0.0' else bound_host}:{bound_port}",
                          region_name=region)  # fmt: skip
    for b in buckets:
        client.create_bucket(Bucket=b, CreateBucketConfiguration={"LocationConstraint": region})
    print(f"object store on {bound_host}:{bound_port} with buckets {', '.join(buckets) or '(none)'}", flush=True)
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    server.stop()
    return 0
