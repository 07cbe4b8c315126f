"""A case's history as Slack shows it: the text reply and the chart sent by DM."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk import WebClient
from sqlalchemy.orm import Session

from bot.domain.checkin_input import log_example
from bot.domain.sparkline import sparkline
from bot.domain.wording import span
from bot.slack.blocks import Reply, ephemeral
from bot.slack.charts import ThreadLine, draw_lines
from bot.slack.services import Services
from bot.slack.templating import render
from bot.store import outbox
from bot.usecases.history import CaseHistory, case_history


def load_history(services: Services, session: Session, user_id: str, code: str, now: datetime) -> CaseHistory:
    """The history as the person asking may see it."""
    actor = services.roles.actor(session, user_id, now)
    return case_history(session, actor, code, now, cipher=services.cipher)


def queue_history_chart(session: Session, user_id: str, history: CaseHistory) -> int | None:
    """The chart goes by DM through the outbox (drawing and uploading it may take
    longer than an acknowledgement may): the row holds the numbers it is drawn from
    (ratings by session, and session dates only for the case's own therapists),
    never note text."""
    first, last = history.checkins[0].session_number, history.checkins[-1].session_number
    lines = [[thread, [[c.session_number, c.ratings.get(thread)] for c in history.checkins], group]
             for group, thread in enumerate(history.threads)]  # None: not rated
    # Dates only for the case's own therapists (who get its notes too): never for anyone else.
    dates = {str(c.session_number): c.session_date.strftime("%-d %b") for c in history.checkins
             if c.session_date is not None} if history.notes is not None else None
    clients = [[f"{member} client", points, group] for group, (member, points) in enumerate(
        (member, [[c.session_number, c.client_scores.get(member)] for c in history.checkins])
        for member in history.threads) if any(v is not None for _, v in points)]
    return outbox.enqueue(session, "upload", user_id, {
        "upload": TREND_CHART, "title": f"{history.code} trend, {span('session', first, last)}",
        "heading": f"{history.code}: each thread, {span('session', first, last)}",
        "filename": f"{history.code}-trend.png", "alt": f"Line chart of each thread's rating for {history.code}",
        "lines": lines, "dates": dates, "clients": clients})


TREND_CHART = "trend_chart"


def _lines(rows: list[Any]) -> list[ThreadLine]:
    return [ThreadLine(str(label), tuple((int(n), None if v is None else int(v)) for n, v in points), int(group))
            for label, points, group in rows]


def upload_trend_chart(client: WebClient, channel: str, payload: dict[str, Any]) -> tuple[str | None, str | None]:
    """Draw the chart a `queue_history_chart` row describes and upload it to the DM."""
    dates = payload.get("dates")
    png = draw_lines(_lines(payload["lines"]), str(payload["heading"]),
                     dates={int(n): str(d) for n, d in dates.items()} if isinstance(dates, dict) else None,
                     client_lines=_lines(payload.get("clients") or []))
    dm = str(client.conversations_open(users=channel)["channel"]["id"])
    client.files_upload_v2(channel=dm, file=png, filename=str(payload["filename"]), title=str(payload["title"]),
                           alt_txt=str(payload["alt"]))
    return dm, None


def history_reply(history: CaseHistory) -> Reply:
    rows = []
    for thread in history.threads:
        values = [c.ratings.get(thread) for c in history.checkins]
        rows.append({"label": thread.ljust(10), "spark": sparkline(values),
                     "trend": " → ".join("·" if v is None else str(v) for v in values)})
    rows += client_rows(history)
    sessions = [c.session_number for c in history.checkins]
    text = render("messages/history.j2", code=history.code, kind=history.kind, status=history.status,
                  total=history.total, shown=len(history.checkins), rows=rows if history.checkins else [],
                  first_session=sessions[0] if sessions else 0, last_session=sessions[-1] if sessions else 0,
                  example=log_example(history.code, history.threads).split(history.code + " ", 1)[1],
                  notes=history.notes, missed=history.missed,
                  own_notes_only=history.own_notes_only)
    return ephemeral(text)


def client_rows(history: CaseHistory) -> list[dict[str, str]]:
    """Each member's own totals (of 40) beside the therapist's ratings, where any exist."""
    rows = []
    for member in history.threads:
        totals = [c.client_scores.get(member) for c in history.checkins]
        if any(t is not None for t in totals):
            rows.append({"label": f"{member} client".ljust(10), "spark": sparkline(totals, high=40),
                         "trend": " → ".join("·" if v is None else f"{v}/40" for v in totals)})
    return rows
