"""Issue 12: custom member labels stay with the case's own therapists. A case
labelled with two names that then stalls puts neither name in any supervision
channel message, thread reply, digest, export or supervisor reply; the
therapist's own DM shows them. Signed requests to the served app; every call
the stand-in recorded is checked."""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone

import pytest

from bot.runtime.bootstrap import Runtime
from bot.domain.audience import Audience, label_problem, member_name, relabel_text
from bot.store.models import Case
from tests.conftest import SUPERVISOR
from tests.support.driver import SlackDriver
from tests.support.rows import count
from tests.test_stalls_e2e import DM, THERAPIST, followups, log, warnings  # noqa: F401 - a fixture
from tests.support.outbox import run_and_deliver

NAMES = ("Anna", "Mark")


def test_names_as_labels_never_leave_the_therapists_view(slack: SlackDriver, runtime: Runtime,
                                                         followups: pytest.LogCaptureFixture) -> None:
    reply = slack.command(THERAPIST, "new couple labels=Anna,Mark")
    code = re.search(r"\bCPL-[0-9A-HJKMNP-TV-Z]{4}\b", reply.text).group(0)  # type: ignore[union-attr]
    for session, ratings in enumerate(("8 8 8 8", "8 7 8 8", "8 4 6 7", "8 4 6 7", "8 4 6 7"), start=1):
        log(slack, followups, code, session, ratings)
    supervision = [c for c in warnings(slack) if c.args["channel"] != THERAPIST]
    assert supervision, "the split escalated to the supervision channel"
    assert "A 8 vs B 4 (gap 4)" in json.dumps(supervision[0].args, ensure_ascii=False)
    dm_warnings = [c for c in slack.standin.calls if c.args.get("channel") in (THERAPIST, DM)
                   and "Stall warning" in (c.args.get("text") or "")]
    assert any("Anna 8 vs Mark 4" in json.dumps(c.args, ensure_ascii=False) for c in dm_warnings), \
        "the therapist's own DM shows the labels"

    history = slack.command(SUPERVISOR, f"history {code}")
    assert "check-ins" in history.text
    exported = slack.command(SUPERVISOR, "export")
    assert exported.text
    slack.standin.wait_for("files.completeUploadExternal")
    monday = datetime(2026, 11, 23, 14, 5, tzinfo=timezone.utc)
    assert run_and_deliver(runtime, "digest", monday).queued >= 1

    outside = [c for c in slack.standin.calls if c.args.get("channel") not in (THERAPIST, DM)]
    assert any(c.method == "chat.update" for c in outside) and any("thread_ts" in c.args for c in outside), \
        "edits and thread replies in the channel were among the calls checked"
    for call in outside:
        text = json.dumps(call.args, ensure_ascii=False)
        for name in NAMES:
            assert name not in text, f"{name} in {call.method} to {call.args.get('channel')}: {text[:400]}"
    assert slack.standin.uploads
    for upload in slack.standin.uploads:
        data = upload["data"].decode(errors="replace")
        assert code in data or upload["_bytes"] > 0
        for name in NAMES:
            assert name not in data, f"{name} in an upload"
    for reply_text in (history.text, exported.text):
        for name in NAMES:
            assert name not in reply_text
    assert "`A " in history.text and "`B " in history.text, "a supervisor's history shows position letters"


@pytest.mark.parametrize("labels", ["Anna\u202e,B", "A,M\u200bark", "A`x,B", "A,Markus-Jonathan1", "A,B_C", "-A,B"])
def test_labels_with_invisible_or_odd_characters_are_refused(slack: SlackDriver, runtime: Runtime, labels: str) -> None:
    reply = slack.command(THERAPIST, f"new couple labels={labels}")
    assert "nothing" in reply.text.lower() or "label" in reply.text.lower()
    assert "\n" not in reply.text.strip() and "\u202e" not in reply.text and "\u200b" not in reply.text
    with runtime.services.session_factory() as session:
        assert count(session, Case) == 0


@pytest.mark.parametrize("label", ["P1", "Anna", "x-2", "Ö3", "ABCDEFGHIJKL"])
def test_short_tokens_are_labels(label: str) -> None:
    assert label_problem(1, label) is None


@pytest.mark.parametrize("label,reason", [
    ("A\u202eB", "invisible"), ("A\u200bB", "invisible"), ("A\u2066B", "invisible"), ("A\x07", "invisible"),
    ("ABCDEFGHIJKLM", "1 to 12"), ("A B", "letters, digits and -"), ("A`B", "letters, digits and -"),
    ("<@U1>", "letters, digits and -"), ("", "1 to 12"),
])
def test_label_problems_are_one_line_and_never_echo_the_label(label: str, reason: str) -> None:
    problem = label_problem(2, label)
    assert problem is not None and reason in problem and "\n" not in problem
    assert not label or label not in problem


def test_relabelling_maps_positions_and_leaves_threads_and_therapists_alone() -> None:
    labels = ["Mark", "Anna", "Jo"]
    assert [member_name(t, labels, Audience.OTHERS) for t in labels + ["unit", "collective"]] == \
        ["A", "B", "C", "unit", "collective"]
    assert member_name("Anna", labels, Audience.THERAPISTS) == "Anna"
    assert relabel_text("Anna 8 vs Mark 4 (gap 4); Annabel, Jo-Jo", labels, Audience.OTHERS) == \
        "B 8 vs A 4 (gap 4); Annabel, Jo-Jo"
    assert relabel_text("B 8 → 4", ["B", "A"], Audience.OTHERS) == "A 8 → 4"
