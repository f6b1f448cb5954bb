"""The portal in a real browser: headless Chromium (Debian's ``chromium`` package, never a
browser download) driven by Playwright, against pytest-django's live server.

One browser serves the whole package (``browser``); each test gets a fresh context (cookies,
storage) and page. The server runs in this process on the test database, so the tests use
transactional databases (the server's thread sees only committed rows) and build their data
with the real services (``world``).

Without Chromium (``/usr/bin/chromium``, or ``$CHROMIUM``) or the ``playwright`` package the
tests are skipped and the run's summary says why; ``.ci/run`` installs Chromium so CI never
skips them. ``SAVE_SCREENSHOTS=1`` saves a PNG of each main page to ``docs/screenshots/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest
from django.conf import settings
from django.db import connection
from django.test import Client

from lenders.key_encryption import decrypt_key
from lenders.models import Member, Region, User
from registry.services import lookups
from registry_client.hashing import SubjectHasher
from tests.factories import PASSWORD, MemberFactory, RegionFactory, make_user
from tests.registry.helpers import submit

if TYPE_CHECKING:
    from playwright.sync_api import Browser, BrowserContext, Page

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("CHROMIUM", "/usr/bin/chromium"))
SCREENSHOTS = ROOT / "docs" / "screenshots"
# Phone and desktop sizes the pages are looked at in.
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 740}

_skipped: list[str] = []


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"Chromium is not installed at {CHROMIUM} (apt-get install -y chromium): the browser tests did not run"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is missing (make install-dev): the browser tests did not run"
    return None


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """Say loudly, at the end of the run, that the browser tests were skipped and why."""
    if _skipped:
        terminalreporter.write_sep("=", "browser tests skipped", yellow=True)
        terminalreporter.write_line(_skipped[0])


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    reason = browser_missing()
    if reason is not None:
        if not _skipped:
            _skipped.append(reason)
            print(f"\n{reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    # Playwright's synchronous API keeps an asyncio loop on this thread, which makes Django
    # refuse ORM calls "from an async context"; the tests' own ORM calls are synchronous.
    # Only for the life of this package's browser.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
            try:
                yield chromium
            finally:
                chromium.close()
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture(autouse=True)
def _fresh_key_cache() -> Iterator[None]:
    """The lookup service caches each region's hash keys per process (the live server's too)."""
    lookups._key_cache.clear()
    yield
    lookups._key_cache.clear()


class Visit:
    """A browser context and page on the live server, which records what the page did: every
    request (``requests``, so a test can assert what was sent), requests to any other host
    (refused, and failing the test) and uncaught script errors (failing the test)."""

    def __init__(self, browser: Browser, base_url: str, *, viewport: dict[str, int] | None = None) -> None:
        self.base_url = base_url.rstrip("/")
        self.host = urlsplit(self.base_url).netloc
        self.context: BrowserContext = browser.new_context(
            base_url=self.base_url,
            viewport=viewport or DESKTOP,  # type: ignore[arg-type]  # a ViewportSize TypedDict
            locale="en-US",
            accept_downloads=True,
        )
        self.context.set_default_timeout(15_000)
        self.requests: list[Any] = []
        self.foreign: list[str] = []
        self.script_errors: list[str] = []
        self.context.route("**/*", self._route)
        self.page: Page = self.context.new_page()
        self.page.on("request", lambda request: self.requests.append(request))
        self.page.on("pageerror", lambda error: self.script_errors.append(str(error)))

    def _route(self, route: Any) -> None:
        url = urlsplit(route.request.url)
        if url.scheme in ("http", "https") and url.netloc != self.host:
            self.foreign.append(route.request.url)
            route.abort()
        else:
            route.continue_()

    def sign_in_as(self, user: User) -> None:
        """A signed-in session without going through the form (the sign-in test does that)."""
        client = Client()
        client.force_login(user)
        cookie = client.cookies[settings.SESSION_COOKIE_NAME]
        self.context.add_cookies([{"name": cookie.key, "value": cookie.value, "url": self.base_url}])

    def goto(self, path: str) -> Any:
        return self.page.goto(self.base_url + path)

    def screenshot(self, name: str) -> None:
        """Save the page as docs/screenshots/<name>.png when SAVE_SCREENSHOTS=1 (so that an
        ordinary run never rewrites the committed pictures)."""
        if os.environ.get("SAVE_SCREENSHOTS") == "1":
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            self.page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def visit(browser: Browser, live_server: Any) -> Iterator[Callable[..., Visit]]:
    """Opens browser contexts on the live server; each is checked and closed at the end."""
    opened: list[Visit] = []

    def open_visit(*, viewport: dict[str, int] | None = None) -> Visit:
        made = Visit(browser, live_server.url, viewport=viewport)
        opened.append(made)
        return made

    yield open_visit
    for made in opened:
        made.close()
    for made in opened:
        assert not made.foreign, f"pages asked another host: {made.foreign}"
        assert not made.script_errors, f"script errors: {made.script_errors}"


@pytest.fixture
def page_as(visit: Callable[..., Visit]) -> Callable[..., Visit]:
    """A browser already signed in as ``user``."""

    def build(user: User, **options: Any) -> Visit:
        made = visit(**options)
        made.sign_in_as(user)
        return made

    return build


# -- the data of a small region ----------------------------------------------------------------

# Resident ID numbers the tests type; their consensus is set up by ``world``.
BLACK_NUMBER = "360426199101010071"  # two members, SEVERE_OVERDUE: BLACK, score 84
WHITE_NUMBER = "440303199002280025"  # one member's white entry: WHITE
UNKNOWN_NUMBER = "11010519491231002X"  # no entry: CLEAR


@dataclass
class World:
    region: Region
    member: Member
    other: Member
    users: dict[str, User]
    hasher: SubjectHasher

    def hash(self, raw: str, id_type: str = "RIC") -> str:
        return self.hasher.hash(id_type, raw).subject_hash


@pytest.fixture
def world(transactional_db: None, live_server: Any) -> World:
    """A region with two members; the first has a user of each member role (speaking English,
    as the tests read English), and the two agree that ``BLACK_NUMBER`` is a bad debtor."""
    region: Region = RegionFactory()  # type: ignore[assignment]
    member: Member = MemberFactory(region=region, name="前海示范小额贷款")  # type: ignore[assignment]
    other: Member = MemberFactory(region=region, name="南山普惠小额贷款")  # type: ignore[assignment]
    users = {
        role: make_user(member, [role], username=role.lower())
        for role in ("MEMBER_ADMIN", "ANALYST", "UPLOADER", "VIEWER")
    }
    User.objects.filter(pk__in=[user.pk for user in users.values()]).update(language="en")
    for user in users.values():
        user.refresh_from_db()
    key = region.current_hash_key
    hasher = SubjectHasher(decrypt_key(key.encrypted_key), key.key_id)
    black = hasher.hash("RIC", BLACK_NUMBER).subject_hash
    submit(member, black, reference="QH-2026-001")
    submit(other, black)
    submit(other, hasher.hash("RIC", WHITE_NUMBER).subject_hash, "WHITE", "GOOD_REPAYMENT")
    return World(region=region, member=member, other=other, users=users, hasher=hasher)


__all__ = ["PASSWORD"]


# -- a real Celery worker (PostgreSQL: the SQLite test database lives in this process's memory) --

REDIS_URL = "redis://127.0.0.1:6379/13"  # its own database: other worker tests use 11 and 12


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER'] or 'postgres'}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def background_jobs(transactional_db: None, settings: Any) -> Iterator[str]:
    """Where the upload jobs the pages start run: a real ``celery worker`` process over Redis on
    PostgreSQL ("worker"); on SQLite, whose test database only this process can see, the task
    runs in the server after the request commits ("eager")."""
    from config.celery import app

    if connection.vendor != "postgresql":
        before = {name: app.conf[name] for name in ("task_always_eager", "task_eager_propagates")}
        app.conf.update(task_always_eager=True, task_eager_propagates=False)
        try:
            yield "eager"
        finally:
            app.conf.update(before)
        return

    import redis

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.ConnectionError:
        pytest.skip("needs Redis at 127.0.0.1:6379 (.ci/run starts it)")
    client.flushdb()
    hostname = f"browser-{uuid.uuid4().hex[:8]}@localhost"
    env = {
        **os.environ,
        "DJANGO_ENV": "test",
        "DATABASE_URL": _database_url(),
        "CELERY_BROKER_URL": REDIS_URL,
        "MEDIA_ROOT": str(settings.MEDIA_ROOT),
        "PYTHONPATH": str(ROOT),
    }
    env.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    worker = subprocess.Popen(  # noqa: S603 (a fixed command line of the project's own worker)
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool", "solo", "-n", hostname, "-l", "WARNING"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    previous = app.conf.broker_url
    app.conf.broker_url = REDIS_URL  # type: ignore[misc]
    app._after_fork()  # type: ignore[attr-defined]  # drop the pools made for the previous broker
    try:
        deadline = time.monotonic() + 30
        while not app.control.ping(destination=[hostname], timeout=0.5):
            assert worker.poll() is None and time.monotonic() < deadline, "the worker did not start"
        yield "worker"
    finally:
        worker.terminate()
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait()
        app.conf.broker_url = previous  # type: ignore[misc]
        app._after_fork()  # type: ignore[attr-defined]
        client.flushdb()
