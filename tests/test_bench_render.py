"""`python -m bench --render` writes a report again from the measurements of the run
that wrote it: a run sent elsewhere (`--output`) keeps its own, and never replaces
the ones behind BENCHMARKS.md."""

from __future__ import annotations

from pathlib import Path

import pytest

import bench.__main__ as bench_main
from bench.report import Report, Result, save


def a_run(value: float) -> Report:
    return Report(machine=[("code", "0000000")], results=[Result("1 ack", "p50, 8 senders", "sqlite", value, "ms")],
                  command="make bench", seconds=1.0)


def test_a_run_written_elsewhere_keeps_its_measurements_beside_its_report(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bench_main, "OUT", tmp_path / "out")
    monkeypatch.setattr(bench_main, "REPO", tmp_path)
    elsewhere = tmp_path / "elsewhere" / "part1.md"
    default = bench_main.measurements_of(bench_main.parse_args([]))
    other = bench_main.measurements_of(bench_main.parse_args(["--output", str(elsewhere)]))
    assert default == tmp_path / "out" / "last-run.json"
    assert other == tmp_path / "elsewhere" / "part1.md.json"
    default.parent.mkdir(parents=True)
    other.parent.mkdir(parents=True)
    save(a_run(19.3), default)
    save(a_run(25.1), other)

    assert bench_main.main(["--render"]) == 0
    assert bench_main.main(["--render", "--output", str(elsewhere)]) == 0
    assert "19.3" in (tmp_path / "BENCHMARKS.md").read_text()
    assert "25.1" in elsewhere.read_text() and "19.3" not in elsewhere.read_text()
