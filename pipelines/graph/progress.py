"""Progress of a run, for the terminal and for `DIR/progress.log` (a file a cluster user can `tail -f`).

Workers append events to `events.jsonl` in the run's work folder (`pipelines.graph.checkpoint.record_event`); a thread in
the driver turns them into one line every few seconds: inputs done, documents, bytes, rate, and the stage it is in.
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
        self.steps: dict[str, dict] = {}  # step → calls, items, worker CPU and wall seconds (from `step` events)
        self.last_step: str | None = None
        self.workers_started = 0
        self._last_tick = 0.0
        self._watchdog: tuple[float, object] | None = None
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

    def watch_worker_start(self, timeout_s: float, on_timeout) -> None:
        """Call `on_timeout()` once if no worker has started `timeout_s` seconds after the monitor started (a runner
        whose workers cannot reach the driver would otherwise wait in its own timeouts for many minutes)."""
        self._watchdog = (timeout_s, on_timeout)

    def _loop(self) -> None:
        while not self._stop.wait(min(self.interval_s, 0.5) if self._watchdog else self.interval_s):
            if self._watchdog:
                self._read_events()
                timeout_s, on_timeout = self._watchdog
                if self.workers_started:
                    self._watchdog = None
                elif time.monotonic() - self._t0 > timeout_s:
                    self._watchdog = None
                    on_timeout()
            if time.monotonic() - self._last_tick >= self.interval_s:
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
            if ev.get("event") == "step":
                self._add_step(ev)
                continue
            if ev.get("event") == "worker_started":
                self.workers_started += 1
                continue
            self.docs += ev.get("docs", 0)
            self.bytes += ev.get("bytes", 0)
            if ev.get("event") == "resumed":
                self.resumed += 1
                self.bytes_resumed += ev.get("bytes", 0)
            else:
                self.processed += 1

    def _add_step(self, ev: dict) -> None:
        name = ev.get("step", "?")
        agg = self.steps.setdefault(name, {"calls": 0, "items": 0, "cpu_s": 0.0, "wall_s": 0.0})
        agg["calls"] += 1
        agg["items"] += ev.get("items", 0)
        agg["cpu_s"] += ev.get("cpu", 0.0)
        agg["wall_s"] += ev.get("wall", 0.0)
        for part, cpu in (ev.get("parts") or {}).items():
            sub = self.steps.setdefault(f"{name} / {part}", {"calls": 0, "items": 0, "cpu_s": 0.0, "wall_s": 0.0})
            sub["calls"] += 1
            sub["cpu_s"] += cpu
        self.last_step = name

    def line(self) -> str:
        elapsed = max(time.monotonic() - self._t0, 1e-6)
        done = self.processed + self.resumed
        stage = self.stage
        if stage == "reading and processing inputs" and done == self.total_inputs and self.last_step:
            stage = f"dedup, PII and writing; last step done: {self.last_step}"
        mb = self.bytes / 1e6
        rate_mb = (self.bytes - self.bytes_resumed) / 1e6 / elapsed
        return (f"{time.strftime('%H:%M:%S')} [{stage}] inputs {done}/{self.total_inputs} "
                f"({self.resumed} from checkpoint) · documents {self.docs:,} · {mb:,.1f}/{self.total_bytes / 1e6:,.1f} MB"
                f" · {rate_mb:.2f} MB/s · {elapsed:,.0f} s")  # fmt: skip

    def tick(self) -> None:
        self._last_tick = time.monotonic()
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

    def step_summary(self) -> dict:
        """Per step of the graph: calls, items, and the seconds workers spent in it (CPU, and wall)."""
        self._read_events()
        return {k: {"calls": v["calls"], "items": v["items"], "cpu_s": round(v["cpu_s"], 2),
                    "wall_s": round(v["wall_s"], 2)} for k, v in sorted(self.steps.items())}  # fmt: skip
