"""Flags after a check-in, at the use-case level, on SQLite and PostgreSQL."""

from __future__ import annotations

import logging
from typing import Any, Iterator

import pytest
from sqlalchemy import event, func, insert, select

from bot.domain.access import Actor
from bot.runtime.bootstrap import Runtime
from bot.domain.cases import CaseKind
from bot.domain.checkin_input import CheckinInput
from bot.domain.checkins import TherapistFlag
from bot.domain.errors import Forbidden
from bot.domain.questions import SPLIT, STALLED
from bot.domain.rules import Route
from bot.store.models import Checkin, Flag
from bot.slack.warning_outbox import queue_flag_plan, queue_root_refresh
from bot.slack.question_text import question_counts
from bot.store import ratings as stored_ratings
from bot.usecases import calibration
from bot.usecases import cases as case_uc
from bot.usecases import checkins as checkin_uc
from bot.usecases import config as config_uc
from bot.usecases import flags as flags_uc
from bot.usecases.checkins import RecordedCheckin
from bot.domain.messages import MessageRef
from bot.usecases.flags import FlagPlan, NoteKind
from tests.conftest import ADMIN, SUPERVISION_CHANNEL
from tests.support.outbox import drain_outbox, follow_up
from tests.support.slack_standin import SlackStandIn
from bot.slack.warning_outbox import evaluate_checkin

THERAPIST = Actor("U0THERA01")
OTHER = Actor("U0THERA02")
DM = MessageRef("D0THERA01", "1700000001.000100")
COUPLE = ("A", "B", "unit", "collective")


def new_case(runtime: Runtime, actor: Actor = THERAPIST) -> str:
    with runtime.services.session_factory.begin() as session:
        return case_uc.create_case(session, actor, CaseKind.COUPLE, 2, (), runtime.services.now()).code


def log(runtime: Runtime, code: str, ratings: str, actor: Actor = THERAPIST, **extra: Any) -> RecordedCheckin:
    entry = CheckinInput(ratings=dict(zip(COUPLE, (int(r) for r in ratings.split()))), **extra)
    with runtime.services.session_factory.begin() as session:
        return checkin_uc.record_checkin(session, actor, code, entry, runtime.services.now(), runtime.services.cipher)


def reconcile(runtime: Runtime, recorded: RecordedCheckin) -> FlagPlan | None:
    with runtime.services.session_factory.begin() as session:
        return flags_uc.reconcile_flags(session, recorded.case_id, recorded.checkin_id, runtime.services.now(),
                                        question_counts())


def log_and_reconcile(runtime: Runtime, code: str, ratings: str, **extra: Any) -> FlagPlan:
    plan = reconcile(runtime, log(runtime, code, ratings, **extra))
    assert plan is not None
    return plan


def posted_at(runtime: Runtime, flag_ids: tuple[int, ...], message: MessageRef) -> None:
    with runtime.services.session_factory.begin() as session:
        flags_uc.record_warning_posted(session, flag_ids, message)


def flags_of(runtime: Runtime, code: str) -> list[Flag]:
    with runtime.services.session_factory.begin() as session:
        case = case_uc.load_case(session, code)
        assert case is not None
        return list(session.scalars(select(Flag).where(Flag.case_id == case.id).order_by(Flag.id)))


def steady(runtime: Runtime, code: str, times: int = 3) -> None:
    """Quiet check-ins: past a case's first two (issue 13: early low levels are notices)."""
    for _ in range(times):
        assert log_and_reconcile(runtime, code, "8 8 8 8").posts == ()


TENSION = frozenset({TherapistFlag.TENSION})


def titles(plan_part: Any) -> list[str]:
    return [rule.title for rule in plan_part.content.rules]


def test_rules_that_fire_open_flags_and_one_warning_per_route(runtime: Runtime) -> None:
    code = new_case(runtime)
    assert log_and_reconcile(runtime, code, "8 8 8 8").posts == ()
    assert log_and_reconcile(runtime, code, "8 7 8 8").posts == ()
    plan = log_and_reconcile(runtime, code, "8 4 6 7")
    [post] = plan.posts
    assert post.route is Route.DM and titles(post) == ["Low alliance", "Split alliance", "Alliance drop"]
    assert plan.edits == () and plan.notes == () and plan.session_number == 3
    flags = flags_of(runtime, code)
    assert [f.id for f in flags] == list(post.flag_ids)
    assert {(f.status, f.open_slot, f.route, f.quiet_checkins) for f in flags} == {("open", 1, "dm", 0)}
    assert post.content.rules[1].evidence == ("A 8 vs B 4 (gap 4)", "gap 0 → 1 → 4")
    assert post.content.member == "B" and post.content.therapist_id == THERAPIST.user_id
    assert [t.thread for t in post.content.trends] == list(COUPLE)
    assert post.content.trends[1].values == (8, 7, 4)

    # Issue 13: a weak unit in a case's first check-in is a notice, stored but never posted;
    # a unit rating is Weak couple alliance's evidence, not Low alliance's.
    other = new_case(runtime)
    plan = log_and_reconcile(runtime, other, "8 8 5 8")
    assert plan.posts == () and plan.fired == ("weak_couple_alliance",)
    assert [(f.rule, f.route, f.severity) for f in flags_of(runtime, other)] == [("weak_couple_alliance", "summary", 1)]


def test_a_repeat_edits_and_quiet_flags_close_themselves(runtime: Runtime) -> None:
    code = new_case(runtime)
    for _ in range(3):
        assert log_and_reconcile(runtime, code, "8 7 8 8").posts == ()
    # Issue 13: B falls to 4 (clearly below the cut: a warning at once; a fall to 5 would be a
    # notice until it holds), with a split of 3 on the same number: one warning naming all three.
    [post] = log_and_reconcile(runtime, code, "7 4 7 7").posts
    assert titles(post) == ["Low alliance", "Split alliance", "Alliance drop"]
    posted_at(runtime, post.flag_ids, DM)

    plan = log_and_reconcile(runtime, code, "8 6 8 8")  # within B's noise now: all quiet, an edit, no post
    assert plan.posts == () and plan.notes == () and [e.message for e in plan.edits] == [DM]
    low, split, drop = plan.edits[0].content.rules
    assert (low.title, low.firing, low.quiet_checkins, low.status) == ("Low alliance", False, 1, "open")
    assert (drop.title, drop.firing, drop.evidence) == ("Alliance drop", False, ("B 7 → 7 → 4 (its level 7)",))

    plan = log_and_reconcile(runtime, code, "8 8 8 8")  # the second quiet check-in closes them
    assert [(n.kind, n.rule_title, n.message) for n in plan.notes] == [
        (NoteKind.CLOSED, "Low alliance", DM), (NoteKind.CLOSED, "Split alliance", DM),
        (NoteKind.CLOSED, "Alliance drop", DM)]
    assert plan.edits[0].content.status == "resolved"
    closed = flags_of(runtime, code)
    assert {(f.status, f.open_slot, f.resolution) for f in closed} == {("resolved", None, "auto")}

    [again] = log_and_reconcile(runtime, code, "8 4 8 8").posts  # firing again opens new flags
    assert "Low alliance" in titles(again) and set(again.flag_ids).isdisjoint(post.flag_ids)
    assert [f.status for f in flags_of(runtime, code)][:3] == ["resolved"] * 3


def test_a_quiet_check_in_resets_when_the_rule_fires_again(runtime: Runtime) -> None:
    code = new_case(runtime)
    log_and_reconcile(runtime, code, "8 8 8 8", flags=TENSION)
    [post] = log_and_reconcile(runtime, code, "8 8 8 8", flags=TENSION).posts  # Recurring tension (DM)
    posted_at(runtime, post.flag_ids, DM)
    log_and_reconcile(runtime, code, "8 8 8 8")
    plan = log_and_reconcile(runtime, code, "8 8 8 8", flags=TENSION)
    tension = [f for f in flags_of(runtime, code) if f.rule == "recurring_tension"]
    assert len(tension) == 1 and tension[0].quiet_checkins == 0 and tension[0].status == "open" and plan.notes == ()
    assert plan.posts == () and [e.message for e in plan.edits] == [DM]  # a repeat edits its warning


def test_a_split_that_holds_moves_to_supervision(runtime: Runtime) -> None:
    code = new_case(runtime)
    for _ in range(2):
        log_and_reconcile(runtime, code, "8 7 8 8")
    # Issue 13: a split of 4 appearing once is a notice (the weekly summary); one that holds in
    # 2 of the last 3 check-ins goes to supervision.
    assert log_and_reconcile(runtime, code, "10 6 8 8").posts == ()
    [split] = [f for f in flags_of(runtime, code) if f.rule == "split_alliance"]
    assert split.route == "summary" and split.message_ts is None
    plan = log_and_reconcile(runtime, code, "10 6 8 8")
    [moved] = plan.posts
    assert moved.route is Route.SUPERVISION and titles(moved) == ["Split alliance"]
    assert plan.notes == () and plan.edits == ()  # nothing was posted before: no thread to note it in
    split = next(f for f in flags_of(runtime, code) if f.rule == "split_alliance")
    assert split.route == "supervision" and split.message_ts is None  # until the new root is recorded


def test_a_warning_slack_failed_to_take_is_retried_without_another_check_in(runtime: Runtime, standin: SlackStandIn,
                                                                              caplog: pytest.LogCaptureFixture) -> None:
    # Changed with issue 11: it used to wait for the case's next check-in; the outbox retries it.
    code = new_case(runtime)
    follow_up(runtime, log(runtime, code, "8 8 8 8", flags=TENSION))
    standin.http_errors["chat.postMessage"] = 2  # HTTP 500 twice, then Slack recovers
    follow_up(runtime, log(runtime, code, "8 8 8 8", flags=TENSION))  # Recurring tension
    assert "not sent (internal_error)" in caplog.text
    assert standin.http_errors["chat.postMessage"] == 0  # both failures were met
    assert len(standin.calls_to("chat.postMessage")) == 1 and standin.calls_to("chat.update") == []
    [(channel, ts)] = {(f.channel_id, f.message_ts) for f in flags_of(runtime, code)}
    assert channel == "D0THERA01" and ts


def test_supervision_warnings_fall_back_to_the_dm_without_a_channel(runtime: Runtime, standin: SlackStandIn,
                                                                    caplog: pytest.LogCaptureFixture) -> None:
    code = new_case(runtime)
    steady(runtime, code, 2)
    log_and_reconcile(runtime, code, "8 8 8 8", flags=TENSION)
    plan = log_and_reconcile(runtime, code, "8 8 2 8", flags=TENSION)
    assert [(p.route, titles(p)) for p in plan.posts] == [
        (Route.DM, ["Recurring tension"]), (Route.SUPERVISION, ["Alliance drop", "Weak couple alliance"])]
    with runtime.services.session_factory.begin() as session:
        queue_flag_plan(session, plan, None)
    drain_outbox(runtime)
    assert [c.args["channel"] for c in standin.calls_to("chat.postMessage")] == [THERAPIST.user_id] * 2
    assert "no supervision channel is configured" in caplog.text
    with runtime.services.session_factory.begin() as session:
        queue_flag_plan(session, plan, SUPERVISION_CHANNEL)
    drain_outbox(runtime)
    # Two channels are sent side by side, so either may go first.
    assert sorted(c.args["channel"] for c in standin.calls_to("chat.postMessage")[2:]) == sorted(
        [THERAPIST.user_id, SUPERVISION_CHANNEL])


def test_only_the_newest_check_in_is_evaluated(runtime: Runtime) -> None:
    code = new_case(runtime)
    first = log(runtime, code, "8 3 8 8")
    second = log(runtime, code, "8 3 8 8")
    assert reconcile(runtime, first) is None and flags_of(runtime, code) == []
    assert reconcile(runtime, second) is not None and len(flags_of(runtime, code)) == 2


@pytest.fixture
def statements(runtime: Runtime) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(conn: Any, cursor: Any, statement: str, parameters: Any, context: Any, executemany: bool) -> None:
        seen.append((statement, parameters))

    event.listen(runtime.engine, "before_cursor_execute", record)
    real = calibration.recent_means

    def means(session: Any, dialect: str, therapist_id: str, limit: int) -> list[float]:  # on the driver's cursor
        seen.append((stored_ratings._RECENT_MEANS[dialect], (therapist_id, limit)))
        return real(session, dialect, therapist_id, limit)

    calibration.recent_means = means  # type: ignore[assignment]
    try:
        yield seen
    finally:
        calibration.recent_means = real  # type: ignore[assignment]
        event.remove(runtime.engine, "before_cursor_execute", record)


def flag_reads(statements: list[tuple[str, Any]]) -> int:
    """SELECTs of flags' rows (the open flags an evaluation updates), not the EXISTS that
    comes with its check-ins."""
    return sum(" ".join(statement.lower().split()).startswith("select flags.") for statement, _ in statements)


def test_an_evaluation_reads_flags_only_when_one_is_open(runtime: Runtime, statements: list[tuple[str, Any]]) -> None:
    code = new_case(runtime)
    statements.clear()
    assert log_and_reconcile(runtime, code, "8 7 8 8").fired == ()
    assert flag_reads(statements) == 0  # none open: whether any is, came with the check-ins
    log_and_reconcile(runtime, code, "8 7 8 8")
    assert log_and_reconcile(runtime, code, "10 6 8 8").fired == ("split_alliance",)
    [split] = [f for f in flags_of(runtime, code) if f.rule == "split_alliance"]
    statements.clear()
    plan = log_and_reconcile(runtime, code, "10 6 8 8")  # the open flag is read, and moves on
    assert flag_reads(statements) >= 1
    [moved] = plan.posts
    assert moved.flag_ids == (split.id,) and moved.route is Route.SUPERVISION
    statements.clear()
    log_and_reconcile(runtime, code, "8 8 8 8")  # quiet: the flag counts it
    assert flag_reads(statements) >= 1
    [quiet] = [f for f in flags_of(runtime, code) if f.rule == "split_alliance"]
    assert quiet.id == split.id and quiet.quiet_checkins == 1 and quiet.status == "open"


def test_evaluation_reads_only_that_case(runtime: Runtime, statements: list[tuple[str, Any]]) -> None:
    code = new_case(runtime)
    for ratings in ("8 8 8 8", "8 3 8 8"):
        recorded = log(runtime, code, ratings)
    statements.clear()
    reconcile(runtime, recorded)
    few = list(statements)

    for _ in range(12):  # a busier database: other cases with check-ins and open flags
        other = new_case(runtime, OTHER)
        for ratings in ("8 8 8 8", "8 3 8 8"):
            follow_up(runtime, log(runtime, other, ratings, actor=OTHER))
    code = new_case(runtime)
    for ratings in ("8 8 8 8", "8 3 8 8"):
        recorded = log(runtime, code, ratings)
    statements.clear()
    reconcile(runtime, recorded)
    many = list(statements)

    assert len(many) == len(few)
    for statement, parameters in many:
        text = " ".join(statement.lower().split())
        if "json_each" in text:  # the rater calibration's mean ratings: bounded reads (issue 13)
            assert "limit" in text, statement
            continue
        if "from checkins" in text or "from flags" in text:
            assert "case_id" in text and recorded.case_id in tuple(_values(parameters)), statement
    with runtime.services.session_factory.begin() as session:
        assert session.scalar(select(func.count()).select_from(Checkin)) > 20


def _values(parameters: Any) -> Iterator[Any]:
    if isinstance(parameters, dict):
        yield from parameters.values()
    elif isinstance(parameters, (list, tuple)):
        for item in parameters:
            yield from _values(item) if isinstance(item, (list, tuple, dict)) else iter([item])


def test_thresholds_in_force_come_from_the_workspace_settings(runtime: Runtime) -> None:
    code = new_case(runtime)
    steady(runtime, code)
    with runtime.services.session_factory.begin() as session:
        config_uc.set_threshold(session, Actor(ADMIN, is_admin=True), "low_alliance", "9", runtime.services.now())
    [post] = log_and_reconcile(runtime, code, "8 8 8 8").posts
    assert titles(post) == ["Low alliance"]


def test_questions_rotate_per_therapist_least_recently_shown_first(runtime: Runtime) -> None:
    now = runtime.services.now()
    with runtime.services.session_factory.begin() as session:
        first = flags_uc.choose_and_record_questions(session, THERAPIST.user_id, [STALLED], now, question_counts())
        assert flags_uc.recently_shown_questions(session, THERAPIST.user_id, [STALLED], question_counts()) == first
        second = flags_uc.choose_and_record_questions(session, THERAPIST.user_id, [STALLED], now, question_counts())
        fresh = flags_uc.choose_and_record_questions(session, OTHER.user_id, [STALLED], now, question_counts())
        both = flags_uc.choose_and_record_questions(session, THERAPIST.user_id, [SPLIT, STALLED], now, question_counts())
    assert len(first) == 2 and set(first).isdisjoint(second) and fresh == first
    assert [q.theme for q in both] == [SPLIT, STALLED, SPLIT]
    assert set(both).isdisjoint(first + second)


def test_a_warning_with_resistance_ticked_adds_its_questions(runtime: Runtime) -> None:
    code = new_case(runtime)
    [post] = log_and_reconcile(runtime, code, "8 3 8 8", flags=frozenset({TherapistFlag.RESISTANCE})).posts
    assert {q.theme for q in post.content.questions} == {"split", "resistance"}


def test_a_failing_evaluation_stores_nothing(runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    # Changed with issue 11: the stall rules run in the check-in's transaction, so a
    # stored check-in always has its warnings queued; one that cannot be evaluated is
    # not stored (the person is told "nothing was saved") rather than stored unwatched.
    code = new_case(runtime)

    def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("evaluation broke")

    monkeypatch.setattr(flags_uc, "reconcile_flags", broken)
    services = runtime.services
    with pytest.raises(RuntimeError, match="evaluation broke"):
        with services.session_factory.begin() as session:
            entry = CheckinInput(ratings=dict(zip(COUPLE, (8, 3, 8, 8))))
            recorded = checkin_uc.record_checkin(session, THERAPIST, code, entry, services.now(), services.cipher)
            evaluate_checkin(session, services.settings, recorded.case_id, recorded.checkin_id, services.now())
    with services.session_factory.begin() as session:
        assert session.scalar(select(func.count()).select_from(Checkin)) == 0


def test_load_warning_rebuilds_a_posted_warning(runtime: Runtime) -> None:
    code = new_case(runtime)
    [post] = log_and_reconcile(runtime, code, "8 3 8 8").posts
    posted_at(runtime, post.flag_ids, DM)
    with runtime.services.session_factory.begin() as session:
        loaded = flags_uc.load_warning(session, post.flag_ids[1], question_counts())
    assert loaded is not None
    message, content = loaded
    assert message == DM and content.rules == post.content.rules and content.questions == post.content.questions


def test_refresh_warning_edits_the_root_to_show_a_new_status(runtime: Runtime, standin: SlackStandIn) -> None:
    code = new_case(runtime)
    steady(runtime, code)
    follow_up(runtime, log(runtime, code, "4 4 8 8"))
    flag = flags_of(runtime, code)[0]
    with runtime.services.session_factory.begin() as session:
        stored = session.get(Flag, flag.id)
        assert stored is not None
        stored.status = "discussing"
        assert queue_root_refresh(session, flag.id) is not None
    drain_outbox(runtime)
    [edit] = standin.calls_to("chat.update")
    assert (edit.args["channel"], edit.args["ts"]) == (flag.channel_id, flag.message_ts)
    assert "Status: *discussing*" in str(edit.args["blocks"])


def test_only_admins_change_thresholds(runtime: Runtime) -> None:
    with runtime.services.session_factory.begin() as session, pytest.raises(Forbidden):
        config_uc.set_threshold(session, THERAPIST, "low_alliance", "5", runtime.services.now())


def test_a_backfilled_session_is_evaluated_in_its_place_and_is_nobodys_quiet_check_in(runtime: Runtime) -> None:
    """Issue 13: session 5 logged first, then session 4 (earlier): history reads in session
    order, and the backfill does not count toward closing session 5's flags."""
    code = new_case(runtime)
    steady(runtime, code)
    plan = log_and_reconcile(runtime, code, "7 4 7 7", session_number=5)
    assert [titles(p) for p in plan.posts] == [["Low alliance", "Split alliance", "Alliance drop"]]
    backfill = log(runtime, code, "8 8 8 8", session_number=4)
    plan = reconcile(runtime, backfill)
    assert plan is not None and plan.session_number == 4 and plan.notes == ()
    assert {(f.rule, f.quiet_checkins, f.status) for f in flags_of(runtime, code)} == {
        ("low_alliance", 0, "open"), ("split_alliance", 0, "open"), ("alliance_drop", 0, "open")}
    with runtime.services.session_factory.begin() as session:
        case = case_uc.load_case(session, code)
        assert case is not None
        rows = checkin_uc.recent_checkins(session, case.id)
        assert [r.session_number for r in rows] == [1, 2, 3, 4, 5]
        assert [r.ratings["B"] for r in rows] == [8, 8, 8, 8, 4]


def test_the_database_computes_a_check_ins_mean_rating_as_python_does(runtime: Runtime) -> None:
    """Calibration reads the mean of each check-in's ratings from the database
    (bot/store/ratings.py): the same float as sum / count in Python, absent members
    (null) left out, no value at all when every member was absent."""
    import statistics

    from bot.store.ratings import mean_rating, median_and_count

    code = new_case(runtime)
    samples = [{"A": 7, "B": 8, "unit": 8, "collective": 6}, {"A": 10, "B": 3, "unit": None, "collective": 0},
               {"A": None, "B": None, "unit": None, "collective": None}, {"A": 9, "B": 9, "unit": 9, "collective": 7},
               {"A": 1, "B": None, "unit": 2, "collective": None}, {}]
    with runtime.services.session_factory.begin() as session:
        case = case_uc.load_case(session, code)
        assert case is not None
        for number, ratings in enumerate(samples, start=1):
            session.add(Checkin(case_id=case.id, therapist_id=THERAPIST.user_id, session_number=number,
                                ratings=ratings, client_scores={}, rupture_members=[], therapist_flags=[],
                                created_at=runtime.services.now()))
        session.flush()
        mean = mean_rating(session.get_bind().dialect.name)
        got = list(session.scalars(select(mean).select_from(Checkin).where(Checkin.case_id == case.id)
                                   .order_by(Checkin.session_number)))
        stored = list(session.scalars(select(Checkin.mean_rating).where(Checkin.case_id == case.id)
                                      .order_by(Checkin.session_number)))
        # a row written around the model (no stored mean) is read from its JSON
        aside = session.begin_nested()
        session.execute(insert(Checkin), [{"case_id": case.id, "therapist_id": THERAPIST.user_id, "session_number": 10,
                                           "ratings": {"A": 5, "B": None, "unit": 6, "collective": 9},
                                           "client_scores": {}, "rupture_members": [], "therapist_flags": [],
                                           "created_at": runtime.services.now()}])
        assert session.scalars(select(mean).select_from(Checkin).where(Checkin.session_number == 10,
                                                                        Checkin.case_id == case.id)).one() == 20 / 3
        edited = session.scalars(select(Checkin).where(Checkin.case_id == case.id, Checkin.session_number == 1)).one()
        edited.ratings = {"A": 3, "B": 4, "unit": 4, "collective": 4}  # an edit keeps it up to date
        session.flush()
        assert session.scalars(select(mean).select_from(Checkin).where(Checkin.id == edited.id)).one() == 3.75
        aside.rollback()
    expected = []
    for ratings in samples:
        values = [float(v) for v in ratings.values() if v is not None]
        expected.append(sum(values) / len(values) if values else None)
    assert got == expected and stored == expected and got[1] == 13 / 3  # 4.333…: the same float
    with runtime.services.session_factory.begin() as session:  # and their median, as statistics.median
        for rows in (6, 4, 3, 1):  # 4 values (even), 3 (odd), 2, 1
            window = (select(mean.label("mean")).select_from(Checkin).where(Checkin.case_id == case.id)
                      .order_by(Checkin.session_number).limit(rows))
            values = [v for v in expected[:rows] if v is not None]
            assert median_and_count(session, window) == (statistics.median(values), len(values)), rows
        empty = select(mean.label("mean")).select_from(Checkin).where(Checkin.case_id == -1).limit(5)
        assert median_and_count(session, empty) == (None, 0)


def _reads_calibration(statements: list[tuple[str, Any]]) -> bool:
    """The therapist's recent means or the team's median (bot/store/ratings.py) were read."""
    return any("checkins.therapist_id =" in statement or "row_number" in statement.lower() for statement, _ in statements)


def test_the_offset_is_worked_out_only_where_it_could_change_a_warning(
        runtime: Runtime, statements: list[tuple[str, Any]]) -> None:
    mine, clear, near, theirs = new_case(runtime), new_case(runtime), new_case(runtime), new_case(runtime, OTHER)
    for _ in range(35):
        log(runtime, mine, "6 6 6 6")  # a conservative rater: offset -1, cut-off "below 5"
    for _ in range(60):
        log(runtime, theirs, "8 8 8 8", actor=OTHER)
    steady(runtime, clear)
    statements.clear()
    assert log_and_reconcile(runtime, clear, "8 8 8 8").posts == ()
    assert not _reads_calibration(statements)  # 8s are clear of every cut-off at any offset

    for _ in range(3):
        log_and_reconcile(runtime, near, "6 6 6 6")
    statements.clear()
    log_and_reconcile(runtime, near, "5 6 6 6")  # A at 5: low below 6, not below 5
    assert _reads_calibration(statements)
    assert "low_alliance" not in [f.rule for f in flags_of(runtime, near) if f.open_slot is not None]

    with runtime.services.session_factory.begin() as session:
        config_uc.set_threshold(session, Actor(ADMIN, is_admin=True), "calibration", "0", runtime.services.now())
    statements.clear()
    log_and_reconcile(runtime, near, "5 6 6 6")
    assert not _reads_calibration(statements)
    assert "low_alliance" in [f.rule for f in flags_of(runtime, near) if f.open_slot is not None]


def test_the_teams_median_is_read_again_after_a_minute_the_therapists_own_every_time(
        runtime: Runtime, monkeypatch: pytest.MonkeyPatch) -> None:
    from bot.usecases import calibration

    clock = [1000.0]
    monkeypatch.setattr(calibration.time, "monotonic", lambda: clock[0])
    mine, theirs = new_case(runtime), new_case(runtime, OTHER)
    for _ in range(35):
        log(runtime, mine, "6 6 6 6")
    for _ in range(35):
        log(runtime, theirs, "6 6 6 6", actor=OTHER)

    def offset() -> float:
        with runtime.services.session_factory.begin() as session:
            return calibration.therapist_offset(session, THERAPIST.user_id, config_uc.thresholds_in_force(session))

    assert offset() == 0.0  # the team rates as they do
    for _ in range(100):
        log(runtime, theirs, "9 9 9 9", actor=OTHER)  # the team's median moves to 9
    assert offset() == 0.0  # within the minute: the team's median as it was
    clock[0] += calibration.TEAM_MEDIAN_SECONDS
    assert offset() == -1.0  # read again
    for _ in range(100):
        log(runtime, mine, "9 9 9 9")
    assert offset() == 0.0  # their own, read every time


def test_calibration_reads_the_check_ins_a_therapist_rated_not_the_cases_they_own(runtime: Runtime) -> None:
    """A co-therapist's ratings (or a predecessor's, before a hand-over) on a case are
    their own habit, not the owner's."""
    from bot.usecases.calibration import therapist_offset

    mine, theirs = new_case(runtime), new_case(runtime, OTHER)
    for _ in range(60):
        log(runtime, theirs, "8 8 8 8", actor=OTHER)
    with runtime.services.session_factory.begin() as session:
        case = case_uc.load_case(session, mine)
        assert case is not None
        session.execute(insert(Checkin), [
            {"case_id": case.id, "therapist_id": OTHER.user_id, "session_number": n, "ratings": {"A": 5, "B": 5, "unit": 5, "collective": 5},
             "mean_rating": 5.0, "client_scores": {}, "rupture_kind": "none", "rupture_members": [], "therapist_flags": [],
             "created_at": runtime.services.now()} for n in range(1, 36)])
    with runtime.services.session_factory.begin() as session:
        limits = config_uc.thresholds_in_force(session)
        # Owned, but rated by someone else: the owner has no check-ins of their own to be calibrated by (read
        # through the cases they own, 35 fives against the team's eights gave them -1).
        assert therapist_offset(session, THERAPIST.user_id, limits) == 0.0


def test_a_warning_shown_again_names_the_member_its_calibrated_rules_name(runtime: Runtime) -> None:
    """Re-rendering a warning (after a button) reads the rules with the therapist's offset,
    as when it was raised: a conservative rater's drop to 6 is B's (9 → 6), not A's (8 → 6)."""
    mine, theirs = new_case(runtime), new_case(runtime, OTHER)
    for _ in range(35):
        log(runtime, mine, "6 6 6 6")
    for _ in range(60):
        log(runtime, theirs, "8 8 8 8", actor=OTHER)
    code = new_case(runtime)
    for _ in range(3):
        log_and_reconcile(runtime, code, "8 9 8 8")
    log_and_reconcile(runtime, code, "6 6 8 8")
    log_and_reconcile(runtime, code, "6 6 8 8")
    [flag] = [f for f in flags_of(runtime, code) if f.rule == "alliance_drop" and f.open_slot is not None]
    with runtime.services.session_factory.begin() as session:
        loaded = flags_uc.load_warning(session, flag.id, question_counts())
    assert loaded is not None
    _, content = loaded
    assert content.member == "B"


def test_a_conservative_raters_offset_comes_from_their_check_ins_against_the_teams(runtime: Runtime) -> None:
    from bot.usecases.calibration import calibration_offsets, therapist_offset

    mine, theirs = new_case(runtime), new_case(runtime, OTHER)
    for _ in range(35):
        log(runtime, mine, "6 6 6 6")
    for _ in range(60):
        log(runtime, theirs, "8 8 8 8", actor=OTHER)
    with runtime.services.session_factory.begin() as session:
        limits = config_uc.thresholds_in_force(session)
        assert therapist_offset(session, THERAPIST.user_id, limits) == -1.0  # -2, shrunk, capped
        assert therapist_offset(session, OTHER.user_id, limits) == 0.0
        assert calibration_offsets(session, THERAPIST.user_id, sees_team=False) == {THERAPIST.user_id: -1.0}
        assert calibration_offsets(session, ADMIN, sees_team=True) == {
            ADMIN: 0.0, THERAPIST.user_id: -1.0, OTHER.user_id: 0.0}
        off = limits.with_value("calibration", "0")
        assert therapist_offset(session, THERAPIST.user_id, off) == 0.0
