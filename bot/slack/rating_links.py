"""Client rating links in the therapist's DM (issue 16): after a check-in, and on
`/alliance rate CASE`. One link and QR code per member, and a kiosk link.

They go through the outbox: the transaction that stores the check-in (or answers
`rate`) queues a row naming the check-in, and the deliverer makes the links when it
sends them (`upload_rating_links`). A link's token is never stored — only its hash —
so it cannot wait in the outbox; a retry makes fresh links, and the earlier ones for
that session stop working, as `rate` always did."""

from __future__ import annotations

import logging
import threading
import weakref
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.slack.qr import link_url, qr_png
from bot.slack.services import Services
from bot.slack.blocks import ephemeral
from bot.slack.templating import link, render
from bot.usecases import rating_links as links_uc
from bot.settings import Settings
from bot.store import outbox

logger = logging.getLogger(__name__)

RATING_LINKS = "rating_links"


def queue_rating_links(session: Session, settings: Settings, user_id: str, checkin_id: int) -> int | None:
    """Queue a check-in's links for its therapist's DM (when ALLIANCE_PUBLIC_URL is set)."""
    if settings.public_url is None:
        return None
    return outbox.enqueue(session, "upload", user_id, {"upload": RATING_LINKS, "checkin_id": checkin_id})


def upload_rating_links(services: Services, client: WebClient, user_id: str,
                        payload: dict[str, Any]) -> tuple[str | None, str | None]:
    """The deliverer's side: make the session's links now and send them with their
    QR codes. Nothing to send (a closed case, every member answered): (None, None)."""
    public_url = services.settings.public_url
    if public_url is None:
        return None, None
    with services.session_factory.begin() as session:
        issued = links_uc.issue_for_checkin(session, int(payload["checkin_id"]), user_id, services.now(),
                                            services.settings.rating_link_hours)
    if issued is None or not issued.members:
        return None, None
    return deliver_links(services, client, user_id, public_url, issued), None


# Therapists told, per running app (keyed by its session factory): a restart tells them once more.
_told_links_off: weakref.WeakKeyDictionary[Any, set[str]] = weakref.WeakKeyDictionary()
_told_lock = threading.Lock()


def links_off_once(services: Services, user_id: str, code: str) -> str:
    """Without ALLIANCE_PUBLIC_URL, a paragraph for the check-in confirmation saying
    that client rating links are off: the first time for each therapist, then ""."""
    if services.settings.public_url is not None:
        return ""
    with _told_lock:
        told = _told_links_off.setdefault(services.session_factory, set())
        if user_id in told:
            return ""
        told.add(user_id)
    return "\n\n" + render("messages/rating_links_off.j2", code=code, once=True)


def _message(text: str) -> dict[str, Any]:
    return {key: value for key, value in ephemeral(text).items() if key != "response_type"}


def deliver_links(services: Services, client: WebClient, user_id: str, public_url: str,
                  issued: links_uc.IssuedLinks) -> str:
    """The links as a DM, then their QR codes as PNG files in the same DM (a Slack
    image block needs a public image URL; an upload does not)."""
    members = [(member, link(link_url(public_url, token), link_url(public_url, token)))
               for member, token in issued.members]
    kiosk_url = link_url(public_url, issued.kiosk) if issued.kiosk else None
    text = render("messages/rating_links.j2", code=issued.code, session_number=issued.session_number,
                  hours=services.settings.rating_link_hours, members=members,
                  kiosk=link(kiosk_url, kiosk_url) if kiosk_url else "",
                  already=", ".join(issued.already_answered))
    channel = str(client.conversations_open(users=user_id)["channel"]["id"])
    client.chat_postMessage(channel=channel, **_message(text))
    uploads = [{"file": qr_png(link_url(public_url, token)), "filename": f"{issued.code}-s{issued.session_number}-{member}.png",
                "title": f"{issued.code} session {issued.session_number}: member {member}",
                "alt_txt": f"QR code of member {member}'s rating link"}
               for member, token in issued.members]
    if kiosk_url is not None:
        uploads.append({"file": qr_png(kiosk_url), "filename": f"{issued.code}-s{issued.session_number}-tablet.png",
                        "title": f"{issued.code} session {issued.session_number}: clinic tablet",
                        "alt_txt": "QR code of the clinic tablet's rating link"})
    client.files_upload_v2(channel=channel, file_uploads=uploads)
    logger.info("rating links for session %d of %s sent: %d member(s)%s", issued.session_number, issued.code,
                len(issued.members), " and a kiosk" if kiosk_url else "")
    return channel
