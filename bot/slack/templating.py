"""Jinja renders text, Python builds structure (STYLE point 4).

Templates under the repo-level ``templates/`` directory produce Slack mrkdwn
strings; block builders wrap them. Every value printed by a template is escaped
for Slack (``& < >``) unless the code wrapped it in :class:`Mrkdwn` to say it is
already-safe mrkdwn, such as a ``<@U123>`` mention or a ``<url|text>`` link.
Never render JSON with these templates.
"""

from __future__ import annotations

import os
import re
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2

from bot.domain.text import escape_mrkdwn
from bot.domain.wording import plural, span

__all__ = ["Mrkdwn", "escape_mrkdwn", "get_environment", "link", "mention", "render", "templates_dir"]

TEMPLATES_DIR_ENV = "ALLIANCE_TEMPLATES_DIR"
DEFAULT_TEMPLATES_DIR = Path(__file__).resolve().parents[2] / "templates"

_USER_ID = re.compile(r"^[UW][A-Z0-9]{2,}$")
_URL_SCHEMES = ("https://", "http://", "mailto:")
# Characters that would end or split a `<url|text>` link if left in the URL.
_URL_UNSAFE = {"|": "%7C", "<": "%3C", ">": "%3E", " ": "%20", "\t": "%09", "\n": "%0A", "\r": "%0D"}
# A `|` in link text is shown as a look-alike so it can never act as a separator.
_PIPE_LOOKALIKE = "\u2223"


class Mrkdwn(str):
    """A string the code vouches for as already-safe Slack mrkdwn.

    Templates print it as is; every other value is escaped.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        return f"Mrkdwn({str.__repr__(self)})"


def mention(user_id: str) -> Mrkdwn:
    """A ``<@U123>`` mention; raises ValueError if ``user_id`` is not a Slack user ID."""
    if not isinstance(user_id, str) or not _USER_ID.fullmatch(user_id):
        raise ValueError(f"not a Slack user ID: {user_id!r}")
    return Mrkdwn(f"<@{user_id}>")


def link(url: str, text: str) -> Mrkdwn:
    """A ``<url|text>`` link with the text escaped and the URL made separator-safe."""
    if not url.startswith(_URL_SCHEMES):
        raise ValueError(f"not an http(s) or mailto URL: {url!r}")
    safe_url = "".join(_URL_UNSAFE.get(ch, ch) for ch in url).replace("&", "&amp;")
    safe_text = escape_mrkdwn(text).replace("|", _PIPE_LOOKALIKE)
    return Mrkdwn(f"<{safe_url}|{safe_text}>")


def _finalize(value: Any) -> Any:
    if isinstance(value, Mrkdwn):
        return value
    # str() on a StrictUndefined raises, which is what we want.
    return escape_mrkdwn(str(value))


def templates_dir() -> Path:
    """The templates directory: ``$ALLIANCE_TEMPLATES_DIR`` or the repo's ``templates/``."""
    override = os.environ.get(TEMPLATES_DIR_ENV)
    return Path(override) if override else DEFAULT_TEMPLATES_DIR


@lru_cache(maxsize=1)
def get_environment() -> jinja2.Environment:
    """The one Jinja environment (cached; call ``get_environment.cache_clear()`` in tests)."""
    environment = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(templates_dir())),
        autoescape=False,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
        finalize=_finalize,
        auto_reload=False,  # read once per process (no stat of the file at every render): restart after editing
    )
    environment.globals.update(plural=plural, span=span)  # `{{ plural(n, "thread") }}`, `{{ span("Session", 1, 4) }}`
    return environment


def render(template_name: str, **context: Any) -> str:
    """Render a template to a mrkdwn string, stripped of surrounding whitespace."""
    return get_environment().get_template(template_name).render(**context).strip()
