"""`alliance-bot`: serve, migrate, manage keys, run jobs."""

from __future__ import annotations

import argparse
import logging
import os
import sys
import time
from typing import TYPE_CHECKING, Sequence

from bot.store.crypto import KeyProblem
from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from bot.slack.services import Services

logger = logging.getLogger("alliance")
ACK_SWITCH_INTERVAL = 0.001
LOOP_SECONDS = 0.5


def _configure_logging() -> None:
    from bot.runtime.log_lines import configure_log_output

    configure_log_output()  # one line per record, no user text (ALLIANCE_DEBUG_LOG_PAYLOADS says otherwise)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # import-time noise


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    missing = settings.missing_for_serving(args.socket_mode)
    if missing and args.or_sandbox and not (settings.slack_bot_token or settings.slack_signing_secret or settings.slack_app_token):
        return cmd_sandbox(args, settings)  # `make run` with no Slack settings at all: the local workspace
    if missing:
        raise SettingsError(f"Set {' and '.join(missing)} (in the environment or .env) to serve; see README.md.")
    from concurrent.futures import ThreadPoolExecutor

    from bot.runtime.app import create_app
    from bot.runtime.bootstrap import build_runtime, load_cipher
    from bot.runtime.stopping import Stopping, grace_from_env
    from bot.store.db import upgrade

    try:
        grace = grace_from_env() if args.grace is None else float(args.grace)
    except ValueError as error:
        raise SettingsError(str(error)) from None
    if not 0 < grace <= 3600:
        raise SettingsError("--grace takes a number of seconds between 0 and 3600")

    # Hand the GIL over every millisecond (default 5 ms): an acknowledging thread then
    # never waits long behind the work that follows other acknowledgements.
    sys.setswitchinterval(ACK_SWITCH_INTERVAL)

    cipher = load_cipher(settings, args.dev)  # refuse before touching the database
    upgrade(settings.database_url)
    runtime = build_runtime(settings, dev=args.dev, cipher=cipher)
    listeners = ThreadPoolExecutor(max_workers=16, thread_name_prefix="listener")
    app = create_app(runtime.services, listener_executor=listeners)
    scheduler = None
    if not args.no_scheduler:
        from bot.runtime.scheduler_cli import start_scheduler

        scheduler = start_scheduler(runtime.services)
    pages = None
    if settings.public_url:
        from bot.public.pages import build_rating_pages

        pages = build_rating_pages(runtime.services)
    else:
        logger.info("ALLIANCE_PUBLIC_URL is not set: no client rating links are offered")
    stopping = Stopping(grace)
    stopping.install()  # SIGTERM (a deploy's stop) or Ctrl-C: a bounded stop
    finished = True
    if args.socket_mode:
        from bot.runtime.socket_mode import AllianceSocketModeHandler

        if pages is not None:
            from bot.public.listener import start_public_listener

            start_public_listener(pages, host=args.host, port=settings.public_port)
        logger.info("Alliance connecting in Socket Mode")
        handler = AllianceSocketModeHandler(app, settings.slack_app_token, runtime.services)
        handler.connect()  # type: ignore[no-untyped-call]
        while not stopping.event.wait(LOOP_SECONDS):  # a timed wait: the signal handler runs promptly
            pass
        handler.close()  # type: ignore[no-untyped-call]
    else:
        from bot.runtime.replays import ReplayGuard
        from bot.runtime.server import AllianceWsgi, serve_http

        finished = serve_http(AllianceWsgi(app, runtime.engine, replays=ReplayGuard(runtime.services), public=pages),
                              host=args.host, port=args.port, stop=stopping.event, grace=stopping.remaining())
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    finished = finish_acknowledged_work(runtime.services, listeners, stopping.remaining()) and finished
    runtime.engine.dispose()
    if not finished:
        logger.error("stopped with work unfinished after the %.0f s grace period", stopping.grace)
        return 1
    logger.info("stopped")
    return 0


def cmd_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    from bot.sandbox.main import run_sandbox  # the local workspace sits on top of the bot; nothing else imports it

    return run_sandbox(port=args.port, demo=getattr(args, "demo", False), explicit=args.command == "sandbox")


def finish_acknowledged_work(services: "Services", listeners: "Executor", seconds: float) -> bool:
    """Slack was told "got it" for everything queued: let the listeners and the replies
    and warnings after the acknowledgements finish, within `seconds` in all. True when
    they did."""
    from bot.runtime.stopping import wait_for_executor

    deadline = time.monotonic() + seconds
    finished = wait_for_executor(listeners, seconds)
    for pool in (services.after_ack, services.follow_ups):
        finished = pool.wait_idle(max(0.0, deadline - time.monotonic())) and finished
    return finished


def cmd_db(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store.db import upgrade

    upgrade(settings.database_url)
    print("database is up to date")
    return 0


def cmd_keys(args: argparse.Namespace, settings: Settings) -> int:
    from bot.store.crypto import generate_key

    if args.keys_command == "generate":
        print(generate_key())
        return 0
    if args.keys_command == "rotate":
        from bot.store.key_rotation import run_rotation

        return run_rotation(settings, args.new_key)
    raise SettingsError("unknown keys command")


def cmd_audit(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime.audit_report import print_audit

    return print_audit(settings, args.since)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="alliance-bot", description="Alliance: alliance check-ins for therapy teams, in Slack.")
    commands = parser.add_subparsers(dest="command", required=True)

    serve = commands.add_parser("serve", help="run the bot (HTTP mode, or Socket Mode)")
    serve.add_argument("--port", type=int, default=int(os.environ.get("PORT", "3000")))
    serve.add_argument("--host", default=os.environ.get("ALLIANCE_HOST", "0.0.0.0"))
    serve.add_argument("--socket-mode", action="store_true", help="connect with SLACK_APP_TOKEN; no public URL needed")
    serve.add_argument("--dev", action="store_true", help="without ALLIANCE_ENCRYPTION_KEY, keep a throwaway key in a local file")
    serve.add_argument("--or-sandbox", action="store_true",
                       help="with no Slack settings at all, start the local trial workspace instead (what `make run` does)")
    serve.add_argument("--grace", type=float, default=None, metavar="SECONDS",
                       help="on SIGTERM, finish what is in flight for at most this long (default: "
                            "ALLIANCE_STOP_GRACE, else 20)")
    serve.set_defaults(run=cmd_serve)

    sandbox = commands.add_parser("sandbox", help="a local trial workspace in the browser, no Slack needed")
    sandbox.add_argument("--port", type=int, default=3000)
    sandbox.add_argument("--demo", action="store_true", help="fill it with a few weeks of invented check-ins")
    sandbox.set_defaults(run=cmd_sandbox)

    db = commands.add_parser("db", help="database schema")
    db.add_argument("db_command", choices=["upgrade"])
    db.set_defaults(run=cmd_db)

    keys = commands.add_parser("keys", help="note encryption keys")
    keys.add_argument("keys_command", choices=["generate", "rotate"])
    keys.add_argument("--new-key", help="rotate: the new key (else ALLIANCE_NEW_ENCRYPTION_KEY)")
    keys.set_defaults(run=cmd_keys)

    audit = commands.add_parser("audit", help="print the audit log")
    audit.add_argument("--since", help="only entries at or after this ISO date or date-time (UTC if no zone)")
    audit.set_defaults(run=cmd_audit)

    from bot.runtime.scheduler_cli import add_scheduling_commands

    add_scheduling_commands(commands, serve)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    _configure_logging()
    args = build_parser().parse_args(argv)
    try:
        settings = Settings.from_env()
        from bot.runtime.logging_filters import install_redaction

        install_redaction(settings)
        return int(args.run(args, settings))
    except (SettingsError, KeyProblem) as error:
        print(f"alliance-bot: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
