"""Prefect tasks of the walk-forward optimisation: read the candles, optimise one window, keep the report.

`optimise_window` is pure CPU work on values it is handed, so the flow runs it in a process
pool, one window per task run; it talks to nothing and is never retried (the same input fails
the same way). Only storing the report talks to a dependency, and only that is retried; it is
handed the flow's `Runtime` (called in the flow's process, never sent to the pool).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from promostack.marketdata.replay import read_candles_csv
from promostack.runtime import Runtime
from promostack.signals import adoptions
from promostack.signals import walk_forward as wf
from tasks.retries import RETRY_DEPENDENCY_ERRORS
from tasks.signals import database_errors_are_dependency_errors


@task(name="read-candles-csv", cache_policy=NO_CACHE, persist_result=False)
def read_candles(path: Path) -> pd.DataFrame:
    """The candles of the CSV at `path`, oldest first (`InvalidInput` for a missing or bad file)."""
    return read_candles_csv(path)


@task(name="optimise-window", cache_policy=NO_CACHE, persist_result=False)
def optimise_window(job: wf.WindowJob) -> wf.WindowResult:
    """The window's in-sample choice and its out-of-sample trades."""
    return wf.optimise_window(job)


@task(name="save-walk-forward-report", **RETRY_DEPENDENCY_ERRORS)
@database_errors_are_dependency_errors
def save_report(runtime: Runtime, report: wf.WalkForwardReport, source: str) -> int:
    """The id of the stored run, which the dashboard's Signals page lists."""
    return adoptions.save_walk_forward_run(runtime.sessions, report, source)
