"""Fault injection for crash-and-resume tests: `TERROIR_FAULT=point:n` kills the process with SIGKILL the n-th time
it reaches `point`. Points: after_file (a per-input checkpoint was written), after_shard (a shard was staged),
before_publish (the graph is done, nothing gated or published yet), after_publish_shard (a shard was copied to its
storage), before_swap (the new release is complete beside the output, manifest written), after_swap (the new release
is in the output folder, the previous one not yet removed).
Unset in production: the check is a dictionary lookup."""

from __future__ import annotations

import os
import signal

_seen: dict[str, int] = {}


def maybe_crash(point: str) -> None:
    spec = os.environ.get("TERROIR_FAULT")
    if not spec:
        return
    name, _, count = spec.partition(":")
    if name != point:
        return
    _seen[point] = _seen.get(point, 0) + 1
    if _seen[point] >= int(count or 1):
        os.kill(os.getpid(), signal.SIGKILL)
