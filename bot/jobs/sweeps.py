"""The scheduled jobs as plain sweeps: each selects only what is due at `now`,
queues it in the outbox under a dedupe key made from what is due (never from a
process's clock), and returns what it did as data; the outbox's deliverer sends it
(`serve`'s, `alliance-bot scheduler`'s, or `run-job`'s own before it exits).
`alliance-bot run-job NAME --now …` and the scheduler both call these."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime
from typing import Callable

from bot.domain.schedule import is_due, latest_moment, week_key, zone_named
from bot.store import outbox
from bot.store import seen_requests
from bot.jobs.plan_reminders import queue_due_plan_reminders
from bot.domain.schedule import DIGEST_WEEKLY
from bot.jobs.digest import DIGEST_GRACE, digest_message, gather_digest, thread_links
from bot.jobs.reminder_message import queue_reminders
from bot.jobs.due_reminders import due_reminders, refresh_stalest_profiles
from bot.jobs.silence import sync_silence_flags
from bot.jobs.workspace import load_thresholds, supervision_channel, zone_lookup
from bot.slack.digest_chart import digest_chart_payload
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
    queued: int = 0  # messages this run put in the outbox
    already: int = 0  # queued before: by an earlier run, or by another process
    notes: tuple[str, ...] = field(default_factory=tuple)
    outbox_ids: tuple[int, ...] = ()  # the rows queued (`run-job` waits for them)

    def summary(self) -> str:
        """One line: `reminders at 2026-11-20T20:05:00+00:00: due 1, queued 1, already queued 0`."""
        counts = f"due {self.due}, queued {self.queued}, already queued {self.already}"
        return "; ".join([f"{self.job} at {self.at.isoformat()}: {counts}", *self.notes])


def run_reminders(services: Services, now: datetime, pacer: ChannelPacer = DEFAULT_PACER) -> JobResult:
    """Queue a DM for every therapist whose weekly (or snoozed) reminder is due at `now`.
    (`pacer` is the deliverer's business now; kept so every job is called alike.)"""
    due, away = due_reminders(services, now)
    queued, already = queue_reminders(services, due)
    refresh_stalest_profiles(services, now)  # a few stale Slack time zones, after the queueing
    return JobResult(job="reminders", at=now, due=len(due), queued=len(queued), already=already,
                     notes=(f"away {away}",) if away else (), outbox_ids=tuple(queued))


def run_scan(services: Services, now: datetime, pacer: ChannelPacer = DEFAULT_PACER) -> JobResult:
    """The daily *No recent check-in* scan: one open flag per active case silent
    for `silent_days` (its therapist's next reminder says so; at
    `silent_digest_days` the digest lists it), resolved once the case is logged
    again. It sends nothing about silence itself; it does queue a reply in the
    thread of each repair plan that fell due (bot/jobs/plan_reminders.py), and
    purges closed cases kept longer than `retention_days` (bot/usecases/retention.py),
    the Events API redelivery memory (`processed_events`) older than a day, and
    outbox rows sent more than `outbox.SENT_RETENTION` (30 days) ago."""
    with services.session_factory.begin() as session:
        limits = load_thresholds(session)
        sweep = sync_silence_flags(session, now, limits, zone_lookup(session, services.settings))
    with services.session_factory.begin() as session:
        purged = purge_closed_cases(session, now)  # retention: closed cases past `retention_days`
        if purged:
            queue_removed_notices(session, thread_roots(purged))  # queued with the deletion
    with services.session_factory.begin() as session:
        events_forgotten = forget_old_events(session, now)  # redelivery memory: rows older than a day
    with services.session_factory.begin() as session:
        sent_forgotten = outbox.prune_sent(session)  # where sent messages landed, kept 30 days
    seen_requests.purge_old(services.session_factory)  # answers to signed requests, kept 10 minutes
    for case in sweep.for_reminder:
        logger.info("no recent check-in: %s silent %s days", case.code, case.days)
    plans = queue_due_plan_reminders(services, now)  # repair plans that fall due: a reply in their thread
    return JobResult(job="scan", at=now, due=len(sweep.for_reminder), queued=len(plans.queued),
                     already=plans.already, outbox_ids=plans.queued, notes=(
        f"silent {limits.silent_days}+ days {len(sweep.for_reminder)}",
        f"silent {limits.silent_digest_days}+ days {len(sweep.for_digest)}",
        f"flags opened {sweep.opened}, resolved {sweep.closed}") + ((f"plans due {plans.due}",) if plans.due else ())
        + ((f"closed cases purged {len(purged)}",) if purged else ())
        + ((f"processed events forgotten {events_forgotten}",) if events_forgotten else ())
        + ((f"sent messages forgotten {sent_forgotten}",) if sent_forgotten else ()))


def run_digest(services: Services, now: datetime, pacer: ChannelPacer = DEFAULT_PACER) -> JobResult:
    """Queue the weekly digest for the supervision channel once it is due, and its
    chart in its thread (a row that waits for the digest's post)."""
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
    digest_key = outbox.dedupe_key("digest", channel, week)
    sessions = services.session_factory
    with sessions.begin() as session:
        if outbox.is_queued(session, digest_key):
            return JobResult(job="digest", at=now, due=1, already=1)
        data = gather_digest(session, services.settings, now, moment, zone, week, weekly)
    # The flags' thread links are Slack's to give: asked before the transaction that queues.
    text, blocks = digest_message(data, thread_links(services.client, data.flags, channel), zone)
    queued: list[int] = []
    with sessions.begin() as session:
        post = outbox.enqueue(session, "post", channel, {"text": text, "blocks": blocks, "unfurl_links": False},
                              dedupe_key=digest_key)
        if post is not None:
            queued.append(post)
            if data.trends:
                chart = outbox.enqueue(session, "upload", channel,
                                       digest_chart_payload(data.trends, week, data.low_alliance),
                                       dedupe_key=outbox.dedupe_key("digest-chart", channel, week), depends_on=post)
                queued += [chart] if chart is not None else []
    notes = (f"open flags {data.open_flags}", f"silent {len(data.silent)}", f"chart {'yes' if data.trends else 'no'}")
    return JobResult(job="digest", at=now, due=1, queued=len(queued), already=0 if queued else 1, notes=notes,
                     outbox_ids=tuple(queued))


JOBS: dict[str, Callable[..., JobResult]] = {
    "reminders": run_reminders,
    "scan": run_scan,
    "digest": run_digest,
}
