"""Which rows of a shard broke a failed expectation, so the gate can hold back those documents instead of the shard.

Great Expectations decides whether a shard passes; this module only answers, for an expectation that failed, which
rows it failed on. It knows the built-in column-map expectation types the gate's suites use and evaluates them with
the same semantics (nulls are not unexpected except for `not_be_null`; `unique` marks every row of a repeated value).
An expectation about the table as a whole (its columns, its row count), or of a type not listed here, cannot be
traced to rows: `failing_rows` returns None and the whole shard is quarantined, as before.

After the traced rows are removed the gate validates what remains again, so a mistake here can only hold back too
much, never publish a row that fails the suite.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

ROW_LEVEL = (
    "expect_column_values_to_not_be_null",
    "expect_column_values_to_be_unique",
    "expect_column_values_to_be_in_set",
    "expect_column_values_to_not_be_in_set",
    "expect_column_values_to_be_between",
    "expect_column_value_lengths_to_be_between",
    "expect_column_values_to_match_regex",
    "expect_column_values_to_not_match_regex",
)


def _resolve(value: Any, parameters: dict[str, Any]) -> Any:
    if isinstance(value, dict) and "$PARAMETER" in value:
        return parameters[value["$PARAMETER"]]
    return value


def _outside(values: pd.Series, lo, hi, strict_lo: bool = False, strict_hi: bool = False) -> np.ndarray:
    out = np.zeros(len(values), dtype=bool)
    if lo is not None:
        out |= (values <= lo if strict_lo else values < lo).to_numpy(dtype=bool)
    if hi is not None:
        out |= (values >= hi if strict_hi else values > hi).to_numpy(dtype=bool)
    return out


def expectation_rows(df: pd.DataFrame, expectation: dict[str, Any], parameters: dict[str, Any]) -> np.ndarray | None:
    """Boolean mask of the rows of `df` on which `expectation` (a suite entry: type and kwargs) is unexpected, or None
    when the expectation is about the whole table or of a type this module does not trace."""
    kind = expectation.get("type")
    kw = {k: _resolve(v, parameters) for k, v in (expectation.get("kwargs") or {}).items()}
    if kind not in ROW_LEVEL or kw.get("column") not in df.columns:
        return None
    col = df[kw["column"]]
    nulls = col.isna().to_numpy(dtype=bool)
    if kind == "expect_column_values_to_not_be_null":
        return nulls
    present = col[~nulls]
    bad = np.zeros(len(col), dtype=bool)
    if kind == "expect_column_values_to_be_unique":
        bad_present = present.duplicated(keep=False).to_numpy(dtype=bool)
    elif kind == "expect_column_values_to_be_in_set":
        bad_present = ~present.isin(list(kw["value_set"])).to_numpy(dtype=bool)
    elif kind == "expect_column_values_to_not_be_in_set":
        bad_present = present.isin(list(kw["value_set"])).to_numpy(dtype=bool)
    elif kind == "expect_column_values_to_be_between":
        bad_present = _outside(present, kw.get("min_value"), kw.get("max_value"), bool(kw.get("strict_min")),
                               bool(kw.get("strict_max")))  # fmt: skip
    elif kind == "expect_column_value_lengths_to_be_between":
        bad_present = _outside(present.astype(str).str.len(), kw.get("min_value"), kw.get("max_value"))
    else:
        pattern = re.compile(kw["regex"])
        found = np.fromiter((pattern.search(str(v)) is not None for v in present), dtype=bool, count=len(present))
        bad_present = ~found if kind == "expect_column_values_to_match_regex" else found
    bad[~nulls] = bad_present
    return bad


def failing_rows(df: pd.DataFrame, expectations: list[dict[str, Any]], parameters: dict[str, Any]) -> dict | None:
    """For the failed expectations given (suite entries), the rows each failed on: {index in `expectations`: mask}.
    None when any of them cannot be traced to rows (the shard then fails as a whole)."""
    masks = {}
    for i, e in enumerate(expectations):
        mask = expectation_rows(df, e, parameters)
        if mask is None or not mask.any():
            return None  # a failure the rows do not explain: never guess which documents to hold back
        masks[i] = mask
    return masks
