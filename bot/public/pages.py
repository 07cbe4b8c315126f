"""The rating pages as a WSGI app: `GET /r/TOKEN` shows the form (or, for the clinic
tablet's kiosk link, who answers next), `POST /r/TOKEN` stores one answer, and
`/r/static/form.css` is the only other thing served. Every page carries strict
headers; every invalid link, whatever the reason, gets the same plain page."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Callable, Iterable
from urllib.parse import parse_qs, quote

import jinja2

from sqlalchemy.orm import Session

from bot.store.db import SessionFactory
from bot.domain.client_form import SCALE, FormProblems, asked_items, read_answer
from bot.public.guards import SECURITY_HEADERS, CsrfGuard, RateLimiter, cookie_header, read_cookie
from bot.slack.templating import templates_dir
from bot.usecases import rating_links as links_uc
from bot.usecases.checkins import RecordedCheckin

logger = logging.getLogger(__name__)

PREFIX = "/r/"
STATIC = "/r/static"
MAX_FORM_BYTES = 4096
StartResponse = Callable[..., Any]
REASONS = {200: "OK", 303: "See Other", 400: "Bad Request", 403: "Forbidden", 404: "Not Found",
           405: "Method Not Allowed", 410: "Gone", 413: "Payload Too Large", 429: "Too Many Requests"}


@lru_cache(maxsize=1)
def html_environment() -> jinja2.Environment:
    """HTML, escaped everywhere (unlike the Slack mrkdwn environment)."""
    return jinja2.Environment(loader=jinja2.FileSystemLoader(str(templates_dir())), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)


def render_page(name: str, **context: Any) -> bytes:
    return html_environment().get_template(f"client_form/{name}").render(static=STATIC, **context).encode()


STATIC_FILES = {"form.css": "text/css; charset=utf-8", "icon.svg": "image/svg+xml"}


@lru_cache(maxsize=len(STATIC_FILES))
def static_file(name: str) -> bytes:
    return (Path(templates_dir()) / "client_form" / name).read_bytes()


@dataclass
class Limits:
    per_address: RateLimiter
    per_link: RateLimiter

    @classmethod
    def default(cls) -> "Limits":
        # A person answering uses a handful of requests; a tablet in a waiting room
        # serves a few families an hour from one address.
        return cls(per_address=RateLimiter(limit=120, window=60.0), per_link=RateLimiter(limit=20, window=60.0))


class RatingPages:
    def __init__(self, session_factory: SessionFactory, clock: Callable[[], Any], csrf: CsrfGuard,
                 on_answer: Callable[[Session, RecordedCheckin], None], secure_cookie: bool,
                 limits: Limits | None = None) -> None:
        self._sessions = session_factory
        self._clock = clock
        self._csrf = csrf
        self._on_answer = on_answer
        self._secure = secure_cookie
        self.limits = limits or Limits.default()

    def __call__(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        try:
            return self._route(environ, start_response)
        except Exception:  # noqa: BLE001 - a client never sees a traceback
            logger.exception("rating page failed")
            body = b"Something went wrong; nothing was saved. Please try again in a minute."
            return self._send(start_response, 500, body, content_type="text/plain; charset=utf-8")

    def _route(self, environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        name = path.removeprefix(f"{STATIC}/")
        if path.startswith(f"{STATIC}/") and name in STATIC_FILES and method in ("GET", "HEAD"):
            return self._send(start_response, 200, static_file(name), content_type=STATIC_FILES[name])
        address = str(environ.get("REMOTE_ADDR") or "unknown")
        if not self.limits.per_address.allow(address):
            return self._notice(start_response, 429, "busy")
        token = path.removeprefix(PREFIX)
        if not path.startswith(PREFIX) or "/" in token or not links_uc.well_formed(token):
            return self._notice(start_response, 410, "invalid")
        if not self.limits.per_link.allow(links_uc.token_hash(token)):
            return self._notice(start_response, 429, "busy")
        if method in ("GET", "HEAD"):
            query = parse_qs(environ.get("QUERY_STRING", ""), max_num_fields=4)
            return self._show(start_response, token, (query.get("m") or [None])[0], environ)
        if method == "POST":
            return self._answer(start_response, token, environ)
        return self._send(start_response, 405, b"", extra=[("Allow", "GET, POST")])

    def _show(self, start_response: StartResponse, token: str, member: str | None,
              environ: dict[str, Any]) -> Iterable[bytes]:
        with self._sessions() as session:
            link = links_uc.open_link(session, token, self._clock())
        if link is None or (member is not None and (not link.kiosk or member not in link.members)):
            return self._notice(start_response, 410, "invalid")
        if link.kiosk and member is None:
            members = [(m, f"{PREFIX}{token}?m={quote(m, safe='')}") for m in link.members]
            return self._send(start_response, 200, render_page("kiosk.j2", members=members))
        return self._form(start_response, token, link, member, environ, problems=(), chosen={})

    def _form(self, start_response: StartResponse, token: str, link: links_uc.OpenLink, member: str | None,
              environ: dict[str, Any], problems: tuple[str, ...], chosen: dict[str, str]) -> Iterable[bytes]:
        cookie = read_cookie(environ.get("HTTP_COOKIE", ""))
        extra = []
        if not cookie or len(cookie) > 64:
            cookie = CsrfGuard.new_cookie()
            extra.append(cookie_header(cookie, self._secure))
        body = render_page("form.j2", action=f"{PREFIX}{token}", csrf=self._csrf.token(cookie, link.token_hash),
                           member=member if link.kiosk else None, asked=asked_items(link.with_safety),
                           scale=SCALE, problems=problems, chosen=chosen)
        return self._send(start_response, 400 if problems else 200, body, extra=extra)

    def _answer(self, start_response: StartResponse, token: str, environ: dict[str, Any]) -> Iterable[bytes]:
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = -1
        if length < 0 or length > MAX_FORM_BYTES:
            return self._notice(start_response, 413 if length > 0 else 400, "stale")
        raw = environ["wsgi.input"].read(length) if length else b""
        try:
            fields = {k: v[0] for k, v in parse_qs(raw.decode("utf-8"), max_num_fields=16).items()}
        except (UnicodeDecodeError, ValueError):
            return self._notice(start_response, 400, "stale")
        now = self._clock()
        with self._sessions() as session:
            link = links_uc.open_link(session, token, now)
        member = fields.get("member")
        if link is None or (link.kiosk and member not in link.members):
            return self._notice(start_response, 410, "invalid")
        if not self._csrf.check(read_cookie(environ.get("HTTP_COOKIE", "")), link.token_hash, fields.get("csrf")):
            return self._notice(start_response, 403, "stale")
        answer = read_answer(fields, link.with_safety)
        if isinstance(answer, FormProblems):
            chosen = {k: v for k, v in fields.items() if k in asked_items(link.with_safety)}
            return self._form(start_response, token, link, member, environ, answer.missing, chosen)
        with self._sessions.begin() as session:
            answered = links_uc.submit_answer(session, token, member if link.kiosk else None, answer, now)
            if answered is not None:  # the case's rules again, their warnings queued with the answer
                self._on_answer(session, answered.recorded)
        if answered is None:
            return self._notice(start_response, 410, "invalid")
        next_href = f"{PREFIX}{token}" if answered.remaining else None
        return self._send(start_response, 200, render_page("thanks.j2", next_href=next_href, kiosk=link.kiosk))

    def _notice(self, start_response: StartResponse, status: int, kind: str) -> Iterable[bytes]:
        return self._send(start_response, status, render_page("notice.j2", kind=kind))

    @staticmethod
    def _send(start_response: StartResponse, status: int, body: bytes, content_type: str = "text/html; charset=utf-8",
              extra: list[tuple[str, str]] | None = None) -> Iterable[bytes]:
        headers = [("Content-Type", content_type), ("Content-Length", str(len(body))), *SECURITY_HEADERS, *(extra or [])]
        start_response(f"{status} {REASONS.get(status, 'Internal Server Error')}", headers)
        return [body]


def build_rating_pages(services: Any) -> RatingPages:
    """The pages for a running bot: an answer re-runs the case's stall rules the way
    a check-in does, in the answer's transaction (its warnings go through the outbox)."""
    from bot.slack.warning_outbox import evaluate_checkin
    from bot.public.guards import csrf_secret

    def on_answer(session: Session, recorded: RecordedCheckin) -> None:
        evaluate_checkin(session, services.settings, recorded.case_id, recorded.checkin_id, services.now(),
                         reevaluation=recorded.reevaluation)

    public_url = services.settings.public_url or ""
    return RatingPages(services.session_factory, services.now, CsrfGuard(csrf_secret(services.settings.encryption_key)),
                       on_answer, secure_cookie=public_url.startswith("https://"))
