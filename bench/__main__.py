"""`python -m bench` (`make bench`): runs every benchmark, prints the table and
writes BENCHMARKS.md. `--quick` is a smoke run at a tenth of the scale that
writes bench/out/BENCHMARKS-quick.md instead."""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

from bench import alert_burden, sections
from bench.ack_latency import Level, measure_alliance, measure_bare
from bench.databases import DEFAULT_POSTGRES, OUT, fresh_database, postgres_reachable
from bench.datagen import Scale, load
from bench.machine import describe, python_speed, python_speed_ms
from bench.report import Report, Result, restore, save, text_table
from bench.scheduled import health_system_sweeps, paced_sweeps
from bench.stall_local import time_checkins
from bench.standin_process import REPO, StandinProcess

ACK_P99_MS = 100.0  # issue 7 at every level, issue 11 at 8 senders
ACK_P50_FLOOR_RATIO = 1.5  # issue 11: p50 at most this times the bare app's, at ACK_RATIO_SENDERS
ACK_RATIO_SENDERS = 8
STALL_RATIO = 1.2
SWEEP_SECONDS = 5.0
SWEEP_MB = 300.0
PACED_SLACK_SECONDS = 0.5


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a fast smoke run (100 k check-ins, fewer requests)")
    parser.add_argument("--parts", default="1,2,3,4,5",
                        help="1 (acknowledgements), 2,3 (stall, sweeps; they share data), 4 (alert burden), 5 (the outbox)")
    parser.add_argument("--postgres-url", default=os.environ.get("ALLIANCE_TEST_DATABASE_URL") or DEFAULT_POSTGRES)
    parser.add_argument("--skip-postgres", action="store_true")
    parser.add_argument("--no-profile", action="store_true", help="do not profile what misses its target")
    parser.add_argument("--workers", type=int, default=2,
                        help="part 1 also measures `serve --workers N` beside the bare app with N workers (1: not)")
    parser.add_argument("--output", type=Path, help="where to write the report (default: BENCHMARKS.md)")
    parser.add_argument("--render", action="store_true",
                        help="measure nothing: write the report again from the run that last wrote it (its "
                             "measurements are kept in bench/out/last-run.json, or beside an --output X as X.json)")
    return parser.parse_args(argv)


def ack_results(backend: str, levels: list[Level], floor: list[Level], quick_floor: list[Level],
                floor_note: str = "") -> list[Result]:
    """Issue 11's targets now that the acknowledgement stores the check-in: p99 < 100 ms
    (issue 7 asked it at every level) and, at 8 senders with no pause, p50 ≤ 1.5× the
    bare Bolt app's. `floor` is the bare Bolt app as Bolt ships (it polls for `ack()`
    every 10 ms): the floor the benchmark measured when issue 11 was filed, which the
    target was written against. `quick_floor` is the bare app with Alliance's own Bolt
    setting (answered when the listener returns); its ratio is reported, not judged."""
    rows = []
    for level, bare, quick in zip(levels, floor, quick_floor):
        n = f"{level.senders} sender{'s' if level.senders > 1 else ''}" + (
            f" pausing {level.pause:g} s" if level.pause else "")
        stored = "" if level.stored == level.requests else f"only {level.stored} of {level.requests} stored; "
        errors = f"{level.errors} errors; " if level.errors else ""
        sound = not errors and not stored
        also = f"÷ the bare app with Alliance's Bolt setting ({quick.p50_ms:.1f} ms): {level.p50_ms / quick.p50_ms:.1f}×"
        p50 = Result("1 ack", f"p50, {n}", backend, level.p50_ms, "ms", floor=bare.p50_ms, note=also)
        if level.senders == ACK_RATIO_SENDERS and not level.pause:
            p50 = Result("1 ack", f"p50, {n}", backend, level.p50_ms, "ms", target=f"≤ {ACK_P50_FLOOR_RATIO:g}× floor",
                         ok=sound and level.p50_ms <= ACK_P50_FLOOR_RATIO * bare.p50_ms, floor=bare.p50_ms,
                         note=f"{errors}{stored}{also}{floor_note}")
        rows += [
            p50,
            Result("1 ack", f"p99, {n}", backend, level.p99_ms, "ms", target=f"< {ACK_P99_MS:g} ms",
                   ok=sound and level.p99_ms < ACK_P99_MS, floor=bare.p99_ms,
                   note=f"{errors}{stored}the reply is in the acknowledgement: {level.replied} of "
                        f"{level.requests} said Logged, {level.stored} stored when the last was answered"),
            Result("1 ack", f"throughput, {n}", backend, level.throughput, "req/s", floor=bare.throughput,
                   note=f"{level.requests} requests, {level.stored} check-ins stored"),
        ]
    return rows


FLOOR = "bare Bolt app (floor: Bolt as shipped, polling for the ack)"
QUICK_FLOOR = "bare Bolt app, answered when the listener returns (Alliance's setting; reported, not judged)"


def run_part1(report: Report, backends: list[str], pg: str | None, quick: bool, profile: bool,
              workers: int = 1) -> None:
    levels = ((1, 0.0), (8, 0.0), (32, 0.0), (32, 0.5))
    requests = 100 if quick else 400
    with StandinProcess() as standin:
        # The judged floor is the one the benchmark measured when issue 11 set its target:
        # Bolt's default, which runs the listener on a thread and polls for `ack()` every
        # 10 ms. Alliance now answers when its listener returns; the bare app with that
        # setting answers in a fraction of a millisecond, and is reported beside it.
        floor = measure_bare(levels, requests, standin, process_before_response=False)
        quick_floor = measure_bare(levels, requests, standin)
        floors = {FLOOR: floor, QUICK_FLOOR: quick_floor}
        # `serve --workers N` is set against the bare app forked the same way.
        floor_n = measure_bare(levels, requests, standin, workers, process_before_response=False) if workers > 1 else []
        quick_n = measure_bare(levels, requests, standin, workers) if workers > 1 else []
        if floor_n:
            floors[f"{FLOOR}, {workers} workers"] = floor_n
            floors[f"{QUICK_FLOOR}, {workers} workers"] = quick_n
        measured: dict[str, list[Level]] = {}
        runs = [(backend, 1) for backend in backends] + [(backend, workers) for backend in backends if workers > 1]
        for backend, count in runs:
            label = backend if count == 1 else f"{backend}, {count} workers"
            db = fresh_database(backend, "ack", pg)
            try:
                measured[label] = measure_alliance(db.url, backend, levels, requests, standin, workers=count)
            except RuntimeError as error:  # the server did not start: say so and go on
                report.add(Result("1 ack", "alliance-bot serve", label, None, "ms", target="< 100 ms",
                                  ok=False, note=str(error)))
                continue
            finally:
                db.drop(pg)
            if count == 1:
                report.add(*ack_results(label, measured[label], floor, quick_floor))
            else:
                report.add(*ack_results(label, measured[label], floor_n, quick_n,
                                        f"; floors: the bare app with {count} workers too"))
        spy = None
        if profile and any(r.ok is False for r in report.results if r.part == "1 ack"):
            try:
                spy = sections.profile_server(standin, None, requests)
            except RuntimeError as error:
                print(f"no server profile: {error}", file=sys.stderr)
    report.sections.append(("1. Acknowledgement latency, level by level",
                            sections.ack_section(measured, floors, spy)))


def run_scale(report: Report, backend: str, pg: str | None, quick: bool, profile: bool) -> None:
    big_scale = Scale.for_checkins(100_000 if quick else 1_000_000)
    small_scale = Scale.for_checkins(1_000)
    big = fresh_database(backend, "scale", pg)
    small = fresh_database(backend, "small", pg)
    try:
        loaded = load(big.url, backend, big_scale)
        load(small.url, backend, small_scale)
        profile_dir = OUT / "profiles" if profile else None
        if profile_dir is not None:
            profile_dir.mkdir(parents=True, exist_ok=True)
        sweeps = health_system_sweeps(big.url, backend, big_scale, SWEEP_SECONDS, SWEEP_MB, profile_dir)
        for run in sweeps.runs:
            report.add(
                Result("3 sweeps", f"{run.job}: time", backend, run.seconds, "s", target="< 5 s",
                       ok=run.seconds < SWEEP_SECONDS, floor=sweeps.floors[run.job], note=run.summary()),
                Result("3 sweeps", f"{run.job}: peak memory", backend, run.peak_mb, "MB", target="< 300 MB",
                       ok=run.peak_mb < SWEEP_MB, floor=run.before_mb,
                       note="floor: the same process before the sweep (interpreter, libraries, pool)"))
        runs, warmup = (60, 10) if quick else (200, 20)
        with StandinProcess() as standin:
            timings = time_checkins({"1k": (small.url, small_scale), "big": (big.url, big_scale)},
                                    standin.api_url, runs, warmup)
        few, many = timings["1k"], timings["big"]
        label = f"{big_scale.checkins // 1000:,} k" if quick else "1 M"
        report.add(
            Result("2 stall", "store + evaluate, 1 k check-ins", backend, few.median_ms, "ms",
                   note=f"median of {few.runs}; p90 {few.p90_ms:.1f} ms"),
            Result("2 stall", f"store + evaluate, {label} check-ins", backend, many.median_ms, "ms",
                   target="≤ 1.2× the 1 k figure", ok=many.median_ms <= STALL_RATIO * few.median_ms,
                   floor=few.median_ms,
                   note=f"median of {many.runs}; store {many.store_median_ms:.1f} ms + evaluate "
                        f"{many.evaluate_median_ms:.1f} ms (1 k: {few.store_median_ms:.1f} + {few.evaluate_median_ms:.1f})"),
        )
        report.sections.append((f"3. Sweeps on {backend}", sections.sweep_section(backend, loaded, sweeps)))
    finally:
        big.drop(pg)
        small.drop(pg)


def run_paced(report: Report) -> None:
    scale = Scale(therapists=20, cases=60, checkins=1_200)
    free = fresh_database("sqlite", "paced-free", None)
    paced = fresh_database("sqlite", "paced", None)
    try:
        load(free.url, "sqlite", scale)
        load(paced.url, "sqlite", scale)
        outcomes = paced_sweeps(free.url, paced.url, scale, burst=12)
    finally:
        free.drop(None)
        paced.drop(None)
    for o in outcomes:
        what = "supervision warnings, 12 check-ins in a row" if o.job == "warnings" else f"{o.job} sweep"
        report.add(Result("3 paced", what, "sqlite", o.paced_seconds, "s",
                          target=f"≤ {o.allowed_seconds + PACED_SLACK_SECONDS:.1f} s",
                          ok=o.paced_seconds <= o.allowed_seconds + PACED_SLACK_SECONDS, floor=o.free_seconds,
                          note=f"{o.messages} messages, {o.busiest} to the busiest channel, {o.limited} answered 429; "
                               "floor: the same against an unlimited stand-in"))


def run_alert_burden(report: Report, quick: bool) -> None:
    therapists, weeks = (20, 20) if quick else (80, 40)
    began = time.monotonic()
    outcomes = alert_burden.simulate(therapists, weeks)
    report.add(*alert_burden.bench_results(outcomes))
    report.sections.append(("4. Alert burden: the noise model and every rater",
                            alert_burden.bench_section(outcomes, therapists, weeks, time.monotonic() - began)))


WARNING_P99_MS = 2000.0


def run_outbox(report: Report, backends: list[str], pg: str | None, quick: bool) -> None:
    """Issue 11: a warning's way from the check-in to Slack, and how fast the outbox empties."""
    from bench.outbox_bench import drain_rate, warning_latency

    per_sender, rows = (8, 500) if quick else (16, 2000)
    with StandinProcess() as standin:
        for backend in backends:
            db = fresh_database(backend, "warnings", pg)
            try:
                seen = warning_latency(db.url, backend, 8, per_sender, standin)
            finally:
                db.drop(pg)
            report.add(
                Result("5 outbox", "warning delivered after the check-in, p50, 8 senders", backend, seen.p50_ms, "ms",
                       note=f"{seen.warnings} of {seen.checkins} warnings seen; each sender logs one a second"),
                Result("5 outbox", "warning delivered after the check-in, p99, 8 senders", backend, seen.p99_ms, "ms",
                       target="< 2 s", ok=seen.p99_ms < WARNING_P99_MS and seen.warnings == seen.checkins,
                       note=f"from the start of the logging request; ack p99 {seen.ack_p99_ms:.0f} ms"))
        if pg:
            for processes in (1, 2):
                db = fresh_database("postgresql", "drain", pg)
                try:
                    rate = drain_rate(db.url, rows, processes, standin)
                finally:
                    db.drop(pg)
                report.add(Result("5 outbox", f"drain rate, {processes} deliver process{'es' if processes > 1 else ''}",
                                  "postgresql", rate.per_second, "msg/s",
                                  note=f"{rate.rows} DMs to {rate.rows} people in {rate.seconds:.1f} s"))


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    last_run = measurements_of(args)
    if args.render:
        return finish(restore(last_run), args)
    parts = {p.strip() for p in args.parts.split(",")}
    pg: str | None = None if args.skip_postgres else args.postgres_url
    problem = postgres_reachable(pg) if pg else "skipped (--skip-postgres)"
    if problem:
        print(f"PostgreSQL not used: {problem}", file=sys.stderr)
        pg = None
    backends = ["sqlite"] + (["postgresql"] if pg else [])
    started = time.monotonic()
    report = Report(machine=describe(pg), command="make bench" + (" BENCH_ARGS=--quick" if args.quick else ""))
    if problem:
        report.machine.append(("note", f"PostgreSQL skipped: {problem}"))
    profile = not args.no_profile
    speeds = [("at the start", python_speed_ms())]
    if "1" in parts:
        print("part 1: acknowledgement latency …", flush=True)
        run_part1(report, backends, pg, args.quick, profile, args.workers)
        speeds.append(("after part 1", python_speed_ms()))
    if "2" in parts or "3" in parts:
        for backend in backends:
            print(f"parts 2 and 3 on {backend}: generating data, sweeps, stall evaluation …", flush=True)
            run_scale(report, backend, pg, args.quick, profile)
        print("part 3: sweeps against a paced stand-in …", flush=True)
        run_paced(report)
    if "4" in parts:
        print("part 4: alert burden (a simulated caseload through the stall rules) …", flush=True)
        run_alert_burden(report, args.quick)
    if "5" in parts:
        print("part 5: the outbox (warning delivery after the check-in, drain rate) …", flush=True)
        run_outbox(report, backends, pg, args.quick)
    speeds.append(("at the end", python_speed_ms()))
    report.machine.insert(2, ("Python speed", python_speed(speeds)))  # after code and CPU
    report.seconds = time.monotonic() - started
    last_run.parent.mkdir(parents=True, exist_ok=True)
    save(report, last_run)
    return finish(report, args)


def output_of(args: argparse.Namespace) -> Path:
    return args.output or (OUT / "BENCHMARKS-quick.md" if args.quick else REPO / "BENCHMARKS.md")


def measurements_of(args: argparse.Namespace) -> Path:
    """Where a run keeps what it measured, for `--render`: one file per report, so a run
    written elsewhere (`--output`) never replaces the measurements behind BENCHMARKS.md."""
    if args.output is None:
        return OUT / ("last-run-quick.json" if args.quick else "last-run.json")
    output = Path(args.output)
    return output.with_name(output.name + ".json")


def finish(report: Report, args: argparse.Namespace) -> int:
    """Add the fixed sections, write the Markdown, print the table."""
    report.sections.append(("How each figure is measured", sections.METHOD))
    findings = REPO / "bench" / "findings.md"
    if findings.exists():
        report.sections.append(("Diagnosis of the misses", findings.read_text()))
    output = output_of(args)
    output.parent.mkdir(parents=True, exist_ok=True)
    report.write(output)
    print(text_table(report.results))
    print(f"\n{sum(r.ok is True for r in report.results)} of {sum(r.ok is not None for r in report.results)} "
          f"targets met in {report.seconds:.0f} s; wrote {output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
