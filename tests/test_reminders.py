"""Weekly reminders (issue 4): due at each therapist's local time, sent once,
naming each unlogged case; none while away; snooze, pause and log from the DM."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

from bot.domain.access import Actor
from bot.domain.cases import CaseKind
from bot.runtime.bootstrap import Runtime
from bot.store.models import AwayPeriod, Case, OutboxMessage, Therapist
from bot.jobs.due_reminders import PROFILE_TRICKLE
from bot.slack.ids import Action, Block
from bot.usecases import cases as case_uc
from tests.support import slack_requests as sr
from tests.support.driver import SlackDriver
from tests.support.outbox import run_and_deliver
from tests.support.schedule_data import add_therapist, log_checkin, make_case, set_status
from tests.support.slack_standin import Call, SlackStandIn, User

NY_THERAPIST = "U0THERA01"
TOKYO_THERAPIST = "U0THERA02"
UTC = timezone.utc
CREATED = datetime(2026, 11, 2, 15, 0, tzinfo=UTC)  # a Monday, 18 days before FRIDAY_NY
FRIDAY_NY = datetime(2026, 11, 20, 20, 5, tzinfo=UTC)  # Friday 15:05 in New York (EST)
FRIDAY_TOKYO = datetime(2026, 11, 27, 6, 5, tzinfo=UTC)  # the next Friday, 15:05 in Tokyo


def dms_to(standin: SlackStandIn, user: str) -> list[Call]:
    return [c for c in standin.calls_to("chat.postMessage") if c.args.get("channel") == user]


def message_text(call: Call) -> str:
    parts = [call.args.get("text", "")]
    for block in call.args.get("blocks") or []:
        parts.append((block.get("text") or {}).get("text", ""))
        parts += [e.get("text", "") for e in block.get("elements") or [] if isinstance(e.get("text"), str)]
    return "\n".join(parts)


def buttons(call: Call) -> list[dict[str, Any]]:
    return [e for b in call.args.get("blocks") or [] if b.get("type") == "actions" for e in b["elements"]]


def remind(runtime: Runtime, now: datetime) -> Any:
    """The reminder sweep at `now` (it queues what is due), then the outbox delivered."""
    return run_and_deliver(runtime, "reminders", now)


def test_friday_reminder_names_each_unlogged_case_once(runtime: Runtime, standin: SlackStandIn) -> None:
    services = runtime.services
    logged = make_case(services, NY_THERAPIST, CREATED)
    behind = make_case(services, NY_THERAPIST, CREATED)
    never = make_case(services, NY_THERAPIST, CREATED)
    paused = make_case(services, NY_THERAPIST, CREATED)
    log_checkin(services, NY_THERAPIST, logged, datetime(2026, 11, 18, 16, 0, tzinfo=UTC))
    log_checkin(services, NY_THERAPIST, behind, datetime(2026, 11, 10, 16, 0, tzinfo=UTC))
    set_status(services, paused, "paused")

    assert remind(runtime, FRIDAY_NY - timedelta(minutes=10)).queued == 0  # 14:55: not yet
    result = remind(runtime, FRIDAY_NY)
    assert (result.due, result.queued) == (1, 1), result.summary()
    [dm] = dms_to(standin, NY_THERAPIST)
    text = message_text(dm)
    assert behind in dm.args["text"] and never in dm.args["text"]
    assert logged not in text and paused not in text
    assert f"*{never}* · couple · no check-in for 18 days" in text  # silent 14+ days: said so
    assert f"*{behind}* · couple · last check-in 10 days ago" in text
    assert {(b["action_id"], b.get("value")) for b in buttons(dm)} == {
        (Action.LOG_NOW, behind), (Action.PAUSE_CASE, behind), (Action.LOG_NOW, never),
        (Action.PAUSE_CASE, never), (Action.SNOOZE, "snooze")}

    again = remind(runtime, FRIDAY_NY + timedelta(minutes=5))
    assert again.queued == 0 and len(dms_to(standin, NY_THERAPIST)) == 1
    assert remind(runtime, FRIDAY_NY + timedelta(hours=7)).queued == 0  # past the grace window
    with services.session_factory.begin() as session:
        [row] = session.query(OutboxMessage).filter_by(dedupe_key=f"reminder:{NY_THERAPIST}:2026-W47").all()
        assert row.status == "sent" and row.result_channel == "D" + NY_THERAPIST[1:]


def test_each_therapist_is_reminded_at_their_own_local_time(runtime: Runtime, standin: SlackStandIn) -> None:
    services = runtime.services
    standin.users[TOKYO_THERAPIST] = User(tz="Asia/Tokyo")
    make_case(services, NY_THERAPIST, CREATED)
    tokyo_case = make_case(services, TOKYO_THERAPIST, CREATED)

    remind(runtime, FRIDAY_NY)
    assert len(dms_to(standin, NY_THERAPIST)) == 1
    assert dms_to(standin, TOKYO_THERAPIST) == []  # Saturday 05:05 in Tokyo: its Friday 15:00 is long gone

    remind(runtime, FRIDAY_TOKYO - timedelta(minutes=10))
    assert dms_to(standin, TOKYO_THERAPIST) == []
    remind(runtime, FRIDAY_TOKYO)
    [dm] = dms_to(standin, TOKYO_THERAPIST)
    assert tokyo_case in dm.args["text"]
    assert len(dms_to(standin, NY_THERAPIST)) == 1
    with services.session_factory.begin() as session:
        assert session.get(Therapist, TOKYO_THERAPIST).tz == "Asia/Tokyo"  # type: ignore[union-attr]


def test_the_reminder_keeps_local_time_across_the_daylight_saving_change(runtime: Runtime,
                                                                         standin: SlackStandIn) -> None:
    """New York leaves daylight time on Sunday 1 November 2026: Friday 15:00 is
    19:00 UTC on 30 October and 20:00 UTC on 6 November."""
    services = runtime.services
    counted = make_case(services, NY_THERAPIST, datetime(2026, 10, 1, tzinfo=UTC))
    missed = make_case(services, NY_THERAPIST, datetime(2026, 10, 1, tzinfo=UTC))
    log_checkin(services, NY_THERAPIST, missed, datetime(2026, 10, 30, 18, 30, tzinfo=UTC))  # before 15:00 EDT

    assert remind(runtime, datetime(2026, 10, 30, 19, 5, tzinfo=UTC)).queued == 1  # 15:05 EDT
    log_checkin(services, NY_THERAPIST, counted, datetime(2026, 10, 30, 19, 30, tzinfo=UTC))  # after it
    assert remind(runtime, datetime(2026, 11, 6, 19, 5, tzinfo=UTC)).queued == 0  # 14:05 EST: not yet
    assert remind(runtime, datetime(2026, 11, 6, 20, 5, tzinfo=UTC)).queued == 1  # 15:05 EST
    first, second = dms_to(standin, NY_THERAPIST)
    assert counted in first.args["text"] and missed not in first.args["text"]  # logged that week
    # The week since the previous Friday 15:00 (local, across the change) counts:
    assert missed in second.args["text"] and counted not in second.args["text"]


def test_a_reminder_slack_fails_is_retried_and_lands_once(runtime: Runtime, standin: SlackStandIn) -> None:
    make_case(runtime.services, NY_THERAPIST, CREATED)
    standin.http_errors["chat.postMessage"] = 2  # Slack answers 500 twice, then recovers
    first = remind(runtime, FRIDAY_NY)
    assert (first.due, first.queued) == (1, 1)
    assert len(dms_to(standin, NY_THERAPIST)) == 1  # the deliverer tried again; it landed once
    again = remind(runtime, FRIDAY_NY + timedelta(minutes=5))
    assert (again.due, again.queued) == (0, 0) and len(dms_to(standin, NY_THERAPIST)) == 1


def test_remind_and_away_commands(slack: SlackDriver, runtime: Runtime, clock: Any) -> None:
    services, standin = runtime.services, slack.standin
    make_case(services, NY_THERAPIST, CREATED)
    make_case(services, TOKYO_THERAPIST, CREATED)
    clock.now = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)  # Thursday

    reply = slack.command(NY_THERAPIST, "remind monday 08:30")
    assert reply.ephemeral and "Mondays at 08:30" in reply.text and "America/New_York" in reply.text
    assert "Mon 23 Nov, 08:30" in reply.text
    reply = slack.command(TOKYO_THERAPIST, "away until 2026-11-27")
    assert reply.ephemeral and "Away until Fri 27 Nov 2026" in reply.text
    assert "in the past" not in slack.command(TOKYO_THERAPIST, "away until 2026-11-29").text  # extends
    assert "has passed" in slack.command(TOKYO_THERAPIST, "away until 2026-11-01").text
    with services.session_factory.begin() as session:
        assert session.get(Therapist, NY_THERAPIST).remind_day == 0  # type: ignore[union-attr]
        periods = session.query(AwayPeriod).filter_by(therapist_id=TOKYO_THERAPIST).all()
        assert [(p.starts_on, p.ends_on) for p in periods] == [(date(2026, 11, 19), date(2026, 11, 29))]

    standin.clear()
    remind(runtime, FRIDAY_NY)
    assert standin.calls_to("chat.postMessage") == []  # NY moved to Monday; the other is away
    result = remind(runtime, datetime(2026, 11, 23, 13, 35, tzinfo=UTC))  # Monday 08:35 New York
    assert result.queued == 1 and len(dms_to(standin, NY_THERAPIST)) == 1
    assert result.notes == ("away 1",)

    reply = slack.command(NY_THERAPIST, "remind off")
    assert "off" in reply.text
    assert remind(runtime, datetime(2026, 11, 30, 13, 35, tzinfo=UTC)).queued == 0


def test_snooze_brings_the_reminder_back_once_on_the_next_working_day(slack: SlackDriver, runtime: Runtime,
                                                                      clock: Any) -> None:
    services, standin = runtime.services, slack.standin
    code = make_case(services, NY_THERAPIST, CREATED)
    remind(runtime, FRIDAY_NY)
    [dm] = dms_to(standin, NY_THERAPIST)

    clock.now = FRIDAY_NY + timedelta(minutes=3)
    message = {"ts": "1700000001.000100", "text": dm.args["text"], "blocks": dm.args["blocks"]}
    snooze = {"action_id": Action.SNOOZE.value, "block_id": Block.REMINDER_ACTIONS.value, "value": "snooze",
              "type": "button", "action_ts": "1"}
    answer = slack.interact(sr.block_actions(NY_THERAPIST, [snooze], message=message, channel_id="D0THERA01",
                                             response_url=standin.response_url()))
    assert answer.status == 200
    [update] = standin.wait_for("chat.update")
    assert "Snoozed: I will remind you again Mon 23 Nov, 09:00" in message_text(update)
    assert all(b["action_id"] != Action.SNOOZE for b in buttons(update))
    with services.session_factory.begin() as session:
        therapist = session.get(Therapist, NY_THERAPIST)
        assert therapist is not None and therapist.snoozed_until == datetime(2026, 11, 23, 14, 0, tzinfo=UTC)

    monday = datetime(2026, 11, 23, 14, 5, tzinfo=UTC)
    assert remind(runtime, monday - timedelta(minutes=10)).queued == 0
    assert remind(runtime, monday).queued == 1
    assert remind(runtime, monday + timedelta(minutes=5)).queued == 0
    first, back = dms_to(standin, NY_THERAPIST)
    assert "Snoozed reminder" in back.args["text"] and code in back.args["text"]
    with services.session_factory.begin() as session:
        assert session.get(Therapist, NY_THERAPIST).snoozed_until is None  # type: ignore[union-attr]


def test_pause_and_log_now_buttons(slack: SlackDriver, runtime: Runtime, clock: Any) -> None:
    services, standin = runtime.services, slack.standin
    keep = make_case(services, NY_THERAPIST, CREATED)
    pause = make_case(services, NY_THERAPIST, CREATED)
    remind(runtime, FRIDAY_NY)
    [dm] = dms_to(standin, NY_THERAPIST)
    message = {"ts": "1700000001.000100", "text": dm.args["text"], "blocks": dm.args["blocks"]}
    clock.now = FRIDAY_NY + timedelta(minutes=3)

    pause_button = {"action_id": Action.PAUSE_CASE.value, "block_id": f"{Block.REMINDER_ACTIONS}:{pause}",
                    "value": pause, "type": "button", "action_ts": "1"}
    slack.interact(sr.block_actions(NY_THERAPIST, [pause_button], message=message, channel_id="D0THERA01",
                                    response_url=standin.response_url()))
    [update] = standin.wait_for("chat.update")
    assert f"{pause} is paused" in message_text(update)
    assert {b.get("value") for b in buttons(update)} == {keep, "snooze"}
    with services.session_factory.begin() as session:
        assert session.query(Case).filter_by(code=pause).one().status == "paused"

    trigger = standin.new_trigger()
    log_now = {"action_id": Action.LOG_NOW.value, "block_id": f"{Block.REMINDER_ACTIONS}:{keep}",
               "value": keep, "type": "button", "action_ts": "2"}
    slack.interact(sr.block_actions(NY_THERAPIST, [log_now], message=message, channel_id="D0THERA01",
                                    response_url=standin.response_url(), trigger_id=trigger))
    [opened] = standin.wait_for("views.open")
    assert opened.args["trigger_id"] == trigger
    assert keep in opened.args["view"]["private_metadata"]
    assert any(b.get("block_id") == "rating:A" for b in opened.args["view"]["blocks"])


def test_no_reminder_while_away(runtime: Runtime, standin: SlackStandIn) -> None:
    services = runtime.services
    make_case(services, NY_THERAPIST, CREATED)
    add_therapist(services, NY_THERAPIST, CREATED, away_until=date(2026, 11, 20))
    result = remind(runtime, FRIDAY_NY)
    assert (result.queued, result.notes) == (0, ("away 1",))
    assert dms_to(standin, NY_THERAPIST) == []


def test_a_shared_case_reminds_only_its_lead(runtime: Runtime, standin: SlackStandIn) -> None:
    """Issue 14 changed this: the co-therapist is no longer reminded of the lead's case."""
    services = runtime.services
    code = make_case(services, NY_THERAPIST, CREATED)
    with services.session_factory.begin() as session:
        case_uc.share_case(session, Actor(user_id=NY_THERAPIST), code, "U0COTHER1", CREATED)
    assert remind(runtime, FRIDAY_NY).queued == 1
    assert code in dms_to(standin, NY_THERAPIST)[0].args["text"] and dms_to(standin, "U0COTHER1") == []


def test_the_co_therapist_is_reminded_while_the_lead_is_away(runtime: Runtime, standin: SlackStandIn) -> None:
    services = runtime.services
    code = make_case(services, NY_THERAPIST, CREATED)
    with services.session_factory.begin() as session:
        case_uc.share_case(session, Actor(user_id=NY_THERAPIST), code, "U0COTHER1", CREATED)
        session.add(AwayPeriod(therapist_id=NY_THERAPIST, starts_on=date(2026, 11, 16), ends_on=date(2026, 11, 27)))
    add_therapist(services, NY_THERAPIST, CREATED, away_until=date(2026, 11, 27))
    result = remind(runtime, FRIDAY_NY)
    assert (result.queued, result.notes) == (1, ("away 1",))
    assert dms_to(standin, NY_THERAPIST) == [] and code in dms_to(standin, "U0COTHER1")[0].args["text"]


def test_a_long_reminder_lists_twenty_cases_with_buttons_and_summarises_the_rest(runtime: Runtime,
                                                                                 standin: SlackStandIn) -> None:
    codes = sorted(make_case(runtime.services, NY_THERAPIST, CREATED) for _ in range(23))
    assert remind(runtime, FRIDAY_NY).queued == 1
    [dm] = dms_to(standin, NY_THERAPIST)
    assert all(code in dm.args["text"] for code in codes)  # the notification text names every case
    assert len(dm.args["blocks"]) <= 50
    assert [b["value"] for b in buttons(dm) if b["action_id"] == Action.LOG_NOW] == codes[:20]
    assert f"…and 3 more without a check-in this week: {', '.join(codes[20:])}." in message_text(dm)


def test_cached_time_zones_are_used_and_only_a_few_stale_ones_refreshed(runtime: Runtime,
                                                                        standin: SlackStandIn) -> None:
    services = runtime.services
    therapists = [f"U0THERA{n:02d}" for n in range(1, 13)]
    for user in therapists:
        make_case(services, user, CREATED)
        add_therapist(services, user, CREATED, tz="America/New_York", tz_checked_at=FRIDAY_NY - timedelta(days=3))
    result = remind(runtime, FRIDAY_NY)
    assert result.queued == 12
    assert len(standin.calls_to("users.info")) == PROFILE_TRICKLE  # not one per therapist
    with services.session_factory.begin() as session:
        refreshed = session.query(Therapist).filter(Therapist.tz_checked_at == FRIDAY_NY).count()
    assert refreshed == PROFILE_TRICKLE


def test_away_off_ends_the_away_period_and_brings_reminders_back(slack: SlackDriver, runtime: Runtime,
                                                                 clock: Any) -> None:
    services, standin = runtime.services, slack.standin
    make_case(services, NY_THERAPIST, CREATED)
    clock.now = datetime(2026, 11, 16, 14, 0, tzinfo=UTC)  # Monday
    slack.command(NY_THERAPIST, "away until 2026-11-30")
    clock.now = datetime(2026, 11, 19, 14, 0, tzinfo=UTC)  # Thursday: back early
    reply = slack.command(NY_THERAPIST, "away off")
    assert reply.ephemeral and "Back from today" in reply.text
    with services.session_factory.begin() as session:
        assert session.get(Therapist, NY_THERAPIST).away_until is None  # type: ignore[union-attr]
        periods = session.query(AwayPeriod).filter_by(therapist_id=NY_THERAPIST).all()
        assert [(p.starts_on, p.ends_on) for p in periods] == [(date(2026, 11, 16), date(2026, 11, 18))]
    standin.clear()
    assert remind(runtime, FRIDAY_NY).queued == 1  # reminded that Friday, away no more
    assert "not set as away" in slack.command(NY_THERAPIST, "away off").text


def _add_notice(runtime: Runtime, code: str, opened_at: datetime) -> None:
    from bot.store.models import Flag
    from bot.usecases.cases import load_case

    with runtime.services.session_factory.begin() as session:
        case = load_case(session, code)
        assert case is not None
        session.add(Flag(case_id=case.id, rule="split_alliance", status="open", open_slot=1, severity=1,
                         route="summary", evidence=["A 9 vs B 6 (gap 3)"], quiet_checkins=0, opened_at=opened_at,
                         updated_at=opened_at, reply_count=0, participants=[]))


def test_your_week_lists_notices_with_a_question_then_unlogged_cases_then_good_news(
        runtime: Runtime, standin: SlackStandIn) -> None:
    """Issue 13 items 2 and 12: the weekly reminder grows into "your week"."""
    services = runtime.services
    noticed = make_case(services, NY_THERAPIST, CREATED)
    behind = make_case(services, NY_THERAPIST, CREATED)
    better = make_case(services, NY_THERAPIST, CREATED, CaseKind.INDIVIDUAL)
    flat = make_case(services, NY_THERAPIST, CREATED, CaseKind.INDIVIDUAL)
    log_checkin(services, NY_THERAPIST, noticed, datetime(2026, 11, 18, 16, 0, tzinfo=UTC))
    _add_notice(runtime, noticed, datetime(2026, 11, 18, 16, 0, tzinfo=UTC))
    for day, rating in enumerate((5, 6, 5, 8, 7, 8)):  # up by 2 or more, median against median
        log_checkin(services, NY_THERAPIST, better, datetime(2026, 11, 13 + day, 16, 0, tzinfo=UTC), rating)
        log_checkin(services, NY_THERAPIST, flat, datetime(2026, 11, 13 + day, 16, 0, tzinfo=UTC), 7)

    result = remind(runtime, FRIDAY_NY)
    assert result.queued == 1, result.summary()
    [dm] = dms_to(standin, NY_THERAPIST)
    text = message_text(dm)
    assert "Cases to look at" in text and f"*{noticed}* · Split alliance: `A 9 vs B 6 (gap 3)`" in text
    question = text.split(f"*{noticed}* · Split alliance")[1].splitlines()[1].strip()
    assert question.startswith("_") and question.endswith("_") and len(question) > 10  # one question, its own line
    assert f"*{behind}* · couple · no check-in for 18 days" in text
    assert text.index("Cases to look at") < text.index(f"*{behind}*")
    assert f"*Going well:* {better} improved reliably" in text and flat not in text


def test_notices_alone_make_a_your_week_message(runtime: Runtime, standin: SlackStandIn) -> None:
    services = runtime.services
    noticed = make_case(services, NY_THERAPIST, CREATED)
    log_checkin(services, NY_THERAPIST, noticed, datetime(2026, 11, 18, 16, 0, tzinfo=UTC))
    _add_notice(runtime, noticed, datetime(2026, 11, 18, 16, 0, tzinfo=UTC))
    assert remind(runtime, FRIDAY_NY).queued == 1
    [dm] = dms_to(standin, NY_THERAPIST)
    assert "*Your week:* 1 case to look at; every active case has a check-in this week." in message_text(dm)
    assert {b["action_id"] for b in buttons(dm)} == {Action.SNOOZE}
