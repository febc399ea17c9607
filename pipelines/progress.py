"""Progress of a run, for the terminal and for `DIR/progress.log` (a file a cluster user can `tail -f`).

Workers append events to `_work/events.jsonl` (see `pipelines.checkpoint.record_event`); a thread in the driver turns
them into one line every few seconds: inputs done, documents, bytes, rate, and the stage the run is in.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time


class ProgressMonitor:
    def __init__(self, work_dir: str, log_path: str, total_inputs: int, total_bytes: int, echo: bool,
                 interval_s: float = 2.0) -> None:  # fmt: skip
        self.events_path = os.path.join(work_dir, "events.jsonl")
        self.log_path = log_path
        self.total_inputs = total_inputs
        self.total_bytes = total_bytes
        self.echo = echo
        self.interval_s = interval_s
        self.stage = "reading and processing inputs"
        self.processed = self.resumed = self.docs = self.bytes = self.bytes_resumed = 0
        self._offset = 0
        self._t0 = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="terroir-progress", daemon=True)

    def start(self) -> ProgressMonitor:
        self._thread.start()
        return self

    def set_stage(self, stage: str) -> None:
        self.stage = stage
        self.tick()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.tick()

    def _loop(self) -> None:
        while not self._stop.wait(self.interval_s):
            self.tick()

    def _read_events(self) -> None:
        if not os.path.exists(self.events_path):
            return
        with open(self.events_path, encoding="utf-8") as f:
            f.seek(self._offset)
            chunk = f.read()
        complete = chunk[: chunk.rfind("\n") + 1]
        self._offset += len(complete.encode())
        for line in complete.splitlines():
            try:
                ev = json.loads(line)
            except json.JSONDecodeError:
                continue
            self.docs += ev.get("docs", 0)
            self.bytes += ev.get("bytes", 0)
            if ev.get("event") == "resumed":
                self.resumed += 1
                self.bytes_resumed += ev.get("bytes", 0)
            else:
                self.processed += 1

    def line(self) -> str:
        elapsed = max(time.monotonic() - self._t0, 1e-6)
        done = self.processed + self.resumed
        mb = self.bytes / 1e6
        rate_mb = (self.bytes - self.bytes_resumed) / 1e6 / elapsed
        return (f"{time.strftime('%H:%M:%S')} [{self.stage}] inputs {done}/{self.total_inputs} "
                f"({self.resumed} from checkpoint) · documents {self.docs:,} · {mb:,.1f}/{self.total_bytes / 1e6:,.1f} MB"
                f" · {rate_mb:.2f} MB/s · {elapsed:,.0f} s")  # fmt: skip

    def tick(self) -> None:
        self._read_events()
        text = self.line()
        with open(self.log_path, "a", encoding="utf-8") as f:
            f.write(text + "\n")
        if self.echo:
            print(text, file=sys.stderr, flush=True)

    def summary(self) -> dict:
        self._read_events()
        return {
            "inputs": self.total_inputs,
            "inputs_processed": self.processed,
            "inputs_from_checkpoint": self.resumed,
            "bytes_from_checkpoint": self.bytes_resumed,
            "bytes_total": self.total_bytes,
        }
