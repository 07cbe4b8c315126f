"""Profiles for whatever misses its target: py-spy on the running server (every
thread, only while it holds the GIL, so the shares say where the one core the
process can use goes), pyinstrument inside a sweep (bench/run_job.py --profile)."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

# Where a GIL-holding sample is, by the first of these frames found from the top
# of its stack (innermost first): the acknowledgement path or the work after it.
MARKERS = (
    ("stall evaluation (evaluate_checkin, in the check-in's transaction)", "evaluate_checkin"),
    ("storing the check-in (store_log: actor, case, insert, commit)", "store_log"),
    ("replay guard: claim and stored answer (bot/store/seen_requests.py)", "seen_requests"),
    ("parse and ack (handle_alliance)", "handle_alliance"),
    ("Bolt: signature, middleware, dispatch", "slack_bolt"),
    ("waitress: HTTP parsing and writing", "waitress"),
)


def py_spy() -> str | None:
    return shutil.which("py-spy", path=str(Path(sys.executable).parent)) or shutil.which("py-spy")


def start_spy(pid: int, seconds: float, output: Path) -> subprocess.Popen[bytes] | None:
    """py-spy recording `pid` (all threads, GIL holders only) as collapsed stacks."""
    executable = py_spy()
    if executable is None:
        return None
    return subprocess.Popen([executable, "record", "--pid", str(pid), "--duration", str(max(int(seconds), 1)),
                             "--rate", "250", "--gil", "--nonblocking", "--format", "raw", "--output", str(output)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _parse(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if stack and count.isdigit():
            stacks.append((stack.split(";"), int(count)))
    return stacks


def where_the_gil_goes(path: Path) -> list[tuple[str, float]]:
    """Share of GIL-holding samples under each marker (the first in MARKERS
    wins: a stack in `evaluate_checkin` inside `store_log` counts as the evaluation)."""
    stacks = _parse(path)
    total = sum(count for _, count in stacks) or 1
    shares: Counter[str] = Counter()
    for frames, count in stacks:
        label = "other"
        for name, marker in MARKERS:
            if any(re.search(rf"\b(?:{marker})\b", frame) for frame in frames):
                label = name
                break
        shares[label] += count
    return [(label, count / total) for label, count in shares.most_common()]


def top_functions(path: Path, limit: int = 12) -> list[tuple[str, float]]:
    """The functions most often on top of a GIL-holding stack (self time)."""
    stacks = _parse(path)
    total = sum(count for _, count in stacks) or 1
    tops: Counter[str] = Counter()
    for frames, count in stacks:
        tops[frames[-1]] += count
    return [(frame, count / total) for frame, count in tops.most_common(limit)]


def pyinstrument_excerpt(text: str, lines: int = 45) -> str:
    """The top of a pyinstrument text report, without its banner."""
    body = [line for line in text.splitlines() if line.strip()]
    start = next((i for i, line in enumerate(body) if "run_job.py" in line or line.lstrip().startswith("Profile at")), 0)
    return "\n".join(body[start:start + lines])
