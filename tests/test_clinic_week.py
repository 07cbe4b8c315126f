"""Issue 14 end to end: undo and edit (item 1), missed sessions (item 2), cadence (item 3)."""

from __future__ import annotations

import time
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import select

from bot.domain.access import Actor
from bot.domain.cases import CaseKind
from zoneinfo import ZoneInfo

from bot.jobs.digest import gather_digest
from bot.runtime.bootstrap import Runtime
from bot.store.models import AuditEntry, Case, Checkin, Flag
from bot.usecases import attendance as attendance_uc
from bot.usecases import cases as case_uc
from tests.support.driver import SlackDriver
from tests.support.schedule_data import log_checkin
from tests.test_checkins_e2e import THERAPIST, create_case
from tests.test_stalls_e2e import followups, log, section_text, warnings, wait_for_followup  # noqa: F401
from tests.support.outbox import run_and_deliver

UTC = timezone.utc


def open_rules(runtime: Runtime, code: str) -> set[str]:
    with runtime.services.session_factory() as session:
        case_id = session.scalar(select(Case.id).where(Case.code == code))
        return set(session.scalars(select(Flag.rule).where(Flag.case_id == case_id, Flag.open_slot.is_not(None))))


def audit_actions(runtime: Runtime, code: str) -> list[tuple[str, str | None]]:
    with runtime.services.session_factory() as session:
        return [(e.action, e.detail) for e in session.scalars(
            select(AuditEntry).where(AuditEntry.case_code == code).order_by(AuditEntry.id))]


def wait_until(check: Any, timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_a_mistyped_checkin_is_undone_and_its_three_warnings_close(
        slack: SlackDriver, runtime: Runtime, followups: pytest.LogCaptureFixture) -> None:  # noqa: F811
    code = create_case(slack)
    log(slack, followups, code, 1, "8 8 8 8")
    log(slack, followups, code, 2, "8 8 8 8")
    log(slack, followups, code, 3, "8 4 8 8")  # meant 8 8 8 8
    assert {"low_alliance", "split_alliance", "alliance_drop"} <= open_rules(runtime, code)
    assert len(warnings(slack)) == 1
    with runtime.services.session_factory() as session:
        root_ts = set(session.scalars(select(Flag.message_ts).join(Case).where(Case.code == code)))
    before = len(slack.standin.calls_to("chat.update"))

    reply = slack.command(THERAPIST, "undo")
    assert f"Undone: session 3 of {code} is no longer logged." in reply.text
    assert "Low alliance" in reply.text and "Split alliance" in reply.text and "Alliance drop" in reply.text
    assert open_rules(runtime, code) == set()
    assert ("undo_checkin", "session 3") in audit_actions(runtime, code)
    # The warning root is edited in place to show its rules resolved (withdrawn).
    wait_until(lambda: len(slack.standin.calls_to("chat.update")) > before)
    edited = slack.standin.calls_to("chat.update")[-1]
    assert {edited.args["ts"]} == root_ts and "withdrawn" in section_text(edited)
    # The next log is session 3 again; nothing older than a day can be undone.
    assert "Logged session 3" in slack.command(THERAPIST, f"log {code} 8 8 8 8 session=3").text
    assert "Undone: session 3" in slack.command(THERAPIST, "undo").text


def test_nothing_to_undo_is_one_clear_line(slack: SlackDriver, runtime: Runtime, clock: Any) -> None:
    code = create_case(slack)
    slack.command(THERAPIST, f"log {code} 8 8 8 8")
    clock.now += timedelta(hours=25)
    reply = slack.command(THERAPIST, "undo")
    assert "no check-in from the past 24 hours to undo" in reply.text
    assert "`undo` takes nothing" in slack.command(THERAPIST, "undo everything").text


def test_edit_corrects_ratings_withdraws_warnings_and_is_audited(
        slack: SlackDriver, runtime: Runtime, followups: pytest.LogCaptureFixture, clock: Any) -> None:  # noqa: F811
    code = create_case(slack)
    log(slack, followups, code, 1, "8 8 8 8")
    log(slack, followups, code, 2, "8 8 8 8")
    log(slack, followups, code, 3, "8 4 8 8")
    assert "split_alliance" in open_rules(runtime, code)
    reply = slack.command(THERAPIST, f"edit {code} session=3 8 8 8 8 flags=stuck")
    assert f"Corrected session 3 of {code}." in reply.text and "Split alliance" in reply.text
    # The corrected check-in is evaluated again in the edit's own transaction (the outbox): its new
    # "stuck" flag has already opened Therapist stuck, the withdrawn rules stay closed.
    assert open_rules(runtime, code) == {"therapist_stuck"}
    with runtime.services.session_factory() as session:
        row = session.scalar(select(Checkin).join(Case).where(Case.code == code, Checkin.session_number == 3))
        assert row is not None and row.ratings == {"A": 8, "B": 8, "unit": 8, "collective": 8}
        assert row.therapist_flags == ["stuck"]
    assert ("edit_checkin", "session 3: ratings, flags") in audit_actions(runtime, code)
    # A correction that makes a rule fire posts its warning, as a log would.
    slack.command(THERAPIST, f"edit {code} session=3 8 3 8 8")
    wait_until(lambda: "split_alliance" in open_rules(runtime, code))
    assert f"{code} has no session 9" in slack.command(THERAPIST, f"edit {code} session=9 8 8 8 8").text
    assert "`session=N`" in slack.command(THERAPIST, f"edit {code} 8 8 8 8").text
    clock.now += timedelta(days=8)
    assert "more than 7 days ago" in slack.command(THERAPIST, f"edit {code} session=3 8 8 8 8").text


def test_someone_elses_case_cannot_be_edited(slack: SlackDriver) -> None:
    code = create_case(slack)
    slack.command(THERAPIST, f"log {code} 8 8 8 8")
    assert "not among your cases" in slack.command("U0OTHER01", f"edit {code} session=1 1 1 1 1").text
    assert "no check-in from the past 24 hours" in slack.command("U0OTHER01", "undo").text


def test_missed_sessions_count_in_history_and_are_skipped_by_the_rules(
        slack: SlackDriver, runtime: Runtime, followups: pytest.LogCaptureFixture) -> None:  # noqa: F811
    code = create_case(slack)
    log(slack, followups, code, 1, "8 8 8 8")
    reply = slack.command(THERAPIST, f"missed {code} no-show")
    assert f"Recorded session 2 of {code} as no-show" in reply.text and "two no-shows" not in reply.text
    reply = slack.command(THERAPIST, f"missed {code} no-show")
    assert "session 3" in reply.text and "two no-shows in a row" in reply.text
    assert "as cancelled" in slack.command(THERAPIST, f"missed {code}").text
    history = slack.command(THERAPIST, f"history {code}").text
    assert "1 check-in" in history and "Missed: session 2 (no-show), session 3 (no-show), session 4 (cancelled)." in history
    # The rules read the rated sessions only: 8 then 8 4 8 8 is a drop from session 1, as if nothing were between.
    log(slack, followups, code, 5, "8 4 8 8")
    assert "split_alliance" in open_rules(runtime, code)
    assert "not a cadence" in slack.command(THERAPIST, f"cadence {code} yearly").text
    assert "neither `cancelled` nor `no-show`" in slack.command(THERAPIST, f"missed {code} sick").text


CREATED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # a Monday
FRIDAY = datetime(2026, 11, 20, 20, 5, tzinfo=UTC)  # Friday 15:05 in New York, the default reminder time


def dms(runtime: Runtime, standin: Any, user: str) -> list[str]:
    return [c.args.get("text", "") for c in standin.calls_to("chat.postMessage") if c.args.get("channel") == user]


def test_a_missed_session_satisfies_the_weeks_reminder_and_two_no_shows_are_a_notice(
        runtime: Runtime, standin: Any) -> None:
    services = runtime.services
    with services.session_factory.begin() as session:
        code = case_uc.create_case(session, Actor(THERAPIST), CaseKind.COUPLE, 2, (), CREATED).code
        other = case_uc.create_case(session, Actor(THERAPIST), CaseKind.COUPLE, 2, (), CREATED).code
    for day in (datetime(2026, 11, 10, 12, tzinfo=UTC), datetime(2026, 11, 18, 12, tzinfo=UTC)):
        with services.session_factory.begin() as session:
            attendance_uc.record_missed(session, Actor(THERAPIST), code, attendance_uc.Attendance.NO_SHOW, day, day.date())
    assert run_and_deliver(runtime, "reminders", FRIDAY).queued == 1
    [text] = dms(runtime, standin, THERAPIST)
    assert other in text  # still unlogged this week
    blocks = standin.calls_to("chat.postMessage")[-1].args["blocks"]
    shown = "\n".join((b.get("text") or {}).get("text", "") for b in blocks)
    assert f"*Notice:* {code} has had two no-shows in a row" in shown
    assert f"*{code}* ·" not in shown  # the missed session satisfied this week's reminder
    with services.session_factory() as session:  # the digest counts them apart from check-ins
        data = gather_digest(session, runtime.settings, FRIDAY, FRIDAY, ZoneInfo("UTC"), "W47")
    assert (data.checkins, data.missed) == (0, 2)  # the window opens Mon 9 Nov 09:00, before both


def test_a_fortnightly_case_is_not_reminded_in_its_off_week(slack: SlackDriver, runtime: Runtime, standin: Any) -> None:
    services = runtime.services
    with services.session_factory.begin() as session:
        weekly = case_uc.create_case(session, Actor(THERAPIST), CaseKind.COUPLE, 2, (), CREATED).code
        fortnightly = case_uc.create_case(session, Actor(THERAPIST), CaseKind.COUPLE, 2, (), CREATED,
                                          cadence_weeks=2).code
    logged = datetime(2026, 11, 11, 12, tzinfo=UTC)  # Wednesday of the week before FRIDAY
    log_checkin(services, THERAPIST, weekly, logged)
    log_checkin(services, THERAPIST, fortnightly, logged)
    assert run_and_deliver(runtime, "reminders", FRIDAY).queued == 1
    [text] = dms(runtime, standin, THERAPIST)
    assert weekly in text and fortnightly not in text  # its off week
    run_and_deliver(runtime, "reminders", FRIDAY + timedelta(days=7))
    assert fortnightly in dms(runtime, standin, THERAPIST)[-1]  # its on week


def test_cadence_is_set_at_new_or_later(slack: SlackDriver, runtime: Runtime) -> None:
    reply = slack.command(THERAPIST, "new couple cadence=2w")
    code = reply.text.split("*")[1]
    with runtime.services.session_factory() as session:
        assert session.scalar(select(Case.cadence_weeks).where(Case.code == code)) == 2
    assert "sessions monthly" in slack.command(THERAPIST, f"cadence {code} monthly").text
    assert "every 2 weeks" in slack.command(THERAPIST, f"cadence {code} every 2 weeks").text
    with runtime.services.session_factory() as session:
        case = session.scalar(select(Case).where(Case.code == code))
        assert case is not None and case.cadence_weeks == 2 and case.cadence_anchor is not None
    assert ("set_cadence", "every 2 weeks") in audit_actions(runtime, code)
    assert "not among your cases" in slack.command("U0OTHER01", f"cadence {code} weekly").text


def test_undo_takes_back_a_quiet_checkin_and_reopens_what_it_closed(
        slack: SlackDriver, runtime: Runtime, followups: pytest.LogCaptureFixture) -> None:  # noqa: F811
    code = create_case(slack)
    for number, ratings in ((1, "8 8 8 8"), (2, "8 8 8 8"), (3, "8 4 8 8"), (4, "8 8 8 8")):
        log(slack, followups, code, number, ratings)
    assert "split_alliance" in open_rules(runtime, code)  # one quiet check-in so far
    log(slack, followups, code, 5, "8 8 8 8")  # the second: it closes itself
    assert "split_alliance" not in open_rules(runtime, code)
    slack.command(THERAPIST, "undo")
    assert "split_alliance" in open_rules(runtime, code)
    with runtime.services.session_factory() as session:
        flag = session.scalar(select(Flag).join(Case).where(Case.code == code, Flag.rule == "split_alliance"))
        assert flag is not None and (flag.status, flag.quiet_checkins, flag.resolution) == ("open", 1, None)
    slack.command(THERAPIST, "undo")  # session 4 too: as if only 1-3 were logged
    with runtime.services.session_factory() as session:
        flag = session.scalar(select(Flag).join(Case).where(Case.code == code, Flag.rule == "split_alliance"))
        assert flag is not None and (flag.status, flag.quiet_checkins) == ("open", 0)


def test_a_missed_session_can_be_undone(slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    slack.command(THERAPIST, f"missed {code} no-show")
    assert f"Undone: session 1 of {code}" in slack.command(THERAPIST, "undo").text
    assert "Missed" not in slack.command(THERAPIST, f"history {code}").text


def test_undoing_the_only_checkin_marks_its_warning_withdrawn(
        slack: SlackDriver, runtime: Runtime, followups: pytest.LogCaptureFixture) -> None:  # noqa: F811
    code = create_case(slack)
    log(slack, followups, code, 1, "8 2 8 8")
    assert open_rules(runtime, code) and len(warnings(slack)) == 1
    before = len(slack.standin.calls_to("chat.update"))
    slack.command(THERAPIST, "undo")
    assert open_rules(runtime, code) == set()
    wait_until(lambda: len(slack.standin.calls_to("chat.update")) > before)
    edited = slack.standin.calls_to("chat.update")[-1]
    assert edited.args["text"] == f"Withdrawn: the check-in behind this {code} warning was undone."
