"""PHI guard: spot identifying details in free text before anything is saved.

Every free-text field (member labels, private notes, resolution notes) goes
through `check_free_text`. The patterns are tuned for clinicians' notes: scores
("8/10", "34/40"), session numbers, time ranges and case codes (`CPL-7KQ2`)
must pass, while e-mail addresses, phone numbers, full dates, SSN-like and
record-number-like digit runs, URLs and street addresses are refused. A refusal
names the kind of thing found, never the matched text.

Judgement calls:
- An unbroken run of exactly 10 digits, or 11 digits starting with 0 or 1, is a
  PHONE number; any other unbroken run of 7+ digits is a RECORD_NUMBER. A run
  right after a record keyword (MRN, NHS, record, chart, ID, ...) is always a
  RECORD_NUMBER, and needs only 6 digits there.
- A date needs day, month and year; "March 2024" or "15 March" alone is fine.
  With a two-digit year, three parts all <= 10 ("8/7/10") read as 0-10 ratings.
- A street address needs a house number, then 1-4 capitalised words, then a
  street suffix ("12 Baker Street", "4B Elm Rd."), so "3 way conversation" or
  "walked 2 dogs down the lane" are not addresses.
- Bare domains need a known TLD written in lower case ("clinic.com"), so
  "e.g.", "etc." and "Dr.Smith" are not URLs.
- Overlapping matches are merged into one finding whose kind is the most
  specific one involved (e-mail > URL > SSN > record keyword > phone > date >
  address > bare digit run).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

__all__ = ["PhiKind", "PhiFinding", "find_phi", "phi_refusal", "check_free_text"]


class PhiKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"
    SSN = "ssn"
    RECORD_NUMBER = "record_number"
    URL = "url"
    ADDRESS = "address"

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS: dict[PhiKind, str] = {
    PhiKind.EMAIL: "an e-mail address",
    PhiKind.PHONE: "a phone number",
    PhiKind.DATE: "a full date",
    PhiKind.SSN: "an SSN-like number",
    PhiKind.RECORD_NUMBER: "a record-number-like digit run",
    PhiKind.URL: "a web address",
    PhiKind.ADDRESS: "a street address",
}


@dataclass(frozen=True)
class PhiFinding:
    kind: PhiKind
    start: int
    end: int


Validator = Callable[[re.Match[str]], bool]


@dataclass(frozen=True)
class _Rule:
    kind: PhiKind
    rank: int  # higher wins when matches overlap
    pattern: re.Pattern[str]
    accept: Validator | None = None
    trim_punctuation: bool = False


def _digit_count(lo: int, hi: int) -> Validator:
    def accept(match: re.Match[str]) -> bool:
        return lo <= sum(ch.isdigit() for ch in match.group(0)) <= hi

    return accept


def _plausible(day: int, month: int, year: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12 and (year < 100 or 1900 <= year <= 2099)


def _iso_date(match: re.Match[str]) -> bool:
    return _plausible(int(match["d"]), int(match["m"]), int(match["y"]))


def _numeric_date(match: re.Match[str]) -> bool:
    a, b, year = match["a"], match["b"], match["y"]
    if len(year) == 2 and match["sep"] != "/" and (len(a) != 2 or len(b) != 2):
        return False  # "2.1.10" is a version, "15.03.24" a date
    first, second, y = int(a), int(b), int(year)
    if len(year) == 2 and max(first, second, y) <= 10:
        return False  # "8/7/10" is three 0-10 ratings, not 8 July 2010
    return _plausible(first, second, y) or _plausible(second, first, y)


def _text_date(match: re.Match[str]) -> bool:
    return 1 <= int(match["day"]) <= 31 and 1900 <= int(match["year"]) <= 2099


_TLDS = (
    "com|org|net|edu|gov|mil|int|io|co|uk|de|fr|nl|es|eu|ca|au|nz|ie|ch|se|no|dk|fi"
    "|info|biz|health|care|clinic|app|dev|ai|ly|xyz|online|site|org\\.uk|nhs"
)
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PATH = r"(?:[/?#][^\s<>\"']*)?"
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
_ORD = r"(?:st|nd|rd|th)?"
_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way"
    r"|Place|Pl|Terrace|Close|Crescent|Highway|Hwy|Parkway|Square)"
)
_SUFFIX_ANY_FIRST = re.sub(r"\b([A-Z])", lambda m: f"[{m[1]}{m[1].lower()}]", _SUFFIX)

_I = re.IGNORECASE
_RULES: tuple[_Rule, ...] = (
    _Rule(PhiKind.EMAIL, 80, re.compile(
        rf"(?<![\w.%+-])[\w.%+-]+@(?:{_LABEL}\.)+[A-Za-z]{{2,}}\b")),
    _Rule(PhiKind.URL, 70, re.compile(r"\b(?:https?|ftp)://[^\s<>\"']+", _I), None, True),
    _Rule(PhiKind.URL, 70, re.compile(
        rf"(?<![\w.-])www\.{_LABEL}(?:\.{_LABEL})+{_PATH}", _I), None, True),
    _Rule(PhiKind.URL, 70, re.compile(
        rf"(?<![\w.@-])(?:{_LABEL}\.)+(?:{_TLDS})(?![\w-]){_PATH}"), None, True),
    _Rule(PhiKind.SSN, 60, re.compile(r"(?<![\w-])\d{3}([- ])\d{2}\1\d{4}(?![\w-])")),
    _Rule(PhiKind.RECORD_NUMBER, 50, re.compile(
        r"\b(?:mrn|nhs|record|chart|id|patient|hospital|file|acct|account|member)s?"
        r"(?:\s*(?:no|num|nr|number)\.?)?\s*[:#]?\s*#?\s*[A-Z]{0,3}\d(?:[ -]?\d){5,}(?!\d)", _I)),
    # (555) 123-4567, 555-123-4567, 555.123.4567, 1-555-123-4567
    _Rule(PhiKind.PHONE, 40, re.compile(
        r"(?<![\w+])(?:\+?1[\s.-]?)?(?:\(\d{3}\)\s?|\d{3}[\s.-])\d{3}[\s.-]\d{4}(?!\w)")),
    # +44 20 7946 0958, +1 (555) 123-4567, +44 (0)20 7946 0958, +15551234567
    _Rule(PhiKind.PHONE, 40, re.compile(
        r"(?<![\w+])\+\d{1,3}(?:[\s.-]?\(\d{1,4}\)[\s.-]?\d{1,5})?(?:[\s.-]\d{1,5}){1,5}(?!\d)"
        r"|(?<![\w+])\+\d{8,15}(?!\d)"), _digit_count(8, 15)),
    # 07700 900123, 020 7946 0958
    _Rule(PhiKind.PHONE, 40, re.compile(
        r"(?<![\w+])0\d{2,4}[\s-]?\d{3,4}[\s-]?\d{3,4}(?!\w)"), _digit_count(10, 11)),
    _Rule(PhiKind.PHONE, 40, re.compile(r"(?<![\w+])(?:[01]\d{10}|\d{10})(?!\w)")),
    _Rule(PhiKind.DATE, 30, re.compile(
        r"(?<![\w/.:-])(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})"
        r"(?!\w|[/.:-]\d)"), _iso_date),
    _Rule(PhiKind.DATE, 30, re.compile(
        r"(?<![\w/.:-])(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})"
        r"(?!\w|[/.:-]\d)"), _numeric_date),
    _Rule(PhiKind.DATE, 30, re.compile(
        rf"\b{_MONTH}\.?\s+(?P<day>\d{{1,2}}){_ORD},?\s+(?P<year>\d{{4}})(?!\d)", _I), _text_date),
    _Rule(PhiKind.DATE, 30, re.compile(
        rf"(?<![\w.])(?P<day>\d{{1,2}}){_ORD}(?:\s+of)?[\s-]+{_MONTH}\.?,?[\s-]+(?P<year>\d{{4}})"
        r"(?!\d)", _I), _text_date),
    _Rule(PhiKind.ADDRESS, 20, re.compile(
        rf"(?<![\w./:-])\d{{1,5}}[A-Za-z]?,?\s+(?:(?:[A-Z][\w'’.-]*|\d{{1,3}}(?:st|nd|rd|th))\s+)"
        rf"{{1,4}}{_SUFFIX_ANY_FIRST}\b\.?")),
    _Rule(PhiKind.ADDRESS, 20, re.compile(r"\bP\.?\s?O\.?\s*Box\s*#?\s*\d+\b", _I)),
    _Rule(PhiKind.RECORD_NUMBER, 10, re.compile(r"(?<!\d)(?<!\d[.,])\d{7,}(?!\d)")),
)

_TRAILING = ".,;:!?)]}'\"’”"


def find_phi(text: str) -> list[PhiFinding]:
    """Every identifying-looking stretch of `text`, in order, overlaps merged."""
    candidates: list[tuple[int, int, int, PhiKind]] = []
    for rule in _RULES:
        for match in rule.pattern.finditer(text):
            if rule.accept is not None and not rule.accept(match):
                continue
            start, end = match.span()
            if rule.trim_punctuation:
                end = start + len(match.group(0).rstrip(_TRAILING))
            if end > start:
                candidates.append((start, end, rule.rank, rule.kind))
    candidates.sort(key=lambda c: (c[0], -c[1]))

    spans: list[tuple[int, int, int, PhiKind]] = []
    for start, end, rank, kind in candidates:
        if spans and start < spans[-1][1]:
            s0, e0, r0, k0 = spans[-1]
            best_rank, best_kind = (rank, kind) if rank > r0 else (r0, k0)
            spans[-1] = (s0, max(e0, end), best_rank, best_kind)
        else:
            spans.append((start, end, rank, kind))
    return [PhiFinding(kind, start, end) for start, end, _, kind in spans]


def _join(words: Sequence[str]) -> str:
    if len(words) <= 1:
        return "".join(words)
    return ", ".join(words[:-1]) + " and " + words[-1]


def phi_refusal(field_name: str, findings: Sequence[PhiFinding]) -> str | None:
    """One line saying what kinds were found where; never echoes the text itself."""
    if not findings:
        return None
    kinds: list[PhiKind] = []
    for finding in sorted(findings, key=lambda f: (f.start, f.end)):
        if finding.kind not in kinds:
            kinds.append(finding.kind)
    field = " ".join(field_name.split()) or "text"
    return (
        f"The {field} looks like it contains {_join([k.description for k in kinds])}, "
        "so nothing was saved. Keep identifying details out of Alliance."
    )


def check_free_text(field_name: str, text: str) -> str | None:
    """None when `text` is safe to store, else the refusal to show the user."""
    return phi_refusal(field_name, find_phi(text))
