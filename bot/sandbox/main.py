"""The sandbox's entry point: the page's server, the demo, and `run_sandbox`
(`alliance-bot sandbox`, or `make run` without Slack settings). It sits above the
runner, the page and the demo, which know nothing of it."""

from __future__ import annotations

import logging
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

from bot.sandbox.clock import SandboxClock
from bot.sandbox.demo import START_BACK, fill_demo
from bot.sandbox.runner import DB_FILE, DEFAULT_PORT, DEMO_DB_FILE, HOST, Sandbox, bound_port
from bot.sandbox.web import SandboxPage


def serve_page(sandbox: Sandbox, port: int) -> Any:
    """The page's server, bound (port 0: a free one) but not yet serving; the
    sandbox's permalinks point at it."""
    from waitress.server import create_server

    page = SandboxPage(sandbox, allowed_hosts=set())
    server = create_server(page, host=HOST, port=port, threads=8, ident="alliance-sandbox")
    bound = bound_port(server)
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
