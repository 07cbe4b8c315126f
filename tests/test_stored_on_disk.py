"""Issue 11: what Alliance acknowledges is on disk before the acknowledgement, not only
in the operating system's cache, so that a power cut or a crash of the machine right
after a therapist read "Logged session" cannot take it back.

SQLite: `alliance-bot serve` runs under strace. The thread that answers a `/alliance log`
must have synced the WAL (fdatasync or fsync) after its last write to it, before it
sends the answer. With `PRAGMA synchronous=NORMAL` SQLite syncs only at checkpoints, and
this fails. PostgreSQL syncs its own WAL at commit (`synchronous_commit`, on by default):
the connections that serve requests must leave it so."""

from __future__ import annotations

import os
import errno
import re
import shutil
import signal
import subprocess
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import OperationalError

from bot.store import seen_requests as seen
from bot.store.crypto import NoteCipher, generate_key
from bot.store.db import JOB_WAITS, REQUEST_WAITS, make_engine
from bot.store.models import Checkin
from tests.support.served import came_up
from tests.support.driver import SlackDriver
from tests.support.slack_requests import SIGNING_SECRET
from tests.support.slack_standin import SlackStandIn
from tests.test_checkins_e2e import THERAPIST, create_case
from tests.test_cli_serve import BIN, bot_env, free_port

STRACE = shutil.which("strace")
SYSCALLS = "pwrite64,write,fdatasync,fsync,sendto,sendmsg"
# "12345 pwrite64(5</path/alliance.db-wal>, ..." (strace -f -o: the thread id first; -y: each fd's path)
LINE = re.compile(r"^(?P<tid>\d+) +(?P<call>\w+)\((?P<fd>\d+)<(?P<path>[^>]*)>")


def strace_problem() -> str | None:
    """None when strace can trace a child here; else why not."""
    if STRACE is None:
        return "strace is not installed (apt-get install strace)"
    probe = subprocess.run([STRACE, "-f", "-qq", "-e", "trace=none", "true"], capture_output=True, text=True)
    return None if probe.returncode == 0 else f"strace cannot trace here: {probe.stderr.strip()[:120]}"


def require_strace() -> None:
    problem = strace_problem()
    if problem is None:
        return
    if os.environ.get("ALLIANCE_STRACE_TESTS") == "required":
        pytest.fail(f"ALLIANCE_STRACE_TESTS=required: {problem}")
    pytest.skip(problem)


@dataclass(frozen=True)
class Call:
    tid: str
    name: str
    path: str
    line: str


def traced_calls(trace: Path) -> list[Call]:
    """The calls on named file descriptors, in the order they started."""
    calls = []
    for line in trace.read_text(errors="replace").splitlines():
        match = LINE.match(line)
        if match:
            calls.append(Call(match["tid"], match["call"], match["path"], line))
    return calls


def synced_before_answer(calls: list[Call], answer_text: str) -> tuple[bool, str]:
    """Whether the thread that sent the answer carrying `answer_text` synced the WAL after
    its last write to it and before sending; with what it saw, for the failure message."""
    answer_at = next((i for i, call in enumerate(calls)
                      if call.name in ("sendto", "sendmsg", "write") and call.path.startswith(("socket:", "TCP"))
                      and answer_text in call.line), None)
    if answer_at is None:
        return False, f"no answer carrying {answer_text!r} was sent on a TCP socket"
    tid = calls[answer_at].tid
    own = [call for call in calls[:answer_at] if call.tid == tid and call.path.endswith("-wal")]
    writes = [i for i, call in enumerate(own) if call.name.startswith("pwrite")]
    if not writes:
        return False, f"thread {tid} wrote nothing to the WAL before its answer"
    after_last_write = own[writes[-1] + 1:]
    synced = any(call.name in ("fdatasync", "fsync") for call in after_last_write)
    return synced, (f"thread {tid}: {len(writes)} WAL writes before the answer, then: "
                    + (", ".join(call.name for call in after_last_write) or "nothing"))


def stop_traced(process: subprocess.Popen[bytes]) -> None:
    """SIGTERM to the traced `serve` (strace's child), which stops as it would under
    systemd; strace then ends with it."""
    children = Path(f"/proc/{process.pid}/task/{process.pid}/children")
    try:
        pids = [int(pid) for pid in children.read_text().split()]
    except OSError:
        pids = []
    for pid in pids:
        os.kill(pid, signal.SIGTERM)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        for pid in pids:
            os.kill(pid, signal.SIGKILL)
        process.kill()
        process.wait(timeout=10)


def test_an_acknowledged_log_is_on_disk_before_its_answer(sqlite_url: str, standin: SlackStandIn,
                                                           tmp_path: Path) -> None:
    require_strace()
    assert STRACE is not None
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    trace = tmp_path / "serve.trace"
    env = bot_env(sqlite_url, SLACK_BOT_TOKEN="xoxb-test-token", SLACK_SIGNING_SECRET=SIGNING_SECRET,
                  SLACK_API_URL=standin.api_url, ALLIANCE_ENCRYPTION_KEY=generate_key())
    process = subprocess.Popen(
        [STRACE, "-f", "-qq", "-y", "-s", "4096", "-e", f"trace={SYSCALLS}", "-o", str(trace),
         str(BIN), "serve", "--port", str(port), "--host", "127.0.0.1", "--no-scheduler"],
        env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        assert came_up(base, process, timeout=60), "alliance-bot serve did not come up under strace"
        driver = SlackDriver(base, standin)
        code = create_case(driver)
        reply = driver.command(THERAPIST, f"log {code} 8 7 8 8", timeout=20)
        assert "Logged session 1" in reply.text
    finally:
        stop_traced(process)

    engine = make_engine(sqlite_url)
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Checkin)) == 1
    engine.dispose()
    synced, seen = synced_before_answer(traced_calls(trace), "Logged session 1")
    assert synced, f"the check-in's WAL frames were not synced before its acknowledgement ({seen})"


def test_the_trace_reading_tells_a_synced_answer_from_one_that_is_not() -> None:
    """The reading above, on lines as strace writes them: a WAL write then the answer
    is not synced; a write, a sync, then the answer is."""
    wal, sock = "/d/alliance.db-wal", "TCP:[127.0.0.1:5000->127.0.0.1:40000]"
    write = f'7 pwrite64(5<{wal}>, "\\0\\0", 4096, 0) = 4096'
    sync = f"7 fdatasync(5<{wal}>) = 0"
    other_sync = f"8 fdatasync(5<{wal}>) = 0"
    answer = f'7 sendto(9<{sock}>, "HTTP/1.1 200 OK\\r\\n\\r\\n{{\\"text\\": \\"Logged session 1\\"}}", 60, 0, NULL, 0) = 60'

    def reading(*lines: str) -> bool:
        calls = [Call(m["tid"], m["call"], m["path"], line) for line in lines if (m := LINE.match(line))]
        return synced_before_answer(calls, "Logged session 1")[0]

    assert reading(write, sync, answer)
    assert not reading(write, answer, sync)
    assert not reading(write, other_sync, answer)  # another thread's sync is not this answer's
    assert not reading(sync, write, answer)
    assert not reading(write, sync)  # no answer at all


def test_postgres_requests_wait_for_the_wal_flush(postgres_url: str) -> None:
    """The request engine's connections keep PostgreSQL's own sync at commit (only the
    replay claim turns it off, for its own transaction: bot/store/seen_requests.py)."""
    engine = make_engine(postgres_url, REQUEST_WAITS)
    with engine.connect() as connection:
        assert connection.scalar(text("SHOW synchronous_commit")) == "on"
    engine.dispose()



class Syncs:
    """Records what `os.fdatasync` and `os.fsync` were called on (the real calls still
    run), and runs `during` inside each sync of the WAL."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, during: Callable[[], None] | None = None,
                 fail: bool = False) -> None:
        self.calls: list[tuple[str, str]] = []
        real_fdatasync, real_fsync = os.fdatasync, os.fsync

        def watched(name: str, real: Callable[[int], None]) -> Callable[[int], None]:
            def call(descriptor: int) -> None:
                path = os.readlink(f"/proc/self/fd/{descriptor}")
                self.calls.append((name, path))
                if path.endswith("-wal"):
                    if fail:
                        raise OSError(errno.EIO, "Input/output error")
                    if during is not None:
                        during()
                real(descriptor)
            return call

        monkeypatch.setattr(os, "fdatasync", watched("fdatasync", real_fdatasync))
        monkeypatch.setattr(os, "fsync", watched("fsync", real_fsync))

    def of(self, suffix: str) -> list[str]:
        return [name for name, path in self.calls if path.endswith(suffix)]

    def clear(self) -> None:
        self.calls.clear()


def write(engine: Engine, value: int) -> None:
    with engine.begin() as connection:
        connection.execute(text("INSERT INTO probe (x) VALUES (:x)"), {"x": value})


@pytest.fixture
def probe_engine(sqlite_url: str) -> Iterator[Engine]:
    engine = make_engine(sqlite_url, REQUEST_WAITS)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE probe (x INTEGER)"))
    yield engine
    engine.dispose()


@pytest.mark.parametrize("waits", [REQUEST_WAITS, JOB_WAITS], ids=["requests", "jobs"])
def test_a_sqlite_commit_is_synced_before_it_returns(sqlite_url: str, probe_engine: Engine,
                                                     monkeypatch: pytest.MonkeyPatch, waits: object) -> None:
    engine = make_engine(sqlite_url, waits)  # type: ignore[arg-type]
    syncs = Syncs(monkeypatch)
    write(engine, 1)
    assert syncs.of("-wal") == ["fdatasync"]
    syncs.clear()
    with engine.connect() as connection:  # a read commits nothing, so syncs nothing
        assert connection.scalar(text("SELECT count(*) FROM probe")) == 1
    assert syncs.of("-wal") == []
    engine.dispose()


def test_the_next_writer_does_not_wait_for_the_disk(sqlite_url: str, probe_engine: Engine,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The sync comes after the write turn is given back: a writer of another engine (it
    would wait up to JOB_WAITS.lock, 5 s, for a turn still held) commits while the first
    one's sync is still under way."""
    other_engine = make_engine(sqlite_url, JOB_WAITS)
    others: list[str] = []

    def another_writer() -> None:
        if others:
            return  # the other writer's own sync
        others.append("started")
        writer = threading.Thread(target=lambda: (write(other_engine, 2), others.append("committed")))
        writer.start()
        writer.join(timeout=3)
        others.append("joined" if not writer.is_alive() else "still waiting")

    Syncs(monkeypatch, during=another_writer)
    write(probe_engine, 1)
    assert others == ["started", "committed", "joined"]
    with probe_engine.connect() as connection:
        assert connection.scalar(text("SELECT count(*) FROM probe")) == 2
    other_engine.dispose()


def test_a_new_wal_file_has_its_directory_synced_once(sqlite_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """As SQLite does for a file it creates: else a crash of the machine could lose the
    file's name, and with it what the synced file holds."""
    engine = make_engine(sqlite_url, REQUEST_WAITS)
    with engine.begin() as connection:
        connection.execute(text("CREATE TABLE probe (x INTEGER)"))
    syncs = Syncs(monkeypatch)
    write(engine, 1)
    write(engine, 2)
    directory = str(Path(engine.url.database or "").resolve().parent)
    assert [name for name, path in syncs.calls if path == directory] == ["fsync"]
    assert syncs.of("-wal") == ["fdatasync", "fdatasync"]
    engine.dispose()


def test_a_commit_that_cannot_be_synced_says_so(probe_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    Syncs(monkeypatch, fail=True)
    with pytest.raises(OperationalError, match="could not be synced to disk"):
        write(probe_engine, 1)


def test_replay_rows_commit_unsynced(probe_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """The replay guard's claim and its record of the answer are written for every
    request and cost nothing if a crash of the machine takes them back: their commits
    are not synced; the next change's commit is, and syncs them with it."""
    syncs = Syncs(monkeypatch)
    key = seen.request_key("1700000000", "v0=abc")
    assert seen.claim(probe_engine, key, 1700000000)
    seen.record(probe_engine, NoteCipher.from_text(generate_key()), key, seen.Answer(200, [], b"{}"))
    assert syncs.of("-wal") == []
    write(probe_engine, 1)
    assert syncs.of("-wal") == ["fdatasync"]


def test_a_database_whose_wal_alliance_cannot_name_syncs_inside_commit(tmp_path: Path) -> None:
    """A `file:` URI names no path Alliance syncs itself: SQLite syncs at each commit there
    (synchronous=FULL); a plain path runs NORMAL, its commits synced by Alliance."""
    uri_engine = make_engine(f"sqlite:///file:{tmp_path}/uri.db?uri=true")
    plain_engine = make_engine(f"sqlite:///{tmp_path}/plain.db")
    for engine, level in ((uri_engine, 2), (plain_engine, 1)):
        with engine.connect() as connection:
            assert connection.scalar(text("PRAGMA synchronous")) == level
        engine.dispose()


def test_unsynced_within_unsynced_stays_unsynced_until_the_outer_ends(
        probe_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    """Leaving an inner `unsynced` restores what the connection had (still unsynced inside
    the outer one), not syncing outright; other drivers are left alone."""
    from bot.store.sqlite_turns import unsynced

    syncs = Syncs(monkeypatch)
    with probe_engine.connect() as connection:
        driver = connection.connection.driver_connection
        with unsynced(driver):
            with unsynced(driver):
                pass
            connection.execute(text("INSERT INTO probe (x) VALUES (1)"))
            connection.commit()
        assert syncs.of("-wal") == []
        connection.execute(text("INSERT INTO probe (x) VALUES (2)"))
        connection.commit()
    assert syncs.of("-wal") == ["fdatasync"]
    with unsynced(object()):  # not a SQLite connection of ours: nothing to turn off
        pass
