"""What one `/alliance log CASE 8 7 8 8` costs inside the server, without sockets:
the same WSGI stack `alliance-bot serve` runs (AllianceWsgi → replay guard → Bolt →
the handler, its transaction, stall evaluation, the outbox), called directly with
signed requests, one at a time, after a warm-up.

Per request: wall and CPU milliseconds (this process only; PostgreSQL's own work
is not in it), SQL statements by kind and by stage, commits; optionally a
pyinstrument profile of the whole run.

    python -m bench.log_path [--postgres-url URL | --sqlite] [--requests 300] [--profile out.txt]
"""

from __future__ import annotations

import argparse
import io
import re
import statistics
import sys
import time
import traceback
from collections import Counter
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from typing import Any

from sqlalchemy import event

from bench.ack_latency import prepare_cases, sender_id
from bench.databases import DEFAULT_POSTGRES, fresh_database
from bench.run_job import bench_settings
from bench.standin_process import StandinProcess
from tests.support import slack_requests as sr

# The stage a statement belongs to: the first of these found in its stack, innermost first.
STAGES = (
    ("replay record", "record"),
    ("replay claim", "claim"),
    ("stall evaluation + outbox", "evaluate_checkin"),
    ("rating links", "queue_rating_links"),
    ("store (checks + insert)", "log_checkin_or_ask"),
    ("actor and profile", "actor_and_profile"),
    ("purge", "now_and_then"),
)


def stage_of(stack: list[traceback.FrameSummary]) -> str:
    names = [frame.name for frame in reversed(stack)]
    for label, name in STAGES:
        if name in names:
            return label
    return "other (commit, pool)"


class StatementCounter:
    def __init__(self, engine: Any, by_stage: bool) -> None:
        self.kinds: Counter[str] = Counter()
        self.stages: Counter[str] = Counter()
        self.statements: list[str] = []
        self.commits = 0
        self._by_stage = by_stage
        event.listen(engine, "before_cursor_execute", self._statement)
        event.listen(engine, "commit", self._commit)

    def _statement(self, conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        words = statement.split()
        kind = words[0].upper() if words else "?"
        if kind in ("INSERT", "UPDATE", "DELETE"):
            target = re.search(r"(?:INTO|UPDATE|FROM)\s+(\w+)", statement, re.I)
            kind = f"{kind} {target.group(1) if target else ''}"
        elif kind == "SELECT":
            outer = statement
            while (inner := re.sub(r"\([^()]*\)", "", outer)) != outer:  # subqueries out: the outer FROM
                outer = inner
            target = re.search(r"\b(?:FROM|JOIN)\s+(?!AS\b)(\w+)", outer, re.I)
            kind = f"SELECT {target.group(1) if target else '(no table)'}"
        self.kinds[kind] += 1
        self.statements.append(statement[:160].replace("\n", " "))
        if self._by_stage:
            self.stages[stage_of(traceback.extract_stack())] += 1

    def _commit(self, conn: Any) -> None:
        self.commits += 1

    def reset(self) -> None:
        self.kinds.clear()
        self.stages.clear()
        self.statements.clear()
        self.commits = 0


class InlineExecutor(Executor):
    def submit(self, fn: Any, /, *args: Any, **kwargs: Any) -> Future[Any]:
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args, **kwargs))
        except BaseException as error:  # noqa: BLE001 - kept in the future, as a pool would
            future.set_exception(error)
        return future


def add_history(url: str, count: int) -> None:
    """`count` check-ins of another therapist's cases, stored a while ago."""
    from datetime import datetime, timedelta, timezone

    from sqlalchemy import insert

    from bot.domain.access import Actor
    from bot.domain.cases import CaseKind
    from bot.store.db import make_engine, make_session_factory
    from bot.store.models import Checkin
    from bot.usecases.cases import create_case

    if count <= 0:
        return
    engine = make_engine(url)
    now = datetime.now(timezone.utc)
    with make_session_factory(engine).begin() as session:
        cases = [create_case(session, Actor(user_id="U0HISTORY"), CaseKind.COUPLE, 2, (), now).id for _ in range(20)]
        session.execute(insert(Checkin), [
            {"case_id": cases[i % 20], "therapist_id": "U0HISTORY", "session_number": i // 20 + 1,
             "session_date": (now - timedelta(days=count - i)).date(), "created_at": now - timedelta(days=count - i),
             "ratings": {"A": 8, "B": 7, "unit": 8, "collective": 8}, "client_scores": {}, "rupture_kind": "none",
             **({"mean_rating": 7.75} if hasattr(Checkin, "mean_rating") else {}),
             "rupture_members": [], "therapist_flags": []} for i in range(count)])
    engine.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.log_path", description=__doc__)
    parser.add_argument("--postgres-url", default=None)
    parser.add_argument("--sqlite", action="store_true")
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--profile", default=None, help="write a pyinstrument text profile here")
    parser.add_argument("--history", type=int, default=1200,
                        help="check-ins already stored (another therapist's), as after a benchmark level or two")
    parser.add_argument("--inline", action="store_true",
                        help="run the listener in the request's thread (for --profile; no ack polling)")
    parser.add_argument("--show-statements", action="store_true", help="print one request's statements")
    args = parser.parse_args(argv)

    backend = "postgresql" if not args.sqlite else "sqlite"
    pg = (args.postgres_url or DEFAULT_POSTGRES) if backend == "postgresql" else None
    db = fresh_database(backend, "logpath", pg)
    try:
        with StandinProcess() as standin:
            return measure(db.url, backend, standin.api_url, standin.base, args)
    finally:
        db.drop(pg)


def measure(url: str, backend: str, api_url: str, base: str, args: argparse.Namespace) -> int:
    from bot.runtime.app import create_app
    from bot.runtime.bootstrap import build_runtime
    from bot.runtime.replays import ReplayGuard
    from bot.runtime.server import AllianceWsgi
    from bot.store.crypto import NoteCipher

    senders = 4
    codes = prepare_cases(url, senders)
    add_history(url, args.history)
    settings = bench_settings(url, api_url)
    runtime = build_runtime(settings, cipher=NoteCipher.from_text(settings.encryption_key or ""))
    listeners: Executor = ThreadPoolExecutor(max_workers=4, thread_name_prefix="listener")
    if args.inline:  # the listener in the request's thread, so that a profile of that thread sees it
        listeners.shutdown()
        listeners = InlineExecutor()
    app = create_app(runtime.services, listener_executor=listeners)
    wsgi = AllianceWsgi(app, runtime.engine, replays=ReplayGuard(runtime.services))
    counter = StatementCounter(runtime.engine, by_stage=True)
    numbers: Counter[str] = Counter()

    def one(index: int) -> tuple[float, float, str]:
        user = sender_id(index % senders)
        code = codes[user][(index // senders) % len(codes[user])]
        numbers[code] += 1
        body = sr.command_body(f"log {code} 8 7 8 8 session={numbers[code]}", user, f"{index}.trigger",
                               f"{base}/respond/{index}")
        headers = sr.signed_headers(body, "application/x-www-form-urlencoded")
        environ = {"REQUEST_METHOD": "POST", "PATH_INFO": "/slack/events", "QUERY_STRING": "",
                   "CONTENT_TYPE": "application/x-www-form-urlencoded", "CONTENT_LENGTH": str(len(body)),
                   "wsgi.input": io.BytesIO(body), "REMOTE_ADDR": "127.0.0.1", "SERVER_NAME": "bench",
                   "SERVER_PORT": "80", "wsgi.url_scheme": "http", "SERVER_PROTOCOL": "HTTP/1.1"}
        for name, value in headers.items():
            environ["HTTP_" + name.upper().replace("-", "_")] = value
        status: list[str] = []
        wall, cpu = time.perf_counter(), time.process_time()
        result = wsgi(environ, lambda s, h, e=None: status.append(s))
        answer = b"".join(result)
        close = getattr(result, "close", None)
        if close is not None:
            close()
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        if not status or not status[0].startswith("200") or b"Logged session" not in answer:
            raise RuntimeError(f"unexpected answer {status} {answer[:300]!r}")
        return wall * 1000, cpu * 1000, answer.decode()

    for index in range(40):  # warm-up: every user's profile read, caches filled
        one(index)
    counter.reset()
    one(40)
    one_request = (Counter(counter.kinds), Counter(counter.stages), list(counter.statements), counter.commits)
    counter.reset()
    counter._by_stage = False  # reading stacks costs time: only for the one request above
    profiler = None
    if args.profile:
        from pyinstrument import Profiler

        profiler = Profiler(interval=0.001)
        profiler.start()
    walls, cpus = [], []
    for index in range(41, 41 + args.requests):
        wall, cpu, _ = one(index)
        walls.append(wall)
        cpus.append(cpu)
    run_statements, run_commits = sum(counter.kinds.values()), counter.commits
    calls = None
    if args.inline:  # Python function calls per request: a count other processes' load cannot move
        import cProfile
        import pstats

        counting = cProfile.Profile()
        counting.enable()
        for index in range(41 + args.requests, 41 + args.requests + 50):
            one(index)
        counting.disable()
        calls = pstats.Stats(counting).total_calls / 50  # type: ignore[attr-defined]
        if args.profile:
            counting.dump_stats(args.profile + ".pstats")
    if profiler is not None:
        profiler.stop()
        with open(args.profile, "w") as out:
            out.write(profiler.output_text(unicode=True, color=False, show_all=False))
    n = args.requests
    kinds, stages, statements, commits = one_request
    print(f"{backend}: {n} requests, one at a time, in process")
    print(f"  wall ms  p50 {statistics.median(walls):.2f}  mean {statistics.fmean(walls):.2f}  "
          f"p99 {sorted(walls)[int(0.99 * (n - 1))]:.2f}")
    print(f"  CPU ms   p50 {statistics.median(cpus):.2f}  mean {statistics.fmean(cpus):.2f}")
    if calls is not None:
        print(f"  Python function calls per request: {calls:,.0f}")
    print(f"  statements per request (mean over the run): {run_statements / n:.1f}, commits {run_commits / n:.1f}")
    print(f"  one request: {sum(kinds.values())} statements, {commits} commits")
    for label, count in stages.most_common():
        print(f"    {count:3d}  {label}")
    for kind, count in kinds.most_common():
        print(f"    {count:3d}  {kind}")
    if args.show_statements:
        for statement in statements:
            print("      ", statement)
    listeners.shutdown(wait=True)
    runtime.engine.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
