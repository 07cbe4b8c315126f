"""What handlers and jobs are given: settings, sessions, Slack, the clock."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Callable
from zoneinfo import ZoneInfo

from slack_sdk import WebClient

from bot.store.crypto import NoteCipher
from bot.store.db import SessionFactory
from bot.slack.roles import RoleResolver
from bot.settings import Settings
from bot.slack.display_names import DisplayNames
from bot.slack.pacing import DEFAULT_PACER, ChannelPacer


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


@dataclass
class Services:
    settings: Settings
    session_factory: SessionFactory
    client: WebClient
    cipher: NoteCipher
    roles: RoleResolver
    clock: Callable[[], datetime] = field(default=utcnow)
    pacer: ChannelPacer = field(default=DEFAULT_PACER)  # one message a second per channel, process-wide
    display_names: DisplayNames = field(default_factory=DisplayNames)  # users.info, cached
    # Lookups made before an acknowledgement (bot/slack/client.py make_request_client): never
    # waits out a 429, gives up after a second. None: `client`.
    lookups: WebClient | None = None

    @property
    def lookup_client(self) -> WebClient:
        return self.lookups or self.client

    def now(self) -> datetime:
        return self.clock()

    def today_for(self, tz_name: str | None) -> date:
        try:
            zone = ZoneInfo(tz_name) if tz_name else self.settings.zone
        except (KeyError, ValueError):
            zone = self.settings.zone
        return self.now().astimezone(zone).date()
