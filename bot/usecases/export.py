"""`/alliance export`: scores and flags as CSV, for supervisors and admins.

No notes (not even whether one exists), no session dates (only the session's ISO
year-week, `2026-W47`, which identifies no one), no reply text: one row per
check-in and one per flag, identified by case code; therapists by Slack ID and
display name. Cells that a spreadsheet would read as a formula are prefixed with
an apostrophe.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Callable, Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from bot.domain.access import Actor, Permission, require
from bot.domain.audience import Audience, relabel_all, relabel_keys
from bot.store.models import Case, Checkin, Flag
from bot.domain.wording import plural
from bot.usecases import audit

COLUMNS = (
    "record", "case_code", "case_kind", "case_status", "therapist", "therapist_name", "session", "session_week",
    "ratings", "client_scores", "rupture", "therapist_flags",
    "rule", "flag_status", "severity", "opened_on", "resolved_on", "resolution",
)
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
EXPORT_ACTION = "export"


@dataclass(frozen=True)
class ExportFile:
    filename: str
    content: str
    cases: int
    checkins: int
    flags: int


def csv_cell(value: Any) -> str:
    """Text for one cell, defused against spreadsheet formula injection."""
    if value is None:
        return ""
    text = str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def _pairs(values: dict[str, Any] | None, order: Iterable[str] = ()) -> str:
    values = dict(values or {})
    keys = [k for k in order if k in values] + sorted(k for k in values if k not in set(order))
    return " ".join(f"{k}={'-' if values[k] is None else values[k]}" for k in keys)


def _day(value: datetime | None) -> str:
    return value.date().isoformat() if value else ""


def iso_week(day: date) -> str:
    """`2026-W47`: the ISO year and week (the ISO year can differ from the calendar's)."""
    year, week, _ = day.isocalendar()
    return f"{year}-W{week:02d}"


def _checkin_row(case: Case, checkin: Checkin, name_of: Callable[[str], str]) -> dict[str, Any]:
    labels = list(case.member_labels)  # the file leaves the therapists' view: position letters only
    members = relabel_all(labels, labels, Audience.OTHERS)
    rupture = checkin.rupture_kind if checkin.rupture_kind != "none" else ""
    if rupture and checkin.rupture_members:
        rupture += ":" + ",".join(relabel_all(checkin.rupture_members, labels, Audience.OTHERS))
    return {
        "record": "checkin", "case_code": case.code, "case_kind": case.kind, "case_status": case.status,
        "therapist": checkin.therapist_id, "therapist_name": name_of(checkin.therapist_id),
        "session": checkin.session_number,
        "session_week": iso_week(checkin.session_date or checkin.created_at.date()),  # no date: the typing day
        "ratings": _pairs(relabel_keys(checkin.ratings or {}, labels, Audience.OTHERS), members + ["unit", "collective"]),
        "client_scores": _pairs(relabel_keys(checkin.client_scores or {}, labels, Audience.OTHERS), members),
        "rupture": rupture,
        "therapist_flags": ";".join(checkin.therapist_flags or ()),
    }


def _flag_row(case: Case, flag: Flag, name_of: Callable[[str], str]) -> dict[str, Any]:
    return {
        "record": "flag", "case_code": case.code, "case_kind": case.kind, "case_status": case.status,
        "therapist": case.owner_id, "therapist_name": name_of(case.owner_id), "rule": flag.rule, "flag_status": flag.status, "severity": flag.severity,
        "opened_on": _day(flag.opened_at), "resolved_on": _day(flag.resolved_at), "resolution": flag.resolution or "",
    }


@dataclass(frozen=True)
class ExportSize:
    cases: int
    checkins: int
    flags: int


def export_size(session: Session, actor: Actor) -> ExportSize:
    """What an export would hold now (counts only), for a supervisor or admin: what
    `/alliance export` says as it queues the file."""
    require(actor, Permission.EXPORT)
    return ExportSize(*(int(session.scalar(select(func.count()).select_from(model)) or 0)
                        for model in (Case, Checkin, Flag)))


def export_detail(file: ExportFile) -> str:
    return f"{plural(file.cases, 'case')}, {plural(file.checkins, 'check-in')}, {plural(file.flags, 'flag')}"


def build_export(session: Session, actor: Actor, now: datetime,
                 name_of: Callable[[str], str] = lambda user_id: "", audited: bool = True) -> ExportFile:
    """Every case's check-in scores and flags, for a supervisor or admin; audited
    unless `audited` is False (the caller records it once the file has left).
    `name_of` gives a therapist's display name (cached `users.info` in the app)."""
    require(actor, Permission.EXPORT)
    cases = {case.id: case for case in session.scalars(select(Case).order_by(Case.code))}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    checkins = flags = 0
    for checkin in session.scalars(select(Checkin).options(defer(Checkin.note_ciphertext)).order_by(Checkin.case_id, Checkin.session_number)):
        case = cases.get(checkin.case_id)
        if case is not None:
            writer.writerow({k: csv_cell(v) for k, v in _checkin_row(case, checkin, name_of).items()})
            checkins += 1
    for flag in session.scalars(select(Flag).options(defer(Flag.resolution_note_ciphertext)).order_by(Flag.case_id, Flag.opened_at, Flag.id)):
        case = cases.get(flag.case_id)
        if case is not None:
            writer.writerow({k: csv_cell(v) for k, v in _flag_row(case, flag, name_of).items()})
            flags += 1
    file = ExportFile(filename=f"alliance-export-{now.date().isoformat()}.csv", content=buffer.getvalue(),
                      cases=len(cases), checkins=checkins, flags=flags)
    if audited:
        audit.record(session, actor.user_id, EXPORT_ACTION, now, detail=export_detail(file))
    return file
