"""Issue 11, item 5 (its clock part): two `alliance-bot run-job` processes whose
clocks are 20 minutes apart, on one database, send every reminder and the digest
once. A pending claim is judged by the database's clock, not the process's, so the
process that runs ahead never takes over a claim the other is still sending."""

from __future__ import annotations

import subprocess
import time
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

from bot.runtime.bootstrap import Runtime
from tests.support.schedule_data import SUPERVISION_CHANNEL, add_flag, make_case
from tests.support.slack_standin import SlackStandIn
from tests.test_scheduling_cli import BIN, job_env

CREATED = datetime(2026, 11, 2, 15, 0, tzinfo=timezone.utc)
THERAPISTS = [f"U0SKEW{n:03d}" for n in range(30)]


def start_job(env: dict[str, str], cwd: Path, job: str, now: str) -> subprocess.Popen[str]:
    return subprocess.Popen([str(BIN), "run-job", job, "--now", now], env=env, cwd=cwd, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def behind_and_ahead(env: dict[str, str], cwd: Path, standin: SlackStandIn, job: str, behind: str,
                     ahead: str) -> list[str]:
    """Start the process whose clock is behind; once it has claimed and begun to send
    (Slack answering slowly), start the one 20 minutes ahead. Both outputs."""
    first = start_job(env, cwd, job, behind)
    deadline = time.monotonic() + 60
    while not standin.calls_to("chat.postMessage"):
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()[0]
        time.sleep(0.02)
    second = start_job(env, cwd, job, ahead)
    outputs = [process.communicate(timeout=120)[0] for process in (first, second)]
    assert [first.returncode, second.returncode] == [0, 0], outputs
    return outputs


def test_two_reminder_sweeps_20_minutes_apart_send_every_reminder_once(runtime: Runtime, standin: SlackStandIn,
                                                                       tmp_path: Path) -> None:
    for user in THERAPISTS:
        make_case(runtime.services, user, CREATED)
    standin.delay_methods["chat.postMessage"] = 0.25  # the first sweep is still sending when the second starts
    outputs = behind_and_ahead(job_env(runtime.settings, standin), tmp_path, standin, "reminders",
                               "2026-11-20T15:05:00-05:00", "2026-11-20T15:25:00-05:00")
    sent = Counter(c.args["channel"] for c in standin.calls_to("chat.postMessage"))
    assert sent == Counter(THERAPISTS), (sent.most_common(3), outputs)  # each once
    assert all("failed 0" in output for output in outputs), outputs


def test_two_digest_runs_20_minutes_apart_post_the_digest_once(runtime: Runtime, standin: SlackStandIn,
                                                               tmp_path: Path) -> None:
    code = make_case(runtime.services, THERAPISTS[0], CREATED)
    add_flag(runtime.services, code, "split_alliance", datetime(2026, 11, 12, 15, 0, tzinfo=timezone.utc),
             message_ts="1700000200.000300")
    standin.delay_methods["chat.postMessage"] = 4.0  # the digest is still on its way when the second run looks
    outputs = behind_and_ahead(job_env(runtime.settings, standin), tmp_path, standin, "digest",
                               "2026-11-23T09:05:00-05:00", "2026-11-23T09:25:00-05:00")
    posts = [c for c in standin.calls_to("chat.postMessage") if c.args["channel"] == SUPERVISION_CHANNEL]
    assert len(posts) == 1, outputs
    assert len(standin.calls_to("files.completeUploadExternal")) <= 1  # the chart, at most once
