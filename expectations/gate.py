"""The validation gate: a Great Expectations suite (JSON, built-in expectation types) run on every staged shard.

A shard passes when every `critical` expectation holds; `warning` failures are reported but do not block. Results
never carry unexpected values (they could be raw PII): counts only, in our summary and in the Data Docs.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

NO_VALUES = {"result_format": "SUMMARY", "partial_unexpected_count": 0, "include_unexpected_rows": False}


class SuiteError(ValueError):
    """A suite file that cannot be used as written."""


@dataclass
class ExpectationOutcome:
    expectation: str
    column: str | None
    severity: str
    success: bool
    unexpected_count: int | None
    note: str | None = None
    kwargs: dict | None = field(default=None, repr=False)  # as the suite wrote them; not part of the results file

    def label(self) -> str:
        return f"{self.expectation}({self.column or ''})"


@dataclass
class ShardGateResult:
    shard: str
    passed: bool
    rows: int
    outcomes: list[ExpectationOutcome] = field(default_factory=list)

    @property
    def critical_failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity == "critical"]

    @property
    def warnings(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success and o.severity != "critical"]

    def to_json(self) -> dict[str, Any]:
        return {
            "shard": self.shard,
            "passed": self.passed,
            "rows": self.rows,
            "critical_failures": len(self.critical_failures),
            "warnings": len(self.warnings),
            "expectations": [{k: v for k, v in o.__dict__.items() if k != "kwargs"} for o in self.outcomes],
        }


def suite_path(name: str) -> Path:
    p = Path(name)
    if p.suffix == ".json" and p.is_file():
        return p
    found = resources.files("expectations").joinpath("suites", f"{name}.json")
    if not found.is_file():
        raise SuiteError(f"gate suite {name!r} not found (looked for expectations/suites/{name}.json)")
    return Path(str(found))


def load_suite_dict(name: str) -> dict[str, Any]:
    path = suite_path(name)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        raise SuiteError(f"gate suite {path}: invalid JSON: {exc}") from None
    for i, e in enumerate(data.get("expectations", [])):
        if e.get("severity") not in ("critical", "warning", "info"):
            raise SuiteError(f"gate suite {path}: expectation #{i} ({e.get('type')}) needs severity critical|warning")
    return data


class Gate:
    """Builds the suite once, then validates shards (`validate(path)`), writing Data Docs under `docs_dir`."""

    def __init__(self, suite_name: str, parameters: dict[str, Any], docs_dir: str | None = None) -> None:
        import great_expectations as gx
        from great_expectations.core.expectation_suite import ExpectationSuite
        from great_expectations.expectations.expectation_configuration import ExpectationConfiguration

        logging.getLogger("great_expectations").setLevel(logging.ERROR)
        self.suite_dict = load_suite_dict(suite_name)
        declared = self.suite_dict.get("expectations", [])
        try:
            configs = [ExpectationConfiguration(**e) for e in declared]
            suite = ExpectationSuite(name=self.suite_dict["name"], expectations=configs, meta=self.suite_dict.get("meta"))
        except Exception as exc:  # noqa: BLE001 - GX raises several types for a bad suite
            raise SuiteError(f"gate suite {suite_name}: {exc}") from None
        if len(suite.expectations) != len(declared):
            raise SuiteError(
                f"gate suite {suite_name}: {len(declared)} expectations declared, "
                f"{len(suite.expectations)} loaded; an unknown expectation type was dropped"
            )
        self.expected_count = len(declared)
        self.parameters = parameters
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = {"globally": False}
        self._suite = ctx.suites.add(suite)
        bd = ctx.data_sources.add_pandas("staged_shards").add_dataframe_asset("shard").add_batch_definition_whole_dataframe(
            "whole_shard"
        )
        vd = ctx.validation_definitions.add(gx.ValidationDefinition(name="shard_gate", data=bd, suite=self._suite))
        actions = []
        if docs_dir:
            ctx.add_data_docs_site(
                site_name="terroir",
                site_config={
                    "class_name": "SiteBuilder",
                    "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
                    "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
                },
            )
            actions.append(gx.checkpoint.UpdateDataDocsAction(name="data_docs", site_names=["terroir"]))
        self._checkpoint = ctx.checkpoints.add(
            gx.Checkpoint(name="terroir_gate", validation_definitions=[vd], actions=actions, result_format=NO_VALUES)
        )

    def frame(self, parquet_path: str, storage_region: str, policy, extra_finder=None):
        """The shard as the suite sees it: its rows plus the derived gate columns (`expectations/derived.py`)."""
        import pyarrow.parquet as pq

        from expectations.derived import add_gate_columns

        return add_gate_columns(pq.read_table(parquet_path).to_pandas(), storage_region, policy, extra_finder)

    def validate(self, parquet_path: str, shard_name: str, storage_region: str, policy,
                 extra_finder=None) -> ShardGateResult:  # fmt: skip
        """Validate one shard; `storage_region` is the region whose storage the shard is bound for."""
        return self.validate_frame(self.frame(parquet_path, storage_region, policy, extra_finder), shard_name)

    def validate_frame(self, df, shard_name: str) -> ShardGateResult:
        res = self._checkpoint.run(
            batch_parameters={"dataframe": df}, expectation_parameters=self.parameters, run_id=_run_id(shard_name)
        )
        outcomes = []
        for vr in res.run_results.values():
            for r in vr.results:
                cfg = r.expectation_config
                sev = getattr(cfg.severity, "value", str(cfg.severity))
                outcomes.append(
                    ExpectationOutcome(
                        expectation=cfg.type,
                        column=cfg.kwargs.get("column"),
                        severity=sev,
                        success=bool(r.success),
                        unexpected_count=(r.result or {}).get("unexpected_count"),
                        note=(cfg.meta or {}).get("terroir_check"),
                        kwargs=dict(cfg.kwargs),
                    )
                )
        if len(outcomes) != self.expected_count:
            raise SuiteError(f"gate ran {len(outcomes)} expectations, suite declares {self.expected_count}")
        passed = not any(not o.success and o.severity == "critical" for o in outcomes)
        return ShardGateResult(shard=shard_name, passed=passed, rows=len(df), outcomes=outcomes)

    def rows_to_hold(self, df, result: ShardGateResult):
        """The rows of `df` that broke the shard's critical failures, as (mask, {row: [failed expectation labels]}),
        or None when a failure is about the shard as a whole (or cannot be traced) and the shard must be held."""
        import numpy as np

        from expectations.rows import failing_rows

        failed = result.critical_failures
        if not failed:
            return None
        masks = failing_rows(df, [{"type": o.expectation, "kwargs": o.kwargs or {}} for o in failed], self.parameters)
        if masks is None:
            return None
        held = np.zeros(len(df), dtype=bool)
        labels: dict[int, list[str]] = {}
        for i, mask in masks.items():
            held |= mask
            for row in np.flatnonzero(mask):
                labels.setdefault(int(row), []).append(failed[i].label())
        return held, labels


def _run_id(shard_name: str):
    from great_expectations.core.run_identifier import RunIdentifier

    # a fixed run time keeps the Data Docs paths stable between reruns
    return RunIdentifier(run_name=shard_name.replace("/", "__"), run_time="2000-01-01T00:00:00+00:00")
