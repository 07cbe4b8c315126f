"""Socket Mode with redeliveries answered once: an envelope Slack sends again (the
same envelope_id, e.g. with retry_attempt) is acknowledged with the first answer and
not dispatched again, through the same `seen_requests` table as HTTP replays. An
envelope answered with a failure (an event that could not be stored answers 500) is
not acknowledged, so Slack sends it again: its claim is released for that delivery.
An event whose first delivery never answered (its process died, or the release
failed) is left unacknowledged while that claim is fresh and taken over once it is
stale (`STALE_CLAIM`), so a redelivery is never acknowledged empty and lost."""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any

from slack_bolt import App, BoltResponse
from slack_bolt.adapter.socket_mode import SocketModeHandler
from slack_bolt.adapter.socket_mode.internals import run_bolt_app, send_response
from slack_sdk.socket_mode.request import SocketModeRequest
from slack_sdk.socket_mode.response import SocketModeResponse
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.runtime.replays import Purger, engine_of, first_answer, logger
from bot.slack.services import Services
from bot.store import seen_requests as seen


EVENTS = "events_api"
# An envelope's claim older than this with no answer belongs to a delivery that will never
# answer (its process died, or its failure could not release the claim): every request
# path answers within Slack's 3 s. A redelivered event then takes the claim over and is
# dispatched; the event's own `event_id` claim keeps its change from being made twice.
# Commands and interactions are not taken over: their envelope claim is their only guard.
STALE_CLAIM = timedelta(seconds=10)


def envelope_key(envelope_id: str) -> str:
    return seen.request_key("socket-mode-envelope", envelope_id)


def _take_over(engine: Engine, key: str) -> bool:
    try:
        taken = seen.take_over(engine, key, STALE_CLAIM)
    except SQLAlchemyError as error:
        logger.warning("could not take over a stale envelope claim: %s", type(error).__name__)
        return False
    if taken:
        logger.info("took over the claim of an event whose first delivery never answered")
    return taken


class AllianceSocketModeHandler(SocketModeHandler):
    def __init__(self, app: App, app_token: str | None, services: Services) -> None:
        super().__init__(app, app_token, web_client=services.client)
        self._services = services
        self._purger = Purger()

    def handle(self, client: Any, req: SocketModeRequest) -> None:
        started = time.time()
        engine = engine_of(self._services)
        key = envelope_key(str(req.envelope_id))
        try:
            first = seen.claim(engine, key, int(started))
        except SQLAlchemyError as error:
            logger.warning("redelivery check skipped, the database did not take the claim: %s", type(error).__name__)
            first = True
            key = ""
        if not first and req.type == EVENTS and _take_over(engine, key):
            first = True  # its first copy died or failed unreleased: this delivery is dispatched
        if not first:
            answer = first_answer(engine, self._services, key)
            if answer is None and req.type == EVENTS:
                logger.info("a redelivered event's first copy has not answered; left unacknowledged for Slack to send again")
                return
            if answer is None:
                client.send_socket_mode_response(SocketModeResponse(envelope_id=req.envelope_id))
                return
            send_response(client, req, BoltResponse(status=answer.status, body=answer.body.decode(),
                                                    headers=dict(answer.headers)), started)
            return
        try:
            response: BoltResponse = run_bolt_app(self.app, req)
        except BaseException:
            if key:
                seen.release(engine, key)
            raise
        if key and response.status != 200:  # not acknowledged (an event that failed): Slack sends it again,
            try:  # and that delivery is dispatched again
                seen.release(engine, key)
            except SQLAlchemyError as error:
                logger.warning("could not release the claim of a failed envelope: %s", type(error).__name__)
            key = ""
        if key:
            headers = [(name, str(values[0] if isinstance(values, list) else values))
                       for name, values in (response.headers or {}).items()]
            body = response.body if isinstance(response.body, str) else json.dumps(response.body)
            try:
                seen.record(engine, self._services.cipher, key, seen.Answer(response.status, headers,
                                                                             (body or "").encode()))
            except SQLAlchemyError as error:
                logger.warning("could not store the answer to an envelope: %s", type(error).__name__)
            self._purger.now_and_then(engine)
        send_response(client, req, response, started)
