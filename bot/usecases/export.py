"""`/alliance export`: scores and flags as CSV, for supervisors and admins.

No notes (not even whether one exists), no session dates, no reply text: one row
per check-in and one per flag, identified by case code. Cells that a spreadsheet
would read as a formula are prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, defer

from bot.access import Action, Actor, require
from bot.models import Case, Checkin, Flag
from bot.usecases import audit

COLUMNS = (
    "record", "case_code", "case_kind", "case_status", "therapist", "session", "recorded_on",
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


def _checkin_row(case: Case, checkin: Checkin) -> dict[str, Any]:
    members = list(case.member_labels)
    rupture = checkin.rupture_kind if checkin.rupture_kind != "none" else ""
    if rupture and checkin.rupture_members:
        rupture += ":" + ",".join(checkin.rupture_members)
    return {
        "record": "checkin", "case_code": case.code, "case_kind": case.kind, "case_status": case.status,
        "therapist": checkin.therapist_id, "session": checkin.session_number, "recorded_on": _day(checkin.created_at),
        "ratings": _pairs(checkin.ratings, members + ["unit", "collective"]),
        "client_scores": _pairs(checkin.client_scores, members), "rupture": rupture,
        "therapist_flags": ";".join(checkin.therapist_flags or ()),
    }


def _flag_row(case: Case, flag: Flag) -> dict[str, Any]:
    return {
        "record": "flag", "case_code": case.code, "case_kind": case.kind, "case_status": case.status,
        "therapist": case.owner_id, "rule": flag.rule, "flag_status": flag.status, "severity": flag.severity,
        "opened_on": _day(flag.opened_at), "resolved_on": _day(flag.resolved_at), "resolution": flag.resolution or "",
    }


def build_export(session: Session, actor: Actor, now: datetime) -> ExportFile:
    """Every case's check-in scores and flags, for a supervisor or admin; audited."""
    require(actor, Action.EXPORT)
    cases = {case.id: case for case in session.scalars(select(Case).order_by(Case.code))}
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=COLUMNS, lineterminator="\r\n")
    writer.writeheader()
    checkins = flags = 0
    for checkin in session.scalars(select(Checkin).options(defer(Checkin.note_ciphertext)).order_by(Checkin.case_id, Checkin.session_number)):
        case = cases.get(checkin.case_id)
        if case is not None:
            writer.writerow({k: csv_cell(v) for k, v in _checkin_row(case, checkin).items()})
            checkins += 1
    for flag in session.scalars(select(Flag).options(defer(Flag.resolution_note_ciphertext)).order_by(Flag.case_id, Flag.opened_at, Flag.id)):
        case = cases.get(flag.case_id)
        if case is not None:
            writer.writerow({k: csv_cell(v) for k, v in _flag_row(case, flag).items()})
            flags += 1
    audit.record(session, actor.user_id, EXPORT_ACTION, now,
                 detail=f"{len(cases)} cases, {checkins} check-ins, {flags} flags")
    return ExportFile(filename=f"alliance-export-{now.date().isoformat()}.csv", content=buffer.getvalue(),
                      cases=len(cases), checkins=checkins, flags=flags)
