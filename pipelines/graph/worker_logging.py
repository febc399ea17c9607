"""Worker processes log at the driver's level (the CLI's: WARNING unless -v).

A Beam SDK worker starts with its root logger at INFO, so without this every local worker prints Beam's gRPC start-up
chatter and Presidio's "Loaded recognizer" lines (some 600 lines for the demo) however quiet the CLI is.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Iterator
from pathlib import Path


def apply_log_level(level: int | None) -> None:
    """Set this (worker) process's root logger to `level`; None leaves it as it is. Called from DoFn setup, so it
    holds on every runner."""
    if level is not None:
        logging.getLogger().setLevel(level)


@contextlib.contextmanager
def local_worker_log_level(work_dir: Path, level: int) -> Iterator[None]:
    """While the block runs, local multi-process Beam workers start at `level` (their start-up lines included).

    Beam's FnApiRunner hands its subprocess workers no pipeline options (they log "Pipeline_options: {}"), but each
    worker reads options from the file named by PIPELINE_OPTIONS_FILE in its environment, inherited from this
    process: the file names only the log level. The variable is restored afterwards."""
    options = {"default_sdk_harness_log_level": logging.getLevelName(level)}
    if level >= logging.WARNING:
        # the harness's own start-up warning (no main-session file, which Terroir never uses) is not news
        options["sdk_harness_log_level_overrides"] = {"__main__": "ERROR"}
    path = Path(work_dir) / "worker_options.json"
    path.write_text(json.dumps({"options": options}))
    before = os.environ.get("PIPELINE_OPTIONS_FILE")
    os.environ["PIPELINE_OPTIONS_FILE"] = str(path)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("PIPELINE_OPTIONS_FILE", None)
        else:
            os.environ["PIPELINE_OPTIONS_FILE"] = before
