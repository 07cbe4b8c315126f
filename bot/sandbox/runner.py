"""Starts the local workspace: the Web API on a free port, Alliance itself (its
real Bolt app behind its real HTTP server, pointed there by SLACK_API_URL, with
the scheduler running on the sandbox's clock), and the page on 127.0.0.1."""

from __future__ import annotations

import logging
import os
import secrets
import signal
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

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
    from bot.crypto import generate_key

    path = directory / KEY_FILE
    if not path.exists():
        path.write_text(generate_key() + "\n")
    _private_file(path)
    return path.read_text().strip()


@dataclass
class Sandbox:
    directory: Path
    db_file: str = DB_FILE
    clock: SandboxClock = field(default_factory=SandboxClock)
    page_base: str = f"http://{HOST}:{DEFAULT_PORT}"

    def start(self) -> "Sandbox":
        from waitress.server import create_server

        from bot.app import create_app
        from bot.bootstrap import build_runtime
        from bot.crypto import NoteCipher
        from bot.db import upgrade
        from bot.scheduling.scheduler import AllianceScheduler
        from bot.server import AllianceWsgi
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
        self._alliance = create_server(AllianceWsgi(app, self.runtime.engine), host=HOST, port=0, threads=8,
                                       ident="alliance")
        threading.Thread(target=self._serve_alliance, daemon=True, name="alliance-http").start()
        port = self._alliance.socket.getsockname()[1]
        self.side = SlackSide(self.standin, f"http://{HOST}:{port}/slack/events", self.signing_secret)
        self.scheduler = AllianceScheduler(self.runtime.services)
        self.scheduler.start()
        self._stopping = threading.Event()
        threading.Thread(target=self._keep_saving, daemon=True, name="sandbox-save").start()
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
        """Wait until Alliance has finished what it acknowledged (replies, warnings):
        its queues are idle and the workspace has not changed for `quiet` seconds."""
        services = self.runtime.services
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            before = self.standin.workspace.version
            time.sleep(quiet)
            services.after_ack.wait_idle(max(0.0, deadline - time.monotonic()))
            services.follow_ups.wait_idle(max(0.0, deadline - time.monotonic()))
            if self.standin.workspace.version == before:
                return

    def stop(self) -> None:
        self.scheduler.shutdown(wait=True)  # let a running sweep finish before the engine goes
        self._alliance.close()
        self.settle(10)
        self._stopping.set()
        self.save()
        self.runtime.engine.dispose()
        self.standin.stop()


def serve_page(sandbox: Sandbox, port: int) -> Any:
    """The page's server, bound (port 0: a free one) but not yet serving; the
    sandbox's permalinks point at it."""
    from waitress.server import create_server

    from bot.sandbox.web import SandboxPage

    page = SandboxPage(sandbox, allowed_hosts=set())
    server = create_server(page, host=HOST, port=port, threads=8, ident="alliance-sandbox")
    bound = server.socket.getsockname()[1]
    page.allowed_hosts.update({f"{HOST}:{bound}", f"localhost:{bound}"})
    sandbox.page_base = f"http://{HOST}:{bound}"
    return server


def serve_in_background(server: Any) -> threading.Thread:
    """Run a waitress server on a daemon thread (tests); closing it ends the thread quietly."""
    def run() -> None:
        try:
            server.run()
        except (OSError, ValueError):  # the loop notices the socket closed under it
            pass

    thread = threading.Thread(target=run, daemon=True, name="sandbox-page")
    thread.start()
    return thread


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)


def run_sandbox(port: int = DEFAULT_PORT, demo: bool = False, directory: Path | None = None, explicit: bool = True) -> int:
    """`alliance-bot sandbox` (or `make run` without Slack settings): serve the local
    workspace until Ctrl-C."""
    here = directory or Path.cwd()
    if "ALLIANCE_LOG_LEVEL" not in os.environ:
        logging.getLogger().setLevel(logging.WARNING)  # the one line below is what a first-time user needs
    db_file = DEMO_DB_FILE if demo else DB_FILE
    if demo:
        for name in (db_file, f"{db_file}-wal", f"{db_file}-shm", Path(db_file).stem + ".workspace.json"):
            Path(here / name).unlink(missing_ok=True)  # the demo starts anew each time
    page = f"http://{HOST}:{port}/"
    try:
        sandbox = Sandbox(directory=here, db_file=db_file)
        if demo:
            from bot.sandbox.demo import START_BACK

            sandbox.clock = SandboxClock(offset=-START_BACK)  # the demo's weeks end about now
        server = serve_page(sandbox, port)
    except OSError as error:
        print(f"alliance-bot: cannot serve the local workspace on {HOST}:{port} ({error.strerror}); "
              f"pick another with --port N (`make run ARGS=\"--port N\"`)", file=sys.stderr)
        return 2
    sandbox.start()
    why = "" if explicit else "no Slack settings found; "
    print(f"Alliance is running in a local trial workspace at {page} ({why}invented data only, kept in {db_file}). "
          f"To connect to Slack instead, set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET (README.md) and run `make run`.",
          flush=True)
    if demo:
        from bot.sandbox.demo import fill_demo

        threading.Thread(target=fill_demo, args=(sandbox,), daemon=True, name="demo").start()
    signal.signal(signal.SIGTERM, _exit)  # stop as on Ctrl-C: the workspace is saved on the way out
    try:
        server.run()
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        server.close()
        sandbox.stop()
    return 0
