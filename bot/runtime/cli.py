"""`alliance-bot`: serve, migrate, manage keys, run jobs."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from typing import TYPE_CHECKING, Sequence

from bot.store.crypto import KeyProblem
from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from concurrent.futures import Executor

    from bot.runtime.workers import Worker
    from bot.store.crypto import NoteCipher


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
    from bot.runtime.bootstrap import load_cipher
    from bot.runtime.stopping import grace_from_env
    from bot.runtime.workers import MAX_WORKERS
    from bot.store.db import upgrade

    try:
        grace = grace_from_env() if args.grace is None else float(args.grace)
    except ValueError as error:
        raise SettingsError(str(error)) from None
    if not 0 < grace <= 3600:
        raise SettingsError("--grace takes a number of seconds between 0 and 3600")
    if not 1 <= args.workers <= MAX_WORKERS:
        raise SettingsError(f"--workers takes a number from 1 to {MAX_WORKERS}")
    if args.workers > 1 and args.socket_mode:
        raise SettingsError("--workers is for HTTP mode; Socket Mode keeps one connection to Slack")

    # Hand the GIL over every millisecond (default 5 ms): an acknowledging thread then
    # never waits long behind the work that follows other acknowledgements.
    sys.setswitchinterval(ACK_SWITCH_INTERVAL)

    cipher = load_cipher(settings, args.dev)  # refuse before touching the database
    upgrade(settings.database_url)
    if args.workers == 1:
        return serve_process(args, settings, cipher, grace)
    from bot.runtime.workers import WakePipe, Worker, listening_socket, run_workers

    sock = listening_socket(args.host, args.port)
    wakes = WakePipe()
    logger.info("Alliance listening on http://%s:%d with %d workers", args.host, args.port, args.workers)
    return run_workers(args.workers, lambda index: serve_process(args, settings, cipher, grace,
                                                                 Worker(index, sock, wakes)), grace, sock)


def serve_process(args: argparse.Namespace, settings: Settings, cipher: "NoteCipher", grace: float,
                  worker: "Worker | None" = None) -> int:
    """One serving process: the whole of `serve`, or one of its `--workers` (only
    worker 0 delivers the outbox and runs the scheduler)."""
    from concurrent.futures import ThreadPoolExecutor

    from bot.runtime.app import create_app, learn_identity_soon
    from bot.runtime.capacity import LISTENER_THREADS
    from bot.runtime.bootstrap import build_runtime, make_deliverer
    from bot.runtime.stopping import Stopping

    runtime = build_runtime(settings, dev=args.dev, cipher=cipher)
    listeners = ThreadPoolExecutor(max_workers=LISTENER_THREADS, thread_name_prefix="listener")
    app = create_app(runtime.services, listener_executor=listeners)
    stopping = Stopping(grace)
    learn_identity_soon(app, runtime.services.lookup_client, stopping.event)  # not on the first request's clock
    delivers = worker is None or worker.delivers
    deliverer = None
    if delivers:
        deliverer = make_deliverer(runtime).start()  # whatever is due, including what an earlier run left
        if worker is not None:
            worker.wakes.listen(deliverer.wake)  # the other workers' queued messages
    elif worker is not None:
        from bot.store import outbox

        outbox.add_waker(worker.wakes.notify)
    scheduler = None
    if delivers and not args.no_scheduler:
        from bot.runtime.scheduler_cli import start_scheduler

        scheduler = start_scheduler(runtime.services)
    pages = None
    if settings.public_url:
        from bot.public.pages import build_rating_pages

        pages = build_rating_pages(runtime.services)
    elif delivers:
        logger.info("ALLIANCE_PUBLIC_URL is not set: no client rating links are offered")
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

        replays = ReplayGuard(runtime.services)
        finished = serve_http(AllianceWsgi(app, runtime.engine, replays=replays, public=pages),
                              host=args.host, port=args.port, stop=stopping.event, grace=stopping.remaining(),
                              sock=worker.sock if worker is not None else None)
        replays.answers.flush(max(0.0, min(2.0, stopping.remaining())))  # what a replay would be answered with
    if scheduler is not None:
        scheduler.shutdown(wait=False)
    finished = finish_acknowledged_work(listeners, stopping.remaining()) and finished
    if deliverer is not None:
        deliverer.stop(max(0.0, stopping.remaining()))  # what is not yet sent waits in the outbox for the next start
    runtime.engine.dispose()
    if not finished:
        logger.error("stopped with work unfinished after the %.0f s grace period", stopping.grace)
        return 1
    logger.info("stopped")
    return 0


def cmd_sandbox(args: argparse.Namespace, settings: Settings) -> int:
    from bot.sandbox.main import run_sandbox  # the local workspace sits on top of the bot; nothing else imports it

    return run_sandbox(port=args.port, demo=getattr(args, "demo", False), explicit=args.command == "sandbox")


def finish_acknowledged_work(listeners: "Executor", seconds: float) -> bool:
    """Let the requests in flight finish (each stores, then acknowledges), within
    `seconds`. True when they did. Messages they queued are in the outbox already."""
    from bot.runtime.stopping import wait_for_executor

    return wait_for_executor(listeners, seconds)


def cmd_deliver(args: argparse.Namespace, settings: Settings) -> int:
    """Send what the outbox holds that is due, then stop (beside or instead of `serve`)."""
    from bot.runtime.bootstrap import build_runtime, make_deliverer
    from bot.store.crypto import NoteCipher, generate_key
    from bot.store.db import JOB_WAITS, upgrade

    upgrade(settings.database_url)
    # Delivering never reads a note: without the key, a throwaway one stands in.
    runtime = build_runtime(settings, cipher=NoteCipher.from_text(settings.encryption_key or generate_key()),
                            waits=JOB_WAITS)
    deliverer = make_deliverer(runtime)
    settled = deliverer.drain(timeout=args.seconds)
    deliverer.stop()
    print("outbox delivered" if settled else f"outbox still has rows due after {args.seconds:.0f} s")
    return 0 if settled else 1


def cmd_outbox(args: argparse.Namespace, settings: Settings) -> int:
    from bot.runtime.outbox_report import print_outbox

    return print_outbox(settings)


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
    serve.add_argument("--workers", type=int, default=int(os.environ.get("ALLIANCE_WORKERS", "1")), metavar="N",
                       help="HTTP mode: N processes sharing the port (default: ALLIANCE_WORKERS, else 1); "
                            "see README.md for when more than one helps")
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

    deliver = commands.add_parser("deliver", help="send what the outbox holds that is due, then stop")
    deliver.add_argument("--seconds", type=float, default=60.0, help="give up after this long (default 60)")
    deliver.set_defaults(run=cmd_deliver)

    outbox = commands.add_parser("outbox", help="what is waiting to be sent: counts, oldest age, last error")
    outbox.set_defaults(run=cmd_outbox)

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
