"""Flag bookkeeping after one evaluation (SPEC §5), as a pure function shared by
the bot's use case and the alert-burden simulation: one open flag per case and
rule; a repeat updates it; a flag never moves down a route while open; it closes
after `close_after` check-ins that carry its data without its rule firing.

One case, one conversation (issue 13 item 9): a case has at most one live
(posted, open) warning per destination. A flag that needs a root on a route
where the case already has one joins that root (`FlagStep.joins`) instead of
posting; a DM-tier hit on a case already discussed in supervision joins the
supervision thread."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Mapping, Sequence

from bot.domain.checkins import CheckinRecord
from bot.domain.rule_registry import entry
from bot.domain.rule_types import Route, Rule, RuleHit


class Change(StrEnum):
    OPEN = "open"  # a new flag
    UPDATE = "update"  # fired again on the same route
    ESCALATE = "escalate"  # fired again on a higher route
    QUIET = "quiet"  # did not fire at a check-in that carries its data
    CLOSE = "close"  # ... for the close_after-th time: closes itself
    HOLD = "hold"  # did not fire, and the check-in says nothing about it


@dataclass(frozen=True)
class OpenFlag:
    rule: str
    route: Route
    posted: bool  # has a root message on its route
    quiet: int  # quiet check-ins so far


@dataclass(frozen=True)
class FlagStep:
    rule: str
    change: Change
    route: Route  # the route after this step
    quiet: int  # quiet check-ins after this step
    hit: RuleHit | None = None
    post: bool = False  # needs a new root on `route` (an interrupting post)
    joins: bool = False  # belongs to the case's live root on `route` (no new post)


def book_flags(open_flags: Mapping[str, OpenFlag], hits: Sequence[RuleHit], newest: CheckinRecord,
               close_after: int, count_quiet: bool = True) -> list[FlagStep]:
    """What happens to each flag after one evaluation. `count_quiet` is False for
    a backfilled session: it is evaluated in its place and never counts as a
    quiet check-in for flags raised by a later one."""
    steps: list[FlagStep] = []
    fired = {hit.rule.value for hit in hits}
    live = live_routes(open_flags)
    for hit in hits:
        flag = open_flags.get(hit.rule.value)
        wanted = hit.route
        if wanted is Route.DM and Route.SUPERVISION in live:
            wanted = Route.SUPERVISION  # the case is in supervision: the conversation is there
        if flag is None:
            needs_root = wanted.interrupts
            steps.append(FlagStep(hit.rule.value, Change.OPEN, wanted, 0, hit,
                                  post=needs_root and wanted not in live, joins=needs_root and wanted in live))
            continue
        route = wanted if wanted.rank > flag.route.rank else flag.route
        escalated = route.rank > flag.route.rank
        needs_root = route.interrupts and (escalated or not flag.posted)
        steps.append(FlagStep(hit.rule.value, Change.ESCALATE if escalated else Change.UPDATE, route, 0, hit,
                              post=needs_root and route not in live, joins=needs_root and route in live))
    for slug, flag in open_flags.items():
        if slug in fired or slug == Rule.NO_RECENT_CHECKIN.value or slug not in {r.value for r in Rule}:
            continue
        if not count_quiet or not entry(slug).has_data(newest):
            steps.append(FlagStep(slug, Change.HOLD, flag.route, flag.quiet))
            continue
        quiet = flag.quiet + 1
        steps.append(FlagStep(slug, Change.CLOSE if quiet >= close_after else Change.QUIET, flag.route, quiet))
    return steps


def interrupting_posts(steps: Sequence[FlagStep]) -> list[Route]:
    """The roots one evaluation posts: at most one per interrupting route."""
    return [route for route in (Route.DM, Route.SUPERVISION) if any(s.post and s.route is route for s in steps)]


def open_after(open_flags: Mapping[str, OpenFlag], steps: Sequence[FlagStep]) -> dict[str, OpenFlag]:
    """The case's open flags after `steps`, assuming every planned post lands."""
    after = dict(open_flags)
    for step in steps:
        if step.change is Change.CLOSE:
            after.pop(step.rule, None)
            continue
        before = after.get(step.rule)
        if step.change is Change.HOLD and before is None:
            continue
        kept = before is not None and before.posted and before.route is step.route
        after[step.rule] = OpenFlag(step.rule, step.route, step.post or step.joins or kept, step.quiet)
    return after


def live_routes(open_flags: Mapping[str, OpenFlag]) -> set[Route]:
    """The interrupting routes on which a case already has a posted, open warning."""
    return {f.route for f in open_flags.values() if f.posted and f.route.interrupts}
