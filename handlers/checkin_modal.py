"""The check-in modal: opened while the trigger is fresh, stored once."""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt import Ack, App, BoltContext
from slack_sdk import WebClient
from sqlalchemy.exc import OperationalError, TimeoutError as PoolTimeout

from bot.domain.errors import UserError
from bot.slack.services import Services
from bot.slack.checkin_form import case_choice, load_choices, logged_text
from bot.slack.checkin_view import FieldErrors, build_checkin_modal, read_checkin_submission, selected_code
from bot.slack.after_checkin import queue_after_checkin
from bot.slack.rating_links import links_off_once
from bot.slack.warning_outbox import queue_dm
from bot.slack.ids import Action, Block, Callback
from bot.usecases import checkins as checkin_uc
from handlers.errors import DATABASE_DOWN, Step, acknowledged, hand_over, modal_error, reported

logger = logging.getLogger(__name__)


def on_case_picked(ack: Ack, body: dict[str, Any], context: BoltContext) -> None:
    ack()  # the modal is updated after the acknowledgement
    hand_over(context, selected_code(body["view"]))


def show_picked_case(services: Services) -> Step:
    def update_checkin_modal(body: dict[str, Any], code: str | None, client: WebClient, respond: Any) -> None:
        view = body["view"]
        cases, selected, tz = load_choices(services, body["user"]["id"], code)
        client.views_update(view_id=view["id"], hash=view.get("hash"),
                            view=build_checkin_modal(cases, selected, services.today_for(tz)))

    return update_checkin_modal


def submit_checkin(services: Services, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
    view = body["view"]
    user_id = body["user"]["id"]
    code = selected_code(view)
    if code is None:
        ack(**modal_error(view, "Pick a case first.", fallback=Block.CASE))
        return
    submission_key = f"{view['id']}:{view.get('hash', '')}"
    try:
        now = services.now()
        with services.session_factory.begin() as session:
            actor, therapist = services.roles.actor_and_profile(session, user_id, now)
            today = services.today_for(therapist.tz)
            recorded = checkin_uc.log_checkin(
                session, actor, code, lambda case: read_checkin_submission(view, case_choice(session, case), today),
                now, services.cipher, submission_key=submission_key, today=today)
            if not recorded.duplicate:  # a repeated Save stored nothing and says nothing
                text = logged_text(recorded) + links_off_once(services, user_id, recorded.code)  # issue 16: said once
                queue_dm(session, user_id, text)  # a confirmation to find later
                queue_after_checkin(session, services, user_id, recorded, now)
    except FieldErrors as errors:
        ack(response_action="errors", errors=errors.errors)
        return
    except UserError as error:
        ack(**modal_error(view, error.message, error.field, FIELD_BLOCKS, _first_rating(view)))
        return
    except (OperationalError, PoolTimeout):
        logger.warning("database unavailable during a check-in submission")
        ack(**modal_error(view, DATABASE_DOWN, fallback=_first_rating(view)))
        return
    ack()  # the check-in, its confirmation DM and its warnings are committed together


FIELD_BLOCKS: dict[str, str] = {"note": Block.NOTE, "session": Block.SESSION}


def _first_rating(view: dict[str, Any]) -> str:
    """Where an error without a field of its own goes: the first rating (else the
    first input, else the case picker)."""
    block_ids = [str(b.get("block_id")) for b in view.get("blocks", []) if b.get("type") == "input"]
    return next((b for b in block_ids if b.startswith("rating:")), block_ids[0] if block_ids else Block.CASE)


def register(app: App, services: Services) -> None:
    app.action(Action.CASE_PICKED)(**acknowledged(on_case_picked, show_picked_case(services)))

    @app.view(Callback.CHECKIN)
    @reported
    def checkin_submitted(ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        submit_checkin(services, ack, body, client)
