"""The alert-burden benchmark (issue 13, SPEC §5): a seeded caseload simulation
run through the bot's own stall evaluation (`bot.domain.rules.evaluate`), rater
calibration (`bot.domain.calibration.rater_offset`) and flag bookkeeping
(`bot.domain.flag_book.book_flags`), counting the warnings that would interrupt
someone. `python -m bench.alert_burden [--quick]` runs it alone.

Noise model (NOISE_MODEL below is printed into BENCHMARKS.md)."""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from random import Random

from bot.domain.calibration import RECENT_CHECKINS, rater_offset
from bot.domain.cases import thread_names
from bot.domain.checkins import CheckinRecord, Rupture, RuptureKind, TherapistFlag
from bot.domain.flag_book import OpenFlag, book_flags, interrupting_posts, live_routes, open_after
from bot.domain.rule_types import Route
from bot.domain.rules import evaluate
from bot.domain.thresholds import Thresholds
from bench.report import Result

NOISE_MODEL = """\
- **Caseload**: THERAPISTS therapists × 25 case slots, weekly sessions (a session is missed with
  probability 0.1), WEEKS weeks; a case lasts 8–24 sessions, then a new case takes its slot.
  Kinds: 40% individual (A), 40% couple (A, B, unit, collective), 20% family (A, B, C: C an adolescent).
- **On track (70%)**: a case's level ~ N(8.2, 0.45), each member's level that + N(0, 0.35), kept in 7.3–9.5
  (a case whose alliance sits below 7 is not on track); the alliance is built
  over the first three sessions (−0.8, −0.4, −0.1); unit and collective sit 0.3 below the members' mean.
  Healthy noise is not quiet: in 3% of sessions a member dips 1.5 points for one session (a
  repaired rupture); in 3% a withdrawal is ticked, 3% tension or resistance, 1% *felt stuck* (on every case, on
  track or not).
- **Rating noise**: each thread has AR(1) noise e(t) = 0.5·e(t−1) + N(0, 0.6) (stationary SD ≈ 0.7),
  plus a shared session effect N(0, 0.3) on every thread; ratings are rounded and kept in 0–10.
- **Raters**: 60% typical (offset 0), 20% conservative (−1), 20% generous (+1), each plus an own
  habit N(0, 0.25); the offset is added to every therapist rating (clients' totals do not move).
- **Client totals**: a quarter of therapists collect them at every session: 4 × (true level + 2),
  + N(0, 1.2), rounded, 0–40 (clients rate higher than therapists).
- **Off track (30%, six kinds equally)**, from an onset session 3–6 (a flat stall from session 1):
  *sliding member* (one member −0.7 a session for 4 sessions), *emerging split* (one member −0.5 a
  session for 6 sessions while the others hold; individual cases slide instead), *V rupture without
  repair* (one member −3 at once, +1 back over the rest), *flat stall* (every thread at 6.3 with no
  growth), *repeated withdrawal* (one member withdraws at onset and then in 60% of sessions, −1),
  *disengaged adolescent* (C −0.5 a session down to 5 and absent from 30% of sessions; non-family
  cases slide instead).
- **Counting**: an interrupting warning is a new root message (therapist DM or supervision
  channel) as the bot's bookkeeping plans it: a case has at most one live warning per destination,
  and a rule firing on a case that has one updates it instead (issue 13 item 9); a notice interrupts
  nobody. An off-track case is caught when, at or after its onset, a rule fires on a live
  interrupting warning (a new one, or one already open that the check-in updates); lateness counts check-ins from
  the onset check-in (0 = at it). Cases still running at the end count only with 8 check-ins
  (on track) or 4 since the onset (off track). Calibration is on: each week every therapist's offset is computed
  from their last 200 check-ins against the team's last 1000."""

OFF_TRACK = ("sliding member", "emerging split", "V rupture without repair", "flat stall",
             "repeated withdrawal", "disengaged adolescent")
RATERS = (("typical", 0.0, 0.6), ("conservative", -1.0, 0.2), ("generous", 1.0, 0.2))
T0 = datetime(2026, 1, 5, 17, 0, tzinfo=UTC)


@dataclass
class SimCase:
    kind: str
    members: tuple[str, ...]
    length: int
    off: str | None
    onset: int
    target: str
    levels: dict[str, float]
    collects: bool
    history: list[CheckinRecord] = field(default_factory=list)
    noise: dict[str, float] = field(default_factory=dict)
    flags: dict[str, OpenFlag] = field(default_factory=dict)
    interrupted: bool = False
    caught_at: int | None = None  # lateness in check-ins from the onset check-in
    onset_index: int | None = None


@dataclass
class GroupTally:
    therapists: int = 0
    posts: int = 0
    supervision: int = 0
    on_track: int = 0
    on_track_interrupted: int = 0
    off_track: int = 0
    caught: int = 0
    lateness: list[int] = field(default_factory=list)
    missed: dict[str, int] = field(default_factory=lambda: defaultdict(int))


@dataclass(frozen=True)
class Outcome:
    group: str
    therapists: int
    weeks: int
    posts_per_week: float
    supervision_per_week: float
    on_track_interrupted: float
    off_track_caught: float
    median_lateness: float | None
    cases: int
    missed: dict[str, int]


def _new_case(rng: Random) -> SimCase:
    kind = rng.choices(("individual", "couple", "family"), (40, 40, 20))[0]
    members = {"individual": ("A",), "couple": ("A", "B"), "family": ("A", "B", "C")}[kind]
    off = rng.choice(OFF_TRACK) if rng.random() < 0.3 else None
    if off == "emerging split" and kind == "individual":
        off = "sliding member"
    if off == "disengaged adolescent" and kind != "family":
        off = "sliding member"
    onset = 1 if off == "flat stall" else rng.randint(3, 6)
    length = rng.randint(max(8, onset + 6), 24)
    target = "C" if off == "disengaged adolescent" else rng.choice(members)
    centre = rng.gauss(8.2, 0.45)  # members of one case share much of their alliance level
    levels = {m: min(9.5, max(7.3, centre + rng.gauss(0, 0.35))) for m in members}
    return SimCase(kind, members, length, off, onset, target, levels, collects=False)


def _true_levels(case: SimCase, session: int, rng: Random, dips: float) -> tuple[dict[str, float], set[str], Rupture]:
    build = {1: -0.8, 2: -0.4, 3: -0.1}.get(session, 0.0)
    level = {m: v + build for m, v in case.levels.items()}
    absent: set[str] = set()
    rupture = Rupture()
    since = session - case.onset
    if case.off == "flat stall":
        level = {m: 6.3 for m in case.members}
    elif case.off is not None and since >= 0:
        t = case.target
        if case.off == "sliding member":
            level[t] -= 0.7 * min(since + 1, 4)
        elif case.off == "emerging split":
            level[t] -= 0.5 * min(since + 1, 6)
        elif case.off == "V rupture without repair":
            level[t] -= 3 - min(since / 6, 1.0)
        elif case.off == "repeated withdrawal":
            if since == 0 or rng.random() < 0.6:
                rupture = Rupture(RuptureKind.WITHDRAWAL, (t,))
                level[t] -= 1
        elif case.off == "disengaged adolescent":
            level[t] = max(5.0, level[t] - 0.5 * (since + 1))
            if since > 0 and rng.random() < 0.3:
                absent.add(t)
    for m in case.members:
        if rng.random() < dips:
            level[m] -= 1.5  # a rupture repaired within the session
    if rupture.kind is RuptureKind.NONE and rng.random() < 0.03:
        rupture = Rupture(RuptureKind.WITHDRAWAL, (rng.choice(case.members),))
    return level, absent, rupture


def _checkin(case: SimCase, session: int, rater: float, rng: Random, dips: float) -> CheckinRecord:
    level, absent, rupture = _true_levels(case, session, rng, dips)
    shared = rng.gauss(0, 0.3)
    ratings: dict[str, int] = {}
    members_present = [m for m in case.members if m not in absent]
    for thread in thread_names(case.members):
        if thread in absent:
            continue
        true = level[thread] if thread in level else statistics.fmean(level[m] for m in members_present) - 0.3
        e = 0.5 * case.noise.get(thread, 0.0) + rng.gauss(0, 0.6)
        case.noise[thread] = e
        ratings[thread] = max(0, min(10, round(true + rater + e + shared)))
    scores = {}
    if case.collects:
        scores = {m: max(0, min(40, round(4 * (level[m] + 2.0) + rng.gauss(0, 1.2)))) for m in members_present}
    flags = set()
    if rng.random() < 0.03:
        flags.add(rng.choice((TherapistFlag.TENSION, TherapistFlag.RESISTANCE)))
    if rng.random() < 0.01:
        flags.add(TherapistFlag.STUCK)
    return CheckinRecord(session, ratings, T0 + timedelta(weeks=session), client_scores=scores, rupture=rupture,
                         flags=frozenset(flags), session_date=date(2026, 1, 5) + timedelta(weeks=session),
                         absent=frozenset(absent))


def simulate(therapists: int = 80, weeks: int = 40, slots: int = 25, seed: int = 13,
             thresholds: Thresholds = Thresholds(), dips: float = 0.03) -> list[Outcome]:
    rng = Random(seed)
    groups = [g for g, _, share in RATERS for _ in range(round(share * therapists))][:therapists]
    groups += ["typical"] * (therapists - len(groups))
    habit = [dict((g, o) for g, o, _ in RATERS)[g] + rng.gauss(0, 0.25) for g in groups]
    collects = [rng.random() < 0.25 for _ in range(therapists)]
    tallies = {g: GroupTally() for g, _, _ in RATERS}
    for g in groups:
        tallies[g].therapists += 1
    caseload = [[_fresh(rng, collects[t]) for _ in range(slots)] for t in range(therapists)]
    own: list[deque[float]] = [deque(maxlen=RECENT_CHECKINS) for _ in range(therapists)]
    team: deque[float] = deque(maxlen=1000)
    for _week in range(weeks):
        offsets = [rater_offset(list(own[t]), list(team), thresholds.calibration_min_checkins)
                   for t in range(therapists)]
        for t in range(therapists):
            tally = tallies[groups[t]]
            for slot, case in enumerate(caseload[t]):
                if rng.random() < 0.1:
                    continue  # missed week
                record = _checkin(case, len(case.history) + 1, habit[t], rng, dips)
                case.history.append(record)
                if record.ratings:
                    own[t].append(record.mean())
                    team.append(record.mean())
                _step(case, record, thresholds, offsets[t], tally)
                if len(case.history) >= case.length:
                    _finish(case, tally)
                    caseload[t][slot] = _fresh(rng, collects[t])
    for t in range(therapists):
        for case in caseload[t]:  # cases still running when the simulation ends
            seen_since_onset = len(case.history) - (case.onset_index or len(case.history))
            if (case.off is None and len(case.history) >= 8) or (case.off is not None and seen_since_onset >= 4):
                _finish(case, tallies[groups[t]])
    return [_outcome(g, tally, weeks) for g, tally in tallies.items()]


def _fresh(rng: Random, collects: bool) -> SimCase:
    case = _new_case(rng)
    case.collects = collects
    return case


def _step(case: SimCase, record: CheckinRecord, thresholds: Thresholds, offset: float, tally: GroupTally) -> None:
    hits = evaluate(case.history, case.members, thresholds, offset)
    steps = book_flags(case.flags, hits, record, thresholds.flag_close_after)
    posts = interrupting_posts(steps)  # one case, one conversation: a root only where none is live
    case.flags = open_after(case.flags, steps)
    if case.off is not None and case.onset_index is None and record.session_number >= case.onset:
        case.onset_index = len(case.history) - 1
    if posts:
        tally.posts += len(posts)
        tally.supervision += sum(route is Route.SUPERVISION for route in posts)
        case.interrupted = True
    # Caught: a rule fires at or after the onset on a live interrupting warning (a new root, or
    # one already open that this check-in updates and replies in).
    live = live_routes(case.flags)
    firing_live = any(s.hit is not None and s.route in live for s in steps)
    if firing_live and case.onset_index is not None and case.caught_at is None:
        case.caught_at = len(case.history) - 1 - case.onset_index


def _finish(case: SimCase, tally: GroupTally) -> None:
    if case.off is None:
        tally.on_track += 1
        tally.on_track_interrupted += case.interrupted
    elif case.onset_index is not None:
        tally.off_track += 1
        if case.caught_at is not None:
            tally.caught += 1
            tally.lateness.append(case.caught_at)
        else:
            tally.missed[case.off] += 1


def _outcome(group: str, tally: GroupTally, weeks: int) -> Outcome:
    therapist_weeks = max(tally.therapists * weeks, 1)
    return Outcome(
        group=group, therapists=tally.therapists, weeks=weeks,
        posts_per_week=tally.posts / therapist_weeks, supervision_per_week=tally.supervision / therapist_weeks,
        on_track_interrupted=tally.on_track_interrupted / max(tally.on_track, 1),
        off_track_caught=tally.caught / max(tally.off_track, 1),
        median_lateness=statistics.median(tally.lateness) if tally.lateness else None,
        cases=tally.on_track + tally.off_track, missed=dict(tally.missed))


def describe(outcomes: list[Outcome]) -> str:
    lines = ["rater         therapists  interrupting/wk  supervision/wk  "
             "on-track interrupted  off-track caught  median lateness  cases"]
    for o in outcomes:
        late = "-" if o.median_lateness is None else f"{o.median_lateness:g}"
        lines.append(f"{o.group:<13} {o.therapists:>10}  {o.posts_per_week:>15.2f}  {o.supervision_per_week:>14.2f}  "
                     f"{o.on_track_interrupted:>20.1%}  {o.off_track_caught:>16.1%}  {late:>15}  {o.cases:>5}")
        if o.missed:
            lines.append(f"{'':13} missed: " + ", ".join(f"{k} {v}" for k, v in sorted(o.missed.items())))
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.alert_burden", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="20 therapists × 20 weeks")
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--dips", type=float, default=0.03,
                        help="share of sessions in which an on-track member dips 1.5 points (default 0.03)")
    args = parser.parse_args(argv)
    started = time.monotonic()
    therapists, weeks = (20, 20) if args.quick else (80, 40)
    outcomes = simulate(therapists, weeks, seed=args.seed, dips=args.dips)
    print(describe(outcomes))
    for row in bench_results(outcomes):
        verdict = "" if row.ok is None else " ok" if row.ok else " MISSED"
        print(f"{row.name}: {row.value:.2f} {row.unit} (target {row.target}){verdict}")
    print(f"({time.monotonic() - started:.1f} s)")
    return 0



# -- as a part of `make bench` -------------------------------------------------------

PART = "4 alert burden"


def bench_results(outcomes: list[Outcome]) -> list[Result]:
    """The report's rows: the SPEC §5 targets on the typical rater, and each other
    rater's supervision rate against the typical one's (within 1.5×)."""
    by = {o.group: o for o in outcomes}
    typical = by["typical"]
    rows = [
        Result(PART, "interrupting warnings per therapist-week, typical rater", "-", typical.posts_per_week, "/wk",
               target="≤ 1.0", ok=typical.posts_per_week <= 1.0,
               note=f"{typical.supervision_per_week:.2f} supervision; one live warning per case and destination"),
        Result(PART, "on-track cases ever interrupted, typical rater", "-", 100 * typical.on_track_interrupted, "%",
               target="≤ 15%", ok=typical.on_track_interrupted <= 0.15),
        Result(PART, "off-track cases caught, typical rater", "-", 100 * typical.off_track_caught, "%",
               target="≥ 90%", ok=typical.off_track_caught >= 0.90,
               note=f"median {typical.median_lateness:g} check-ins after the onset" if typical.median_lateness
               is not None else ""),
    ]
    for other in (by["conservative"], by["generous"]):
        ratio = other.supervision_per_week / typical.supervision_per_week if typical.supervision_per_week else None
        rows.append(Result(PART, f"supervision rate, {other.group} rater vs typical", "-", ratio, "×",
                           target="within 1.5×", ok=ratio is not None and 1 / 1.5 <= ratio <= 1.5,
                           note=f"{other.posts_per_week:.2f} interrupting/wk, {100 * other.on_track_interrupted:.0f}% "
                                f"on-track interrupted, {100 * other.off_track_caught:.0f}% off-track caught"))
    return rows


def bench_section(outcomes: list[Outcome], therapists: int, weeks: int, seconds: float) -> str:
    model = NOISE_MODEL.replace("THERAPISTS", str(therapists)).replace("WEEKS", str(weeks))
    return (f"`python -m bench.alert_burden` runs this part alone ({seconds:.0f} s here). The simulation calls the "
            "bot's own `evaluate`, `rater_offset` and `book_flags`, so what it counts is what the bot would post.\n\n"
            f"{model}\n\n```\n{describe(outcomes)}\n```\n")


if __name__ == "__main__":
    sys.exit(main())
