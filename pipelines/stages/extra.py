"""Extra per-document stages named by a policy (`stages: [{use: "mypkg.filters:Toxicity", after: quality, args: {}}]`):
import, check and build them. `check_stages(policy)` is preflight's part (everything that can be wrong, before any
work, as a `StageConfigError` that says what to fix); `build_stage(spec)` builds one on a worker.
"""

from __future__ import annotations

import importlib
import inspect

from pipelines.stages.base import Stage
from pipelines.stages.builtin import BUILTIN_STAGES
from schemas.policy import Policy, StageSpec

# Every stage name the ledger already uses: an extra stage of the same name would mix its rows with theirs.
RESERVED_STAGE_NAMES = frozenset(BUILTIN_STAGES) | {"input", "read", "dedup", "fuzzy_dedup", "pii", "shard", "gate"}

_ON_PATH = "install it, or put the folder that holds it on PYTHONPATH (with a cluster: on every worker too)"


class StageConfigError(ValueError):
    """An extra stage that cannot run: the message names the policy field and what to fix."""


def load_stage_class(use: str) -> type[Stage]:
    """`module:Class` → the class, which must be a concrete `Stage` subclass."""
    module_name, _, attr = use.partition(":")
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # noqa: BLE001 - any failure to import is the same configuration problem
        raise StageConfigError(
            f"module {module_name} cannot be imported ({type(exc).__name__}: {exc}); {_ON_PATH}"
        ) from None
    if not hasattr(module, attr):
        raise StageConfigError(f"module {module_name} ({module.__file__}) has no attribute {attr}; check the name")
    obj = getattr(module, attr)
    if not (isinstance(obj, type) and issubclass(obj, Stage)):
        what = "a class that does not subclass Stage" if isinstance(obj, type) else f"a {type(obj).__name__}"
        raise StageConfigError(f"{use} is {what}, not a Stage class; subclass pipelines.stages.Stage and implement "
                               "decide(doc)")  # fmt: skip
    if inspect.isabstract(obj):
        raise StageConfigError(f"{use} does not implement decide(doc), which a Stage must")
    return obj


def build_stage(spec: StageSpec) -> Stage:
    """One extra stage, built from the policy's `args:` and named for the ledger. Raises `StageConfigError`."""
    cls = load_stage_class(spec.use)
    try:
        stage = cls.from_args(dict(spec.args))
    except Exception as exc:  # noqa: BLE001 - the constructor's own check of its arguments
        given = ", ".join(sorted(spec.args)) or "none"
        raise StageConfigError(f"args do not build {spec.use} (given: {given}): {type(exc).__name__}: {exc}; fix "
                               "its args:") from None  # fmt: skip
    if not isinstance(stage, Stage):
        raise StageConfigError(f"{spec.use}.from_args returned {type(stage).__name__}, not a Stage")
    stage.name = spec.name
    return stage


def check_stages(policy: Policy) -> list[Stage]:
    """Preflight: every extra stage's module imports, names a Stage class, follows a known stage (a built-in one, or
    an extra stage listed before it), has a name of its own, and is built once from its args. Returns the stages
    built; raises `StageConfigError` naming `stages.N` and what to fix."""
    known, built = list(BUILTIN_STAGES), []
    for i, spec in enumerate(policy.stages):
        where = f"policy {policy.path}: field stages.{i} ({spec.use})"
        if spec.name in RESERVED_STAGE_NAMES:
            raise StageConfigError(f"{where}: name {spec.name!r} is a stage Terroir's ledger already has; give this "
                                   "stage another name:")  # fmt: skip
        if spec.after not in known:
            raise StageConfigError(
                f"{where}: after: {spec.after!r} is not a per-document stage; choose one of {', '.join(BUILTIN_STAGES)}"
                " or an extra stage listed before this one"
            )
        try:
            built.append(build_stage(spec))
        except StageConfigError as exc:
            raise StageConfigError(f"{where}: {exc}") from None
        known.append(spec.name)
    return built


def stage_code(policy: Policy) -> dict[str, str]:
    """What an extra stage's decisions depend on besides the policy: the sha256 of the file of each stage's module
    (and the class's `version`, if it has one). Part of the run's fingerprint, so a changed stage reprocesses the
    inputs instead of reusing checkpoints made with the old code."""
    import hashlib
    import sys
    from pathlib import Path

    out = {}
    for spec in policy.stages:
        cls = load_stage_class(spec.use)
        path = getattr(sys.modules[cls.__module__], "__file__", None)
        digest = hashlib.sha256(Path(path).read_bytes()).hexdigest() if path else ""
        out[spec.name] = f"{spec.use} {digest} {getattr(cls, 'version', '')}".strip()
    return out
