"""End to end: signed requests to the served app, a Web API stand-in behind it."""

from __future__ import annotations

import re
import time

from tests.support.driver import SlackDriver, rating_values

THERAPIST = "U0THERA01"


def create_case(slack: SlackDriver, kind: str = "couple", user: str = THERAPIST, keep_dm: bool = False) -> str:
    """`/alliance new KIND`; waits for the DM that repeats the code, and (unless
    `keep_dm`) drops it from the stand-in's record so tests count only what follows."""
    reply = slack.command(user, f"new {kind}")
    match = re.search(r"\b(IND|CPL|FAM)-[0-9A-HJKMNP-TV-Z]{4}\b", reply.text)
    assert match, reply.text
    code = match.group(0)
    deadline = time.monotonic() + 5
    while not (dms := [c for c in slack.standin.calls_to("chat.postMessage")
                       if c.args.get("channel") == user and code in c.args.get("text", "")]):
        assert time.monotonic() < deadline, f"no DM with {code}"
        time.sleep(0.01)
    if not keep_dm:
        slack.standin.discard(dms)
    return code


def test_new_log_modal_history(slack: SlackDriver) -> None:
    code = create_case(slack)
    logged = slack.command(THERAPIST, f"log {code} 8 7 8 8")
    assert logged.ephemeral and "Logged session 1" in logged.text and "A 8 · B 7 · unit 8 · collective 8" in logged.text

    view = slack.open_modal(THERAPIST, code)
    answer = slack.submit(THERAPIST, view, rating_values({"A": 9, "B": 6, "unit": 7, "collective": 8}))
    assert answer.status == 200 and answer.body in ("", "null"), answer.body
    slack.settle()  # the confirmation DM (and the warnings the check-in raised) went out
    [dm] = [c for c in slack.standin.calls_to("chat.postMessage") if "Logged session" in c.args["text"]]
    assert dm.args["channel"] == THERAPIST and "Logged session 2" in dm.args["text"]

    history = slack.command(THERAPIST, f"history {code}")
    assert "2 check-ins" in history.text
    assert "8 → 9" in history.text and "7 → 6" in history.text


OTHER = "U0OTHER01"


def checkin_count(runtime) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import func, select

    from bot.store.models import Checkin

    with runtime.services.session_factory() as session:
        return int(session.scalar(select(func.count()).select_from(Checkin)) or 0)


def test_every_bad_input_gets_one_line_and_nothing_is_saved(slack: SlackDriver, runtime) -> None:  # type: ignore[no-untyped-def]
    code = create_case(slack)
    other_code = create_case(slack, user=OTHER)
    cases = {
        "frobnicate": "is not something Alliance knows",
        "log CPL-0000 8 7 8 8": "CPL-0000 is not among your cases",
        f"log {other_code} 8 7 8 8": f"{other_code} is not among your cases",
        f"history {other_code}": f"{other_code} is not among your cases",
        f"log {code} 8 11 8 8": "must be from 0 to 10, not 11",
        f"log {code} 8 7.5 8 8": "must be a whole number",
        f"log {code} 8 7 8": "give 4 ratings, not 3",
        f"log {code} 8 7 8 8 session=x": "session number",
        f"log {code} 8 7 8 8 client=A34": "client=A:34",
        f"log {code} 8 7 8 8 mood=ok": "is not a log option",
        f"log {code} 8 7 8 8 note=\"call 555-123-4567\"": "phone number",
    }
    for text, says in cases.items():
        reply = slack.command(THERAPIST, text)
        assert reply.ephemeral, text
        assert says in reply.text, (text, reply.text)
        assert reply.payload is not None and "\n" not in reply.payload["text"].strip(), reply.text
    assert checkin_count(runtime) == 0
    assert not slack.standin.calls_to("chat.postMessage")


def test_replies_go_only_to_the_person_who_typed(slack: SlackDriver) -> None:
    code = create_case(slack)
    slack.command(THERAPIST, f"log {code} 8 7 8 8")
    slack.command(THERAPIST, "cases")
    assert not [c for c in slack.standin.calls if c.method == "chat.postMessage" and c.args.get("channel", "").startswith("C")]


def test_modal_errors_show_inline_and_keep_what_was_typed(slack: SlackDriver, runtime) -> None:  # type: ignore[no-untyped-def]
    from tests.support.driver import text_value

    code = create_case(slack)
    view = slack.open_modal(THERAPIST, code)
    values = rating_values({"A": 8, "B": 7, "unit": 8})  # collective missing
    values["client:A"] = text_value("44")
    values["session"] = text_value("abc")
    answer = slack.submit(THERAPIST, view, values)
    payload = answer.json()
    assert payload["response_action"] == "errors"
    assert set(payload["errors"]) == {"rating:collective", "client:A", "session"}
    assert "view" not in payload  # errors only: Slack keeps the typed values in place
    assert checkin_count(runtime) == 0


def test_modal_note_with_phi_is_refused_on_its_field(slack: SlackDriver, runtime) -> None:  # type: ignore[no-untyped-def]
    from tests.support.driver import text_value

    code = create_case(slack)
    view = slack.open_modal(THERAPIST, code)
    values = rating_values({"A": 8, "B": 7, "unit": 8, "collective": 8})
    values["note"] = text_value("write to someone@example.org")
    payload = slack.submit(THERAPIST, view, values).json()
    assert payload["response_action"] == "errors" and "e-mail address" in payload["errors"]["note"]
    assert "someone@example.org" not in payload["errors"]["note"]
    assert checkin_count(runtime) == 0


def test_same_modal_submitted_twice_stores_one_checkin(slack: SlackDriver, runtime) -> None:  # type: ignore[no-untyped-def]
    code = create_case(slack)
    view = slack.open_modal(THERAPIST, code)
    values = rating_values({"A": 8, "B": 7, "unit": 8, "collective": 8})
    first = slack.submit(THERAPIST, view, values, view_id="V0SAME001", view_hash="h9")
    second = slack.submit(THERAPIST, view, values, view_id="V0SAME001", view_hash="h9")
    assert first.status == second.status == 200
    assert checkin_count(runtime) == 1


def test_modal_without_a_code_offers_your_active_cases(slack: SlackDriver) -> None:
    first = create_case(slack)
    second = create_case(slack, kind="family")
    create_case(slack, user=OTHER)
    view = slack.open_modal(THERAPIST, "")
    picker = next(b for b in view["blocks"] if b.get("block_id") == "case")
    offered = {o["value"] for o in picker["element"]["options"]}
    assert offered == {first, second}


def test_forged_or_stale_requests_get_401_and_change_nothing(slack: SlackDriver, runtime) -> None:  # type: ignore[no-untyped-def]
    import time as _time

    from tests.support import slack_requests as sr

    body = sr.command_body("new couple", THERAPIST, slack.standin.new_trigger(), slack.standin.response_url())
    forged = sr.post(slack.events_url, body, sr.signed_headers(body, "application/x-www-form-urlencoded", secret="wrong-secret"))
    stale = sr.post(slack.events_url, body, sr.signed_headers(body, "application/x-www-form-urlencoded",
                                                               timestamp=int(_time.time()) - 301))
    unsigned = sr.post(slack.events_url, body, {"Content-Type": "application/x-www-form-urlencoded"})
    assert (forged.status, stale.status, unsigned.status) == (401, 401, 401)
    from sqlalchemy import func, select

    from bot.store.models import Case

    with runtime.services.session_factory() as session:
        assert session.scalar(select(func.count()).select_from(Case)) == 0
    assert slack.standin.responses == []


def test_healthz_answers_when_the_database_does(slack: SlackDriver) -> None:
    import urllib.request

    with urllib.request.urlopen(f"{slack.base_url}/healthz", timeout=5) as response:
        assert response.status == 200 and b'"database": "up"' in response.read()


def test_case_management(slack: SlackDriver) -> None:
    code = create_case(slack)
    assert "is now paused" in slack.command(THERAPIST, f"pause {code}").text
    assert "already paused" in slack.command(THERAPIST, f"pause {code}").text
    assert "is now active" in slack.command(THERAPIST, f"reopen {code}").text
    assert "is now closed" in slack.command(THERAPIST, f"close {code}").text
    assert "is closed. Reopen it first" in slack.command(THERAPIST, f"log {code} 8 7 8 8").text
    assert "is now active" in slack.command(THERAPIST, f"reopen {code}").text
    assert "can now see and log" in slack.command(THERAPIST, f"share {code} <@{OTHER}|colleague>").text
    assert "Logged session 1" in slack.command(OTHER, f"log {code} 8 7 8 8").text
    listing = slack.command(OTHER, "cases").text
    assert code in listing and "shared" in listing


def test_private_notes_show_in_history_only_for_the_cases_therapists(slack: SlackDriver) -> None:
    from tests.conftest import SUPERVISOR

    code = create_case(slack)
    slack.command(THERAPIST, f'log {code} 8 7 8 8 note="B quiet when <money> came up & left early"')
    slack.command(THERAPIST, f"share {code} <@{OTHER}|colleague>")
    own = slack.command(THERAPIST, f"history {code}").text
    assert "Session 1: B quiet when &lt;money&gt; came up &amp; left early" in own
    assert "left early" in slack.command(OTHER, f"history {code}").text  # a co-therapist on the case
    supervised = slack.command(SUPERVISOR, f"history {code}").text
    assert "1 check-in" in supervised and "left early" not in supervised and "private notes" not in supervised


def test_history_sends_a_chart_to_the_dm_from_four_checkins(slack: SlackDriver, runtime) -> None:  # type: ignore[no-untyped-def]
    code = create_case(slack)
    for session, ratings in enumerate(("8 7 8 8", "8 6 8 7"), start=1):  # same day: explicit session numbers
        slack.command(THERAPIST, f"log {code} {ratings} session={session}")
    slack.command(THERAPIST, f"history {code}")
    slack.settle()
    assert not slack.standin.calls_to("files.completeUploadExternal")  # two check-ins: no chart
    for session, ratings in enumerate(("8 6 7 7", "9 7 8 8"), start=3):
        slack.command(THERAPIST, f"log {code} {ratings} session={session}")
    assert "4 check-ins" in slack.command(THERAPIST, f"history {code}").text
    done = slack.standin.wait_for("files.completeUploadExternal")[-1]
    assert done.args["channel_id"] == "D" + THERAPIST[1:]
    assert slack.standin.uploads and slack.standin.uploads[-1]["data"][:8] == b"\x89PNG\r\n\x1a\n"


def test_a_new_case_code_is_also_sent_by_dm(slack: SlackDriver) -> None:
    code = create_case(slack, keep_dm=True)
    dm = slack.standin.wait_for("chat.postMessage")[-1]
    assert dm.args["channel"] == THERAPIST and code in dm.args["text"] and "Created" in dm.args["text"]


def test_new_confirms_once_the_details_in_the_dm_only(slack: SlackDriver) -> None:
    """Issue 14 item 6: not the same three lines as a reply and again by DM."""
    reply = slack.command(THERAPIST, "new couple")
    assert "\n" not in reply.text.strip().split("\n", 1)[0] and len(reply.payload["blocks"]) == 1  # type: ignore[index]
    assert "in your DM" in reply.text and "/alliance log" not in reply.text and "threads" in reply.text
    code = re.search(r"CPL-[0-9A-Z]{4}", reply.text).group(0)  # type: ignore[union-attr]
    dm = slack.standin.wait_for("chat.postMessage")[-1]
    assert dm.args["channel"] == THERAPIST and f"/alliance log {code} 8 7 8 8" in dm.args["text"]
    assert dm.args["text"] != reply.text
