"""CPU time from Linux's /proc: of a process (`/proc/<pid>/stat`) or of one of its
threads (`/proc/self/task/<native id>/stat`)."""

from __future__ import annotations

import os
from pathlib import Path


def cpu_seconds(stat_path: str) -> float:
    """User and system CPU seconds from a /proc `stat` file."""
    fields = Path(stat_path).read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime
