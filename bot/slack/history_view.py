"""A case's history as Slack shows it: the text reply and the chart sent by DM."""

from __future__ import annotations

from bot.domain.checkin_input import log_example
from bot.domain.sparkline import sparkline
from bot.domain.wording import span
from bot.slack.blocks import Reply, ephemeral
from bot.slack.charts import ThreadLine, draw_lines
from bot.slack.services import Services
from bot.slack.templating import render
from bot.usecases.history import CaseHistory, case_history


def load_history(services: Services, user_id: str, code: str) -> CaseHistory:
    """The history as the person asking may see it, in one transaction."""
    now = services.now()
    with services.session_factory.begin() as session:
        actor = services.roles.actor(session, user_id, now)
        return case_history(session, actor, code, now, cipher=services.cipher)


def send_history_chart(services: Services, user_id: str, history: CaseHistory) -> None:
    lines = [ThreadLine(thread, tuple((c.session_number, c.ratings.get(thread)) for c in history.checkins), group)
             for group, thread in enumerate(history.threads)]
    first, last = history.checkins[0].session_number, history.checkins[-1].session_number
    # Dates only for the case's own therapists (who get its notes too): never for anyone else.
    dates = {c.session_number: c.session_date.strftime("%-d %b") for c in history.checkins
             if c.session_date is not None} if history.notes is not None else None
    client_points = [(member, tuple((c.session_number, c.client_scores.get(member)) for c in history.checkins))
                     for member in history.threads]
    clients = [ThreadLine(f"{member} client", points, group) for group, (member, points) in enumerate(client_points)
               if any(v is not None for _, v in points)]
    png = draw_lines(lines, f"{history.code}: each thread, {span('session', first, last)}", dates=dates,
                     client_lines=clients)
    channel = services.client.conversations_open(users=user_id)["channel"]["id"]
    services.client.files_upload_v2(channel=channel, file=png, filename=f"{history.code}-trend.png",
                                    title=f"{history.code} trend, {span('session', first, last)}",
                                    alt_txt=f"Line chart of each thread's rating for {history.code}")


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
