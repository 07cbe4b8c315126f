"""Settings from the environment and a `.env` file (SPEC §8)."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dotenv import dotenv_values

DEFAULT_SLACK_API_URL = "https://slack.com/api/"
DEFAULT_DATABASE_URL = "sqlite:///alliance.db"
_ID_LIST = re.compile(r"^[A-Z0-9]+$")


class SettingsError(ValueError):
    """A setting is missing or malformed; the message names what to set."""


def _id_list(raw: str | None, name: str) -> tuple[str, ...]:
    if not raw:
        return ()
    ids = tuple(part.strip() for part in raw.split(",") if part.strip())
    for user_id in ids:
        if not _ID_LIST.match(user_id):
            raise SettingsError(f"{name} takes Slack user or user-group IDs separated by commas, e.g. U012ABCDEF,S0123GROUP")
    return ids


def _seconds(raw: str | None, default: float, name: str) -> float:
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0 < value <= 3600:
        raise SettingsError(f"{name} takes a number of seconds from 0 to 3600, such as 60")
    return value


def _public_settings(values: Mapping[str, str]) -> tuple[str | None, int, int]:
    url = (values.get("ALLIANCE_PUBLIC_URL") or "").strip().rstrip("/") or None
    if url is not None and not re.match(r"^https?://[^/\s?#]+(/[^\s?#]*)?$", url):
        raise SettingsError("ALLIANCE_PUBLIC_URL takes the address clients use to reach Alliance, "
                            "e.g. https://alliance.clinic.example (no query or fragment)")
    port_text = values.get("ALLIANCE_PUBLIC_PORT") or "8090"
    if not port_text.isdigit() or not 1 <= int(port_text) <= 65535:
        raise SettingsError(f"ALLIANCE_PUBLIC_PORT takes a port number 1-65535, not {port_text!r}")
    hours_text = values.get("ALLIANCE_RATING_LINK_HOURS") or "48"
    if not hours_text.isdigit() or not 1 <= int(hours_text) <= 24 * 14:
        raise SettingsError(f"ALLIANCE_RATING_LINK_HOURS takes whole hours from 1 to 336, not {hours_text!r}")
    return url, int(port_text), int(hours_text)


@dataclass(frozen=True)
class Settings:
    slack_bot_token: str | None = None
    slack_signing_secret: str | None = None
    slack_app_token: str | None = None
    slack_api_url: str = DEFAULT_SLACK_API_URL
    database_url: str = DEFAULT_DATABASE_URL
    encryption_key: str | None = None
    supervision_channel: str | None = None
    timezone: str = "UTC"
    supervisors: tuple[str, ...] = ()
    admins: tuple[str, ...] = ()
    outbox_lease_seconds: float = 60.0  # a sender's claim on an outbox row; expires (database clock) if it dies
    public_url: str | None = None  # ALLIANCE_PUBLIC_URL: how clients reach the rating pages (issue 16)
    public_port: int = 8090  # ALLIANCE_PUBLIC_PORT: the rating pages' own listener in Socket Mode
    rating_link_hours: int = 48  # ALLIANCE_RATING_LINK_HOURS: how long a client rating link works
    extra: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, env_file: str | Path | None = ".env") -> "Settings":
        values: dict[str, str] = {}
        if env_file is not None and Path(env_file).is_file():
            values.update({k: v for k, v in dotenv_values(env_file).items() if v is not None})
        values.update(os.environ if environ is None else environ)
        api_url = values.get("SLACK_API_URL") or DEFAULT_SLACK_API_URL
        if not api_url.endswith("/"):
            api_url += "/"
        tz = values.get("ALLIANCE_TIMEZONE") or "UTC"
        try:
            ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError):
            raise SettingsError(f"ALLIANCE_TIMEZONE must be an IANA time zone name such as Europe/Berlin, not {tz!r}") from None
        channel = values.get("ALLIANCE_SUPERVISION_CHANNEL") or None
        if channel and not re.match(r"^[CG][A-Z0-9]{2,}$", channel):
            raise SettingsError("ALLIANCE_SUPERVISION_CHANNEL takes a channel ID such as C0123ABCD (not a #name)")
        public_url, public_port, link_hours = _public_settings(values)
        return cls(
            slack_bot_token=values.get("SLACK_BOT_TOKEN") or None,
            slack_signing_secret=values.get("SLACK_SIGNING_SECRET") or None,
            slack_app_token=values.get("SLACK_APP_TOKEN") or None,
            slack_api_url=api_url,
            database_url=values.get("DATABASE_URL") or DEFAULT_DATABASE_URL,
            encryption_key=values.get("ALLIANCE_ENCRYPTION_KEY") or None,
            supervision_channel=channel,
            timezone=tz,
            supervisors=_id_list(values.get("ALLIANCE_SUPERVISORS"), "ALLIANCE_SUPERVISORS"),
            admins=_id_list(values.get("ALLIANCE_ADMINS"), "ALLIANCE_ADMINS"),
            outbox_lease_seconds=_seconds(values.get("ALLIANCE_OUTBOX_LEASE_SECONDS"), 60.0,
                                          "ALLIANCE_OUTBOX_LEASE_SECONDS"),
            public_url=public_url, public_port=public_port, rating_link_hours=link_hours,
        )

    def missing_for_serving(self, socket_mode: bool) -> list[str]:
        """The settings `serve` cannot start without, by name."""
        needed = {"SLACK_BOT_TOKEN": self.slack_bot_token}
        if socket_mode:
            needed["SLACK_APP_TOKEN"] = self.slack_app_token
        else:
            needed["SLACK_SIGNING_SECRET"] = self.slack_signing_secret
        return [name for name, value in needed.items() if not value]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)
