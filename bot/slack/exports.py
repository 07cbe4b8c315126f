"""`/alliance export` through the outbox: the command checks access and queues a row
naming WHAT to export (whose export; never the CSV itself), and acknowledges at
once; the deliverer renders the file when it sends it, after checking access again
(someone who lost it meanwhile gets a one-line DM and no file), uploads it to the
person's DM, and only then records the export in the audit log."""

from __future__ import annotations

import logging
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.domain.errors import Forbidden
from bot.slack.blocks import fallback
from bot.slack.services import Services
from bot.slack.templating import render
from bot.store import outbox
from bot.usecases import audit
from bot.usecases import export as export_uc

logger = logging.getLogger(__name__)

EXPORT_UPLOAD = "export"  # payload["upload"]


def queue_export(session: Session, user_id: str) -> int | None:
    """In the command's transaction, after its access check."""
    return outbox.enqueue(session, "upload", user_id, {"upload": EXPORT_UPLOAD, "user": user_id})


def upload_export(services: Services, client: WebClient, channel: str,
                  payload: dict[str, Any]) -> tuple[str | None, str | None]:
    """Render the export for the person who asked, as they may see it now, and upload it."""
    user_id = str(payload["user"])
    now = services.now()
    dm = str(client.conversations_open(users=user_id)["channel"]["id"])
    try:
        with services.session_factory.begin() as session:  # read only: audited once the file has left
            actor = services.roles.actor(session, user_id, now)
            file = export_uc.build_export(session, actor, now, audited=False, name_of=lambda therapist: (
                services.display_names.name_of(services.client, therapist, now)))
    except Forbidden:
        logger.info("an export was not sent: its requester may no longer export")
        response = client.chat_postMessage(channel=dm, text=fallback(render("messages/export_refused.j2")))
        return dm, str(response.get("ts"))
    client.files_upload_v2(channel=dm, content=file.content, filename=file.filename, title=file.filename,
                           initial_comment=render("messages/export_comment.j2", checkins=file.checkins,
                                                  flags=file.flags, cases=file.cases))
    with services.session_factory.begin() as session:
        audit.record(session, user_id, export_uc.EXPORT_ACTION, now, detail=export_uc.export_detail(file))
    return dm, None
