"""The weekly digest (issue 4): posted once to the supervision channel on Monday
after 09:00 with the counts, open flags oldest first with links to their
threads, silent cases and a chart; caught up within its grace window."""

from __future__ import annotations

import re
from datetime import date, datetime, timedelta, timezone
from typing import Any

from sqlalchemy import select

from bot.runtime.bootstrap import Runtime
from bot.domain.cases import CaseKind
from bot.store.models import AwayPeriod, Case, Flag, WorkspaceSetting
from bot.jobs.sweeps import run_scan
from bot.slack.pacing import ChannelPacer
from tests.support.schedule_data import SUPERVISION_CHANNEL, add_flag, add_therapist, log_checkin, make_case
from tests.support.outbox import run_and_deliver
from tests.support.slack_standin import SlackStandIn

UTC = timezone.utc
MONDAY = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)  # Monday 09:05 in New York
PNG_MAGIC = b"\x89PNG"


def digest(runtime: Runtime, now: datetime) -> Any:
    """The digest sweep at `now` (it queues the digest and its chart), then the outbox
    delivered, paced as Slack asks: one message a second per channel."""
    runtime.services.pacer = ChannelPacer()
    return run_and_deliver(runtime, "digest", now)


def posts(standin: SlackStandIn, channel: str = SUPERVISION_CHANNEL) -> list[Any]:
    return [c for c in standin.calls_to("chat.postMessage") if c.args.get("channel") == channel]


def full_text(call: Any) -> str:
    return "\n".join((b.get("text") or {}).get("text", "") for b in call.args["blocks"])


def at(day: int, hour: int = 15, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, 0, tzinfo=UTC)


def test_monday_digest_posts_once_with_flags_silence_and_a_chart(runtime: Runtime, standin: SlackStandIn) -> None:
    services = runtime.services
    old = make_case(services, "U0THERA01", at(1, month=10))
    new = make_case(services, "U0THERA02", at(1, month=10))
    calm = make_case(services, "U0THERA02", at(1, month=10))
    for day, rating in ((3, 8), (10, 6), (17, 4), (18, 5)):
        log_checkin(services, "U0THERA01", old, at(day), rating)
        log_checkin(services, "U0THERA02", new, at(day), rating + 2)
    silent = make_case(services, "U0THERA03", at(1, month=10))
    was_away = make_case(services, "U0THERA04", at(20, month=10))
    add_therapist(services, "U0THERA04", at(1, month=10))
    with services.session_factory.begin() as session:
        session.add(AwayPeriod(therapist_id="U0THERA04", starts_on=date(2026, 10, 25), ends_on=date(2026, 11, 10)))
    add_flag(services, new, "low_alliance", at(18), status="discussing")
    add_flag(services, old, "split_alliance", at(10), message_ts="1700000100.000200")
    add_flag(services, old, "stalled", at(12), message_ts="1700000100.000200")  # the same thread: one line
    add_flag(services, new, "recurring_tension", at(18), channel_id="D0THERA02", message_ts="1700000200.000300")  # a DM
    add_flag(services, calm, "stalled", at(12), status="resolved", resolved_at=at(19))

    assert digest(runtime, MONDAY - timedelta(minutes=10)).notes == ("not due",)  # 08:55
    result = digest(runtime, MONDAY)
    assert (result.queued, result.already) == (2, 0), result.summary()  # the message and the chart
    [post] = posts(standin)
    text = full_text(post)
    assert post.args["blocks"][0]["type"] == "header"
    assert "Active cases: *5*" in text and "Check-ins logged: *4*" in text  # 17th and 18th, both cases
    assert "*2* new · *4* open · *1* resolved" in text
    # Issue 13 item 9: one line per case with its rules, nobody mentioned, no link into a DM.
    assert text.count(f"*{old}*") == 1 and text.count(f"*{new}*") == 1
    assert text.index(f"*{old}* · Split alliance, Stalled · open") < text.index(
        f"*{new}* · Low alliance, Recurring tension · open")
    assert "<@" not in text and "D0THERA02" not in text and "p1700000200000300" not in text
    assert "<https://clinic.example/archives/C0SUPERV1/p1700000100000200|thread>" in text
    assert "open 12 days" in text and "in discussion" in text
    assert f"*{silent}* · no check-in since it was created 52 days ago" in text
    assert was_away not in text  # 34 days, but 17 of them away: not silent 28 days
    permalinks = standin.calls_to("chat.getPermalink")
    assert {c.args["message_ts"] for c in permalinks} == {"1700000100.000200", f"{int(at(18).timestamp())}.000200"}
    assert all(c.args["channel"] == SUPERVISION_CHANNEL for c in permalinks)

    [complete] = standin.calls_to("files.completeUploadExternal")
    assert complete.args["channel_id"] == SUPERVISION_CHANNEL
    [root] = [m for m in standin.workspace.visible(SUPERVISION_CHANNEL, "U0SUPER01") if "weekly digest" in str(m)]
    assert complete.args.get("thread_ts") == root["ts"]  # the chart sits in the digest's thread, not beside it
    [upload] = standin.uploads
    assert upload["_bytes"] > 5000 and upload["data"].startswith(PNG_MAGIC)
    assert complete.at - post.at >= 0.9  # one message a second to the channel

    again = digest(runtime, MONDAY + timedelta(minutes=5))
    assert (again.queued, again.already) == (0, 1)
    assert len(posts(standin)) == 1 and len(standin.calls_to("files.completeUploadExternal")) == 1


def test_a_digest_missed_while_down_is_caught_up_within_a_day(runtime: Runtime, standin: SlackStandIn) -> None:
    make_case(runtime.services, "U0THERA01", at(1))
    assert digest(runtime, datetime(2026, 11, 30, 13, 0, tzinfo=UTC)).notes == ("not due",)  # Monday 08:00
    assert digest(runtime, datetime(2026, 12, 1, 13, 0, tzinfo=UTC)).queued == 1  # Tuesday 08:00: caught up
    assert digest(runtime, datetime(2026, 12, 1, 13, 30, tzinfo=UTC)).queued == 0
    assert digest(runtime, datetime(2026, 12, 8, 15, 0, tzinfo=UTC)).notes == ("not due",)  # Tuesday 10:00: too late
    [post] = posts(standin)
    assert "No flagged cases." in full_text(post)
    assert standin.calls_to("files.completeUploadExternal") == []  # nothing flagged, nothing to chart


def test_the_configured_channel_wins_and_long_lists_are_summarised(runtime: Runtime, standin: SlackStandIn) -> None:
    services = runtime.services
    with services.session_factory.begin() as session:
        session.add(WorkspaceSetting(key="supervision_channel", value="C0OTHER01", updated_by="U0ADMIN01",
                                     updated_at=at(1)))
    for n in range(40):
        code = make_case(services, f"U0THERA{n % 7:02d}", at(1, month=10), CaseKind.INDIVIDUAL)
        add_flag(services, code, "low_alliance", at(1) + timedelta(hours=n), channel_id="C0OTHER01")
    result = digest(runtime, MONDAY)
    assert (result.queued, result.notes[-1]) == (1, "chart no")  # no check-ins: nothing to chart
    assert posts(standin) == []
    [post] = posts(standin, "C0OTHER01")
    assert len(post.args["blocks"]) <= 50
    text = full_text(post)
    assert "…and 15 more flagged cases." in text and text.count("Low alliance") == 25
    assert "…and 15 more silent cases." in text


def silence_flags(runtime: Runtime) -> dict[str, tuple[str, str, list[str]]]:
    """Case code → (status, route, evidence) of its latest No recent check-in flag."""
    with runtime.services.session_factory.begin() as session:
        rows = session.execute(select(Case.code, Flag).join(Flag, Flag.case_id == Case.id)
                               .where(Flag.rule == "no_recent_checkin").order_by(Flag.id)).all()
        return {code: (flag.status, flag.route, list(flag.evidence)) for code, flag in rows}


def test_the_daily_scan_keeps_one_no_recent_checkin_flag_per_silent_case(runtime: Runtime,
                                                                         standin: SlackStandIn) -> None:
    services = runtime.services
    fresh = make_case(services, "U0THERA01", at(1))
    log_checkin(services, "U0THERA01", fresh, at(20))
    behind = make_case(services, "U0THERA01", at(5))  # 17 days silent on MONDAY
    long_silent = make_case(services, "U0THERA02", at(1, month=10))  # 52 days
    with services.session_factory.begin() as session:
        session.add(WorkspaceSetting(key="threshold.silent_days", value="10", updated_by="U0ADMIN01",
                                     updated_at=at(1)))

    result = run_scan(services, MONDAY)
    assert result.notes == ("silent 10+ days 2", "silent 28+ days 1", "flags opened 2, resolved 0")
    assert silence_flags(runtime) == {
        behind: ("open", "dm", ["no check-in since the case was created 17 days ago"]),
        long_silent: ("open", "supervision", ["no check-in since the case was created 52 days ago"]),
    }
    again = run_scan(services, MONDAY + timedelta(days=1))
    assert again.notes[-1] == "flags opened 0, resolved 0"  # one open flag per case, updated
    assert silence_flags(runtime)[behind][2] == ["no check-in since the case was created 18 days ago"]

    log_checkin(services, "U0THERA01", behind, MONDAY + timedelta(days=1, hours=2))
    assert run_scan(services, MONDAY + timedelta(days=2)).notes[-1] == "flags opened 0, resolved 1"
    assert silence_flags(runtime)[behind][0] == "resolved"
    assert standin.calls_to("chat.postMessage") == []  # the scan itself sends nothing

    # The digest lists silence in its own section, not among the (thread) flags.
    digest(runtime, MONDAY + timedelta(days=7))
    [post] = posts(standin)
    text = full_text(post)
    assert "*0* new · *0* open · *0* resolved" in text and "No flagged cases." in text
    assert f"*{long_silent}* · " in text and behind not in text


def test_notices_stay_out_of_the_supervision_digest(runtime: Runtime, standin: SlackStandIn) -> None:
    """Issue 13: a notice (route `summary`) waits for the therapist's weekly summary."""
    services = runtime.services
    noticed = make_case(services, "U0THERA01", at(1, month=10))
    warned = make_case(services, "U0THERA02", at(1, month=10))
    log_checkin(services, "U0THERA01", noticed, at(18), 8)
    log_checkin(services, "U0THERA02", warned, at(18), 8)
    notice = add_flag(services, noticed, "weak_couple_alliance", at(18), channel_id=None)
    add_flag(services, warned, "split_alliance", at(18))
    with services.session_factory.begin() as session:
        flag = session.get(Flag, notice)
        assert flag is not None
        flag.route, flag.severity, flag.message_ts = "summary", 1, None
    digest(runtime, MONDAY)
    text = "\n".join(full_text(c) for c in posts(standin) if c.args.get("blocks"))
    assert warned in text and noticed not in text


def test_no_recent_check_in_is_counted_the_same_in_the_digest_and_app_home(runtime: Runtime,
                                                                             standin: SlackStandIn) -> None:
    """Issue 13 item 9: away days are excluded everywhere, and both list at silent_digest_days (28)."""
    from bot.usecases.home import team_overview

    services = runtime.services
    silent = make_case(services, "U0THERA03", at(1, month=10))
    was_away = make_case(services, "U0THERA04", at(20, month=10))
    add_therapist(services, "U0THERA04", at(1, month=10))
    with services.session_factory.begin() as session:
        session.add(AwayPeriod(therapist_id="U0THERA04", starts_on=date(2026, 10, 25), ends_on=date(2026, 11, 10)))
    digest(runtime, MONDAY)
    [post] = posts(standin)
    text = full_text(post)
    with services.session_factory() as session:
        overview = team_overview(session, MONDAY, services.settings)
    home = [code for code, _, _ in overview.silent]
    assert silent in text and silent in home
    assert was_away not in text and was_away not in home
    assert overview.silent_total == 1


def test_the_digest_names_cases_that_improved_reliably(runtime: Runtime, standin: SlackStandIn) -> None:
    """Issue 13 item 12: every thread up by 2 or more from its first three check-ins."""
    services = runtime.services
    better = make_case(services, "U0THERA01", at(1, month=10))
    one_good_day = make_case(services, "U0THERA02", at(1, month=10))
    for day, (a, b) in enumerate(((5, 5), (6, 6), (5, 5), (8, 7), (7, 8), (8, 8))):
        log_checkin(services, "U0THERA01", better, at(15 + day), a if day % 2 else b)
        log_checkin(services, "U0THERA02", one_good_day, at(15 + day), 9 if day == 5 else 6)
    digest(runtime, MONDAY)
    [post] = posts(standin)
    text = full_text(post)
    assert f"*Going well:* {better} improved reliably" in text and one_good_day not in text


def test_a_flagged_case_shows_its_latest_session_as_therapist_and_clients_rated_it(runtime: Runtime,
                                                                                   standin: SlackStandIn) -> None:
    """Issue 16: the digest puts the clients' own view beside the therapist's, by position letter."""
    from bot.domain.access import Actor
    from bot.domain.checkin_input import CheckinInput
    from bot.usecases import cases as case_uc
    from bot.usecases import checkins as checkin_uc

    services = runtime.services
    with services.session_factory.begin() as session:
        code = case_uc.create_case(session, Actor(user_id="U0THERA01"), CaseKind.COUPLE, 2, ("P1", "P2"),
                                   at(1, month=11)).code
        checkin_uc.record_checkin(session, Actor(user_id="U0THERA01"), code,
                                  CheckinInput(ratings={"P1": 8, "P2": 4, "unit": 7, "collective": 6},
                                               client_scores={"P1": 34, "P2": 29}),
                                  at(18), services.cipher, today=at(18).date())
    plain = make_case(services, "U0THERA02", at(1, month=11))
    log_checkin(services, "U0THERA02", plain, at(18), 5)
    add_flag(services, code, "split_alliance", at(18))
    add_flag(services, plain, "low_alliance", at(18))
    assert digest(runtime, MONDAY).queued == 2
    text = full_text(posts(standin)[0])
    mine = next(line for line in text.splitlines() if f"*{code}*" in line)
    assert mine.startswith(f"• *{code}* · Split alliance · open") and mine.endswith(
        "latest session: therapist 4–8 · clients A 34/40, B 29/40"), mine
    theirs = next(line for line in text.splitlines() if f"*{plain}*" in line)
    assert theirs.endswith("latest session: therapist 5"), theirs
    # custom labels stay with the case's therapists (as words: a case code like CPL-P1W6 may hold the letters)
    assert not re.search(r"\bP[12]\b", text), text
