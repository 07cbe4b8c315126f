"""The check-in modal: opened while the trigger is fresh, stored once."""

from __future__ import annotations

import logging
from typing import Any, Callable

from slack_bolt import Ack, App
from slack_sdk import WebClient
from sqlalchemy.exc import OperationalError, TimeoutError as PoolTimeout

from bot.access import Action as Permission
from bot.domain.errors import UserError
from bot.services import Services
from bot.slack.blocks import ephemeral
from bot.slack.checkin_modal import (
    CaseChoice,
    FieldErrors,
    build_checkin_modal,
    read_checkin_submission,
    selected_code,
)
from bot.slack.ids import Action, Block, Callback
from bot.templating import render
from bot.usecases import cases as case_uc
from bot.usecases import checkins as checkin_uc
from handlers.rating_links import links_off_once
from handlers.case_commands import after_checkin, format_scores
from handlers.errors import DATABASE_DOWN, reported, tell_user

logger = logging.getLogger(__name__)


def case_choice(session: Any, case: Any) -> CaseChoice:
    return CaseChoice(code=case.code, kind=case.kind, members=tuple(case.member_labels),
                      threads=tuple(case_uc.case_threads(case)),
                      next_session=checkin_uc.next_session_number(session, case.id))


def load_choices(services: Services, user_id: str, code: str | None) -> tuple[list[CaseChoice], CaseChoice | None, str | None]:
    """The user's active cases and the one to show; the tz for 'today'."""
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        tz = services.roles.refresh_profile(session, user_id, now).tz
        selected = None
        if code is not None:
            case = case_uc.find_case(session, actor, code, Permission.LOG_CHECKIN)
            if case.status == "closed":
                raise UserError(f"{code} is closed. Reopen it first: `/alliance reopen {code}`.")
            selected = case_choice(session, case)
        active = [case_choice(session, c) for c in case_uc.my_cases(session, user_id, ("active",))]
    if selected is None and len(active) == 1:
        selected = active[0]
    if selected is not None and all(c.code != selected.code for c in active):
        active.insert(0, selected)
    return active, selected, tz


def open_checkin_modal(services: Services, client: WebClient, trigger_id: str, user_id: str, code: str | None,
                       respond: Callable[..., Any]) -> None:
    cases, selected, tz = load_choices(services, user_id, code)
    if not cases:
        respond(**ephemeral("You have no active cases yet. Create one with `/alliance new couple`."))
        return
    client.views_open(trigger_id=trigger_id, view=build_checkin_modal(cases, selected, services.today_for(tz)))


def on_case_picked(services: Services, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    ack()
    view = body["view"]
    code = selected_code(view)
    cases, selected, tz = load_choices(services, body["user"]["id"], code)
    client.views_update(view_id=view["id"], hash=view.get("hash"),
                        view=build_checkin_modal(cases, selected, services.today_for(tz)))


def submit_checkin(services: Services, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    view = body["view"]
    user_id = body["user"]["id"]
    code = selected_code(view)
    if code is None:
        ack(response_action="errors", errors={Block.CASE: "Pick a case first."})
        return
    submission_key = f"{view['id']}:{view.get('hash', '')}"
    try:
        now = services.now()
        with services.session_factory.begin() as session:
            actor = services.roles.actor(session, user_id, now)
            case = case_uc.find_case(session, actor, code, Permission.LOG_CHECKIN)
            choice = case_choice(session, case)
            today = services.today_for(services.roles.refresh_profile(session, user_id, now).tz)
            entry = read_checkin_submission(view, choice, today)
            recorded = checkin_uc.record_checkin(session, actor, code, entry, now, services.cipher,
                                                 submission_key=submission_key, today=today)
    except FieldErrors as errors:
        ack(response_action="errors", errors=errors.errors)
        return
    except UserError as error:
        ack(response_action="errors", errors={_error_block(view, error): error.message})
        return
    except (OperationalError, PoolTimeout):
        logger.warning("database unavailable during a check-in submission")
        ack(response_action="errors", errors={_error_block(view, None): DATABASE_DOWN})
        return
    ack()
    services.after_ack.submit(lambda: confirm_checkin(services, client, user_id, recorded),
                              on_error=lambda error: tell_user(error, body, None, client))


def confirm_checkin(services: Services, client: WebClient, user_id: str, recorded: checkin_uc.RecordedCheckin) -> None:
    """A DM the therapist can find later, then the stall rules."""
    text = render("messages/checkin_logged.j2", session_number=recorded.session_number, code=recorded.code,
                  scores=format_scores(recorded.ratings), resumed=recorded.resumed, duplicate=recorded.duplicate)
    text += links_off_once(services, user_id, recorded.code)  # issue 16: said once
    client.chat_postMessage(channel=user_id, **{k: v for k, v in ephemeral(text).items() if k != "response_type"})
    if not recorded.duplicate:
        services.follow_ups.submit(lambda: after_checkin(services, recorded, user_id), on_error=lambda error: logger.error(
            "a follow-up failed after the reply: %s", type(error).__name__, exc_info=error))


FIELD_BLOCKS = {"note": Block.NOTE, "session": Block.SESSION}


def _error_block(view: dict[str, Any], error: UserError | None) -> str:
    """The input block a message belongs on: its own field, else the first rating."""
    block_ids = [b.get("block_id") for b in view.get("blocks", []) if b.get("type") == "input"]
    own = FIELD_BLOCKS.get(error.field or "") if error is not None else None
    if own in block_ids:
        return own
    return next((b for b in block_ids if b and b.startswith("rating:")), block_ids[0] if block_ids else Block.CASE)


def register(app: App, services: Services) -> None:
    @app.action(Action.CASE_PICKED)
    @reported
    def case_picked(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        on_case_picked(services, ack, body, client)

    @app.view(Callback.CHECKIN)
    @reported
    def checkin_submitted(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        submit_checkin(services, ack, body, client)
