"""axe-core on every admin and public page, at desktop and phone sizes: no serious or critical
violation (WCAG 2.2 AA rules and axe's best practices), and the keyboard basics the audit
cannot see (a skip link first, the product rail's names on screen)."""

from __future__ import annotations

from pathlib import Path

import pytest

from promostack.coupons.registry import LocalRegistry
from tests.browser.admin_support import ADMIN_PAGES, log_in
from tests.browser.conftest import LiveServer
from tests.browser.public_support import seeded_templates  # noqa: F401 (fixture)

pytestmark = pytest.mark.browser

AXE = Path(__file__).parent / "vendor" / "axe.min.js"
RUN_AXE = """async () => {
  const result = await axe.run(document, {
    runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"] },
  });
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(" ") + " (" + n.failureSummary.split("\\n").slice(1, 2).join("") + ")").join("; ")}`);
}"""

PUBLIC_PAGES = [
    ("home", "/", ".gallery"),
    ("generator", "/t/summer-sale", "body[data-ready=true]"),
    ("not-found", "/t/no-such-template", "main"),
]


def serious_violations(tab) -> list[str]:  # type: ignore[no-untyped-def]
    """axe's serious and critical violations on the page `tab` shows now, one line each."""
    tab.wait_for_timeout(250)  # transitions (toasts, the drawer) settle before colours are read
    return tab.evaluate(RUN_AXE)


def assert_none(found: dict[str, list[str]]) -> None:
    """Fails listing every page's violations, one per line, when any page has one."""
    lines = [f"{page}: {v}" for page, violations in found.items() for v in violations]
    assert not lines, "\n".join(lines)


@pytest.fixture
def axe_tabs(browser):  # type: ignore[no-untyped-def]
    """A desktop and a phone tab with axe-core injected into every document they load.

    An init script is not subject to the page's Content-Security-Policy, so the pages are
    audited under the very policy they are served with."""
    from tests.browser.conftest import DESKTOP, PHONE

    contexts = [
        browser.new_context(viewport=DESKTOP),
        browser.new_context(viewport=PHONE, device_scale_factor=2, is_mobile=True, has_touch=True),
    ]
    tabs = []
    for context in contexts:
        context.add_init_script(path=str(AXE))
        tabs.append(context.new_page())
    yield dict(zip(("desktop", "phone"), tabs, strict=True))
    for context in contexts:
        context.close()


def test_every_admin_page_has_no_serious_accessibility_violation(
    axe_tabs, live_server: LiveServer, seeded_templates: dict  # type: ignore[no-untyped-def]
) -> None:
    registry = LocalRegistry(live_server.runtime.sessions)
    if "AXE-CHECK" not in {c.code for c in registry.list()}:
        registry.add("AXE-CHECK", discount=15, description="Audited by axe", max_uses=10)
    found: dict[str, list[str]] = {}
    for size, tab in axe_tabs.items():
        tab.goto(f"{live_server.url}/admin/login")
        found[f"login {size}"] = serious_violations(tab)
        log_in(tab, live_server)
        for name, hash_, ready in ADMIN_PAGES:
            tab.goto(f"{live_server.url}/admin{hash_}")
            tab.wait_for_selector(ready)
            found[f"{name} {size}"] = serious_violations(tab)
    assert_none(found)


def test_every_public_page_has_no_serious_accessibility_violation(
    axe_tabs, live_server: LiveServer, seeded_templates: dict  # type: ignore[no-untyped-def]
) -> None:
    found: dict[str, list[str]] = {}
    for size, tab in axe_tabs.items():
        for name, path, ready in PUBLIC_PAGES:
            tab.goto(f"{live_server.url}{path}")
            tab.wait_for_selector(ready)
            found[f"{name} {size}"] = serious_violations(tab)
    assert_none(found)
