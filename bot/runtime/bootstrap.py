"""Builds the running pieces from settings: engine, services, the Bolt app."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from bot.store.crypto import NoteCipher, generate_key
from bot.store.db import REQUEST_WAITS, Waits, make_engine, make_session_factory
from bot.slack.roles import RoleResolver
from bot.slack.services import Services
from bot.settings import Settings, SettingsError
from bot.slack.client import make_client

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


def build_runtime(settings: Settings, dev: bool = False, cipher: NoteCipher | None = None,
                  waits: Waits = REQUEST_WAITS) -> Runtime:
    """`waits`: how long the database may keep a statement waiting (REQUEST_WAITS for
    what answers Slack, JOB_WAITS for the scheduler and the CLI)."""
    engine = make_engine(settings.database_url, waits=waits)
    client = make_client(settings)
    services = Services(
        settings=settings,
        session_factory=make_session_factory(engine),
        client=client,
        cipher=cipher or load_cipher(settings, dev),
        roles=RoleResolver(settings, client),
    )
    return Runtime(settings=settings, engine=engine, services=services)
