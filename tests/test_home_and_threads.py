"""App Home and flag threads, through signed requests and events."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from bot.runtime.bootstrap import Runtime
from bot.domain.cases import CaseKind
from bot.store.models import Case, Checkin, Flag, FlagReply
from bot.usecases.cases import create_case
from bot.domain.access import Actor
from tests.conftest import SUPERVISION_CHANNEL, SUPERVISOR
from tests.support.driver import SlackDriver

THERAPIST = "U0THERA01"
COLLEAGUE = "U0COLLE01"


def make_cases(runtime: Runtime, count: int, owner: str = THERAPIST) -> list[str]:
    now = runtime.services.now()
    codes = []
    with runtime.services.session_factory.begin() as session:
        for index in range(count):
            case = create_case(session, Actor(owner), CaseKind.COUPLE, 2, (), now)
            session.add(Checkin(case_id=case.id, therapist_id=owner, session_number=1, ratings={"A": 8, "B": index % 11,
                                "unit": 7, "collective": 6}, client_scores={}, rupture_members=[], therapist_flags=[],
                                created_at=now - timedelta(days=index % 40)))
            case.last_checkin_at = now - timedelta(days=index % 40)
            codes.append(case.code)
    return codes


def open_flag(runtime: Runtime, code: str, ts: str = "1700000000.000100") -> int:
    now = runtime.services.now()
    with runtime.services.session_factory.begin() as session:
        case = session.scalar(select(Case).where(Case.code == code))
        assert case is not None
        flag = Flag(case_id=case.id, rule="split_alliance", status="open", open_slot=1, severity=2, route="supervision",
                    evidence=["A 8 → 8 → 8", "B 8 → 7 → 4"], opened_at=now, updated_at=now, channel_id=SUPERVISION_CHANNEL,
                    message_ts=ts, participants=[])
        session.add(flag)
        session.flush()
        return flag.id


def home_opened(slack: SlackDriver, user: str, event_id: str) -> dict:
    before = len(slack.standin.calls_to("views.publish"))
    answer = slack.event({"type": "app_home_opened", "user": user, "channel": "D0HOME001", "tab": "home",
                          "event_ts": "1700000000.000001"}, event_id)
    assert answer.status == 200
    return slack.standin.wait_for("views.publish", before + 1)[-1].args


def test_home_lists_the_users_cases_within_limits_even_with_300(slack: SlackDriver, runtime: Runtime) -> None:
    codes = make_cases(runtime, 300)
    make_cases(runtime, 3, owner=COLLEAGUE)
    published = home_opened(slack, THERAPIST, "Ev0HOME01")
    assert published["user_id"] == THERAPIST
    view = published["view"]
    assert view["type"] == "home" and len(view["blocks"]) <= 100
    text = str(view)
    shown = [code for code in codes if code in text]
    assert len(shown) == 20 and "of 300" in text
    assert "Team overview" not in text  # a therapist sees no team overview
    next_button = next(e for b in view["blocks"] if b["type"] == "actions" for e in b["elements"]
                       if e["action_id"] == "home_page_next")
    from tests.support.slack_requests import block_actions

    slack.interact(block_actions(THERAPIST, [{"action_id": "home_page_next", "value": next_button["value"],
                                              "type": "button", "block_id": "b"}], view={"id": "VHOME", "type": "home"}))
    page_two = slack.standin.wait_for("views.publish", 2)[-1].args["view"]
    assert len([c for c in codes if c in str(page_two)]) == 20 and "page 2 of 15" in str(page_two)
    assert not set(c for c in codes if c in text) & set(c for c in codes if c in str(page_two))


def test_supervisor_home_shows_open_flags_oldest_first(slack: SlackDriver, runtime: Runtime) -> None:
    codes = make_cases(runtime, 2)
    open_flag(runtime, codes[0])
    view = home_opened(slack, SUPERVISOR, "Ev0HOME02")["view"]
    text = str(view)
    assert "Team overview" in text and codes[0] in text and "Split alliance" in text
    from bot.usecases.audit import entries_since

    with runtime.services.session_factory() as session:
        assert [(e.actor_id, e.action) for e in entries_since(session) if e.action == "view_team_overview"] == [
            (SUPERVISOR, "view_team_overview")]


def reply_event(ts: str, user: str = COLLEAGUE, thread_ts: str = "1700000000.000100") -> dict:
    return {"type": "message", "channel": SUPERVISION_CHANNEL, "user": user, "text": "secret clinical words",
            "ts": ts, "thread_ts": thread_ts, "channel_type": "channel", "event_ts": ts}


def test_thread_replies_move_a_flag_to_discussing_and_redeliveries_count_once(slack: SlackDriver, runtime: Runtime) -> None:
    code = make_cases(runtime, 1)[0]
    flag_id = open_flag(runtime, code)
    assert slack.event(reply_event("1700000001.000200"), "Ev0REPLY01").status == 200
    assert slack.event(reply_event("1700000001.000200"), "Ev0REPLY01", retry_num=1).status == 200
    assert slack.event(reply_event("1700000002.000300", user=SUPERVISOR), "Ev0REPLY02").status == 200
    slack.event(reply_event("1700000003.000400", thread_ts="1699999999.000001"), "Ev0OTHER1")  # another thread
    import time

    deadline = time.monotonic() + 20  # the replies are counted after the ack; a loaded machine is slow
    while time.monotonic() < deadline:
        with runtime.services.session_factory() as session:
            flag = session.get(Flag, flag_id)
            assert flag is not None
            if flag.reply_count >= 2:
                break
        time.sleep(0.02)
    with runtime.services.session_factory() as session:
        flag = session.get(Flag, flag_id)
        assert flag is not None
        assert (flag.status, flag.reply_count) == ("discussing", 2)
        assert sorted(flag.participants) == sorted([COLLEAGUE, SUPERVISOR])
        replies = session.scalars(select(FlagReply)).all()
        assert len(replies) == 2
        from tests.support.rows import rows_mentioning

        assert rows_mentioning(session, "secret clinical words") == []


def test_a_reply_counts_on_every_flag_sharing_the_root(slack: SlackDriver, runtime: Runtime) -> None:
    code = make_cases(runtime, 1)[0]
    split = open_flag(runtime, code)
    now = runtime.services.now()
    with runtime.services.session_factory.begin() as session:
        case = session.scalar(select(Case).where(Case.code == code))
        assert case is not None
        weak = Flag(case_id=case.id, rule="weak_couple_alliance", status="resolved", open_slot=None, severity=2,
                    route="supervision", evidence=["unit 5"], opened_at=now, updated_at=now, resolution="auto",
                    channel_id=SUPERVISION_CHANNEL, message_ts="1700000000.000100", participants=[])
        session.add(weak)
        session.flush()
        weak_id = weak.id
    assert slack.event(reply_event("1700000005.000100"), "Ev0SHARE1").status == 200
    assert slack.event(reply_event("1700000005.000100"), "Ev0SHARE1", retry_num=2).status == 200
    import time

    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        with runtime.services.session_factory() as session:
            if all((f := session.get(Flag, i)) is not None and f.reply_count == 1 for i in (split, weak_id)):
                break
        time.sleep(0.02)
    time.sleep(0.2)  # a redelivery counted late would show here
    with runtime.services.session_factory() as session:
        rows = {i: session.get(Flag, i) for i in (split, weak_id)}
        assert {i: (f.status, f.reply_count, f.participants) for i, f in rows.items() if f is not None} == {
            split: ("discussing", 1, [COLLEAGUE]), weak_id: ("resolved", 1, [COLLEAGUE])}
    # The root (never really posted here) is re-rendered once, for the move to discussing.
    edits = slack.standin.wait_for("chat.update")
    assert len(edits) == 1 and "Status: *discussing*" in str(edits[0].args["blocks"])
