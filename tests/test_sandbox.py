"""Issue 15 without a browser: `make run`'s choice between Slack and the local
workspace (a real process), the sandbox's clock, the Web API refusing what
Slack refuses, and the page's guards. The browser tests are in tests/browser/."""

from __future__ import annotations

import json
import re
import os
import stat
import subprocess
import time
import urllib.error
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Iterator
from zoneinfo import ZoneInfo

import pytest
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from bot.sandbox.clock import SandboxClock, parse_when
from bot.sandbox.slack_api import SlackStandIn, User
from bot.sandbox.workspace import Responder
from tests.test_cli_serve import BIN, bot_env, free_port

NEW_YORK = ZoneInfo("America/New_York")
FRIDAY_4PM = datetime(2026, 12, 11, 16, 0, tzinfo=NEW_YORK)


# -- make run ------------------------------------------------------------------------
def wait_for_page(url: str, process: subprocess.Popen[bytes], seconds: float = 60) -> tuple[str, float]:
    started = time.monotonic()
    while True:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                return response.read().decode(), time.monotonic() - started
        except OSError:
            if process.poll() is not None or time.monotonic() - started > seconds:
                output = process.stdout.read().decode() if process.stdout else ""
                pytest.fail(f"the local workspace did not come up:\n{output}")
            time.sleep(0.1)


def test_make_run_without_slack_settings_serves_the_local_workspace_on_localhost(tmp_path: Path) -> None:
    port = free_port()
    env = bot_env("sqlite:///unused.db")
    del env["DATABASE_URL"]
    process = subprocess.Popen([str(BIN), "serve", "--or-sandbox", "--port", str(port)], env=env, cwd=tmp_path,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        page, _ = wait_for_page(f"http://127.0.0.1:{port}/", process)
        assert "Local trial workspace" in page and "never enter real client data" in page
        assert (tmp_path / "sandbox.db").exists() and not (tmp_path / "alliance.db").exists()
        post_answer(f"http://127.0.0.1:{port}/api/command", {"user": "U0THERA01", "channel": "D0THERA01", "text": "/alliance cases"})
        private = [".alliance-sandbox-key", *(p.name for p in tmp_path.glob("sandbox.db*"))]
        assert {"sandbox.db", ".alliance-sandbox-key"} <= set(private)
        for name in private:
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600, name
        assert listening_addresses(port) == {"127.0.0.1"}
    finally:
        process.terminate()
        output = process.communicate(timeout=30)[0].decode()
    first = output.strip().splitlines()[0]
    assert first.startswith(f"Alliance is running in a local trial workspace at http://127.0.0.1:{port}/ (no Slack settings found")
    assert "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in first


def listening_addresses(port: int) -> set[str]:
    """The local addresses a TCP socket listens on at `port` (Linux's /proc/net/tcp{,6})."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        for line in Path(table).read_text().splitlines()[1:]:
            local, state = line.split()[1], line.split()[3]
            address, hex_port = local.split(":")
            if state == "0A" and int(hex_port, 16) == port:
                found.add(".".join(str(int(address[i:i + 2], 16)) for i in (6, 4, 2, 0)) if len(address) == 8 else address)
    return found


def test_make_run_with_slack_settings_behaves_as_before(tmp_path: Path) -> None:
    env = bot_env("sqlite:///alliance.db", SLACK_BOT_TOKEN="xoxb-test-token")
    done = subprocess.run([str(BIN), "serve", "--or-sandbox", "--port", str(free_port())], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip() == "alliance-bot: Set SLACK_SIGNING_SECRET (in the environment or .env) to serve; see README.md."
    assert not (tmp_path / "sandbox.db").exists()


def test_serve_without_the_flag_still_says_what_is_missing(tmp_path: Path) -> None:
    done = subprocess.run([str(BIN), "serve"], env=bot_env("sqlite:///alliance.db"), cwd=tmp_path,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 2 and "Set SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET" in done.stderr


# -- the clock ------------------------------------------------------------------------
@pytest.mark.parametrize("text, expected", [
    ("next Friday 15:00", datetime(2026, 12, 18, 15, 0, tzinfo=NEW_YORK)),  # 15:00 today has passed
    ("friday 17:00", datetime(2026, 12, 11, 17, 0, tzinfo=NEW_YORK)),
    ("Next Monday 09:00", datetime(2026, 12, 14, 9, 0, tzinfo=NEW_YORK)),
    ("+1 day", FRIDAY_4PM + timedelta(days=1)),
    ("+3 hours", FRIDAY_4PM + timedelta(hours=3)),
    ("2026-12-20T08:30", datetime(2026, 12, 20, 8, 30, tzinfo=NEW_YORK)),
])
def test_the_clock_control_reads_what_people_type(text: str, expected: datetime) -> None:
    assert parse_when(text, FRIDAY_4PM, NEW_YORK) == expected


def test_the_clock_refuses_nonsense_and_going_back() -> None:
    with pytest.raises(ValueError, match='Cannot read .tomorrow-ish. as a time. Say "next Friday 15:00"'):
        parse_when("tomorrow-ish", FRIDAY_4PM, NEW_YORK)
    with pytest.raises(ValueError, match="25:00 is not a time of day"):
        parse_when("next Monday 25:00", FRIDAY_4PM, NEW_YORK)
    clock = SandboxClock()
    target = clock() + timedelta(days=3)
    clock.move_to(target)
    assert abs((clock() - target).total_seconds()) < 5
    with pytest.raises(ValueError, match="only moves forward"):
        clock.move_to(datetime.now(timezone.utc))


# -- the Web API refuses what Slack refuses ------------------------------------------
@pytest.fixture
def strict() -> Iterator[SlackStandIn]:
    server = SlackStandIn(strict=True, bot_token="xoxb-sandbox", channels={"C0SUPERV1"},
                          users={"U0THERA01": User(tz="Europe/Berlin")}).start()
    yield server
    server.stop()


def refusal(call: object) -> str:
    with pytest.raises(SlackApiError) as raised:
        call()  # type: ignore[operator]
    return str(raised.value.response["error"])


def test_the_strict_web_api_answers_with_slacks_error_codes(strict: SlackStandIn) -> None:
    client = WebClient(token="xoxb-sandbox", base_url=strict.api_url)
    assert refusal(lambda: WebClient(token="xoxb-other", base_url=strict.api_url).auth_test()) == "invalid_auth"
    assert refusal(lambda: client.chat_postMessage(channel="C0NOWHERE", text="hi")) == "channel_not_found"
    with pytest.warns(UserWarning, match="text"):  # slack_sdk warns too
        assert refusal(lambda: client.chat_postMessage(channel="C0SUPERV1", text="")) == "no_text"
    assert refusal(lambda: client.chat_postMessage(channel="C0SUPERV1", text="x", blocks=[{"type": "nonsense"}])) == "invalid_blocks"
    assert refusal(lambda: client.chat_postMessage(channel="C0SUPERV1", text="x" * 40_001)) == "msg_too_long"
    assert refusal(lambda: client.chat_update(channel="C0SUPERV1", ts="1.000001", text="x")) == "message_not_found"
    assert refusal(lambda: client.users_info(user="U0NOBODY1")) == "user_not_found"
    assert refusal(lambda: client.views_open(trigger_id="made-up", view={"type": "modal", "title": {"type": "plain_text", "text": "t"}, "blocks": []})) == "invalid_trigger_id"
    assert refusal(lambda: client.api_call("chat.meMessage", json={"channel": "C0SUPERV1", "text": "x"})) == "unknown_method"
    posted = client.chat_postMessage(channel="U0THERA01", text="hello")
    assert posted["channel"] == "D0THERA01" and strict.workspace.find("D0THERA01", posted["ts"])["text"] == "hello"  # type: ignore[index]
    assert client.users_info(user="U0THERA01")["user"]["tz"] == "Europe/Berlin"


def test_bursts_past_one_message_a_second_per_channel_are_rate_limited(strict: SlackStandIn) -> None:
    client = WebClient(token="xoxb-sandbox", base_url=strict.api_url)  # no retry handler: see the 429 itself
    answers = []
    for n in range(14):
        try:
            answers.append(client.chat_postMessage(channel="C0SUPERV1", text=f"burst {n}").status_code)
        except SlackApiError as error:
            answers.append(error.response.status_code)
            assert error.response["error"] == "ratelimited" and error.response.headers["Retry-After"] == "1"
    assert answers[:10] == [200] * 10 and 429 in answers[10:]
    assert client.chat_postMessage(channel="U0THERA01", text="another channel").status_code == 200


def test_modals_follow_slacks_stack_and_hash_rules(strict: SlackStandIn) -> None:
    client = WebClient(token="xoxb-sandbox", base_url=strict.api_url)
    view = {"type": "modal", "title": {"type": "plain_text", "text": "Check-in"},
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": "Pick a case."}}]}
    opened = client.views_open(trigger_id=strict.new_trigger("U0THERA01"), view=view)["view"]
    assert strict.workspace.top_modal("U0THERA01").id == opened["id"]  # type: ignore[union-attr]
    assert refusal(lambda: client.views_update(view_id=opened["id"], hash="stale", view=view)) == "hash_conflict"
    updated = client.views_update(view_id=opened["id"], hash=opened["hash"], view=view)["view"]
    assert updated["hash"] != opened["hash"]
    for _ in range(2):
        client.views_push(trigger_id=strict.new_trigger("U0THERA01"), view=view)
    assert refusal(lambda: client.views_push(trigger_id=strict.new_trigger("U0THERA01"), view=view)) == "push_limit_reached"
    trigger = strict.new_trigger("U0THERA01")
    strict.triggers[trigger] -= 4  # issued four seconds ago
    assert refusal(lambda: client.views_open(trigger_id=trigger, view=view)) == "expired_trigger_id"


def test_an_uploaded_chart_is_shared_in_the_channel(strict: SlackStandIn) -> None:
    client = WebClient(token="xoxb-sandbox", base_url=strict.api_url)
    png = b"\x89PNG\r\n\x1a\n" + b"0" * 64
    client.files_upload_v2(channel="C0SUPERV1", file=png, filename="trends.png", title="Trends")
    [shared] = strict.workspace.visible("C0SUPERV1", "U0THERA01")
    [file] = shared["files"]
    assert file["title"] == "Trends" and file["mimetype"] == "image/png"
    assert strict.workspace.file_bytes(file["id"]) == (png, "image/png")


def test_response_urls_reply_only_to_the_person_or_replace_the_message(strict: SlackStandIn) -> None:
    client = WebClient(token="xoxb-sandbox", base_url=strict.api_url)
    root = client.chat_postMessage(channel="C0SUPERV1", text="a warning")["ts"]
    only_me = strict.response_url("r", Responder(user="U0THERA01", channel="C0SUPERV1", original_ts=root))
    post_json(only_me, {"text": "Only the case's therapists can do that.", "response_type": "ephemeral"})
    assert [m["text"] for m in strict.workspace.visible("C0SUPERV1", "U0THERA01")] == ["a warning", "Only the case's therapists can do that."]
    assert [m["text"] for m in strict.workspace.visible("C0SUPERV1", "U0SUPER01")] == ["a warning"]
    replace = strict.response_url("r", Responder(user="U0THERA01", channel="C0SUPERV1", original_ts=root))
    post_json(replace, {"text": "a resolved warning", "replace_original": True})
    assert strict.workspace.find("C0SUPERV1", root)["text"] == "a resolved warning"  # type: ignore[index]


def post_json(url: str, payload: dict[str, object]) -> None:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=5) as response:
        assert json.loads(response.read())["ok"] is True


# -- the page's guards ----------------------------------------------------------------------
@pytest.fixture
def sandbox_page(tmp_path: Path) -> Iterator[str]:
    from bot.sandbox.main import serve_in_background, serve_page
    from bot.sandbox.runner import Sandbox

    sandbox = Sandbox(directory=tmp_path)
    server = serve_page(sandbox, 0)
    sandbox.start()
    serve_in_background(server)
    yield sandbox.page_base
    server.close()
    sandbox.stop()


def test_the_page_refuses_other_host_names_and_form_posts(sandbox_page: str) -> None:
    rebound = urllib.request.Request(f"{sandbox_page}/api/state", headers={"Host": "attacker.example:3000"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(rebound, timeout=5)
    assert refused.value.code == 403
    form = urllib.request.Request(f"{sandbox_page}/api/command", data=b"user=U0THERA01&text=/alliance+cases",
                                  headers={"Content-Type": "application/x-www-form-urlencoded"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(form, timeout=5)
    assert refused.value.code == 415
    with urllib.request.urlopen(f"{sandbox_page}/static/app.js", timeout=5) as script:
        assert script.status == 200 and "Content-Security-Policy" in script.headers


def test_only_alliance_commands_work_in_the_dm(sandbox_page: str) -> None:
    answer = post_answer(f"{sandbox_page}/api/command", {"user": "U0THERA01", "channel": "D0THERA01", "text": "/remind me"})
    assert answer == {"ok": False, "error": "/remind is not a valid command. In this workspace only /alliance works."}
    answer = post_answer(f"{sandbox_page}/api/command", {"user": "U0THERA01", "channel": "D0THERA01", "text": "hello"})
    assert answer == {"ok": False, "error": "Sending messages to this app has been turned off; use /alliance here."}


def post_answer(url: str, payload: dict[str, object]) -> object:
    request = urllib.request.Request(url, data=json.dumps(payload).encode(), headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.loads(response.read())


def test_nothing_in_bot_or_handlers_imports_the_sandbox() -> None:
    root = Path(__file__).resolve().parents[1]
    importers = [str(path.relative_to(root)) for folder in ("bot", "handlers") for path in (root / folder).rglob("*.py")
                 if "sandbox" not in path.relative_to(root).parts and "bot.sandbox" in path.read_text()]
    assert importers == ["bot/runtime/cli.py"]


def test_a_restart_keeps_the_channels_and_the_clock(tmp_path: Path) -> None:
    from bot.sandbox.runner import Sandbox

    first = Sandbox(directory=tmp_path).start()
    try:
        first.side.command("U0THERA01", "D0THERA01", "new couple")
        first.settle()
        first.clock.move_to(first.clock() + timedelta(days=2))
    finally:
        first.stop()
    before = [m["text"] for m in first.standin.workspace.visible("D0THERA01", "U0THERA01")]
    assert any("Created *CPL-" in text for text in before)
    assert stat.S_IMODE((tmp_path / "sandbox.workspace.json").stat().st_mode) == 0o600
    second = Sandbox(directory=tmp_path).start()
    try:
        assert [m["text"] for m in second.standin.workspace.visible("D0THERA01", "U0THERA01")] == before
        assert second.clock() - datetime.now(timezone.utc) > timedelta(days=1, hours=23)
        second.side.command("U0THERA01", "D0THERA01", "cases")
        second.settle()
        latest = second.standin.workspace.visible("D0THERA01", "U0THERA01")[-1]
        assert float(latest["ts"]) > max(float(m["ts"]) for m in first.standin.workspace.visible("D0THERA01", "U0THERA01"))
    finally:
        second.stop()


def test_the_demo_fills_the_workspace_through_the_real_commands(tmp_path: Path) -> None:
    from bot.sandbox.demo import DEMO_WEEKS, START_BACK, Demo
    from bot.sandbox.runner import Sandbox

    sandbox = Sandbox(directory=tmp_path, clock=SandboxClock(offset=-START_BACK)).start()
    try:
        Demo(sandbox).run()
        workspace = sandbox.standin.workspace
        channel = workspace.visible("C0SUPERV1", "U0SUPER01")
        warnings = [m for m in channel if "Stall warning" in m["text"]]
        assert len(warnings) >= 2
        replies = [r["text"] for m in warnings for r in m["replies"]]
        assert any("planned a repair" in text for text in replies)
        assert any(r.get("user") == "U0SUPER01" for m in warnings for r in m["replies"])
        assert sum("weekly digest" in json.dumps(m.get("blocks")) for m in channel) >= DEMO_WEEKS - 1
        # the digest's chart sits in the digest's own thread (issue 14)
        assert any(f["mimetype"] == "image/png" for m in channel for r in m.get("replies", []) for f in r.get("files", []))
        assert any("Weekly reminder" in m["text"] + json.dumps(m.get("blocks"))
                   for m in workspace.visible("D0THERC01", "U0THERC01")), workspace.visible("D0THERC01", "U0THERC01")
        assert abs(sandbox.clock() - datetime.now(timezone.utc)) < timedelta(days=8)
        assert sandbox.standin.problems == []
    finally:
        sandbox.stop()


def test_the_composers_usage_hint_is_the_manifests() -> None:
    import yaml

    root = Path(__file__).resolve().parents[1]
    [command] = yaml.safe_load((root / "manifest.yml").read_text())["features"]["slash_commands"]
    script = (root / "bot" / "sandbox" / "static" / "app.js").read_text()
    assert f'const USAGE = "{command["command"]} {command["usage_hint"]}";' in script
