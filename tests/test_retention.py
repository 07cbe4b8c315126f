"""Retention: closed cases are purged after the configured number of days."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from bot.domain.access import Actor
from bot.runtime.bootstrap import Runtime
from bot.domain.cases import CaseKind
from bot.domain.checkin_input import CheckinInput
from bot.domain.errors import Forbidden, UserError
from bot.store.models import AuditEntry, Case, Checkin, Flag, WorkspaceSetting
from bot.usecases import cases as case_uc
from bot.usecases import checkins as checkin_uc
from bot.slack.warning_outbox import REMOVED_TEXT
from bot.slack.warning_outbox import queue_removed_notices
from tests.support.outbox import drain_outbox
from bot.usecases.retention import (
    DEFAULT_RETENTION_DAYS,
    purge_closed_cases,
    retention_days,
    set_retention_days,
    thread_roots,
)
from tests.support.rows import count, rows_mentioning
from tests.support.slack_standin import SlackStandIn

THERAPIST = Actor("U0THERA01")


def make_case(runtime: Runtime, now: datetime, closed_days_ago: int | None) -> str:
    services = runtime.services
    with services.session_factory.begin() as session:
        case = case_uc.create_case(session, THERAPIST, CaseKind.COUPLE, 2, (), now - timedelta(days=800))
        checkin_uc.record_checkin(session, THERAPIST, case.code, CheckinInput(
            ratings={"A": 8, "B": 7, "unit": 8, "collective": 8}, note="went well"), now - timedelta(days=800),
            services.cipher)
        session.add(Flag(case_id=case.id, rule="Low alliance", status="resolved", open_slot=None, route="dm",
                         evidence=[], opened_at=now, updated_at=now, participants=[], channel_id="C0SUPERV1",
                         message_ts=f"17000000{case.id:02d}.000100"))
        if closed_days_ago is not None:
            case.status = "closed"
            case.closed_at = now - timedelta(days=closed_days_ago)
        return case.code


def set_retention(runtime: Runtime, value: str, now: datetime) -> None:
    with runtime.services.session_factory.begin() as session:
        session.merge(WorkspaceSetting(key="retention_days", value=value, updated_by="U0ADMIN01", updated_at=now))


def test_closed_cases_are_purged_after_the_retention_days(runtime: Runtime, standin: SlackStandIn) -> None:
    now = runtime.services.now()
    old = make_case(runtime, now, closed_days_ago=DEFAULT_RETENTION_DAYS + 1)
    recent = make_case(runtime, now, closed_days_ago=DEFAULT_RETENTION_DAYS - 1)
    active = make_case(runtime, now, closed_days_ago=None)

    with runtime.services.session_factory.begin() as session:
        purged = purge_closed_cases(session, now)
        assert queue_removed_notices(session, thread_roots(purged)) == 1  # queued with the deletion
    assert [p.code for p in purged] == [old]
    drain_outbox(runtime)
    assert standin.calls_to("chat.update")[0].args["text"] == REMOVED_TEXT

    with runtime.services.session_factory() as session:
        assert {c for (c,) in session.query(Case.code)} == {recent, active}
        assert count(session, Checkin) == 2 and count(session, Flag) == 2
        mentions = rows_mentioning(session, old)
        assert [(t, r["action"], r["actor_id"]) for t, r in mentions] == [("audit_log", "purge_case", "alliance")]
        assert count(session, AuditEntry, AuditEntry.action == "create_case", AuditEntry.case_code.is_(None)) == 1

    with runtime.services.session_factory.begin() as session:
        assert purge_closed_cases(session, now) == []  # a rerun purges nothing more


def test_the_workspace_setting_decides_and_zero_keeps_forever(runtime: Runtime) -> None:
    now = runtime.services.now()
    code = make_case(runtime, now, closed_days_ago=40)
    with runtime.services.session_factory() as session:
        assert retention_days(session) == DEFAULT_RETENTION_DAYS
    for value, expected in (("0", 0), ("not a number", DEFAULT_RETENTION_DAYS), ("-3", DEFAULT_RETENTION_DAYS)):
        set_retention(runtime, value, now)
        with runtime.services.session_factory.begin() as session:
            assert retention_days(session) == expected
            assert purge_closed_cases(session, now) == []
    set_retention(runtime, "30", now)
    with runtime.services.session_factory.begin() as session:
        assert [p.code for p in purge_closed_cases(session, now)] == [code]
    with runtime.services.session_factory.begin() as session:
        assert purge_closed_cases(session, now + timedelta(days=5000), days=0) == []


def test_only_admins_set_retention_and_it_is_audited(runtime: Runtime) -> None:
    now = runtime.services.now()
    with runtime.services.session_factory.begin() as session:
        with pytest.raises(Forbidden):
            set_retention_days(session, Actor("U0SUPER01", is_supervisor=True), "30", now)
        for bad in ("-1", "ten", "99999", ""):
            with pytest.raises(UserError, match="whole number of days"):
                set_retention_days(session, Actor("U0ADMIN01", is_admin=True), bad, now)
        assert set_retention_days(session, Actor("U0ADMIN01", is_admin=True), " 90 ", now) == 90
    with runtime.services.session_factory.begin() as session:
        assert retention_days(session) == 90
        assert set_retention_days(session, Actor("U0ADMIN01", is_admin=True), "0", now) == 0
    with runtime.services.session_factory() as session:
        assert retention_days(session) == 0
        entries = session.query(AuditEntry.actor_id, AuditEntry.detail).filter_by(action="config_retention_days").all()
        assert entries == [("U0ADMIN01", "90"), ("U0ADMIN01", "0")]
