"""App Home: a therapist's cases (paged), and for supervisors the team overview.
Always within Slack's 100 blocks, however many cases there are."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from bot.domain.sparkline import sparkline
from bot.domain.wording import span
from bot.slack.ids import Action
from bot.slack.templating import mention, render
from bot.usecases.flags import rule_title
from bot.usecases.home import HOME_PAGE_SIZE, CasePage, TeamOverview

VIEW_BLOCK_LIMIT = 100


def days_ago(value: datetime | None, now: datetime) -> str:
    if value is None:
        return "never"
    days = (now - value).days
    return "today" if days <= 0 else "yesterday" if days == 1 else f"{days} days ago"


def case_blocks(page: CasePage, now: datetime) -> list[Any]:
    blocks: list[Any] = [HeaderBlock(text="Your cases")]
    if not page.rows:
        blocks.append(SectionBlock(text=MarkdownTextObject(
            text="No active cases yet. Create one with `/alliance new couple`, then log after each session.")))
        return blocks
    for row in page.rows:
        trends = [(t, sparkline(values), next((str(v) for v in reversed(values) if v is not None), "·"))
                  for t, values in row.trends]
        clients = [(f"{m} client", sparkline(values, high=40),
                    next((f"{v}/40" for v in reversed(values) if v is not None), "·"))
                   for m, values in row.client_trends]
        text = render("home/case_row.j2", row=row, last=days_ago(row.last_checkin_at, now), trends=trends + clients)
        blocks.append(SectionBlock(text=MarkdownTextObject(text=text)))
        blocks.append(ActionsBlock(elements=[
            ButtonElement(text="Log", action_id=Action.HOME_LOG, value=row.code),
            ButtonElement(text="History", action_id=Action.HOME_HISTORY, value=row.code),
        ]))
    if page.pages > 1:
        first = page.page * HOME_PAGE_SIZE + 1
        blocks.append(ContextBlock(elements=[MarkdownTextObject(
            text=f"{span('Case', first, first + len(page.rows) - 1)} of {page.total} · page {page.page + 1} of {page.pages}")]))
        buttons = []
        if page.page > 0:
            buttons.append(ButtonElement(text="Previous", action_id=Action.HOME_PREVIOUS, value=str(page.page - 1)))
        if page.page < page.pages - 1:
            buttons.append(ButtonElement(text="Next", action_id=Action.HOME_NEXT, value=str(page.page + 1)))
        blocks.append(ActionsBlock(elements=buttons))
    return blocks


def overview_blocks(overview: TeamOverview, now: datetime) -> list[Any]:
    flags = [{"code": f.code, "rule": rule_title(f.rule), "status": f.status, "owner": mention(f.owner_id),
              "age": days_ago(f.opened_at, now), "replies": f.reply_count}
             for f in overview.open_flags]
    silent = [(code, mention(owner), days_ago(last, now)) for code, owner, last in overview.silent]
    return [
        DividerBlock(),
        HeaderBlock(text="Team overview"),
        SectionBlock(text=MarkdownTextObject(text=f"*Open flags, oldest first* ({overview.open_total})\n" + render(
            "home/overview.j2", flags=flags, more=overview.open_total - len(flags)))),
        SectionBlock(text=MarkdownTextObject(text=f"*Silent cases* ({overview.silent_total})\n" + render(
            "home/silent.j2", silent=silent, more=overview.silent_total - len(silent)))),
    ]


def build_home(page: CasePage, overview: TeamOverview | None, now: datetime,
               team: list[Any] | None = None) -> dict[str, Any]:
    """A therapist's cases; for a supervisor (`team`: the team view's blocks, issue 14)
    the team by therapist first, their own cases only if they have any, then the overview."""
    blocks: list[Any] = []
    if team is not None:
        own = case_blocks(page, now) if page.rows else []
        rest = overview_blocks(overview, now) if overview is not None else []
        blocks = team[:VIEW_BLOCK_LIMIT - len(own) - len(rest)] + own + rest
        return View(type="home", blocks=blocks).to_dict()
    blocks = case_blocks(page, now)
    if overview is not None:
        blocks += overview_blocks(overview, now)
    # 1 header + 2 blocks per case × HOME_PAGE_SIZE + 2 for paging + 4 overview: well under the limit.
    return View(type="home", blocks=blocks).to_dict()
