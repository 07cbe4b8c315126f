"""Results as rows (figure, target, verdict, ratio to the floor), printed as a
table and written to BENCHMARKS.md with the machine and the versions."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Sequence


@dataclass
class Result:
    part: str  # "1 ack latency", "2 stall evaluation", ...
    name: str  # what was measured, e.g. "p99 at 32 senders"
    database: str  # "sqlite", "postgresql" or "-"
    value: float | None
    unit: str  # "ms", "s", "req/s", "MB", "×"
    target: str = ""  # "< 100 ms"; empty when the row is information only
    ok: bool | None = None  # None: no target
    floor: float | None = None  # the bare app's figure, same unit
    note: str = ""

    @property
    def ratio(self) -> float | None:
        if self.floor is None or self.value is None or self.floor == 0:
            return None
        return self.value / self.floor

    def verdict(self) -> str:
        return "" if self.ok is None else ("met" if self.ok else "**missed**")


def number(value: float | None, unit: str = "") -> str:
    if value is None:
        return "–"
    if unit in ("ms", "s", "×"):
        text = f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}" if abs(value) < 1000 else f"{value:,.0f}"
    elif unit == "MB":
        text = f"{value:.0f}"
    else:
        text = f"{value:,.0f}" if abs(value) >= 100 else f"{value:.1f}"
    return f"{text} {unit}".strip()


def table_rows(results: Sequence[Result]) -> list[list[str]]:
    rows = []
    for r in results:
        ratio = r.ratio
        rows.append([r.part, r.name, r.database, number(r.value, r.unit), r.target or "–",
                     r.verdict().replace("*", "") or "–", number(r.floor, r.unit) if r.floor is not None else "–",
                     f"{ratio:.2f}×" if ratio is not None else "–", r.note])
    return rows


HEADERS = ["part", "measure", "db", "value", "target", "verdict", "floor", "÷ floor", "note"]


def text_table(results: Sequence[Result]) -> str:
    rows = [HEADERS] + table_rows(results)
    shown = [row[:-1] for row in rows]
    widths = [max(len(row[i]) for row in shown) for i in range(len(HEADERS) - 1)]
    lines = ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)) for row in shown]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(results: Sequence[Result]) -> str:
    lines = ["| " + " | ".join(HEADERS) + " |", "|" + "---|" * len(HEADERS)]
    for r, row in zip(results, table_rows(results)):
        row[5] = r.verdict() or "–"
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines)


@dataclass
class Report:
    machine: list[tuple[str, str]]
    results: list[Result] = field(default_factory=list)
    sections: list[tuple[str, str]] = field(default_factory=list)  # (title, markdown body)
    command: str = "make bench"
    seconds: float = 0.0

    def add(self, *results: Result) -> None:
        self.results.extend(results)

    def markdown(self) -> str:
        missed = [r for r in self.results if r.ok is False]
        parts = [
            "# Benchmarks",
            "",
            f"Written by `{self.command}` (`python -m bench`; `bench/`), which took {self.seconds:.0f} s. "
            "Every figure is from the run that wrote this file; rerun to refresh it. "
            "*Floor* is the cheapest thing that could do the same job: for acknowledgements, a bare Bolt app "
            "that only acknowledges, on the same server stack.",
            "",
            "## Machine and versions",
            "",
            "| | |",
            "|---|---|",
            *[f"| {key} | {value} |" for key, value in self.machine],
            "",
            "## Results",
            "",
            markdown_table(self.results),
            "",
            f"{sum(r.ok is True for r in self.results)} of {sum(r.ok is not None for r in self.results)} targets met"
            + (f"; missed: {', '.join(f'{r.part} {r.name} ({r.database})' for r in missed)}." if missed else "."),
            "",
        ]
        for title, body in self.sections:
            parts += [f"## {title}", "", body.rstrip(), ""]
        return "\n".join(parts)

    def write(self, path: Path) -> None:
        path.write_text(self.markdown())


def save(report: Report, path: Path) -> None:
    """The measured part of a report (machine, results, measured sections), so
    the Markdown can be rendered again without measuring again."""
    path.write_text(json.dumps(asdict(report), indent=1))


def restore(path: Path) -> Report:
    data: dict[str, Any] = json.loads(path.read_text())
    return Report(machine=[tuple(row) for row in data["machine"]],  # type: ignore[misc]
                  results=[Result(**row) for row in data["results"]],
                  sections=[tuple(row) for row in data["sections"]],  # type: ignore[misc]
                  command=data["command"], seconds=data["seconds"])
