"""Browser tests: Playwright (sync API) driving Debian's Chromium against pytest-django's live_server.

They skip with a clear reason when no Chromium is installed, except under CI (env ``CI`` set),
where a missing browser is a failure. Each failing test leaves a screenshot in
``build/screenshots/failures/``; the suite also writes one PNG per page under ``build/screenshots/``.
"""
from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("PARITY_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
SCREENSHOTS = Path(__file__).resolve().parents[2] / "build" / "screenshots"
PASSWORD = "pw-for-tests"


def _browser_missing_reason() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright Python package is not installed"
    if not (Path(CHROMIUM).exists() or shutil.which(CHROMIUM)):
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


@pytest.fixture(scope="package", autouse=True)
def _allow_orm_beside_playwright():
    """Playwright's sync API runs an event loop in this thread; Django's ORM calls from the test body
    (and the database flush after each test) are still synchronous, so allow them — for this package
    only: set at import time, the variable would leak into other tests (``check --deploy`` warns)."""
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    yield
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(scope="package")
def browser(_allow_orm_beside_playwright):
    reason = _browser_missing_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests cannot run under CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    context.set_default_timeout(15_000)
    yield context
    # Leave every page while the test database is still there: the workspace gives its prefetched
    # leases back in a pagehide beacon, which the live server must answer before the flush.
    for open_page in context.pages:
        try:
            open_page.goto("about:blank")
        except Exception:  # noqa: BLE001 - a page that already failed must not hide the real failure
            pass
    if context.pages:
        context.pages[0].wait_for_timeout(400)
    context.close()


@pytest.fixture
def page(context, request):
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("dialog", lambda dialog: (errors.append(f"unexpected dialog: {dialog.message}"), dialog.dismiss()))
    page.js_errors = errors
    request.node._page = page
    yield page


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.when == "call" and report.failed:
        for name in ("_page", "_page2"):
            page = getattr(item, name, None)
            if page is None or page.is_closed():
                continue
            folder = SCREENSHOTS / "failures"
            folder.mkdir(parents=True, exist_ok=True)
            slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", item.nodeid)[-150:]
            try:
                page.screenshot(path=str(folder / f"{slug}{name}.png"), full_page=True)
            except Exception:  # noqa: BLE001 - a screenshot must never hide the real failure
                pass


def shot(page, name: str) -> Path:
    """Save a review screenshot of the current page under build/screenshots/."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def login(page, live_server, username: str, password: str = PASSWORD) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    # Evaluators land on the dashboard; reviewers and admins in no pool on the review queue or console.
    page.wait_for_url(lambda url: url.startswith(live_server.url) and "/accounts/login/" not in url)
    page.wait_for_load_state()
