"""Replays change nothing: a signed request seen before is answered as the first
time and not dispatched again (issue 11).

Only a request whose signature verified reaches the table (`AllianceWsgi` refuses
the others first, so unsigned junk cannot fill it). The first copy claims its row in
a transaction of its own, is dispatched, and its answer is stored (sealed) once it is
on its way (`AnswerRecorder`, a batch per transaction, off the request's thread). A
copy that finds the row claimed waits up to `WAIT_FOR_FIRST` for that answer, and
otherwise answers 200 with an empty body: the first copy is still doing the work.

When the claim cannot be made (the database is down or locked) the request is
dispatched unguarded: its own transaction then answers "not saved", and a replay
of such a request would have failed the same way.

Events API deliveries (JSON bodies) pass straight through: every message in the
channels Alliance is in arrives as one, and each event is already counted once by
its event_id."""

from __future__ import annotations

import logging
import queue
import threading
import time
from http import HTTPStatus
from typing import Any, Callable, Iterable, Iterator

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from bot.slack.services import Services
from bot.store import seen_requests as seen
from bot.store.crypto import KeyProblem

logger = logging.getLogger(__name__)

WAIT_FOR_FIRST = 2.0
POLL_INTERVAL = 0.05
PURGE_EVERY = 60.0  # seconds between opportunistic purges, per process

StartResponse = Callable[..., Any]
Wsgi = Callable[[dict[str, Any], StartResponse], Iterable[bytes]]


class ReplayGuard:
    def __init__(self, services: Services) -> None:
        self._services = services  # read on each request: tests swap the session factory
        self.answers = AnswerRecorder(services)

    def __call__(self, environ: dict[str, Any], start_response: StartResponse, dispatch: Wsgi) -> Iterable[bytes]:
        """Dispatch a request whose signature the caller has verified (`AllianceWsgi`
        refuses the others before this), unless a copy of it came first."""
        if (environ.get("CONTENT_TYPE") or "").startswith("application/json"):
            return dispatch(environ, start_response)  # Events API: deduplicated by event_id (handlers)
        stamp = environ.get("HTTP_X_SLACK_REQUEST_TIMESTAMP") or ""
        key = seen.request_key(stamp, environ.get("HTTP_X_SLACK_SIGNATURE") or "")
        engine = engine_of(self._services)
        try:
            first = seen.claim(engine, key, int(stamp))
        except SQLAlchemyError as error:
            logger.warning("replay check skipped, the database did not take the claim: %s", type(error).__name__)
            return dispatch(environ, start_response)
        if not first:
            return self._replay(engine, key, start_response)
        try:
            answer = _run(dispatch, environ)
        except BaseException:
            _forget(engine, key)
            raise

        return _respond(start_response, answer, then=lambda: self.answers.add(key, answer))

    def _replay(self, engine: Engine, key: str, start_response: StartResponse) -> Iterable[bytes]:
        answer = first_answer(engine, self._services, key)
        return _respond(start_response, answer or seen.Answer(200, [], b""))


class AnswerRecorder:
    """Stores the answers to signed requests off the requests' threads, a batch per
    transaction, once each answer is on its way (the answer is for a replay, not for
    the request: it must not hold up the next request on the connection). A replay that
    comes first waits for it (`first_answer`). One that a crash loses leaves its claim in
    flight: a replay of that request then gets an empty 200, and still changes nothing."""

    BATCH = 64
    # How long a batch waits for more answers once it has one: a transaction (three round
    # trips on PostgreSQL) per answer cost a quarter of a busy server's time. A replay
    # meanwhile waits for the answer (`first_answer`).
    LINGER_SECONDS = 0.05
    IDLE_SECONDS = 30.0  # the thread ends after this long with nothing to store (the next answer starts one)

    def __init__(self, services: Services) -> None:
        self._services = services
        self._queue: queue.SimpleQueue[tuple[str, seen.Answer] | threading.Event] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._purger = Purger()

    def add(self, key: str, answer: seen.Answer) -> None:
        self._queue.put((key, answer))
        self._start()

    def flush(self, timeout: float) -> bool:
        """Wait until what was added so far is stored (or failed); True if in time."""
        done = threading.Event()
        self._queue.put(done)
        self._start()
        return done.wait(timeout)

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="replay-answers", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            try:
                item = self._queue.get(timeout=self.IDLE_SECONDS)
            except queue.Empty:
                with self._lock:  # `add` puts before it looks for the thread: nothing is stranded
                    if self._queue.empty():
                        self._thread = None
                        return
                continue
            batch, waiting = self._gather(item)
            self._store(batch)
            for done in waiting:
                done.set()

    def _gather(self, item: tuple[str, seen.Answer] | threading.Event) -> tuple[
            list[tuple[str, seen.Answer]], list[threading.Event]]:
        """The batch that starts with `item`: what else comes within LINGER_SECONDS,
        up to BATCH answers; a `flush` ends it at once."""
        batch: list[tuple[str, seen.Answer]] = []
        waiting: list[threading.Event] = []
        deadline = time.monotonic() + self.LINGER_SECONDS
        while True:
            if isinstance(item, threading.Event):
                waiting.append(item)
                return batch, waiting
            batch.append(item)
            left = deadline - time.monotonic()
            if len(batch) >= self.BATCH or left <= 0:
                return batch, waiting
            try:
                item = self._queue.get(timeout=left)
            except queue.Empty:
                return batch, waiting

    def _store(self, batch: list[tuple[str, seen.Answer]]) -> None:
        if not batch:
            return
        engine = engine_of(self._services)
        try:
            seen.record_many(engine, self._services.cipher, batch)
        except SQLAlchemyError as error:  # their claims stay in flight: a replay gets an empty 200
            logger.warning("could not store the answers to %d signed requests: %s", len(batch), type(error).__name__)
        except Exception:  # noqa: BLE001 - a bug must not end the recorder
            logger.exception("could not store the answers to %d signed requests", len(batch))
        self._purger.now_and_then(engine)


class Purger:
    """Purges seen requests at most every PURGE_EVERY seconds (the daily scan does too)."""

    def __init__(self) -> None:
        self._last = 0.0

    def now_and_then(self, engine: Engine) -> None:
        if time.monotonic() - self._last < PURGE_EVERY:
            return
        self._last = time.monotonic()
        try:
            seen.purge(engine)
        except SQLAlchemyError as error:
            logger.warning("could not purge old seen requests: %s", type(error).__name__)


def engine_of(services: Services) -> Engine:
    bind = services.session_factory.kw["bind"]
    return bind if isinstance(bind, Engine) else bind.engine


def first_answer(engine: Engine, services: Services, key: str) -> seen.Answer | None:
    """The answer to the first copy of a request, waiting up to WAIT_FOR_FIRST for
    it; None while that copy is still in flight."""
    deadline = time.monotonic() + WAIT_FOR_FIRST
    while True:
        try:
            answer = seen.answer_of(engine, services.cipher, key)
        except KeyProblem:  # sealed under a key rotated away since: still not dispatched again
            logger.warning("the first answer to a replayed request is under another key; answering empty")
            return None
        except SQLAlchemyError:
            answer = None
        if answer is not None:
            logger.info("answered a replayed request from its first answer")
            return answer
        if time.monotonic() >= deadline:
            logger.info("a replayed request arrived while its first copy was in flight")
            return None
        time.sleep(POLL_INTERVAL)


def _forget(engine: Engine, key: str) -> None:
    try:
        seen.release(engine, key)
    except SQLAlchemyError as error:
        logger.warning("could not release the claim of a failed request: %s", type(error).__name__)


def _run(dispatch: Wsgi, environ: dict[str, Any]) -> seen.Answer:
    """Dispatch and collect the whole answer (Slack's answers are small)."""
    captured: dict[str, Any] = {}
    written: list[bytes] = []

    def capture(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Callable[[bytes], None]:
        captured["status"], captured["headers"] = status, headers
        return written.append

    result = dispatch(environ, capture)
    try:
        chunks = written + list(result)
    finally:
        close = getattr(result, "close", None)
        if close is not None:
            close()
    status = int(str(captured.get("status", "500")).split(" ", 1)[0])
    return seen.Answer(status=status, headers=list(captured.get("headers", [])), body=b"".join(chunks))


def _respond(start_response: StartResponse, answer: seen.Answer,
             then: Callable[[], None] | None = None) -> Iterable[bytes]:
    try:
        reason = HTTPStatus(answer.status).phrase
    except ValueError:
        reason = "Unknown"
    headers = [(name, value) for name, value in answer.headers if name.lower() != "content-length"]
    headers.append(("Content-Length", str(len(answer.body))))
    start_response(f"{answer.status} {reason}", headers)
    return _Body(answer.body, then)


class _Body:
    """The answer's body; `then` runs when the server closes it, after writing it
    (PEP 3333: the server calls close() once the response is sent)."""

    def __init__(self, body: bytes, then: Callable[[], None] | None) -> None:
        self._body = body
        self._then = then

    def __iter__(self) -> Iterator[bytes]:
        yield self._body

    def close(self) -> None:
        then, self._then = self._then, None
        if then is not None:
            then()
