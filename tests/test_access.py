"""Who may do what (SPEC §2): a (role × action) table, with roles resolved the way
the running bot resolves them — settings, user groups and `users.info`."""

from __future__ import annotations

from typing import Iterator

import pytest

from bot.domain.access import Actor, CaseAccess, Permission, allowed, require
from bot.runtime.bootstrap import Runtime, build_runtime
from bot.store.crypto import NoteCipher
from bot.domain.errors import Forbidden
from bot.store.models import AuditEntry, Case, CaseShare, Checkin
from tests.conftest import Clock, make_settings
from tests.support.driver import SlackDriver, rating_values
from tests.support.rows import count, table_counts
from tests.support.slack_standin import SlackStandIn, User
from tests.test_checkins_e2e import THERAPIST, create_case

SHARED = "U0THERA02"
STRANGER = "U0THERA03"
SUPERVISOR = "U0SUPER01"
GROUP_SUPERVISOR = "U0GRPSUP1"
ADMIN = "U0ADMIN01"
GROUP_ADMIN = "U0GRPADM1"
WORKSPACE_ADMIN = "U0WSADM01"
WORKSPACE_OWNER = "U0WSOWN01"
SUPERVISOR_GROUP = "S0SUPGRP1"
ADMIN_GROUP = "S0ADMGRP1"

CASE = CaseAccess(owner_id=THERAPIST, shared_with=frozenset({SHARED}))

A = Permission
ALL_ACTIONS = tuple(Permission)
# role: the actions it is allowed; every other action is refused
TABLE: dict[str, set[Permission]] = {
    THERAPIST: {A.VIEW_CASE, A.LOG_CHECKIN, A.MANAGE_CASE, A.LEAD_CASE, A.FORGET_CASE, A.HANDLE_FLAG},
    SHARED: {A.VIEW_CASE, A.LOG_CHECKIN, A.MANAGE_CASE, A.HANDLE_FLAG},
    STRANGER: set(),
    SUPERVISOR: {A.VIEW_CASE, A.HANDLE_FLAG, A.EXPORT, A.TEAM_OVERVIEW},
    GROUP_SUPERVISOR: {A.VIEW_CASE, A.HANDLE_FLAG, A.EXPORT, A.TEAM_OVERVIEW},
    ADMIN: {A.VIEW_CASE, A.FORGET_CASE, A.LEAD_CASE, A.HANDLE_FLAG, A.CHANGE_CONFIG, A.EXPORT, A.TEAM_OVERVIEW},
    GROUP_ADMIN: {A.VIEW_CASE, A.FORGET_CASE, A.LEAD_CASE, A.HANDLE_FLAG, A.CHANGE_CONFIG, A.EXPORT, A.TEAM_OVERVIEW},
    WORKSPACE_ADMIN: {A.VIEW_CASE, A.FORGET_CASE, A.LEAD_CASE, A.HANDLE_FLAG, A.CHANGE_CONFIG, A.EXPORT, A.TEAM_OVERVIEW},
    WORKSPACE_OWNER: {A.VIEW_CASE, A.FORGET_CASE, A.LEAD_CASE, A.HANDLE_FLAG, A.CHANGE_CONFIG, A.EXPORT, A.TEAM_OVERVIEW},
}


@pytest.fixture
def roles_runtime(standin: SlackStandIn, sqlite_url: str, clock: Clock) -> Iterator[Runtime]:
    standin.usergroups[SUPERVISOR_GROUP] = [GROUP_SUPERVISOR]
    standin.usergroups[ADMIN_GROUP] = [GROUP_ADMIN]
    standin.users[WORKSPACE_ADMIN] = User(is_admin=True)
    standin.users[WORKSPACE_OWNER] = User(is_owner=True)
    settings = make_settings(standin, sqlite_url, supervisors=(SUPERVISOR, SUPERVISOR_GROUP), admins=(ADMIN, ADMIN_GROUP))
    built = build_runtime(settings, cipher=NoteCipher.from_text(settings.encryption_key or ""))
    built.services.clock = clock
    yield built
    built.engine.dispose()


def resolve(runtime: Runtime, user_id: str) -> Actor:
    with runtime.services.session_factory.begin() as session:
        return runtime.services.roles.actor(session, user_id, runtime.services.now())


@pytest.mark.parametrize("user_id", list(TABLE))
def test_role_by_action_table(roles_runtime: Runtime, user_id: str) -> None:
    actor = resolve(roles_runtime, user_id)
    for action in ALL_ACTIONS:
        expected = action in TABLE[user_id]
        assert allowed(actor, action, CASE) is expected, (user_id, action)
        if expected:
            require(actor, action, CASE, "CPL-7KQ2")
        else:
            with pytest.raises(Forbidden):
                require(actor, action, CASE, "CPL-7KQ2")


def test_roles_come_from_settings_groups_and_users_info(roles_runtime: Runtime, standin: SlackStandIn) -> None:
    assert resolve(roles_runtime, GROUP_SUPERVISOR) == Actor(GROUP_SUPERVISOR, is_supervisor=True, is_admin=False)
    assert resolve(roles_runtime, GROUP_ADMIN) == Actor(GROUP_ADMIN, is_supervisor=False, is_admin=True)
    assert resolve(roles_runtime, WORKSPACE_ADMIN) == Actor(WORKSPACE_ADMIN, is_supervisor=False, is_admin=True)
    assert resolve(roles_runtime, STRANGER) == Actor(STRANGER)
    listed = {c.args["usergroup"] for c in standin.calls_to("usergroups.users.list")}
    assert listed == {SUPERVISOR_GROUP, ADMIN_GROUP}
    assert {c.args["user"] for c in standin.calls_to("users.info")} >= {WORKSPACE_ADMIN, STRANGER}


def test_without_a_case_only_roles_count() -> None:
    assert not allowed(Actor(THERAPIST), Permission.LOG_CHECKIN)
    assert not allowed(Actor(THERAPIST), Permission.FORGET_CASE)
    assert allowed(Actor(ADMIN, is_admin=True), Permission.FORGET_CASE)


def test_unrelated_therapist_is_refused_every_case_command(slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    slack.command(THERAPIST, f'log {code} 8 7 8 8 note="quiet session"')
    with runtime.services.session_factory() as session:
        before = table_counts(session)
    for text in (f"log {code} 8 7 8 8", f"history {code}", f"share {code} <@{STRANGER}>", f"pause {code}",
                 f"close {code}", f"reopen {code}", f"forget {code}", code):
        reply = slack.command(STRANGER, text)
        assert f"{code} is not among your cases" in reply.text, (text, reply.text)
    for text in (f"log {code} 8 7 8 8", f"share {code} <@{STRANGER}>", f"pause {code}"):
        assert "not among your cases" in slack.command(SUPERVISOR, text).text, text
    with runtime.services.session_factory() as session:
        after = table_counts(session)
    assert after == before, "a refusal changes nothing"


def test_forged_modal_for_someone_elses_case_is_refused(slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    view = slack.open_modal(THERAPIST, code)
    answer = slack.submit(STRANGER, view, rating_values({"A": 8, "B": 7, "unit": 8, "collective": 8}))
    body = answer.json()
    assert body["response_action"] == "errors" and "not among your cases" in str(body["errors"])
    with runtime.services.session_factory() as session:
        assert count(session, Checkin) == 0


def test_non_supervisor_is_refused_export_and_a_supervisor_read_is_audited(slack: SlackDriver, runtime: Runtime) -> None:
    code = create_case(slack)
    slack.command(THERAPIST, f"share {code} <@{SHARED}>")
    for user in (THERAPIST, SHARED):
        assert "Only supervisors and admins can export." in slack.command(user, "export").text
    assert slack.standin.calls_to("files.getUploadURLExternal") == []
    slack.command(SHARED, f"history {code}")  # the case's own therapists are not audited
    slack.command(SUPERVISOR, f"history {code}")
    with runtime.services.session_factory() as session:
        reads = session.query(AuditEntry.actor_id).filter_by(action="read_case", case_code=code).all()
        assert reads == [(SUPERVISOR,)]
        assert count(session, Case) == 1 and count(session, CaseShare) == 1
