"""Whatever arrives, Alliance answers: a command or a one-line reason from the
grammar, never a 5xx or a traceback from the endpoint, and a reply to every
`/alliance` within Slack's 3 seconds."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import urlencode

from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from bot.domain import grammar
from bot.domain.errors import UserError
from tests.conftest import ADMIN, SUPERVISOR
from tests.support import slack_requests as sr
from tests.support.driver import SlackDriver

COMMAND_TYPES = tuple(grammar.Command.__args__)  # type: ignore[attr-defined]
VERBS = ["", "new", "log", "cases", "list", "history", "share", "pause", "close", "reopen", "forget", "remind",
         "away", "config", "export", "help", "CPL-7KQ2", "fam-0000", "individual", "couple"]
PIECES = st.one_of(
    st.sampled_from(VERBS),
    st.sampled_from(["8", "10", "11", "-1", "0", "7.5", "x", "members=3", "labels=P1,P2", "session=4",
                     'note="hello"', "note=\u201cquoted\u201d", "rupture=withdrawal:B", "client=A:34,B:29",
                     "flags=stuck,sides", "until", "2027-01-04", "friday", "15:00", "off", "<@U0THERA02>",
                     "=", "'", '"', "\\", "`", "\u200b", "\x00"]),
    st.text(max_size=12),
)
COMMAND_TEXT = st.one_of(st.text(max_size=80), st.lists(PIECES, max_size=8).map(" ".join))
FAST = settings(max_examples=75, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@settings(max_examples=400, deadline=None)
@given(COMMAND_TEXT)
@example('"\n"')  # a quoted line break once made a two-line reason
@example("log CPL-7KQ2 8 7 \u2028 8")
def test_the_grammar_returns_a_command_or_a_reason(text: str) -> None:
    try:
        command = grammar.parse_command(text)
    except UserError as error:
        assert error.message and "\n" not in error.message.strip()
        return
    assert isinstance(command, COMMAND_TYPES)


def _random_payload() -> st.SearchStrategy[Any]:
    leaf = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=20))
    shapes = st.recursive(leaf, lambda inner: st.one_of(st.lists(inner, max_size=3),
                                                        st.dictionaries(st.text(max_size=8), inner, max_size=3)),
                          max_leaves=8)
    typed = st.fixed_dictionaries({"type": st.sampled_from(["view_submission", "block_actions", "event_callback",
                                                            "url_verification", "shortcut", "view_closed", "x"])},
                                  optional={"view": shapes, "actions": shapes, "user": shapes, "event": shapes,
                                            "challenge": st.text(max_size=10), "response_url": st.text(max_size=10)})
    return st.one_of(typed, shapes)


BODIES = st.one_of(
    st.binary(max_size=300),
    st.text(max_size=300).map(str.encode),
    _random_payload().map(lambda p: urlencode({"payload": json.dumps(p)}).encode()),
    _random_payload().map(lambda p: json.dumps(p).encode()),
    st.dictionaries(st.sampled_from(["command", "text", "user_id", "trigger_id", "response_url", "type"]),
                    st.text(max_size=20), max_size=5).map(lambda d: urlencode(d).encode()),
)
CONTENT_TYPES = st.sampled_from(["application/x-www-form-urlencoded", "application/json", "text/plain", "",
                                 "multipart/form-data; boundary=x"])


@FAST
@given(body=BODIES, content_type=CONTENT_TYPES, signed=st.booleans(),
       stamp=st.one_of(st.none(), st.text(st.characters(exclude_categories=("Cc", "Cs")), max_size=12)),
       retry=st.one_of(st.none(), st.integers(-1, 5)))
def test_random_bodies_never_get_a_5xx_or_a_traceback(slack: SlackDriver, body: bytes, content_type: str,
                                                     signed: bool, stamp: str | None, retry: int | None) -> None:
    if signed:
        headers = sr.signed_headers(body, content_type)
    else:
        headers = {"Content-Type": content_type, "X-Slack-Signature": "v0=" + "0" * 64}
        if stamp is not None:
            headers["X-Slack-Request-Timestamp"] = stamp.encode("latin-1", "replace").decode("latin-1")
    if retry is not None:
        headers["X-Slack-Retry-Num"] = str(retry)
    answer = sr.post(slack.events_url, body, headers)
    assert answer.status < 500, answer
    assert "Traceback" not in answer.body and "File \"" not in answer.body
    assert answer.seconds < 3.0
    if not signed:
        assert answer.status in (400, 401), answer  # 400: the server refused a malformed header itself


def _reply_for(slack: SlackDriver, answer: sr.Answer, trigger: str, response_url: str, timeout: float) -> str:
    """What the person saw: the ack body, a response_url post, or the modal opening."""
    if answer.body and answer.json():
        return "ack"
    path = response_url.removeprefix(slack.standin.base)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(c.method == path for c in list(slack.standin.responses)):
            return "respond"
        if any(c.args.get("trigger_id") == trigger for c in slack.standin.calls_to("views.open")):
            return "modal"
        time.sleep(0.01)
    return ""


@FAST
@given(text=COMMAND_TEXT, user=st.sampled_from(["U0THERA01", "U0THERA02", SUPERVISOR, ADMIN]))
def test_random_command_text_is_answered_within_three_seconds(slack: SlackDriver, text: str, user: str) -> None:
    started = time.monotonic()
    answer, trigger, response_url = slack.send_command(user, text)
    assert answer.status == 200 and answer.seconds < 3.0, answer
    assert "Traceback" not in answer.body
    how = _reply_for(slack, answer, trigger, response_url, timeout=3.0 - (time.monotonic() - started))
    assert how, f"no reply within 3 s to /alliance {text!r}"
