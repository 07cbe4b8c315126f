"""Privacy end to end: the PHI guard on every free-text field, and notes that
never reach the database file in plain text."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from bot.runtime.bootstrap import Runtime
from bot.store.models import Case, Checkin
from tests.support.driver import SlackDriver, rating_values, text_value
from tests.support.rows import count
from tests.test_checkins_e2e import THERAPIST, create_case

RATINGS = {"A": 8, "B": 7, "unit": 8, "collective": 8}
IDENTIFYING_NOTES = [
    ("call partner B on (555) 123-4567 before next time", "a phone number"),
    ("B said to write to b.partner@example.com", "an e-mail address"),
    ("moved sessions after 12 Baker Street flood", "a street address"),
    ("see chart MRN 4820193 for the intake", "a record-number-like digit run"),
]


def checkins(runtime: Runtime) -> int:
    with runtime.services.session_factory() as session:
        return count(session, Checkin)


@pytest.mark.parametrize("note,kind", IDENTIFYING_NOTES)
def test_identifying_note_in_log_command_is_refused_and_nothing_stored(
        slack: SlackDriver, runtime: Runtime, note: str, kind: str) -> None:
    code = create_case(slack)
    reply = slack.command(THERAPIST, f'log {code} 8 7 8 8 note="{note}"')
    assert reply.ephemeral and kind in reply.text and "nothing was saved" in reply.text
    for word in note.split():
        if any(ch.isdigit() for ch in word) or "@" in word:
            assert word.strip("()") not in reply.text, "the refusal never echoes what was found"
    assert checkins(runtime) == 0


@pytest.mark.parametrize("note,kind", IDENTIFYING_NOTES[:2])
def test_identifying_note_in_modal_is_refused_inline_and_nothing_stored(
        slack: SlackDriver, runtime: Runtime, note: str, kind: str) -> None:
    code = create_case(slack)
    view = slack.open_modal(THERAPIST, code)
    values = {**rating_values(RATINGS), "note": text_value(note)}
    answer = slack.submit(THERAPIST, view, values)
    body = answer.json()
    assert answer.status == 200 and body["response_action"] == "errors", body
    assert list(body["errors"]) == ["note"], "the refusal sits on the note field; Slack keeps what was typed"
    assert kind in body["errors"]["note"] and "nothing was saved" in body["errors"]["note"]
    assert checkins(runtime) == 0
    assert slack.standin.calls_to("chat.postMessage") == []

    fixed = slack.submit(THERAPIST, view, {**rating_values(RATINGS), "note": text_value("B quieter today")})
    assert fixed.status == 200 and fixed.body in ("", "null")
    assert checkins(runtime) == 1


def test_identifying_member_label_is_refused(slack: SlackDriver, runtime: Runtime) -> None:
    reply = slack.command(THERAPIST, "new couple labels=P1,j.doe@example.com")
    assert "an e-mail address" in reply.text and "nothing was saved" in reply.text
    assert "j.doe" not in reply.text
    with runtime.services.session_factory() as session:
        assert count(session, Case) == 0


def sqlite_bytes(database_url: str) -> bytes:
    path = Path(make_url(database_url).database or "")
    return b"".join(p.read_bytes() for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists())


def test_saved_notes_leave_no_plain_text_in_the_database(slack: SlackDriver, runtime: Runtime) -> None:
    typed = "Partner B withdrew when finances came up; felt pulled to side with A"
    modal_note = "Repair attempt landed; both leaned in during the last ten minutes"
    code = create_case(slack)
    assert "Logged session 1" in slack.command(THERAPIST, f'log {code} 8 7 8 8 note="{typed}"').text
    view = slack.open_modal(THERAPIST, code)
    assert slack.submit(THERAPIST, view, {**rating_values(RATINGS), "note": text_value(modal_note)}).status == 200

    with runtime.services.session_factory() as session:
        blobs = [bytes(b) for (b,) in session.query(Checkin.note_ciphertext).order_by(Checkin.session_number)]
    assert [runtime.services.cipher.decrypt(b) for b in blobs] == [typed, modal_note], "the notes were stored"
    if make_url(runtime.settings.database_url).get_backend_name() != "sqlite":
        return
    raw = sqlite_bytes(runtime.settings.database_url)
    assert code.encode() in raw, "the bytes read are this database's (case codes are stored in clear)"
    for note in (typed, modal_note):
        for fragment in (note.encode(), note[:20].encode(), note[-20:].encode(), note.encode("utf-16-le")):
            assert fragment not in raw


@pytest.mark.parametrize("forged", ["call 555-123-4567", "Zed", "B\u202e"])
def test_a_forged_rupture_member_in_the_modal_is_refused_and_never_stored(
        slack: SlackDriver, runtime: Runtime, forged: str) -> None:
    """Issue 12: a choice field is checked against what was offered, never trusted."""
    from bot.slack.ids import Action, Block

    code = create_case(slack)
    view = slack.open_modal(THERAPIST, code)
    values = {**rating_values(RATINGS),
              Block.RUPTURE: {Action.VALUE: {"type": "static_select", "selected_option": {"value": "withdrawal"}}},
              Block.RUPTURE_WITH: {Action.VALUE: {"type": "multi_static_select",
                                                  "selected_options": [{"value": "B"}, {"value": forged}]}}}
    answer = slack.submit(THERAPIST, view, values)
    body = answer.json()
    assert answer.status == 200 and body["response_action"] == "errors", body
    assert list(body["errors"]) == [Block.RUPTURE_WITH] and "members of this case" in body["errors"][Block.RUPTURE_WITH]
    assert forged not in str(body)
    assert checkins(runtime) == 0
    bad_kind = {**rating_values(RATINGS),
                Block.RUPTURE: {Action.VALUE: {"type": "static_select", "selected_option": {"value": forged}}}}
    assert slack.submit(THERAPIST, view, bad_kind).json()["response_action"] == "errors"
    assert checkins(runtime) == 0
