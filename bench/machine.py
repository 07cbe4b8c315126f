"""What the numbers were measured on: cores, memory, CPU; Python, SQLite,
PostgreSQL and the libraries that matter."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import subprocess
import time
from importlib import metadata
from pathlib import Path

from sqlalchemy import create_engine, text

from bot.store.db import normalize_url

LIBRARIES = ("slack-bolt", "slack-sdk", "SQLAlchemy", "psycopg", "waitress", "alembic", "APScheduler", "pyinstrument",
             "py-spy")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


REFERENCE_ADDITIONS = 2_000_000


def python_speed_ms() -> float:
    """How fast this machine runs plain Python right now: milliseconds for a loop of
    additions, median of five. A shared machine's speed varies from day to day and
    within a run, and every latency here moves with it, so runs are compared by it too."""
    samples = []
    for _ in range(5):
        started, total = time.perf_counter(), 0
        for number in range(REFERENCE_ADDITIONS):
            total += number
        samples.append(time.perf_counter() - started)
    return statistics.median(samples) * 1000


def python_speed(readings: list[tuple[str, float]]) -> str:
    """The machine table's line for `python_speed_ms` readings taken during a run."""
    taken = ", ".join(f"{ms:.0f} ms {when}" for when, ms in readings)
    return f"{taken} (a loop of {REFERENCE_ADDITIONS // 1_000_000} M additions, median of 5; lower is faster)"


def memory_gb() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GB"
    except OSError:
        pass
    return "unknown"


def postgres_version(url: str | None) -> str:
    if url is None:
        return "not used"
    try:
        engine = create_engine(normalize_url(url), connect_args={"connect_timeout": 3})
        with engine.connect() as connection:
            version = str(connection.execute(text("SHOW server_version")).scalar())
        engine.dispose()
        return version
    except Exception as error:  # noqa: BLE001 - report why, do not stop
        return f"unreachable ({type(error).__name__})"


def code_version(repo: Path) -> str:
    """The commit measured, and whether the application code differed from it."""
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=repo, capture_output=True,
                                text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "bot", "handlers", "templates"], cwd=repo,
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"{commit}" + (" with uncommitted changes to bot/, handlers/ or templates/" if dirty else "")


def describe(postgres_url: str | None) -> list[tuple[str, str]]:
    rows = [
        ("code", code_version(Path(__file__).resolve().parent.parent)),
        ("CPU", f"{cpu_model()}, {os.cpu_count()} cores"),
        ("memory", memory_gb()),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("PostgreSQL", postgres_version(postgres_url)),
    ]
    for name in LIBRARIES:
        try:
            rows.append((name, metadata.version(name)))
        except metadata.PackageNotFoundError:
            rows.append((name, "not installed"))
    return rows
