"""Plan and resolution notes reach the case's own therapists, sealed under their contexts."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from bot.runtime.bootstrap import Runtime
from bot.store.models import Case, Flag, RepairPlan
from bot.usecases.flag_actions import PLAN_NOTE_CONTEXT, RESOLUTION_NOTE_CONTEXT
from tests.conftest import SUPERVISOR
from tests.support.driver import SlackDriver
from tests.test_checkins_e2e import THERAPIST, create_case


def test_history_shows_plan_and_resolution_notes_to_the_therapist_only(slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    services = runtime.services
    now = services.now()
    with services.session_factory.begin() as session:
        case = session.scalar(select(Case).where(Case.code == code))
        assert case is not None
        flag = Flag(case_id=case.id, rule="split_alliance", status="resolved", open_slot=None, route="supervision",
                    evidence=[], opened_at=now, updated_at=now, participants=[], resolution="repaired",
                    resolved_at=now, resolved_by=THERAPIST,
                    resolution_note_ciphertext=services.cipher.encrypt("named the side-taking", RESOLUTION_NOTE_CONTEXT))
        session.add(flag)
        session.flush()
        session.add(RepairPlan(flag_id=flag.id, action="individual_checkin", due_on=date(2026, 11, 27),
                               note_ciphertext=services.cipher.encrypt("ask B about airtime", PLAN_NOTE_CONTEXT),
                               created_by=THERAPIST, created_at=now))
    own = slack.command(THERAPIST, f"history {code}").text
    assert "Plan, a brief individual check-in with one member by 2026-11-27: ask B about airtime" in own
    assert "Split alliance, repaired: named the side-taking" in own
    supervised = slack.command(SUPERVISOR, f"history {code}").text
    assert "airtime" not in supervised and "side-taking" not in supervised


def test_a_note_under_an_earlier_key_is_named_not_fatal(slack: SlackDriver, runtime: Runtime) -> None:
    from bot.store.crypto import NoteCipher, generate_key
    from bot.store.models import Checkin

    code = create_case(slack)
    slack.command(THERAPIST, f'log {code} 8 7 8 8 note="first note"')
    with runtime.services.session_factory.begin() as session:
        row = session.scalar(select(Checkin))
        assert row is not None
        row.note_ciphertext = NoteCipher.from_text(generate_key()).encrypt("under another key")
    text = slack.command(THERAPIST, f"history {code}").text
    assert "Session 1: (sealed under an earlier key" in text and "1 check-in" in text
