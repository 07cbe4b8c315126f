"""Starts the local workspace: the Web API on a free port, Alliance itself (its
real Bolt app behind its real HTTP server, pointed there by SLACK_API_URL, with
the scheduler running on the sandbox's clock), and the page on 127.0.0.1."""

from __future__ import annotations

import logging
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

from bot.sandbox.clock import SandboxClock
from bot.sandbox.people import ADMIN, PEOPLE, SUPERVISION_CHANNEL, SUPERVISOR, WORKSPACE_TIMEZONE
from bot.sandbox.slack_api import SlackStandIn
from bot.sandbox.slack_side import SlackSide
from bot.sandbox.workspace import Workspace

logger = logging.getLogger("alliance.sandbox")
HOST = "127.0.0.1"
DEFAULT_PORT = 3000
DB_FILE = "sandbox.db"
DEMO_DB_FILE = "sandbox-demo.db"
KEY_FILE = ".alliance-sandbox-key"
BOT_TOKEN = "xoxb-local-sandbox"
JOBS = ("scan", "reminders", "digest")


def _private_file(path: Path) -> None:
    if path.exists():
        os.chmod(path, 0o600)


def sandbox_key(directory: Path) -> str:
    """The sandbox's own note key, generated once and kept beside its database
    (never ALLIANCE_ENCRYPTION_KEY: no real key is ever used for invented data)."""
    from bot.store.crypto import generate_key

    path = directory / KEY_FILE
    if not path.exists():
        path.write_text(generate_key() + "\n")
    _private_file(path)
    return path.read_text().strip()


def bound_port(server: object) -> int:
    """The port a waitress server listens on (one socket: created with host and port)."""
    sock = getattr(server, "socket", None)
    if sock is None:
        raise RuntimeError("the server has no listening socket")
    return int(sock.getsockname()[1])


@dataclass
class Sandbox:
    directory: Path
    db_file: str = DB_FILE
    clock: SandboxClock = field(default_factory=SandboxClock)
    page_base: str = f"http://{HOST}:{DEFAULT_PORT}"

    def start(self) -> "Sandbox":
        from waitress.server import create_server

        from bot.runtime.app import create_app
        from bot.runtime.bootstrap import build_runtime, make_deliverer
        from bot.store.crypto import NoteCipher
        from bot.store.db import upgrade
        from bot.jobs.scheduler import AllianceScheduler
        from bot.runtime.replays import ReplayGuard
        from bot.runtime.server import AllianceWsgi
        from bot.settings import Settings

        workspace = Workspace(epoch=lambda: self.clock.epoch())
        if self.saved.exists():  # the channels as they were when it last stopped, and its clock
            extra = workspace.load(str(self.saved))
            self.clock = SandboxClock(offset=timedelta(seconds=float(extra.get("clock_offset", 0.0))))
        self.standin = SlackStandIn(strict=True, bot_token=BOT_TOKEN, channels={SUPERVISION_CHANNEL},
                                    users={p.id: p.as_user() for p in PEOPLE}, permalink_base=f"{self.page_base}/#",
                                    workspace=workspace).start()
        self.signing_secret = secrets.token_hex(16)
        db_path = self.directory / self.db_file
        self.settings = Settings(
            slack_bot_token=BOT_TOKEN, slack_signing_secret=self.signing_secret, slack_api_url=self.standin.api_url,
            database_url=f"sqlite:///{db_path}", encryption_key=sandbox_key(self.directory),
            supervision_channel=SUPERVISION_CHANNEL, timezone=WORKSPACE_TIMEZONE,
            supervisors=(SUPERVISOR.id,), admins=(ADMIN.id,))
        if not db_path.exists():  # created 0600 first: SQLite gives its -wal and -shm files the same mode
            os.close(os.open(db_path, os.O_WRONLY | os.O_CREAT, 0o600))
        upgrade(self.settings.database_url)
        for suffix in ("", "-wal", "-shm"):
            _private_file(Path(f"{db_path}{suffix}"))
        self.runtime = build_runtime(self.settings, cipher=NoteCipher.from_text(self.settings.encryption_key or ""))
        self.runtime.services.clock = self.clock
        app = create_app(self.runtime.services)
        self._alliance = create_server(AllianceWsgi(app, self.runtime.engine, replays=ReplayGuard(self.runtime.services)),
                                       host=HOST, port=0, threads=8,
                                       ident="alliance")
        threading.Thread(target=self._serve_alliance, daemon=True, name="alliance-http").start()
        self.deliverer = make_deliverer(self.runtime).start(poll_seconds=0.2)  # the outbox, as `serve` runs it
        port = bound_port(self._alliance)
        self.side = SlackSide(self.standin, f"http://{HOST}:{port}/slack/events", self.signing_secret)
        self.scheduler = AllianceScheduler(self.runtime.services)
        self.scheduler.start()
        self._stopping = threading.Event()
        self._saver = threading.Thread(target=self._keep_saving, daemon=True, name="sandbox-save")
        self._saver.start()
        return self

    @property
    def saved(self) -> Path:
        return self.directory / (Path(self.db_file).stem + ".workspace.json")

    def save(self) -> None:
        self.standin.workspace.save(str(self.saved), {"clock_offset": self.clock.offset.total_seconds()})

    def _keep_saving(self) -> None:
        saved_version = -1
        while not self._stopping.wait(1.0):
            version = self.standin.workspace.version
            if version != saved_version:
                self.save()
                saved_version = version

    def _serve_alliance(self) -> None:
        try:
            self._alliance.run()
        except (OSError, ValueError):  # the socket closed under the loop at stop
            pass

    def run_jobs(self) -> list[str]:
        """Every scheduled sweep, as the scheduler runs them, at the sandbox's now."""
        lines = []
        for job in JOBS:
            result = self.scheduler.run(job)
            lines.append(result.summary() if result is not None else f"{job}: not run (lease held elsewhere)")
        return lines

    def settle(self, seconds: float = 30.0, quiet: float = 0.4) -> None:
        """Wait until Alliance has sent what it queued (replies, warnings): nothing is
        due in its outbox and the workspace has not changed for `quiet` seconds."""
        from bot.store import outbox

        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            before = self.standin.workspace.version
            time.sleep(quiet)
            self.deliverer.drain(max(0.0, deadline - time.monotonic()))
            if self.standin.workspace.version == before and not outbox.due_within(self.runtime.engine, 0.5):
                return

    def stop(self) -> None:
        self.scheduler.shutdown(wait=True)  # let a running sweep finish before the engine goes
        self._alliance.close()
        self.settle(10)
        self.deliverer.stop()
        self._stopping.set()
        self._saver.join(timeout=5)  # one writer at the end: the last save is this one
        self.save()
        self.runtime.engine.dispose()
        self.standin.stop()
