"""End to end: signed requests to the served app, a Web API stand-in behind it."""

from __future__ import annotations

import re

from tests.support.driver import SlackDriver, rating_values

THERAPIST = "U0THERA01"


def create_case(slack: SlackDriver, kind: str = "couple", user: str = THERAPIST) -> str:
    reply = slack.command(user, f"new {kind}")
    match = re.search(r"\b(IND|CPL|FAM)-[0-9A-HJKMNP-TV-Z]{4}\b", reply.text)
    assert match, reply.text
    return match.group(0)


def test_new_log_modal_history(slack: SlackDriver) -> None:
    code = create_case(slack)
    logged = slack.command(THERAPIST, f"log {code} 8 7 8 8")
    assert logged.ephemeral and "Logged session 1" in logged.text and "A 8 · B 7 · unit 8 · collective 8" in logged.text

    view = slack.open_modal(THERAPIST, code)
    answer = slack.submit(THERAPIST, view, rating_values({"A": 9, "B": 6, "unit": 7, "collective": 8}))
    assert answer.status == 200 and answer.body in ("", "null"), answer.body
    dm = slack.standin.wait_for("chat.postMessage")[-1]
    assert dm.args["channel"] == THERAPIST and "Logged session 2" in dm.args["text"]

    history = slack.command(THERAPIST, f"history {code}")
    assert "2 check-ins" in history.text
    assert "8 → 9" in history.text and "7 → 6" in history.text
