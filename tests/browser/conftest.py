"""The browser tests' ground: Debian's Chromium driven by Playwright, and the whole stack the
admin runs on — both sandboxes on real ports (Jurnal at its documented limits, in a minute
compressed to `RATE_WINDOW_SECONDS`), the gateway served over HTTP on a port chosen
first (so that Moka's OAuth redirect comes back to it), a real `sambung worker` process, Redis
and the SQLite event store.

Chromium is installed with apt-get when it is missing (as root, or through sudo). Where no
install is possible the tests skip, unless SAMBUNG_REQUIRE_BROWSER is set (CI sets it): then they
fail, so that CI cannot pass without running them. Playwright's own browser download is never
used (it needs the internet); Playwright drives /usr/bin/chromium.

Screenshots of each screen go to `test-output/screenshots/<viewport>/` (or SAMBUNG_SCREENSHOTS).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
import requests

from infra import bootstrap
from infra.bootstrap import Container
from infra.config import Config
from infra.users import add_user
from sandbox.jurnal import JurnalSandbox
from sandbox.jurnal import create_app as jurnal_app
from sandbox.serving import RunningServer, serve_in_thread
from tests.engine_support import RATE_WINDOW_SECONDS
from tests.moka_support import WEBHOOK_SECRET, Moka, running_moka

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "kata-sandi-rahasia"
OPERATOR = "operator@sambung.test"
# One short day of a small outlet: every sale posts (the generator deletes products only from
# the second day on), and the story runs in seconds.
STORY_OUTLET = {
    "products": 12,
    "customers": 5,
    "days": 1,
    "transactions_per_day": 12,
    "start_date": "2024-05-01",
}
VIEWPORTS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 375, "height": 740}}


def _install_chromium() -> str | None:
    """None once /usr/bin/chromium exists; otherwise why it could not be installed."""
    if CHROMIUM.exists():
        return None
    prefix: list[str] = []
    if os.geteuid() != 0:
        if not shutil.which("sudo"):
            return "Chromium is missing, this user is not root and there is no sudo"
        prefix = ["sudo", "-n"]
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for command in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "chromium"]):
        try:
            done = subprocess.run(
                [*prefix, *command], env=env, capture_output=True, text=True, timeout=900
            )
        except (OSError, subprocess.TimeoutExpired) as error:
            return f"{' '.join(command)} failed: {error}"
        if done.returncode != 0:
            return f"{' '.join(command)} failed: {done.stderr.strip()[-500:]}"
    return None if CHROMIUM.exists() else "apt-get installed no /usr/bin/chromium"


@pytest.fixture(scope="session")
def chromium() -> str:
    reason = _install_chromium()
    if reason is None:
        try:
            import playwright.sync_api  # noqa: F401
        except ImportError as error:
            reason = f"Playwright for Python is not installed: {error}"
    if reason is not None:
        if os.environ.get("SAMBUNG_REQUIRE_BROWSER"):
            pytest.fail(f"the browser tests must run here: {reason}")
        pytest.skip(reason)
    return str(CHROMIUM)


@pytest.fixture(scope="session")
def browser(chromium: str) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            launched.close()


@pytest.fixture(scope="session")
def screenshot_root() -> Path:
    root = Path(os.environ.get("SAMBUNG_SCREENSHOTS") or ROOT / "test-output" / "screenshots")
    root.mkdir(parents=True, exist_ok=True)
    return root


@dataclass
class Admin:
    """The served stack, seen from the browser."""

    url: str
    container: Container
    moka: Moka
    jurnal: RunningServer
    seeded: dict[str, Any]
    env: dict[str, str]
    shots: Path
    taken: list[str] = field(default_factory=list)

    @property
    def outlet_id(self) -> int:
        return int(self.seeded["outlet_ids"][0])

    def shoot(self, page: Any, name: str, *, ours: bool = True) -> None:
        """Save the screen and, for Sambung's own pages, check that it stays within the
        viewport's width (no sideways scrolling on a phone)."""
        path = self.shots / f"{len(self.taken) + 1:02d}-{name}.png"
        page.screenshot(path=str(path), full_page=True)
        self.taken.append(name)
        if ours:
            overflow = page.evaluate(
                "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
            )
            assert overflow <= 0, f"{name} scrolls sideways by {overflow}px"

    def jurnal_counts(self) -> dict[str, int]:
        state = requests.get(f"{self.jurnal.url}/_sandbox/state", timeout=10).json()
        counts: dict[str, int] = state["counts"]
        return counts


class _MadeLater:
    """A WSGI app that forwards to `app` once it is set: the gateway is served before it is
    made, because its own address goes into its configuration (Moka's OAuth comes back to it),
    and a port held from the start cannot be taken meanwhile by another process."""

    app: Any = None

    def __call__(self, environ: Any, start_response: Any) -> Any:
        return self.app(environ, start_response)


@pytest.fixture
def served_admin(
    tmp_path: Path, redis_url: str, screenshot_root: Path, request: pytest.FixtureRequest
) -> Iterator[Admin]:
    """Both sandboxes, a small seeded outlet, the gateway on a real port and an operator user.
    The Jurnal company and the Moka connection are left for the browser to make."""
    from gateway.app import create_app

    jurnal_server = serve_in_thread(
        jurnal_app(JurnalSandbox(rate_window_seconds=RATE_WINDOW_SECONDS))
    )
    gateway_app = _MadeLater()
    gateway = serve_in_thread(gateway_app)
    url = gateway.url
    with contextlib.ExitStack() as stopping, running_moka() as moka:
        stopping.callback(gateway.stop)
        seeded = moka.seed(11, **STORY_OUTLET)
        env = {
            "SAMBUNG_DATA_DIR": str(tmp_path / "var"),
            "REDIS_URL": redis_url,
            "SAMBUNG_SECRET_KEY": "browser-test-secret-key",
            "SAMBUNG_PUBLIC_URL": url,
            "MOKA_BASE_URL": moka.url,
            "MOKA_CLIENT_ID": "sandbox-moka-client",
            "MOKA_CLIENT_SECRET": "sandbox-moka-secret",
            "MOKA_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "JURNAL_BASE_URL": jurnal_server.url,
            "JURNAL_RATE_WINDOW_SECONDS": str(RATE_WINDOW_SECONDS),
            "SAMBUNG_POSTING_LOCK_TTL_MS": "3000",
            "JURNAL_SETTLE_MS": "50",
        }
        container = Container(Config.from_env(env))
        bootstrap.install(container)
        gateway_app.app = create_app(container=container)
        try:
            moka.control(
                "POST", "/subscriptions",
                json={"url": f"{url}/webhooks/moka", "secret": WEBHOOK_SECRET},
            )  # fmt: skip
            _accountants_references(container)
            add_user(container.log, OPERATOR, PASSWORD, admin=True)
            name = request.node.callspec.id if hasattr(request.node, "callspec") else "default"
            shots = screenshot_root / name
            shutil.rmtree(shots, ignore_errors=True)
            shots.mkdir(parents=True)
            yield Admin(url, container, moka, jurnal_server, seeded, env, shots)
        finally:
            stopping.close()  # the gateway first, while the container it serves is open
            bootstrap.install(None)
            container.close()
            jurnal_server.stop()


def _accountants_references(container: Container) -> None:
    # Made in Jurnal by the merchant's accountant before the setting, so the form can pick them.
    client = container.jurnal_client("sandbox-jurnal-client", "sandbox-jurnal-secret")
    try:
        for tag in ("Outlet Jaksel", "Tunai"):
            client.create("tags", {"name": tag})
    finally:
        client.session.close()


@pytest.fixture(params=list(VIEWPORTS), ids=list(VIEWPORTS))
def viewport(request: pytest.FixtureRequest) -> dict[str, int]:
    return VIEWPORTS[request.param]


@pytest.fixture
def page(browser: Any, viewport: dict[str, int]) -> Iterator[Any]:
    """A fresh browser (no cookies) at each viewport in turn."""
    yield from _page(browser, viewport)


@pytest.fixture
def desktop(browser: Any) -> Iterator[Any]:
    yield from _page(browser, VIEWPORTS["desktop"])


def _page(browser: Any, viewport: dict[str, int]) -> Iterator[Any]:
    context = browser.new_context(viewport=viewport, locale="id-ID")
    context.set_default_timeout(20_000)
    opened = context.new_page()
    try:
        yield opened
    finally:
        context.close()
