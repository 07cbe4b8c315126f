"""Shared fixtures: databases, the Web API stand-in, services and a live server."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest

from bot.runtime.bootstrap import build_runtime, Runtime
from bot.store.crypto import NoteCipher, generate_key
from bot.settings import Settings
from bot.slack.pacing import ChannelPacer
from tests.support import databases
from tests.support.driver import SlackDriver
from tests.support.outbox import drain_outbox, test_deliverer
from tests.support.slack_requests import SIGNING_SECRET
from tests.support.slack_standin import SlackStandIn

SUPERVISOR = "U0SUPER01"
ADMIN = "U0ADMIN01"
SUPERVISION_CHANNEL = "C0SUPERV1"


@pytest.fixture(autouse=True)
def _root_logger_as_it_was() -> Iterator[None]:
    """A test that runs `main()` in this process gives the root logger a handler on the
    stderr pytest captures for that test; a thread still running after it (a scheduler's
    job) would then log to a closed stream. The root logger is put back after each test."""
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    yield
    for handler in list(root.handlers):
        if handler not in handlers:
            root.removeHandler(handler)
    root.setLevel(level)


class Clock:
    """A clock tests can set and move."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield databases.fresh_sqlite(tmp_path)
        return
    yield from fresh_postgres_url()


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL schema only (the test skips without ALLIANCE_TEST_DATABASE_URL)."""
    yield from fresh_postgres_url()


def fresh_postgres_url() -> Iterator[str]:
    base = databases.postgres_base_url()
    if base is None:
        pytest.skip(f"PostgreSQL tests need {databases.POSTGRES_ENV}")
    url, schema = databases.fresh_postgres(base)
    yield url
    databases.drop_postgres_schema(base, schema)


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return databases.fresh_sqlite(tmp_path)


@pytest.fixture
def standin() -> Iterator[SlackStandIn]:
    server = SlackStandIn().start()
    yield server
    server.stop()
    assert server.problems == [], "Slack would reject what the bot sent:\n" + "\n".join(server.problems)


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 20, 17, 0, tzinfo=timezone.utc))


def make_settings(standin: SlackStandIn, database_url: str, **overrides: object) -> Settings:
    values = dict(
        slack_bot_token="xoxb-test-token", slack_signing_secret=SIGNING_SECRET, slack_api_url=standin.api_url,
        database_url=database_url, encryption_key=generate_key(), supervision_channel=SUPERVISION_CHANNEL,
        timezone="America/New_York", supervisors=(SUPERVISOR,), admins=(ADMIN,),
    )
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]


@pytest.fixture
def settings(standin: SlackStandIn, database_url: str) -> Settings:
    return make_settings(standin, database_url)


@pytest.fixture
def runtime(settings: Settings, clock: Clock) -> Iterator[Runtime]:
    built = build_runtime(settings, cipher=NoteCipher.from_text(settings.encryption_key or ""))
    built.services.clock = clock
    built.services.pacer = ChannelPacer(interval=0)  # tests of pacing use their own pacers
    yield built
    built.engine.dispose()


@pytest.fixture
def slack(runtime: Runtime, standin: SlackStandIn, request: pytest.FixtureRequest) -> Iterator[SlackDriver]:
    """The app served by waitress on a free port, and a driver that talks to it
    the way Slack does."""
    from waitress.server import create_server

    from bot.runtime.app import create_app
    from bot.runtime.replays import ReplayGuard
    from bot.runtime.server import AllianceWsgi

    executor = ThreadPoolExecutor(max_workers=16, thread_name_prefix="listener")
    app = create_app(runtime.services, listener_executor=executor)
    guard = ReplayGuard(runtime.services)
    server = create_server(AllianceWsgi(app, runtime.engine, replays=guard), host="127.0.0.1", port=0, threads=8,
                           asyncore_loop_timeout=0.05)
    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):  # the loop notices the socket closed under it at teardown
            pass

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    deliverer = None
    if request.node.get_closest_marker("manual_outbox") is None:
        deliverer = test_deliverer(runtime).start(poll_seconds=0.05)  # as `serve` runs it, with fast retries
    port = server.socket.getsockname()[1]
    yield SlackDriver(f"http://127.0.0.1:{port}", standin, settle=lambda: drain_outbox(runtime))
    server.close()
    thread.join(timeout=5)
    executor.shutdown(wait=True)
    guard.answers.flush(5)  # stored before the engine is disposed (a later store would open a connection again)
    if deliverer is not None:
        deliverer.stop()
