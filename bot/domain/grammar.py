"""The `/alliance` command grammar (SPEC §7): text in, a typed command out."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field
from datetime import date
from typing import Union

from bot.domain.cadence import TYPED_FORMS, WEEKLY, read_cadence
from bot.domain.cases import CODE_PREFIXES, CaseKind, normalize_case_code, plain_dashes
from bot.domain.dates import DateProblem, read_typed_date
from bot.domain.errors import UserError
from bot.domain.wording import plural

DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_USER_REF = re.compile(r"^<@([UW][A-Z0-9]+)(?:\|[^>]*)?>$|^([UW][A-Z0-9]{6,})$")
_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_SMART_QUOTES = str.maketrans({"\u201c": '"', "\u201d": '"', "\u2018": "'", "\u2019": "'"})


class CommandError(UserError):
    """A malformed command: the reason and an example of the right form."""

    def __init__(self, reason: str, example: str) -> None:
        super().__init__(f"{reason} Try `/alliance {example}`.")


@dataclass(frozen=True)
class OpenCheckin:
    code: str | None = None


@dataclass(frozen=True)
class NewCase:
    kind: CaseKind
    members: int
    labels: tuple[str, ...] = ()
    cadence: int = WEEKLY  # weeks between sessions


@dataclass(frozen=True)
class LogCheckin:
    code: str
    ratings: tuple[str, ...]
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ListCases:
    pass


@dataclass(frozen=True)
class ShowHistory:
    code: str


@dataclass(frozen=True)
class ShareCase:
    code: str
    user_id: str


@dataclass(frozen=True)
class ChangeStatus:
    code: str
    action: str  # pause | close | reopen


@dataclass(frozen=True)
class RateLinks:
    """`/alliance rate CASE`: client rating links for the case's newest session."""

    code: str


@dataclass(frozen=True)
class ForgetCase:
    code: str


@dataclass(frozen=True)
class SetReminder:
    weekday: int | None  # None: reminders off
    time: str | None = None


@dataclass(frozen=True)
class SetAway:
    until: date | None  # None: back now (`away off`)


@dataclass(frozen=True)
class Config:
    args: tuple[str, ...]


@dataclass(frozen=True)
class Export:
    pass


@dataclass(frozen=True)
class Help:
    pass


@dataclass(frozen=True)
class Undo:
    """`/alliance undo`: take back your last check-in of the past 24 hours."""


@dataclass(frozen=True)
class EditCheckin:
    """`/alliance edit CASE session=N [ratings] [options]`: correct a recent check-in."""

    code: str
    session: int
    ratings: tuple[str, ...] = ()
    options: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Missed:
    """`/alliance missed CASE [cancelled|no-show]`: a session that did not happen."""

    code: str
    attendance: str  # cancelled | no_show


@dataclass(frozen=True)
class SetCadence:
    code: str
    weeks: int


@dataclass(frozen=True)
class Transfer:
    """`/alliance transfer CASE @to`, or `transfer all @from @to` (from_user set, code None)."""

    to_user: str
    code: str | None = None
    from_user: str | None = None


@dataclass(frozen=True)
class Agenda:
    pass


Command = Union[
    OpenCheckin, NewCase, LogCheckin, ListCases, ShowHistory, ShareCase, ChangeStatus,
    ForgetCase, RateLinks, SetReminder, SetAway, Config, Export, Help, Undo, EditCheckin, Missed, SetCadence,
    Transfer, Agenda,
]

LOG_KEYS = ("session", "date", "rupture", "flags", "client", "note")
EXAMPLE_CODE = "CPL-7KQ2"


def tokenize(text: str) -> list[str]:
    try:
        tokens = shlex.split(text.translate(_SMART_QUOTES))
    except ValueError:
        raise CommandError("A quote is not closed.", f'log {EXAMPLE_CODE} 8 7 8 8 note="short note"') from None
    return join_split_codes(tokens)


def join_split_codes(tokens: list[str]) -> list[str]:
    """A case code typed as two tokens (`IND SWBQ`, or `IND – SWBQ` as three) is one
    token. A code's body is four characters, so a rating after it is never taken in."""
    joined: list[str] = []
    i = 0
    while i < len(tokens):
        token = tokens[i]
        if token.upper() in CODE_PREFIXES:
            body_at = i + 2 if i + 2 < len(tokens) and _is_dash(tokens[i + 1]) else i + 1
            body = tokens[body_at] if body_at < len(tokens) else ""
            if len(body) == 4 and normalize_case_code(f"{token}-{body}") is not None:
                joined.append(f"{token}-{body}")
                i = body_at + 1
                continue
        joined.append(token)
        i += 1
    return joined


def _is_dash(token: str) -> bool:
    return len(token) == 1 and plain_dashes(token) == "-"


def parse_case_code(token: str, example: str) -> str:
    code = normalize_case_code(token)
    if code is None:
        raise CommandError(f"`{_shown(token)}` is not a case code (they look like {EXAMPLE_CODE}).", example)
    return code


def _shown(token: str, limit: int = 24) -> str:
    token = "".join(ch if ch.isprintable() else " " for ch in token.replace("`", "'"))  # one line, always
    return token if len(token) <= limit else token[: limit - 1] + "…"


def _one_code(verb: str, args: list[str]) -> str:
    example = f"{verb} {EXAMPLE_CODE}"
    if len(args) != 1:
        raise CommandError(f"`{verb}` takes one case code.", example)
    return parse_case_code(args[0], example)


def _parse_new(args: list[str]) -> NewCase:
    example = "new couple"
    if not args:
        raise CommandError("Say which kind of case: individual, couple or family.", example)
    try:
        kind = CaseKind(args[0].lower())
    except ValueError:
        raise CommandError(f"`{_shown(args[0])}` is not a kind of case: use individual, couple or family.", example) from None
    members = kind.default_members
    labels: tuple[str, ...] = ()
    cadence = WEEKLY
    for arg in args[1:]:
        key, sep, value = arg.partition("=")
        key = key.lower()
        if not sep or key not in ("members", "labels", "cadence"):
            raise CommandError(f"`{_shown(arg)}` is not an option of `new`.", "new family members=4")
        if key == "cadence":
            cadence = _cadence(value, f"new {kind.value} cadence=2w")
        elif key == "members":
            if not value.isdigit() or not kind.min_members <= int(value) <= kind.max_members:
                span = plural(kind.min_members, "member") if kind.min_members == kind.max_members else f"{kind.min_members} to {kind.max_members} members"
                raise CommandError(f"{_a(kind.value)} case has {span}.", f"new {kind.value} members={kind.default_members}")
            members = int(value)
        else:
            labels = tuple(part.strip() for part in value.split(",") if part.strip())
    if labels and len(labels) != members:
        members = len(labels)
        if not kind.min_members <= members <= kind.max_members:
            raise CommandError(f"{_a(kind.value)} case cannot have {plural(members, 'member')}.", "new couple labels=P1,P2")
    return NewCase(kind=kind, members=members, labels=labels, cadence=cadence)


def _cadence(text: str, example: str) -> int:
    weeks = read_cadence(text)
    if weeks is None:
        raise CommandError(f"`{_shown(text)}` is not a cadence: use {TYPED_FORMS}.", example)
    return weeks


def _parse_cadence(args: list[str]) -> SetCadence:
    example = f"cadence {EXAMPLE_CODE} 2w"
    if len(args) < 2:
        raise CommandError(f"`cadence` takes a case code and {TYPED_FORMS}.", example)
    return SetCadence(code=parse_case_code(args[0], example), weeks=_cadence(" ".join(args[1:]), example))


def _parse_edit(args: list[str]) -> EditCheckin:
    example = f"edit {EXAMPLE_CODE} session=3 8 8 8 8"
    if not args:
        raise CommandError("`edit` needs a case code, `session=N` and what to correct.", example)
    code = parse_case_code(args[0], example)
    ratings, options = _ratings_and_options(args[1:], example, ratings_first=False)
    number = options.pop("session", "")
    if not number.isdigit() or int(number) < 1:
        raise CommandError("Say which session to correct with `session=N`.", example)
    if not ratings and not options:
        raise CommandError("Give the corrected ratings or options.", example)
    return EditCheckin(code=code, session=int(number), ratings=tuple(ratings), options=options)


MISSED_KINDS = {"cancelled": "cancelled", "canceled": "cancelled", "no-show": "no_show", "noshow": "no_show",
                "no_show": "no_show"}


def _parse_missed(args: list[str]) -> Missed:
    example = f"missed {EXAMPLE_CODE} no-show"
    if len(args) not in (1, 2):
        raise CommandError("`missed` takes a case code and, if you like, `cancelled` or `no-show`.", example)
    code = parse_case_code(args[0], example)
    kind = MISSED_KINDS.get(args[1].lower().replace("\u2013", "-")) if len(args) == 2 else "cancelled"
    if kind is None:
        raise CommandError(f"`{_shown(args[1])}` is neither `cancelled` nor `no-show`.", example)
    return Missed(code=code, attendance=kind)


def _user(token: str, example: str) -> str:
    match = _USER_REF.match(token)
    if not match:
        raise CommandError("Mention the person (pick them from Slack's @ list).", example)
    return match.group(1) or match.group(2)


def _parse_transfer(args: list[str]) -> Transfer:
    example = f"transfer {EXAMPLE_CODE} @colleague"
    if len(args) == 3 and args[0].lower() == "all":
        every = "transfer all @leaver @colleague"
        return Transfer(from_user=_user(args[1], every), to_user=_user(args[2], every))
    if len(args) != 2:
        raise CommandError("`transfer` takes a case code and a person, or `all`, the leaver and a person.", example)
    return Transfer(code=parse_case_code(args[0], example), to_user=_user(args[1], example))


def _a(word: str) -> str:
    """`A couple`, `An individual`."""
    return ("An " if word[:1].lower() in "aeiou" else "A ") + word


def _ratings_and_options(args: list[str], example: str, ratings_first: bool) -> tuple[list[str], dict[str, str]]:
    """Ratings (spaces or commas: `8,8,7,8`, `8, 8, 7, 8`) and `key=value` log options,
    each key once; with `ratings_first`, a rating after an option is refused."""
    ratings: list[str] = []
    options: dict[str, str] = {}
    for arg in args:
        key, sep, value = arg.partition("=")
        if not sep:
            if ratings_first and options:
                raise CommandError("Put the ratings before the key=value options.", example)
            ratings.extend(part for part in arg.split(",") if part.strip())
            continue
        key = key.lower()
        if key not in LOG_KEYS:
            raise CommandError(f"`{_shown(key)}` is not a log option (use {', '.join(LOG_KEYS)}).", example)
        if key in options:
            raise CommandError(f"`{key}` is given twice.", example)
        options[key] = value
    return ratings, options


def _parse_log(args: list[str]) -> LogCheckin:
    example = f"log {EXAMPLE_CODE} 8 7 8 8 session=3 flags=stuck"
    if not args:
        raise CommandError("`log` needs a case code and a rating per thread.", example)
    code = parse_case_code(args[0], example)
    ratings, options = _ratings_and_options(args[1:], example, ratings_first=True)
    if not ratings:
        raise CommandError("`log` needs a rating (0–10) per thread after the case code.", example)
    return LogCheckin(code=code, ratings=tuple(ratings), options=options)


def _parse_share(args: list[str]) -> ShareCase:
    example = f"share {EXAMPLE_CODE} @colleague"
    if len(args) != 2:
        raise CommandError("`share` takes a case code and a person.", example)
    code = parse_case_code(args[0], example)
    match = _USER_REF.match(args[1])
    if not match:
        raise CommandError("Mention the person to share with (pick them from Slack's @ list).", example)
    return ShareCase(code=code, user_id=match.group(1) or match.group(2))


def _parse_remind(args: list[str]) -> SetReminder:
    example = "remind friday 15:00"
    if len(args) == 1 and args[0].lower() == "off":
        return SetReminder(weekday=None)
    if len(args) != 2:
        raise CommandError("`remind` takes a day and a time, or `off`.", example)
    weekday, at = parse_weekly(args[0], args[1], example)
    return SetReminder(weekday=weekday, time=at)


def parse_weekly(day_text: str, time_text: str, example: str) -> tuple[int, str]:
    """A day of the week (Monday=0; `fri` or `Friday`) and a 24-hour `HH:MM`."""
    day = day_text.lower()
    matches = [i for i, name in enumerate(DAYS) if len(day) >= 3 and name.startswith(day)]
    if len(matches) != 1:
        raise CommandError(f"`{_shown(day_text)}` is not a day of the week.", example)
    time_match = _TIME.match(time_text)
    if not time_match:
        raise CommandError(f"`{_shown(time_text)}` is not a time of day as HH:MM (24-hour).", example)
    return matches[0], f"{int(time_match.group(1)):02d}:{time_match.group(2)}"


def _parse_away(args: list[str]) -> SetAway:
    example = "away until 2027-01-04"
    if len(args) == 1 and args[0].lower() == "off":
        return SetAway(until=None)
    if len(args) != 2 or args[0].lower() != "until":
        raise CommandError("`away` takes `until` and a date, or `off`.", example)
    try:
        return SetAway(until=read_typed_date(args[1]))
    except DateProblem as problem:
        raise CommandError(str(problem), example) from None


def parse_command(text: str) -> Command:
    """Parse the text after `/alliance`. Raises CommandError with a one-line reason."""
    tokens = tokenize(text or "")
    if not tokens:
        return OpenCheckin()
    verb, args = tokens[0].lower(), tokens[1:]
    if verb == "new":
        return _parse_new(args)
    if verb == "log":
        return _parse_log(args)
    if verb in ("cases", "list"):
        return ListCases()
    if verb == "history":
        return ShowHistory(code=_one_code(verb, args))
    if verb == "share":
        return _parse_share(args)
    if verb in ("pause", "close", "reopen"):
        return ChangeStatus(code=_one_code(verb, args), action=verb)
    if verb == "forget":
        return ForgetCase(code=_one_code(verb, args))
    if verb == "rate":
        return RateLinks(code=_one_code(verb, args))
    if verb == "remind":
        return _parse_remind(args)
    if verb == "away":
        return _parse_away(args)
    if verb == "config":
        return Config(args=tuple(args))
    if verb == "export":
        return Export()
    if verb == "help":
        return Help()
    if verb == "undo":
        if args:
            raise CommandError("`undo` takes nothing: it undoes your last check-in of the past 24 hours.", "undo")
        return Undo()
    if verb == "edit":
        return _parse_edit(args)
    if verb == "missed":
        return _parse_missed(args)
    if verb == "cadence":
        return _parse_cadence(args)
    if verb == "transfer":
        return _parse_transfer(args)
    if verb == "agenda":
        return Agenda()
    if len(tokens) == 1 and normalize_case_code(tokens[0]) is not None:
        return OpenCheckin(code=normalize_case_code(tokens[0]))
    raise CommandError(f"`{_shown(tokens[0])}` is not something Alliance knows.", "help")
