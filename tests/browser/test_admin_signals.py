"""The Signals › Optimisation page in Chromium: a stored walk-forward report with its verdict and
equity curve, and adopting a window's parameter set, which shows in the live card and its history."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from promostack.db.strategy import StrategyAdoption, WalkForwardRun
from promostack.marketdata.synthetic import synthetic_candles
from promostack.signals.adoptions import live_params, save_walk_forward_run
from promostack.signals.params import StrategyParams
from promostack.signals.search_space import SearchSpace
from promostack.signals.walk_forward import WalkForwardConfig, optimise_window, plan_walk_forward, stitch
from tests.browser.admin_support import log_in, problems  # noqa: F401 (fixtures)
from tests.browser.conftest import LiveServer, save_screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def stored_run(live_server: LiveServer):  # type: ignore[no-untyped-def]
    """One walk-forward run in the live server's database; the tables emptied afterwards."""
    warm_up = StrategyParams().startup_candle_count
    candles = synthetic_candles(warm_up + 3000 + 3 * 1000, seed=1, trend=0.0003, regime_candles=400)
    config = WalkForwardConfig(in_sample_candles=3000, out_of_sample_candles=1000, candidates=6)
    plan = plan_walk_forward(candles, StrategyParams(), SearchSpace(), config)
    report = stitch(plan, [optimise_window(job) for job in plan.jobs])
    sessions = live_server.runtime.sessions
    run_id = save_walk_forward_run(sessions, report, "gold-2y.csv")
    yield run_id, report
    with sessions.begin() as session:
        session.query(StrategyAdoption).delete()
        session.query(WalkForwardRun).delete()


def test_an_admin_reads_the_report_and_adopts_a_windows_set(
    page, live_server: LiveServer, stored_run, problems: list[str]
) -> None:  # type: ignore[no-untyped-def]
    run_id, report = stored_run
    log_in(page, live_server)
    page.goto(f"{live_server.url}/admin#/signals/optimise")
    expect(page.locator("#verdict")).to_have_text(report.out_of_sample.verdict)
    expect(page.locator("#equity-chart canvas")).to_have_count(1)
    expect(page.locator("#windows-table tbody tr")).to_have_count(len(report.windows))
    save_screenshot(page, "admin-signals-optimisation-desktop")
    window = next(w for w in reversed(report.windows) if w.params is not None)
    page.click(f"#windows-table button[data-window='{window.index}']")
    page.fill("#adopt-by", "Dana")
    page.fill("#adopt-note", "steadier in the last window")
    page.click("#adopt-ok")
    expect(page.locator("#adoptions-table tbody tr")).to_have_count(1)
    expect(page.locator("#adoptions-table")).to_contain_text(f"run {run_id}, window {window.index}")
    assert live_params(live_server.runtime.sessions, "XAU/USD", "15min") == window.params
    assert problems == []
