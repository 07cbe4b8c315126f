"""Who is asking, read on every request (bot/slack/roles.py `actor_and_profile`): their
therapist row as plain columns while Slack's answer about them is fresh, asked of Slack
again after a day, and a check-in's transaction that read the row does not look it up
a second time (bot/usecases/therapists.py `ensure_therapist_row`)."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, Iterator

import pytest
from sqlalchemy import event, select

from bot.runtime.bootstrap import Runtime
from bot.domain.access import Actor
from bot.domain.cases import CaseKind, thread_names
from bot.store.models import Therapist
from bot.usecases.cases import create_case
from bot.usecases.checkins import log_checkin
from bot.domain.checkin_input import CheckinInput
from tests.conftest import Clock
from tests.support.slack_standin import SlackStandIn, User

ASKER = "U0ASKER01"


@pytest.fixture
def therapist_reads(runtime: Runtime) -> Iterator[list[str]]:
    """The statements that read the therapists table, as they run."""
    seen: list[str] = []

    def note(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.lstrip().upper().startswith("SELECT") and "therapists" in statement:
            seen.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", note)
    yield seen
    event.remove(runtime.engine, "before_cursor_execute", note)


def test_a_fresh_profile_is_read_without_asking_slack_and_a_day_old_one_is_asked_again(
        runtime: Runtime, standin: SlackStandIn, clock: Clock) -> None:
    standin.users[ASKER] = User(tz="Europe/Lisbon", is_admin=True)
    roles, sessions = runtime.services.roles, runtime.services.session_factory

    with sessions.begin() as session:  # a newcomer: Slack is asked, the row written
        actor, profile = roles.actor_and_profile(session, ASKER, clock())
    assert (profile.tz, profile.is_workspace_admin, actor.is_admin) == ("Europe/Lisbon", True, True)
    assert len(standin.calls_to("users.info")) == 1

    standin.users[ASKER] = User(tz="Asia/Tokyo")  # Slack's answer changes; the stored one is still fresh
    clock.now += timedelta(hours=23)
    with sessions.begin() as session:
        actor, profile = roles.actor_and_profile(session, ASKER, clock())
    assert (profile.tz, actor.is_admin) == ("Europe/Lisbon", True)
    assert len(standin.calls_to("users.info")) == 1  # not asked again within the day

    clock.now += timedelta(hours=2)  # a day and an hour since Slack was asked
    with sessions.begin() as session:
        actor, profile = roles.actor_and_profile(session, ASKER, clock())
    assert (profile.tz, profile.is_workspace_admin, actor.is_admin) == ("Asia/Tokyo", False, False)
    assert len(standin.calls_to("users.info")) == 2
    with sessions() as session:
        stored = session.scalars(select(Therapist).where(Therapist.user_id == ASKER)).one()
        assert (stored.tz, stored.is_workspace_admin, stored.tz_checked_at) == ("Asia/Tokyo", False, clock())


def test_a_check_in_after_reading_the_asker_does_not_look_them_up_again(
        runtime: Runtime, clock: Clock, therapist_reads: list[str]) -> None:
    sessions, roles = runtime.services.session_factory, runtime.services.roles
    with sessions.begin() as session:
        roles.actor_and_profile(session, ASKER, clock())  # the row and Slack's answer, stored
        code = create_case(session, Actor(user_id=ASKER), CaseKind.COUPLE, 2, (), clock()).code
    entry = CheckinInput(ratings=dict.fromkeys(thread_names(["A", "B"]), 8))

    therapist_reads.clear()
    with sessions.begin() as session:
        actor, _ = roles.actor_and_profile(session, ASKER, clock())
        log_checkin(session, actor, code, lambda case: entry, clock(), runtime.services.cipher)
    assert len(therapist_reads) == 1, therapist_reads  # the asker's row, read once

    # Without the read before it, the check-in still makes sure the therapist has a row.
    newcomer = Actor(user_id="U0NEWCOM2")
    with sessions.begin() as session:
        shared = create_case(session, newcomer, CaseKind.COUPLE, 2, (), clock()).code
        log_checkin(session, newcomer, shared, lambda case: entry, clock(), runtime.services.cipher)
    with sessions() as session:
        assert session.get(Therapist, "U0NEWCOM2") is not None
