"""A supervisor's team view and supervision agenda (issue 14, item 5), rendered:
text for `/alliance cases` and App Home, and the agenda with its Post button."""

from __future__ import annotations

import logging
import time
from datetime import datetime
from typing import Any, Iterable

from slack_sdk import WebClient
from sqlalchemy.orm import Session
from slack_sdk.models.blocks import ActionsBlock, ButtonElement, HeaderBlock, MarkdownTextObject, SectionBlock

from bot.domain.messages import MessageRef
from bot.domain.sparkline import sparkline
from bot.slack.blocks import Reply, fallback, text_blocks
from bot.slack.ids import Action, Block
from bot.slack.permalinks import permalink
from bot.slack.templating import link, mention, render
from bot.domain.access import Permission, require
from bot.slack.services import Services
from bot.store import outbox
from bot.usecases import audit
from bot.usecases import config as config_uc
from bot.usecases.supervision import Agenda, Team, supervision_agenda

logger = logging.getLogger(__name__)
PERMALINKS = 40  # chat.getPermalink calls per view at most
LINKS_BUDGET = 1.0  # seconds of thread links in an answer Slack waits 3 s for


def permalinks(client: WebClient, refs: Iterable[MessageRef | None],
               budget_seconds: float | None = None) -> dict[MessageRef, str]:
    """Links to warning threads (one `chat.getPermalink` each, at most PERMALINKS); a
    refusal is skipped. With `budget_seconds` (a view answered in the acknowledgement)
    no call starts once that much time has gone: the rest go without a link."""
    links: dict[MessageRef, str] = {}
    deadline = None if budget_seconds is None else time.monotonic() + budget_seconds
    for ref in refs:
        if ref is None or ref in links or len(links) >= PERMALINKS:
            continue
        if deadline is not None and time.monotonic() >= deadline:
            logger.info("thread links left out of a view: Slack was slow to give them")
            break
        url = permalink(client, ref)
        if url is not None:
            links[ref] = url
    return links


def _ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    days = (now - value).days
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


def team_sections(team: Team, links: dict[MessageRef, str], now: datetime) -> list[str]:
    """One mrkdwn section per therapist, their active cases under them."""
    sections = []
    for therapist in team.therapists:
        cases = [{"code": c.code, "kind": c.kind, "spark": sparkline(c.trend) or "·", "last": _ago(c.last_checkin_at, now),
                  "open_flags": c.open_flags, "silent": c.silent,
                  "link": link(links[c.thread], "supervision thread") if c.thread in links else None}
                 for c in therapist.cases]
        sections.append(render("home/team.j2", therapist=mention(therapist.user_id), cases=cases,
                               open_flags=therapist.open_flags, silent=therapist.silent))
    listed = sum(len(t.cases) for t in team.therapists)
    if team.total_cases > listed:
        sections.append(f"…and {team.total_cases - listed} more active cases; `/alliance export` has them all.")
    return sections


def team_text(team: Team, links: dict[MessageRef, str], now: datetime) -> str:
    if not team.therapists:
        return "*The team* has no active cases yet."
    return "\n".join([f"*The team* ({len(team.therapists)} therapist{'s' if len(team.therapists) != 1 else ''})",
                      *team_sections(team, links, now)])


def team_blocks(team: Team, links: dict[MessageRef, str], now: datetime) -> list[Any]:
    blocks: list[Any] = [HeaderBlock(text="The team")]
    if not team.therapists:
        blocks.append(SectionBlock(text=MarkdownTextObject(text="No active cases in the team yet.")))
        return blocks
    for section in team_sections(team, links, now):
        blocks.append(SectionBlock(text=MarkdownTextObject(text=section[:3000])))
    return blocks


def agenda_text(agenda: Agenda, links: dict[MessageRef, str], now: datetime) -> str:
    serious = [{"code": w.code, "rule": w.rule, "therapist": mention(w.owner_id), "age": _ago(w.opened_at, now),
                "link": link(links[w.thread], "thread") if w.thread in links else None} for w in agenda.serious]
    silent = [(code, mention(owner), f"{since:%a} {since.day} {since:%b}") for code, owner, since in agenda.newly_silent]
    plans = [{"code": p.code, "action": p.action, "therapist": mention(p.owner_id),
              "due": f"{p.due_on:%a} {p.due_on.day} {p.due_on:%b}" if p.due_on else None} for p in agenda.plans_due]
    return render("messages/agenda.j2", week=f"{agenda.week_of:%a} {agenda.week_of.day} {agenda.week_of:%b}",
                  serious=serious, silent=silent, plans=plans)


def agenda_reply(text: str, channel: str | None) -> Reply:
    """The agenda, only to the supervisor, with a button to post it to the supervision channel."""
    blocks = text_blocks(text)
    if channel:
        blocks.append(ActionsBlock(block_id=Block.AGENDA_ACTIONS, elements=[
            ButtonElement(text="Post to the supervision channel", action_id=Action.POST_AGENDA, value="agenda",
                          style="primary")]).to_dict())
    else:
        text += "\nNo supervision channel is set (`/alliance config supervision #channel`), so it cannot be posted."
        blocks = text_blocks(text)
    return {"response_type": "ephemeral", "text": fallback(text), "blocks": blocks}


def queue_agenda(session: Session, channel: str, text: str) -> None:
    """The agenda as an outbox row for the supervision channel."""
    outbox.enqueue(session, "post", channel, {"text": fallback(text), "blocks": text_blocks(text)})


def agenda_for(services: Services, user_id: str) -> tuple[str, str | None]:
    """This week's agenda for a supervisor or admin (refused to anyone else), and the
    supervision channel it can be posted to."""
    now = services.now()
    with services.session_factory.begin() as session:
        actor, profile = services.roles.actor_and_profile(session, user_id, now)
        require(actor, Permission.TEAM_OVERVIEW)
        agenda = supervision_agenda(session, now, services.today_for(profile.tz))
        channel = config_uc.supervision_channel(session, services.settings)
        audit.record(session, user_id, "view_agenda", now)
    links = permalinks(services.lookup_client, (w.thread for w in agenda.serious), LINKS_BUDGET)
    return agenda_text(agenda, links, now), channel
