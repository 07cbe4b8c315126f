"""`alliance-bot serve` without a key, `keys rotate` and `audit`, as real processes."""

from __future__ import annotations

import subprocess
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from bot.domain.access import Actor
from bot.runtime.audit_report import parse_since
from bot.runtime.bootstrap import Runtime
from bot.store.crypto import KeyProblem, NoteCipher, generate_key
from bot.domain.cases import CaseKind
from bot.domain.checkin_input import CheckinInput
from bot.store.models import Checkin, Flag, RepairPlan
from bot.settings import SettingsError
from bot.usecases import audit
from bot.usecases import cases as case_uc
from bot.usecases import checkins as checkin_uc
from bot.store.key_rotation import CIPHERTEXT_COLUMNS, PLAN_NOTE_CONTEXT, RESOLUTION_NOTE_CONTEXT, rotate_notes
from tests.support.slack_requests import SIGNING_SECRET
from tests.test_cli_serve import BIN, bot_env, free_port

THERAPIST = Actor("U0THERA01")
NOTES = ("first session felt guarded", "resolution: named the tension", "plan: individual check-in")


def run(args: list[str], env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], env=env, cwd=cwd, capture_output=True, text=True, timeout=60)


def store_notes(runtime: Runtime) -> None:
    services = runtime.services
    now = services.now()
    with services.session_factory.begin() as session:
        case = case_uc.create_case(session, THERAPIST, CaseKind.COUPLE, 2, (), now)
        checkin_uc.record_checkin(session, THERAPIST, case.code, CheckinInput(
            ratings={"A": 8, "B": 7, "unit": 8, "collective": 8}, note=NOTES[0]), now, services.cipher)
        flag = Flag(case_id=case.id, rule="Low alliance", status="resolved", open_slot=None, route="dm", evidence=[],
                    opened_at=now, updated_at=now, participants=[],
                    resolution_note_ciphertext=services.cipher.encrypt(NOTES[1], RESOLUTION_NOTE_CONTEXT))
        session.add(flag)
        session.flush()
        session.add(RepairPlan(flag_id=flag.id, action="other", created_by=THERAPIST.user_id, created_at=now,
                               note_ciphertext=services.cipher.encrypt(NOTES[2], PLAN_NOTE_CONTEXT)))


def stored_blobs(runtime: Runtime) -> list[bytes]:
    with runtime.services.session_factory() as session:
        return [bytes(b) for b in (
            session.query(Checkin.note_ciphertext).scalar(),
            session.query(Flag.resolution_note_ciphertext).scalar(),
            session.query(RepairPlan.note_ciphertext).scalar(),
        )]


def test_serve_without_a_key_refuses_in_one_line(tmp_path: Path) -> None:
    env = bot_env(f"sqlite:///{tmp_path}/alliance.db", SLACK_BOT_TOKEN="xoxb-test-token",
                  SLACK_SIGNING_SECRET=SIGNING_SECRET, ALLIANCE_LOG_LEVEL="INFO")
    result = run(["serve", "--port", str(free_port()), "--host", "127.0.0.1"], env, tmp_path)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert "ALLIANCE_ENCRYPTION_KEY is not set" in lines[0] and "keys generate" in lines[0] and "--dev" in lines[0]
    assert not (tmp_path / "alliance.db").exists(), "refused before touching the database"
    assert not (tmp_path / ".alliance-dev-key").exists()


def test_serve_dev_keeps_a_generated_key_in_a_local_file_and_says_so(tmp_path: Path) -> None:
    port = free_port()
    env = bot_env(f"sqlite:///{tmp_path}/alliance.db", SLACK_BOT_TOKEN="xoxb-test-token",
                  SLACK_SIGNING_SECRET=SIGNING_SECRET, SLACK_API_URL="http://127.0.0.1:1/api/")
    process = subprocess.Popen([str(BIN), "serve", "--dev", "--port", str(port), "--host", "127.0.0.1"],
                               env=env, cwd=tmp_path, stderr=subprocess.PIPE, text=True)
    try:
        assert process.stderr is not None
        line = process.stderr.readline()
        assert "development mode: generated a note key in .alliance-dev-key" in line, line
        key_file = tmp_path / ".alliance-dev-key"
        deadline = time.monotonic() + 10
        while not key_file.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        NoteCipher.from_text(key_file.read_text())  # a usable key
        assert oct(key_file.stat().st_mode & 0o777) == "0o600"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_keys_rotate_reencrypts_every_note_once(runtime: Runtime, tmp_path: Path) -> None:
    store_notes(runtime)
    old_key, new_key = runtime.settings.encryption_key or "", generate_key()
    env = bot_env(runtime.settings.database_url, ALLIANCE_ENCRYPTION_KEY=old_key, ALLIANCE_NEW_ENCRYPTION_KEY=new_key)

    result = run(["keys", "rotate"], env, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "checkins.note_ciphertext: 1 re-encrypted, 0 already under the new key" in result.stdout
    assert "flags.resolution_note_ciphertext: 1 re-encrypted" in result.stdout
    assert "repair_plans.note_ciphertext: 1 re-encrypted" in result.stdout
    new = NoteCipher.from_text(new_key)
    contexts = [context for _, _, context in CIPHERTEXT_COLUMNS]
    assert [new.decrypt(blob, context) for blob, context in zip(stored_blobs(runtime), contexts)] == list(NOTES)
    assert new_key not in result.stdout + result.stderr and old_key not in result.stdout + result.stderr

    again = run(["keys", "rotate", "--new-key", new_key], {**env, "ALLIANCE_NEW_ENCRYPTION_KEY": ""}, tmp_path)
    assert again.returncode == 0, again.stderr
    assert "checkins.note_ciphertext: 0 re-encrypted, 1 already under the new key" in again.stdout


def test_keys_rotate_with_a_wrong_current_key_changes_nothing(runtime: Runtime, tmp_path: Path) -> None:
    store_notes(runtime)
    before = stored_blobs(runtime)
    env = bot_env(runtime.settings.database_url, ALLIANCE_ENCRYPTION_KEY=generate_key(),
                  ALLIANCE_NEW_ENCRYPTION_KEY=generate_key())
    result = run(["keys", "rotate"], env, tmp_path)
    assert result.returncode == 2 and "sealed with neither" in result.stderr and "Traceback" not in result.stderr
    assert stored_blobs(runtime) == before

    missing = run(["keys", "rotate"], bot_env(runtime.settings.database_url,
                                              ALLIANCE_ENCRYPTION_KEY=runtime.settings.encryption_key or ""), tmp_path)
    assert missing.returncode == 2 and "ALLIANCE_NEW_ENCRYPTION_KEY" in missing.stderr


def test_rotation_is_one_transaction(runtime: Runtime) -> None:
    """A note the current key cannot read stops the rotation before anything is kept."""
    store_notes(runtime)
    services = runtime.services
    stranger = NoteCipher.from_text(generate_key())
    with services.session_factory.begin() as session:
        session.query(RepairPlan).update({RepairPlan.note_ciphertext: stranger.encrypt("other key", PLAN_NOTE_CONTEXT)})
    before = stored_blobs(runtime)
    new = NoteCipher.from_text(generate_key())
    with pytest.raises(KeyProblem):
        with services.session_factory.begin() as session:
            rotate_notes(session, services.cipher, new)
    assert stored_blobs(runtime) == before
    with pytest.raises(KeyProblem, match="same as the current"):
        with services.session_factory.begin() as session:
            rotate_notes(session, services.cipher, services.cipher)


def test_audit_prints_entries_since(runtime: Runtime, tmp_path: Path) -> None:
    at = datetime(2026, 11, 1, 9, 30, tzinfo=timezone.utc)
    with runtime.services.session_factory.begin() as session:
        audit.record(session, "U0SUPER01", "read_case", at, case_code="CPL-7KQ2")
        audit.record(session, "U0ADMIN01", "export", at + timedelta(days=10), detail="2 cases,\n3 check-ins")
    env = bot_env(runtime.settings.database_url)
    everything = run(["audit"], env, tmp_path)
    assert everything.returncode == 0, everything.stderr
    assert everything.stdout.splitlines() == [
        "2026-11-01T09:30:00Z\tU0SUPER01\tread_case\tCPL-7KQ2",
        "2026-11-11T09:30:00Z\tU0ADMIN01\texport\t-\t2 cases, 3 check-ins",
    ]
    since = run(["audit", "--since", "2026-11-05"], env, tmp_path)
    assert since.stdout.splitlines() == ["2026-11-11T09:30:00Z\tU0ADMIN01\texport\t-\t2 cases, 3 check-ins"]
    none = run(["audit", "--since", "2027-01-01T00:00Z"], env, tmp_path)
    assert none.stdout.strip() == "no audit entries since 2027-01-01T00:00:00+00:00"
    bad = run(["audit", "--since", "last week"], env, tmp_path)
    assert bad.returncode == 2 and "--since takes an ISO date" in bad.stderr and "Traceback" not in bad.stderr


def test_parse_since_reads_naive_times_as_utc() -> None:
    assert parse_since("2026-11-05T10:00") == datetime(2026, 11, 5, 10, 0, tzinfo=timezone.utc)
    assert parse_since("2026-11-05T10:00+01:00") == datetime(2026, 11, 5, 9, 0, tzinfo=timezone.utc)
    assert parse_since(None) is None
    with pytest.raises(SettingsError):
        parse_since("yesterday")



def test_audit_and_rotate_on_an_unmigrated_database_say_so(tmp_path: Path) -> None:
    env = bot_env(f"sqlite:///{tmp_path}/empty.db", ALLIANCE_ENCRYPTION_KEY=generate_key(),
                  ALLIANCE_NEW_ENCRYPTION_KEY=generate_key())
    for args in (["audit"], ["keys", "rotate"]):
        result = run(args, env, tmp_path)
        assert result.returncode == 2 and "db upgrade" in result.stderr and "Traceback" not in result.stderr, result


def test_rotation_uses_the_contexts_notes_are_sealed_with() -> None:
    from bot.usecases import flag_actions

    assert PLAN_NOTE_CONTEXT == flag_actions.PLAN_NOTE_CONTEXT
    assert RESOLUTION_NOTE_CONTEXT == flag_actions.RESOLUTION_NOTE_CONTEXT
    sealed = {(model.__tablename__, column) for model, column, _ in CIPHERTEXT_COLUMNS}
    from bot.store.models import Base
    binary = {(t.name, c.name) for t in Base.metadata.sorted_tables for c in t.columns if c.name.endswith("ciphertext")}
    assert sealed == binary, "every ciphertext column is rotated"
