"""The deliverer: sends what the outbox holds (bot/store/outbox.py), paced per
channel, retried with backoff, never twice.

It runs as a thread inside `serve` (woken right after each commit that queued
something, and looking every second anyway) and as `alliance-bot deliver`. Each
pass claims the oldest due row of every channel (a claim the database times), sends
them side by side on a few threads, and records the result:

- sent: channel and ts, and whatever waited on it (a thread reply on its root) may go;
- 429 / 5xx / a timeout / a dropped connection: tried again later (RETRY_DELAYS);
- not_in_channel / channel_not_found / is_archived on a channel post: held for that
  channel and re-probed (RECHECK_SECONDS, or at once on `/alliance config
  supervision`); the therapist gets a warning by DM meanwhile and the admins one
  DM a day saying how to fix it;
- any other refusal: failed, with its error code.

A post carries Slack message metadata naming its row; before a post is tried a
second time the channel's recent history is searched for it, so a post Slack
accepted just before the connection dropped is recorded, not repeated.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from datetime import datetime
from typing import Any, Callable, Mapping

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError, SlackClientError
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.domain.messages import MessageRef
from bot.slack.digest_chart import DIGEST_CHART, upload_digest_chart
from bot.slack.history_view import TREND_CHART, upload_trend_chart
from bot.slack.pacing import ChannelPacer
from bot.slack.permalinks import error_code, permalink
from bot.slack.templating import render
from bot.slack.warning_outbox import THREAD_LINK
from bot.store import outbox
from bot.store.db import SessionFactory
from bot.store.outbox import Claimed

logger = logging.getLogger(__name__)

RETRY_DELAYS: tuple[float, ...] = (2.0, 5.0, 15.0, 30.0, 60.0, 120.0, 300.0)
MAX_ATTEMPTS = 30
RECHECK_SECONDS = 600.0  # a held channel is probed again this often
LEASE_SECONDS = 60.0  # a claim the database lets expire (the sender died) is taken again
POLL_SECONDS = 1.0
HISTORY_LOOKBACK = 100  # messages searched for an earlier attempt's post
METADATA_EVENT = "alliance_outbox"
CHANNEL_GONE = frozenset({"not_in_channel", "channel_not_found", "is_archived"})
TRANSIENT = frozenset({"ratelimited", "internal_error", "fatal_error", "service_unavailable", "request_timeout"})
POSTING_KINDS = frozenset({"post", "reply", "dm"})
NET_PREFIX = "net:"  # an error code for a call Slack never answered (a timeout, a dropped connection)
# A claim that expired (its sender died mid-send) counts as unanswered too: see `claim`.

Uploader = Callable[[WebClient, str, dict[str, Any]], tuple[str | None, str | None]]
# payload["upload"] -> what draws and uploads it (bootstrap adds those that need Services)
UPLOADERS: dict[str, Uploader] = {TREND_CHART: upload_trend_chart, DIGEST_CHART: upload_digest_chart}


def metadata_for(row_id: int) -> dict[str, Any]:
    return {"event_type": METADATA_EVENT, "event_payload": {"outbox_id": row_id}}


class Permanent(Exception):
    """Slack refused a row for good."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class Deliverer:
    def __init__(self, engine: Engine, sessions: SessionFactory, client: WebClient,
                 pacer: Callable[[], ChannelPacer], *,
                 admins: Callable[[], frozenset[str]] = frozenset, today: Callable[[], datetime] | None = None,
                 worker: str | None = None, retry_delays: tuple[float, ...] = RETRY_DELAYS,
                 recheck_seconds: float = RECHECK_SECONDS, lease_seconds: float = LEASE_SECONDS,
                 threads: int = 4, batch: int = 16, uploaders: Mapping[str, Uploader] | None = None) -> None:
        self.engine, self.sessions, self.client, self.pacer = engine, sessions, client, pacer
        self.admins = admins
        self.today = today
        self.worker = worker or f"{socket.gethostname()}:{os.getpid()}:{id(self) % 10000}"
        self.retry_delays, self.recheck_seconds, self.lease_seconds = retry_delays, recheck_seconds, lease_seconds
        self.batch = batch
        self.uploaders = {**UPLOADERS, **(uploaders or {})}
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="outbox")
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # -- running --------------------------------------------------------------------
    def start(self, poll_seconds: float = POLL_SECONDS) -> "Deliverer":
        outbox.add_waker(self._wake.set)
        self._thread = threading.Thread(target=self._run, args=(poll_seconds,), name="outbox-deliverer", daemon=True)
        self._thread.start()
        return self

    def wake(self) -> None:
        """Look at the outbox now (another process queued something)."""
        self._wake.set()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop taking rows; a send in flight finishes (or its claim expires)."""
        outbox.remove_waker(self._wake.set)
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self._pool.shutdown(wait=False, cancel_futures=True)

    def _run(self, poll_seconds: float) -> None:
        while not self._stop.is_set():
            try:
                while not self._stop.is_set() and self.drain_once():
                    pass
            except SQLAlchemyError as error:  # a busy or unreachable database: the next pass tries again
                logger.warning("outbox pass skipped, the database did not answer: %s", type(error).__name__)
            except Exception:  # noqa: BLE001 - a bug must not end delivery
                logger.exception("outbox pass failed; trying again shortly")
            self._wake.wait(poll_seconds)
            self._wake.clear()

    def drain_once(self) -> int:
        """One pass: claim what is due (one row per channel) and send it. Returns how many."""
        rows = outbox.claim(self.engine, self.worker, self.batch, self.lease_seconds)
        if not rows:
            return 0
        sending = {self._pool.submit(self.deliver, row): row for row in rows}
        pending = set(sending)
        while pending:  # a send that outlasts a third of the lease (a big upload) keeps its claim
            _, pending = wait(pending, timeout=self.lease_seconds / 3)
            if pending:
                outbox.extend_claims(self.engine, [sending[future] for future in pending], self.lease_seconds)
        for future in sending:
            future.result()
        return len(rows)

    def drain(self, timeout: float = 10.0) -> bool:
        """Send until nothing (but held rows) is due within a second; True if settled."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.drain_once():
                continue
            if not outbox.due_within(self.engine, 1.0):
                return True
            time.sleep(0.02)
        return False

    # -- one row --------------------------------------------------------------------
    def deliver(self, row: Claimed) -> None:
        try:
            channel, ts = self._send(row)
        except Permanent as refusal:
            self._refused(row, refusal.code)
            return
        except SlackApiError as error:
            self._api_error(row, error)
            return
        except (SlackClientError, OSError) as error:
            self._retry(row, _transport_code(error))
            return
        except Exception:  # noqa: BLE001 - a bug in one row must not stop the rest
            logger.exception("outbox row %d (%s) could not be sent", row.id, row.kind)
            self._retry(row, "internal")
            return
        outbox.mark_sent(self.engine, row, channel, ts)

    def _send(self, row: Claimed) -> tuple[str | None, str | None]:
        payload = row.payload
        if row.kind == "upload":
            maker = self.uploaders.get(str(payload.get("upload")))
            if maker is None:
                raise Permanent("unknown_upload")
            if row.parent_ts:  # an upload into the thread of the row it waited for (the digest's chart)
                payload = {**payload, "thread_ts": row.parent_ts}
            self.pacer().wait_turn(row.channel)  # an upload posts a message too
            return maker(self.client, row.channel, payload)
        message = {k: payload[k] for k in ("text", "blocks", "unfurl_links") if k in payload}
        if isinstance(payload.get("link"), dict) and "text" in message:
            message["text"] = self._linked(str(message["text"]), payload["link"])
        if row.kind == "update":
            ts = payload.get("ts") or row.parent_ts
            channel = row.parent_channel if not payload.get("ts") and row.parent_channel else row.channel
            if not ts:
                raise Permanent("no_root")
            response = self.client.chat_update(channel=channel, ts=ts, **message)
            return str(response.get("channel") or channel), str(response.get("ts") or ts)
        thread_ts = payload.get("thread_ts") or (row.parent_ts if row.kind == "reply" else None)
        channel = row.parent_channel if row.kind == "reply" and row.parent_channel and not payload.get(
            "thread_ts") else row.channel
        if row.kind == "reply" and not thread_ts:
            raise Permanent("no_root")
        if row.attempts > 1 and (row.last_error or "").startswith(NET_PREFIX):  # Slack may have taken it
            found = self._posted_before(row.id, channel, thread_ts)
            if found is not None:
                logger.info("outbox row %d was posted by an earlier attempt; recorded, not posted again", row.id)
                return found
        self.pacer().wait_turn(channel)  # the process's pacer, shared with the scheduled jobs
        response = self.client.chat_postMessage(channel=channel, thread_ts=thread_ts, metadata=metadata_for(row.id),
                                                **message)
        return str(response.get("channel") or channel), str(response.get("ts"))

    def _linked(self, text: str, link: dict[str, Any]) -> str:
        """Put the linked root's permalink where the text holds THREAD_LINK; plain
        words naming the case when the root is not sent or Slack has no permalink."""
        where: tuple[str, str] | None
        if link.get("outbox_id") is not None:
            where = outbox.sent_where(self.engine, int(link["outbox_id"]))
        else:
            where = (str(link.get("channel")), str(link.get("ts"))) if link.get("channel") and link.get("ts") else None
        url = permalink(self.client, MessageRef(*where), "a linked warning root") if where is not None else None
        if url is not None:
            return text.replace(THREAD_LINK, url.replace("&", "&amp;").replace("|", "%7C").replace(">", "%3E"))
        return re.sub(r"<" + re.escape(THREAD_LINK) + r"\|[^>]*>", str(link.get("fallback") or "its thread"), text)

    def _posted_before(self, row_id: int, channel: str, thread_ts: str | None) -> tuple[str, str] | None:
        """Look for a message carrying this row's id among the channel's (or thread's) recent ones."""
        if channel[:1] in ("U", "W"):
            channel = str(self.client.conversations_open(users=channel)["channel"]["id"])
        if thread_ts:
            response = self.client.conversations_replies(channel=channel, ts=thread_ts, limit=HISTORY_LOOKBACK,
                                                         include_all_metadata=True)
        else:
            response = self.client.conversations_history(channel=channel, limit=HISTORY_LOOKBACK,
                                                         include_all_metadata=True)
        for message in response.get("messages") or []:
            meta = message.get("metadata") or {}
            if meta.get("event_type") == METADATA_EVENT and (meta.get("event_payload") or {}).get("outbox_id") == row_id:
                return channel, str(message.get("ts"))
        return None

    # -- outcomes -------------------------------------------------------------------
    def _api_error(self, row: Claimed, error: SlackApiError) -> None:
        status = getattr(error.response, "status_code", 200)
        raw = error.response.get("error") if isinstance(error.response.data, dict) else None
        code = error_code(str(raw)) if raw else f"http_{status}"
        if status == 429 or status >= 500 or code in TRANSIENT:
            self._retry(row, code)
        elif code in CHANNEL_GONE and row.kind in POSTING_KINDS and row.channel[:1] in ("C", "G"):
            self._hold(row, code)
        else:
            self._refused(row, code)

    def _retry(self, row: Claimed, code: str) -> None:
        if row.attempts >= MAX_ATTEMPTS:
            self._refused(row, code)
            return
        delay = self.retry_delays[min(row.attempts - 1, len(self.retry_delays) - 1)]
        logger.warning("outbox row %d (%s) not sent (%s); trying again in %.1f s", row.id, row.kind, code, delay)
        outbox.mark_retry(self.engine, row, code, delay)

    def _refused(self, row: Claimed, code: str) -> None:
        logger.error("outbox row %d (%s) refused by Slack (%s); not sent", row.id, row.kind, code)
        outbox.mark_failed(self.engine, row, code)

    def _hold(self, row: Claimed, code: str) -> None:
        """Keep it for the channel; tell the therapist (the warning itself) and the admins."""
        logger.error("channel %s cannot be reached (%s); outbox row %d is held for it", row.channel, code, row.id)
        with self.sessions.begin() as session:
            fallback = row.payload.get("dm_fallback")
            if isinstance(fallback, dict) and fallback.get("channel"):
                outbox.enqueue(session, "dm", str(fallback["channel"]),
                               {k: fallback[k] for k in ("text", "blocks") if k in fallback},
                               dedupe_key=f"held-dm:{row.id}")
            day = (self.today() if self.today else datetime.now()).date().isoformat()
            text = render("messages/channel_unreachable.j2", channel=row.channel, error=code)
            for admin in sorted(self.admins()):
                outbox.enqueue(session, "dm", admin, {"text": text},
                               dedupe_key=f"unreachable:{row.channel}:{admin}:{day}")
        outbox.mark_held(self.engine, row, code, self.recheck_seconds)


def _transport_code(error: Exception) -> str:
    """No answer from Slack (it may still have acted): `net:` and what happened."""
    if isinstance(error, (TimeoutError, socket.timeout)) or "timed out" in str(error).lower():
        return NET_PREFIX + "timeout"
    return (NET_PREFIX + type(error).__name__.lower())[:40]
