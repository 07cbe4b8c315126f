"""The explanatory sections of BENCHMARKS.md, and the server profile behind
part 1's misses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from bench.ack_latency import Level, Server, prepare_cases, run_levels, serve_command
from bench.databases import OUT, fresh_database
from bench.datagen import Loaded
from bench.profiling import pyinstrument_excerpt, start_spy, top_functions, where_the_gil_goes
from bench.scheduled import SweepOutcome
from bench.standin_process import StandinProcess
from bot.store.crypto import generate_key
from tests.support import slack_requests as sr


@dataclass
class ServerProfile:
    level: Level
    shares: list[tuple[str, float]]
    tops: list[tuple[str, float]]
    problem: str = ""


def profile_server(standin: StandinProcess, pg: str | None, requests: int) -> ServerProfile | None:
    """32 senders against `alliance-bot serve` on SQLite while py-spy samples
    every thread of the server whenever it holds the GIL."""
    db = fresh_database("sqlite", "profile", pg)
    codes = prepare_cases(db.url, 32)
    env = {"SLACK_BOT_TOKEN": "xoxb-bench", "SLACK_SIGNING_SECRET": sr.SIGNING_SECRET,
           "SLACK_API_URL": standin.api_url, "DATABASE_URL": db.url, "ALLIANCE_ENCRYPTION_KEY": generate_key()}
    server = Server(serve_command(), env, OUT / "serve-profiled.log")
    output = OUT / "profiles" / "serve-32-senders.txt"
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        spy = start_spy(server.process.pid, requests / 80 + 2, output)
        if spy is None:
            return None
        levels = run_levels(server.port, standin, codes, ((32, 0.0),), requests, "profiled", db.url)
        spy.wait(timeout=120)
    finally:
        server.stop()
        db.drop(pg)
    if not output.exists() or not output.read_text().strip():
        return ServerProfile(levels[0], [], [], problem="py-spy recorded nothing (is ptrace allowed here?)")
    return ServerProfile(levels[0], where_the_gil_goes(output), top_functions(output))


def _ms(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}"


def _cpu(value: float | None) -> str:
    return "–" if value is None else f"{value:.2f}"


def ack_section(measured: dict[str, list[Level]], floors: dict[str, list[Level]], spy: ServerProfile | None) -> str:
    lines = ["| server | senders | pause s | requests | p50 ms | p99 ms | acks/s | server CPU ms/ack | reply p50 ms | "
             "reply p99 ms | stored |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for name, levels in list(floors.items()) + [(f"alliance-bot serve, {b}", v) for b, v in measured.items()]:
        for level in levels:
            lines.append(f"| {name} | {level.senders} | {level.pause:g} | {level.requests} | {_ms(level.p50_ms)} | {_ms(level.p99_ms)} | "
                         f"{level.throughput:.0f} | {_cpu(level.server_cpu_ms)} | {_ms(level.reply_p50_ms)} | "
                         f"{_ms(level.reply_p99_ms)} | "
                         f"{'–' if level.stored is None else level.stored} |")
    text = "\n".join(lines) + (
        "\n\n*reply* is the acknowledgement itself (issue 11: the check-in is stored, its warnings queued, and the "
        "acknowledgement carries \"Logged session N\"); *stored* counts the rows that level added, counted right after "
        "its last acknowledgement. "
        "Each sender waits for its acknowledgement before sending again: with no pause (a closed loop), once "
        "the offered load exceeds what the process can store, latency grows with the number of senders; the "
        "rows with a pause are 32 senders who each wait that long after every acknowledgement (at most "
        "32 ÷ pause requests a second). *server CPU ms/ack* is the CPU time (user and system, from /proc) the "
        "server's processes used during the level, divided by its requests. In a closed loop of N senders the mean "
        "latency is N ÷ acks/s, and one process's acks/s is bounded by that CPU, most of it Python, which runs on "
        "one core at a time (the GIL); the floor's latency is instead its 10 ms ack poll, which costs little CPU.\n")
    if spy is not None:
        text += f"\n**Profile** (py-spy, every thread of `alliance-bot serve` on SQLite, samples taken only while a " \
                f"thread holds the GIL; 32 senders, ack p99 {spy.level.p99_ms:.0f} ms, " \
                f"{spy.level.throughput:.0f} acks/s):\n\n"
        if spy.problem:
            text += spy.problem + "\n"
        text += "| where the GIL is held | share |\n|---|---|\n" + "\n".join(
            f"| {label} | {share:.0%} |" for label, share in spy.shares)
        text += "\n\nTop functions (self):\n\n```\n" + "\n".join(
            f"{share:6.1%}  {frame}" for frame, share in spy.tops) + "\n```\n"
    return text


def sweep_section(backend: str, loaded: Loaded, sweeps: SweepOutcome) -> str:
    rows = ", ".join(f"{table} {count:,}" for table, count in loaded.rows.items())
    lines = [f"Generated and bulk-loaded in {loaded.seconds:.0f} s: {rows}.", "",
             "| sweep | seconds | floor query s | peak RSS MB | RSS before MB | what it did |", "|---|---|---|---|---|---|"]
    for run in sweeps.runs:
        lines.append(f"| {run.job} | {run.seconds:.2f} | {sweeps.floors[run.job]:.3f} | {run.peak_mb:.0f} | "
                     f"{run.before_mb:.0f} | {run.summary()} |")
    for job, text in sweeps.profiles.items():
        lines += ["", f"**Profile of the {job} sweep on {backend}** (pyinstrument; wall-clock, so slower than the "
                      "measured run):", "", "```", pyinstrument_excerpt(text), "```"]
    return "\n".join(lines)


METHOD = """\
- **Acknowledgement latency.** `alliance-bot serve` runs as a subprocess (waitress, 16 threads, its real
  settings; `--no-scheduler`), on a fresh SQLite file or a fresh PostgreSQL schema, with `SLACK_API_URL`
  pointing at the Web API stand-in (tests/support/slack_standin.py) running in a process of its own. Each
  sender is a thread in the benchmark process with one keep-alive connection, posting `/alliance log CODE 8 7 8 8`
  signed exactly as Slack signs it (tests/support/slack_requests.py) for its own 16 cases in turn, so every
  request stores a new check-in (the count is checked). A warm-up of two requests per sender comes first. The floor is
  `bench/bare_app.py`: a Bolt app whose `/alliance` only calls `ack()`, served by the same `bot.runtime.server`
  (AllianceWsgi, waitress, same settings), in one process, with Bolt as it ships: the listener runs on a
  thread and the request's thread polls for `ack()` every 10 ms. That is the floor this benchmark measured
  when issue 11 set its targets: p99 < 100 ms, and at 8 senders p50 ≤ 1.5× the floor's p50. Alliance now
  runs with `process_before_response` (answered when the listener returns, with the check-in stored); the
  bare app with that setting (`--process-before-response`) answers in a fraction of a millisecond, so it is
  measured too and each p50 row gives its ratio to it, reported and not judged: with 8 senders in a closed
  loop that ratio is the bare app's throughput over Alliance's. The rows "N workers" run `serve --workers N`
  and are set against the bare apps forked the same way (`bench/bare_app.py --workers N`). Latency is the
  sender's time from request to response.
- **Stall evaluation.** In process: the handler's own `log` path (`handlers.commands.log_again.store_log`: the
  actor, the check-in stored, the stall evaluation queueing its warnings in the outbox, one transaction),
  on the same 20 cases (same histories, same therapists) in a database of 1,000 check-ins and of 1 million,
  alternating between the two databases run by run. The evaluation is timed where the handler calls it;
  "store" is the rest of the transaction, commit included. Median after a warm-up.
- **Sweeps.** Generated data (bench/datagen.py): 2,000 therapists in 14 IANA zones, 20,000 active cases
  (and 2,000 paused or closed), 1,000,000 check-ins, open flags on 5% of cases, resolved flags, shares,
  away periods, four past weeks of sent reminders in the outbox. Each sweep runs in a fresh process
  (bench/run_job.py) at a moment when it has its full work; its seconds are the sweep's (deciding what is due
  and queueing it in the outbox), and the outbox's deliverer then sends it in the same process, timed apart
  ("delivered in"; peak memory covers both): the scan at 06:00 New York, the digest on
  Monday 09:30, the reminders on Friday 23:30 UTC (after 15:00 local across the Americas). Slack calls are
  counted in process and answered at once (bench/counting_client.py), so the time is our own work. Peak
  memory is the process's `ru_maxrss`. The floor is the plain SQL that reads what the sweep needs.
- **Alert burden.** In process, no database: `bench/alert_burden.py` simulates a seeded caseload
  (the noise model is in section 4) and runs every check-in through `bot.domain.rules.evaluate`, every
  week's calibration through `bot.domain.calibration.rater_offset`, and the flag open/update/close
  bookkeeping through `bot.domain.flag_book.book_flags` — the functions the bot's follow-up uses.
- **Paced stand-in.** The same reminder and digest sweeps on a small database, and 12 check-ins in a row
  that each raise a warning for the supervision channel, first against the stand-in, then against one that
  answers a second message to a channel within a second with HTTP 429 and `Retry-After: 1`
  (bench/standin_process.py). Allowed: the unlimited time plus one second per message after the first to
  the busiest channel (plus 0.5 s of slack).
"""
