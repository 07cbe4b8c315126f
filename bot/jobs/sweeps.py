"""The scheduled jobs as plain sweeps: each selects only what is due at `now`,
sends it through the sent-message ledger, and returns what it did as data.
`alliance-bot run-job NAME --now …` and the scheduler both call these."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from bot.domain.schedule import is_due, latest_moment, week_key, zone_named
from bot.slack import delivery
from bot.store import ledger as sent
from bot.store import seen_requests
from bot.slack.charts import draw_lines
from bot.jobs.plan_reminders import remind_due_plans
from bot.domain.schedule import DIGEST_WEEKLY
from bot.jobs.digest import DIGEST_GRACE, digest_message, gather_digest, thread_links
from bot.jobs.reminder_message import send_reminders
from bot.jobs.due_reminders import due_reminders, refresh_stalest_profiles
from bot.jobs.silence import sync_silence_flags
from bot.jobs.workspace import load_thresholds, supervision_channel, zone_lookup
from bot.slack.services import Services
from bot.usecases.config import digest_weekly
from bot.slack.warning_outbox import queue_removed_notices
from bot.usecases.retention import purge_closed_cases, thread_roots
from bot.usecases.threads import forget_old_events
from bot.slack.pacing import DEFAULT_PACER, ChannelPacer

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class JobResult:
    job: str
    at: datetime
    due: int = 0
    sent: int = 0
    already: int = 0  # sent before, or claimed by another process
    failed: int = 0  # left for the next sweep
    notes: tuple[str, ...] = field(default_factory=tuple)

    def summary(self) -> str:
        """One line: `reminders at 2026-11-20T20:05:00+00:00: due 1, sent 1, already sent 0, failed 0`."""
        counts = f"due {self.due}, sent {self.sent}, already sent {self.already}, failed {self.failed}"
        return "; ".join([f"{self.job} at {self.at.isoformat()}: {counts}", *self.notes])


def _tally(job: str, now: datetime, outcomes: list[delivery.Outcome], notes: list[str]) -> JobResult:
    return JobResult(job=job, at=now, due=len(outcomes),
                     sent=outcomes.count(delivery.Outcome.SENT), already=outcomes.count(delivery.Outcome.ALREADY),
                     failed=outcomes.count(delivery.Outcome.FAILED), notes=tuple(notes))


def run_reminders(services: Services, now: datetime, pacer: ChannelPacer = DEFAULT_PACER) -> JobResult:
    """DM every therapist whose weekly (or snoozed) reminder is due at `now`."""
    due, away = due_reminders(services, now)
    outcomes = send_reminders(services, due, now, pacer)
    refresh_stalest_profiles(services, now)  # a few stale Slack time zones, after the sends
    return _tally("reminders", now, outcomes, [f"away {away}"] if away else [])


def run_scan(services: Services, now: datetime, pacer: ChannelPacer = DEFAULT_PACER) -> JobResult:
    """The daily *No recent check-in* scan: one open flag per active case silent
    for `silent_days` (its therapist's next reminder says so; at
    `silent_digest_days` the digest lists it), resolved once the case is logged
    again. It sends nothing about silence itself; it does reply in the thread of
    each repair plan that fell due (bot/scheduling/plan_reminders.py), and purges
    closed cases kept longer than `retention_days` (bot/usecases/retention.py) and
    the Events API redelivery memory (`processed_events`) older than a day."""
    with services.session_factory.begin() as session:
        limits = load_thresholds(session)
        sweep = sync_silence_flags(session, now, limits, zone_lookup(session, services.settings))
    with services.session_factory.begin() as session:
        purged = purge_closed_cases(session, now)  # retention: closed cases past `retention_days`
        if purged:
            queue_removed_notices(session, thread_roots(purged))  # queued with the deletion
    with services.session_factory.begin() as session:
        events_forgotten = forget_old_events(session, now)  # redelivery memory: rows older than a day
    seen_requests.purge_old(services.session_factory)  # answers to signed requests, kept 10 minutes
    for case in sweep.for_reminder:
        logger.info("no recent check-in: %s silent %s days", case.code, case.days)
    plans = remind_due_plans(services, now, pacer)  # repair plans that fall due: a reminder in their thread
    return JobResult(job="scan", at=now, due=len(sweep.for_reminder), sent=plans.count(delivery.Outcome.SENT),
                     already=plans.count(delivery.Outcome.ALREADY), failed=plans.count(delivery.Outcome.FAILED), notes=(
        f"silent {limits.silent_days}+ days {len(sweep.for_reminder)}",
        f"silent {limits.silent_digest_days}+ days {len(sweep.for_digest)}",
        f"flags opened {sweep.opened}, resolved {sweep.closed}") + ((f"plans due {len(plans)}",) if plans else ())
        + ((f"closed cases purged {len(purged)}",) if purged else ())
        + ((f"processed events forgotten {events_forgotten}",) if events_forgotten else ()))


def run_digest(services: Services, now: datetime, pacer: ChannelPacer = DEFAULT_PACER) -> JobResult:
    """Post the weekly digest to the supervision channel once it is due, then its chart."""
    zone = zone_named(services.settings.timezone, "UTC")
    with services.session_factory.begin() as session:
        weekly = digest_weekly(session, DIGEST_WEEKLY)  # `/alliance config digest DAY HH:MM`, else Monday 09:00
    moment = latest_moment(now, weekly, zone)
    if not is_due(now, moment, DIGEST_GRACE):
        return JobResult(job="digest", at=now, notes=("not due",))
    with services.session_factory.begin() as session:
        channel = supervision_channel(session, services.settings)
    if channel is None:
        return JobResult(job="digest", at=now, notes=("no supervision channel configured",))
    week = week_key(moment, zone)
    digest_key = sent.message_key("digest", channel, week)
    chart_key = sent.message_key("digest-chart", channel, week)
    sessions = services.session_factory
    if sent.was_sent(sessions, digest_key) and sent.was_sent(sessions, chart_key):
        return _tally("digest", now, [delivery.Outcome.ALREADY], [])
    with sessions.begin() as session:
        data = gather_digest(session, services.settings, now, moment, zone, week, weekly)
    client = services.client

    def post_digest() -> sent.Delivery:
        text, blocks = digest_message(data, thread_links(client, data.flags, channel), zone)
        pacer.wait_turn(channel)
        response = client.chat_postMessage(channel=channel, text=text, blocks=blocks, unfurl_links=False)
        return sent.Delivery(channel_id=response.get("channel"), message_ts=response.get("ts"))

    def upload_chart(digest_ts: str | None) -> sent.Delivery:
        png = draw_lines(data.trends, f"Flagged cases, week {week}: lowest and highest thread", reference=data.low_alliance)
        pacer.wait_turn(channel)
        # In the digest's own thread (issue 14: one post in the channel, not two).
        client.files_upload_v2(channel=channel, file=png, filename=f"alliance-trends-{week}.png",
                               title=f"Flagged cases' trends, {week}", thread_ts=digest_ts,
                               alt_txt="Line chart of each flagged case's lowest and highest thread per session")
        return sent.Delivery(channel_id=channel, message_ts=None)

    outcomes = [delivery.send_once(sessions, digest_key, now, post_digest)]
    posted = sent.was_sent(sessions, digest_key)
    if data.trends and posted:
        outcomes.append(delivery.send_once(sessions, chart_key, now, lambda: upload_chart(posted.message_ts)))
    notes = [f"open flags {data.open_flags}", f"silent {len(data.silent)}", f"chart {'yes' if data.trends else 'no'}"]
    return _tally("digest", now, outcomes, notes)


JOBS: dict[str, Callable[..., JobResult]] = {
    "reminders": run_reminders,
    "scan": run_scan,
    "digest": run_digest,
}
