"""Builds the running pieces from settings: engine, services, the Bolt app."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from bot.runtime.capacity import POOL_OVERFLOW, POOL_SIZE
from bot.store.crypto import NoteCipher, generate_key
from bot.store.db import REQUEST_WAITS, Waits, make_engine, make_session_factory
from bot.slack.roles import RoleResolver
from bot.slack.services import Services
from bot.settings import Settings, SettingsError
from bot.slack.client import DELIVERY_TIMEOUT, make_client, make_delivery_client, make_request_client
from bot.slack.outbox_delivery import Deliverer
from bot.slack.exports import EXPORT_UPLOAD, upload_export
from bot.slack.rating_links import RATING_LINKS, upload_rating_links

logger = logging.getLogger(__name__)
DEV_KEY_FILE = Path(".alliance-dev-key")


@dataclass
class Runtime:
    settings: Settings
    engine: Engine
    services: Services


def load_cipher(settings: Settings, dev: bool, key_file: Path = DEV_KEY_FILE) -> NoteCipher:
    """The note key from ALLIANCE_ENCRYPTION_KEY; only with `dev`, a generated one
    kept in a local file (and said so)."""
    if settings.encryption_key:
        return NoteCipher.from_text(settings.encryption_key)
    if not dev:
        raise SettingsError(
            "ALLIANCE_ENCRYPTION_KEY is not set: private notes cannot be stored. "
            "Make one with `alliance-bot keys generate`, or pass --dev to use a throwaway key for development."
        )
    if not key_file.exists():
        key_file.write_text(generate_key() + "\n")
        os.chmod(key_file, 0o600)
        logger.warning("development mode: generated a note key in %s (do not use with real data)", key_file)
    else:
        logger.warning("development mode: using the note key in %s", key_file)
    return NoteCipher.from_text(key_file.read_text().strip())


def make_deliverer(runtime: Runtime, client_timeout: int = DELIVERY_TIMEOUT, **options: Any) -> Deliverer:
    """The outbox deliverer for this process (bot/slack/outbox_delivery.py): its own
    client, which never repeats a call on its own (a repeat is the deliverer's
    decision, after it looked for the first attempt's post)."""
    services = runtime.services
    options.setdefault("lease_seconds", runtime.settings.outbox_lease_seconds)
    options.setdefault("uploaders", {
        RATING_LINKS: lambda client, channel, payload: upload_rating_links(
            services, client, channel, payload),  # links are made as they are sent: tokens are never stored
        EXPORT_UPLOAD: lambda client, channel, payload: upload_export(
            services, client, channel, payload)})  # rendered as it is sent, access checked again
    return Deliverer(runtime.engine, services.session_factory, make_delivery_client(runtime.settings, client_timeout),
                     lambda: services.pacer, admins=services.roles.admin_ids, today=services.now, **options)


def build_runtime(settings: Settings, dev: bool = False, cipher: NoteCipher | None = None,
                  waits: Waits = REQUEST_WAITS) -> Runtime:
    """`waits`: how long the database may keep a statement waiting (REQUEST_WAITS for
    what answers Slack, JOB_WAITS for the scheduler and the CLI). The pool has a
    connection for every thread of a serving process that may use it (capacity.py)."""
    engine = make_engine(settings.database_url, waits=waits, pool_size=POOL_SIZE, max_overflow=POOL_OVERFLOW)
    client = make_client(settings)
    lookups = make_request_client(settings)  # before an acknowledgement: never waits out Slack
    services = Services(
        settings=settings,
        session_factory=make_session_factory(engine),
        client=client,
        cipher=cipher or load_cipher(settings, dev),
        roles=RoleResolver(settings, lookups),
        lookups=lookups,
    )
    return Runtime(settings=settings, engine=engine, services=services)
