"""Validating what a therapist typed or picked for a check-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Mapping, Sequence

from bot.domain.checkins import (
    CLIENT_MAX,
    CLIENT_MIN,
    NOTE_MAX_LENGTH,
    RATING_MAX,
    RATING_MIN,
    Rupture,
    RuptureKind,
    TherapistFlag,
)
from bot.domain.dates import DateProblem, read_typed_date
from bot.domain.errors import UserError
from bot.domain.wording import plural

MAX_SESSION_NUMBER = 999
MAX_SESSION_AGE_DAYS = 366


@dataclass(frozen=True)
class CheckinInput:
    ratings: dict[str, int | None]  # None: the member was absent (`-`)
    session_number: int | None = None
    session_date: date | None = None
    rupture: Rupture = Rupture()
    flags: frozenset[TherapistFlag] = frozenset()
    client_scores: Mapping[str, int] | None = None
    note: str | None = None


def log_example(code: str, threads: Sequence[str]) -> str:
    sample = ["8", "7", "8", "8", "7", "8", "8", "7", "8", "8"]
    return f"/alliance log {code} " + " ".join(sample[: len(threads)])


def parse_rating(raw: str, thread: str) -> int:
    text = raw.strip()
    if not text.lstrip("-").isdigit():
        raise UserError(f"The rating for {thread} must be a whole number from {RATING_MIN} to {RATING_MAX} "
                        f"(or `-` when absent), not `{text[:12]}`.")
    value = int(text)
    if not RATING_MIN <= value <= RATING_MAX:
        raise UserError(f"The rating for {thread} must be from {RATING_MIN} to {RATING_MAX}, not {value}.")
    return value


ABSENT = "-"


def parse_ratings(code: str, threads: Sequence[str], raw: Sequence[str]) -> dict[str, int | None]:
    """One rating per thread; `-` records an absent member (None), never a 0."""
    example = log_example(code, threads)
    if len(raw) != len(threads):
        raise UserError(
            f"{code} has {plural(len(threads), 'thread')} ({', '.join(threads)}), so give "
            f"{plural(len(threads), 'rating')}, not {len(raw)}: `{example}`."
        )
    ratings: dict[str, int | None] = {}
    for thread, value in zip(threads, raw):
        if value.strip() == ABSENT:
            if thread in ("unit", "collective"):
                raise UserError(f"Only a member can be absent (`-`); rate {thread} from {RATING_MIN} to "
                                f"{RATING_MAX}. Example: `{example}`.")
            ratings[thread] = None
            continue
        try:
            ratings[thread] = parse_rating(value, thread)
        except UserError as error:
            raise UserError(f"{error.message} Example: `{example}`.") from None
    return ratings


def parse_session_number(raw: str) -> int:
    text = raw.strip()
    if not text.isdigit() or not 1 <= int(text) <= MAX_SESSION_NUMBER:
        raise UserError(f"The session number must be a whole number from 1 to {MAX_SESSION_NUMBER}, e.g. `session=4`.")
    return int(text)


def parse_session_date(raw: str, today: date) -> date:
    try:
        value = read_typed_date(raw)
    except DateProblem as problem:
        raise UserError(f"{problem} Give the session date as YYYY-MM-DD, e.g. `date={today.isoformat()}`.") from None
    if value > today + timedelta(days=1):
        raise UserError("The session date cannot be in the future.")
    if value < today - timedelta(days=MAX_SESSION_AGE_DAYS):
        raise UserError("The session date is more than a year ago; check the year.")
    return value


def parse_client_score(raw: str, member: str) -> int:
    text = raw.strip()
    if not text.isdigit() or not CLIENT_MIN <= int(text) <= CLIENT_MAX:
        raise UserError(f"{member}'s client-reported score must be a whole number from {CLIENT_MIN} to {CLIENT_MAX}, e.g. `client=A:34`.")
    return int(text)


def parse_client_scores(raw: str, members: Sequence[str]) -> dict[str, int]:
    scores: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in raw.split(","))):
        member, sep, value = part.partition(":")
        member = member.strip().upper() if member.strip().upper() in members else member.strip()
        if not sep or member not in members:
            raise UserError(f"Client scores name a member ({', '.join(members)}) and a 0–40 total, e.g. `client=A:34,B:29`.")
        if member in scores:
            raise UserError(f"{member}'s client score is given twice.")
        scores[member] = parse_client_score(value, member)
    if not scores:
        raise UserError("Client scores name a member and a 0–40 total, e.g. `client=A:34,B:29`.")
    return scores


def parse_rupture(raw: str, members: Sequence[str]) -> Rupture:
    kind_text, _, who = raw.partition(":")
    try:
        kind = RuptureKind(kind_text.strip().lower())
    except ValueError:
        raise UserError("A rupture is none, withdrawal or confrontation, with whom, e.g. `rupture=withdrawal:B`.") from None
    names = [w.strip() for w in who.replace("+", ",").split(",") if w.strip()]
    resolved = []
    for name in names:
        match = next((m for m in members if m.lower() == name.lower()), None)
        if match is None:
            raise UserError(f"`{name[:12]}` is not a member of this case ({', '.join(members)}).")
        resolved.append(match)
    if kind is RuptureKind.NONE and resolved:
        raise UserError("`rupture=none` names nobody.")
    return Rupture(kind=kind, members=tuple(dict.fromkeys(resolved)))


def parse_flags(raw: str) -> frozenset[TherapistFlag]:
    flags = set()
    for part in filter(None, (p.strip().lower() for p in raw.split(","))):
        try:
            flags.add(TherapistFlag(part))
        except ValueError:
            raise UserError(f"`{part[:16]}` is not a flag: use stuck, sides, tension or resistance, e.g. `flags=stuck,sides`.") from None
    return frozenset(flags)


def check_note_length(note: str) -> str | None:
    note = note.strip()
    if len(note) > NOTE_MAX_LENGTH:
        raise UserError(f"The private note is {len(note)} characters; keep it to {NOTE_MAX_LENGTH}.")
    return note or None


def parse_log_options(options: Mapping[str, str], members: Sequence[str], today: date) -> dict[str, object]:
    """The optional `key=value` parts of `/alliance log`, validated."""
    parsed: dict[str, object] = {}
    if "session" in options:
        parsed["session_number"] = parse_session_number(options["session"])
    if "date" in options:
        parsed["session_date"] = parse_session_date(options["date"], today)
    if "rupture" in options:
        parsed["rupture"] = parse_rupture(options["rupture"], members)
    if "flags" in options:
        parsed["flags"] = parse_flags(options["flags"])
    if "client" in options:
        parsed["client_scores"] = parse_client_scores(options["client"], members)
    if "note" in options:
        parsed["note"] = check_note_length(options["note"])
    return parsed
