"""The patterns behind the PHI guard (`bot.domain.phi`), each with its kind,
its rank when matches overlap (higher is more specific) and, where a regular
expression alone would refuse clinicians' language, a check on the match.
They run on normalised text (`bot.domain.text_normal`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum


class PhiKind(StrEnum):
    EMAIL = "email"
    PHONE = "phone"
    DATE = "date"
    SSN = "ssn"
    RECORD_NUMBER = "record_number"
    URL = "url"
    ADDRESS = "address"
    IP_ADDRESS = "ip_address"
    HANDLE = "handle"

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
    PhiKind.IP_ADDRESS: "an IP address",
    PhiKind.HANDLE: "a social media handle",
}

Validator = Callable[[re.Match[str]], bool]


@dataclass(frozen=True)
class Rule:
    kind: PhiKind
    rank: int
    pattern: re.Pattern[str]
    accept: Validator | None = None
    trim_punctuation: bool = False
    group: int | str = 0


_I = re.IGNORECASE
_DIGITS = re.compile(r"\d+")
_YEAR = re.compile(r"(?:19|20)\d\d")


def _digit_count(lo: int, hi: int) -> Validator:
    def accept(match: re.Match[str]) -> bool:
        return lo <= sum(ch.isdigit() for ch in match.group(0)) <= hi

    return accept


# --- dates -----------------------------------------------------------------

_SCORE_WORDS = re.compile(
    r"(?:score[ds]?|scoring|rated|ratings?|weeks?|sessions?|subscales?|items?|points?|out of|ors|srs|phq|gad"
    r"|wai|das|csi|levels?|steps?|reviews?|visits?)\W*$", _I)
_SCORE_AFTER = re.compile(r"^\W*(?:on|for|across|in|at)?\s*(?:the\s+)?(?:\w+\s+)?(?:subscales?|items|scales|points|weeks)", _I)
_DATE_WORDS = re.compile(r"(?:born|dob|d\.o\.b|birthday|birth|died|deceased|admitted|discharged)\W*(?:on\s+)?$", _I)


def _plausible(day: int, month: int, year: int) -> bool:
    return 1 <= day <= 31 and 1 <= month <= 12 and (year < 100 or 1900 <= year <= 2099)


def _iso_date(match: re.Match[str]) -> bool:
    return _plausible(int(match["d"]), int(match["m"]), int(match["y"]))


def _reads_as_scores(match: re.Match[str], first: int, second: int, year: int) -> bool:
    before = match.string[max(0, match.start() - 30):match.start()]
    if _DATE_WORDS.search(before):
        return False
    if _SCORE_WORDS.search(before) or _SCORE_AFTER.match(match.string[match.end():match.end() + 40]):
        return True
    if second - first == year - second and second != first:
        return True  # 4/8/12, 12/15/18, 3/6/9: a list, not a day
    return max(first, second, year) <= 10  # 8/7/10: three ratings


def _numeric_date(match: re.Match[str]) -> bool:
    a, b, year = match["a"], match["b"], match["y"]
    first, second, y = int(a), int(b), int(year)
    if len(year) == 2:
        if match["sep"] == "." and (len(a) != 2 or len(b) != 2) and y <= 31:
            return False  # "2.1.10" is a version, "15.03.24" a date
        if _reads_as_scores(match, first, second, y):
            return False
    return _plausible(first, second, y) or _plausible(second, first, y)


def _text_date(match: re.Match[str]) -> bool:
    year = match["year"].lstrip("'’")
    return 1 <= int(match["day"]) <= 31 and (len(year) == 2 or 1900 <= int(year) <= 2099)


_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
    r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?"
    r"|januar|februar|märz|mai|juni|juli|oktober|dezember|janvier|février|mars|avril|juin|juillet|août"
    r"|septembre|octobre|novembre|décembre|enero|febrero|marzo|abril|mayo|junio|julio|agosto"
    r"|septiembre|octubre|noviembre|diciembre)"
)
_ORD = r"(?:st|nd|rd|th|\.)?"
_YEAR_TOKEN = r"(?P<year>\d{4}|['’]\d{2}|\d{2}(?![\w/:-]|\s+(?:min|minutes|hours|sessions|weeks|days|times)\b))"

# --- addresses ---------------------------------------------------------------

_SUFFIX = (
    r"(?:Street|St|Avenue|Ave|Road|Rd|Lane|Ln|Drive|Dr|Boulevard|Blvd|Court|Ct|Way"
    r"|Place|Pl|Terrace|Close|Crescent|Highway|Hwy|Parkway|Pkwy|Square|Sq|Gardens|Grove|Row|Mews)"
)
_SUFFIX_ANY_FIRST = re.sub(r"\b([A-Z])", lambda m: f"[{m[1]}{m[1].lower()}]", _SUFFIX)
_LOWER_SUFFIX = r"(?:street|st|avenue|ave|road|rd|lane|ln|boulevard|blvd|grove|gardens|terrace|crescent)"
_STOP = (r"(?:the|a|an|and|or|of|to|in|on|at|by|for|from|with|down|up|out|over|his|her|their|our|my|your"
         r"|more|less|times|sessions|weeks|days|kids|children|dogs|cars|long|short|hours|minutes|was|were|is|are)")
_GERMANIC = (r"[A-ZÄÖÜ][\wäöüß-]*(?:stra(?:ss|ß)e|str\.|weg|gasse|allee|platz|ring|damm|ufer|chaussee|laan"
             r"|gracht|straat|plein|kade|singel|dijk|vej|gade|gatan|gata|veien|vägen)")
_ROMANCE = (r"(?:Rue|Avenue|Boulevard|Bd|Chemin|Allée|Impasse|Quai|Calle|Avenida|Plaza|Paseo|Carrer|Camino"
            r"|Via|Viale|Piazza|Corso|Largo|Rua|Travessa|Praça)")
_TOWN = r"[A-ZÄÖÜÉ][a-zäöüßéèàç]+(?:[ -][A-Z][a-zäöüßéèàç]+)?"

# --- domains -----------------------------------------------------------------

_TLDS = (
    "com|org|net|edu|gov|mil|int|io|co|uk|de|fr|nl|es|eu|ca|au|nz|ie|ch|se|dk|fi|ru|pl|cz|pt|br|jp|cn"
    "|info|biz|health|care|clinic|app|dev|ai|ly|xyz|online|site|org\\.uk|nhs|blog|shop|store|tv|gg|ws|cc|su|ua"
)
_WORD_TLDS = "it|me|in|at|be|no|us|to|so|my|is|am|is|tk"
_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_PATH = r"(?:[/?#][^\s<>\"']*)?"
_AT = r"(?:\s*@\s*|\s*[(\[{<]\s*at\s*[)\]}>]\s*|\s+at\s+)"
_DOT = r"(?:\.|\s*[(\[{<]\s*dot\s*[)\]}>]\s*|\s+dot\s+)"

# --- record numbers ------------------------------------------------------------

_ID_WORDS = (
    r"(?:mrn|nhs|record|chart|id|identifier|patient|hospital|file|acct|account|member|insurance|insurer|policy"
    r"|medicaid|medicare|medi-cal|passport|licen[cs]e|driver'?s|ssn|sin|nin|tax|health\s*card|subscriber"
    r"|beneficiary|claim|case\s*number|reference|ref|krankenkasse|versicherung|versichertennummer|bsn|nir)"
)
_ID_LINK = r"(?:\s*(?:s|no|nr|num|number|id|#|:|is|=|policy|card|code)\b\.?)*\s*[:#=]?\s*"


def _id_token(match: re.Match[str]) -> bool:
    token = match["token"]
    digits = sum(ch.isdigit() for ch in token)
    if _YEAR.fullmatch(token):
        return False
    return digits >= 4 or (digits >= 3 and any(ch.isalpha() for ch in token))


# --- phones --------------------------------------------------------------------

_DATE_SHAPE = re.compile(r"\d{1,4}([-/. ])\d{1,2}\1\d{2,4}")


def _phone(match: re.Match[str]) -> bool:
    text = match.group(0)
    groups = [len(g) for g in _DIGITS.findall(text)]
    digits = sum(groups)
    if len(groups) < 2 or not 7 <= digits <= 15:
        return False
    if max(groups) <= 2:
        return False  # spaced single digits count only after a phone word (the rule below)
    spaced = re.search(r"[\d)]\s+[\d(]", text) is not None
    if spaced and ("/" in text or max(groups) < 4):
        return False  # "8/10 8/10 100", "100 200 300": scores and counts side by side
    if all(_YEAR.fullmatch(g) for g in _DIGITS.findall(text)):
        return False
    if len(groups) == 3 and _DATE_SHAPE.fullmatch(text) and (groups[0] == 4 or groups[2] in (2, 4)) \
            and max(groups[:2] if groups[0] != 4 else groups[1:]) <= 2:
        return False
    return True


def _ipv4(match: re.Match[str]) -> bool:
    return all(int(part) <= 255 for part in match.group(0).split("."))


RULES: tuple[Rule, ...] = (
    Rule(PhiKind.EMAIL, 80, re.compile(rf"(?<![\w.%+-])[\w.%+-]+@(?:{_LABEL}\.)*{_LABEL}(?:\.[A-Za-z]{{2,}})?\b")),
    Rule(PhiKind.EMAIL, 80, re.compile(
        rf"(?<![\w.%+-])[\w%+-]+(?:{_DOT}[\w%+-]+)*{_AT}{_LABEL}(?:{_DOT}{_LABEL})*{_DOT}(?:{_TLDS}|{_WORD_TLDS})\b", _I)),
    Rule(PhiKind.URL, 70, re.compile(r"\b(?:https?|ftp)://[^\s<>\"']+", _I), None, True),
    Rule(PhiKind.URL, 70, re.compile(rf"(?<![\w.-])www\.{_LABEL}(?:\.{_LABEL})+{_PATH}", _I), None, True),
    Rule(PhiKind.URL, 70, re.compile(rf"(?<![\w.@-])(?:{_LABEL}\.)+(?:{_TLDS})(?![\w-]){_PATH}", _I), None, True),
    Rule(PhiKind.URL, 70, re.compile(rf"(?<![\w.@-])(?:[a-z0-9-]{{3,}}\.)+(?:{_WORD_TLDS})(?![\w-]){_PATH}"), None, True),
    Rule(PhiKind.IP_ADDRESS, 72, re.compile(r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?![\d]|\.\d)"), _ipv4),
    Rule(PhiKind.IP_ADDRESS, 72, re.compile(r"(?<![\w:])(?:[0-9a-f]{0,4}:){2,7}[0-9a-f]{1,4}(?![\w:])", _I),
         lambda m: m.group(0).count(":") >= 4),
    Rule(PhiKind.HANDLE, 65, re.compile(r"(?<![\w<@.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{0,28}[A-Za-z0-9_])?(?![\w@])")),
    Rule(PhiKind.HANDLE, 65, re.compile(
        r"\b(?:handle|username|user\s*name|insta(?:gram)?|twitter|tiktok|snapchat|snap|telegram|discord|reddit)"
        r"\s*(?:is|:|=|name|account)*\s*(?P<token>[A-Za-z0-9_.]*[\d_.][A-Za-z0-9_.]*[A-Za-z0-9_])", _I), group="token"),
    Rule(PhiKind.SSN, 60, re.compile(r"(?<![\w-])\d{3}([- ./])\d{2}\1\d{4}(?![\w-])")),
    Rule(PhiKind.SSN, 60, re.compile(
        r"\b(?:ssn|social\s+security(?:\s+(?:number|no\.?|#))?)\W{0,3}(?P<token>\d(?:[\s./-]?\d){8})(?!\d)", _I),
        group="token"),
    Rule(PhiKind.RECORD_NUMBER, 50, re.compile(
        rf"\b{_ID_WORDS}{_ID_LINK}(?P<token>\d{{3}}(?:[ -]\d{{2,4}}){{1,3}}(?![\w-])|#?[A-Z]{{0,4}}-?\d[\dA-Z-]*[\dA-Z]|[A-Z]{{1,4}}[-\d][\dA-Z-]*[\dA-Z])", _I),
        _id_token),
    Rule(PhiKind.PHONE, 40, re.compile(
        r"(?<![\w/.:,+-])(?:(?:\+|00)\s?)?[(\d][\d()]*(?:(?:\s?[-./_]\s?|\s|(?<=\))|\s-\s)[(\d]?[\d()]+){1,10}"
        r"(?![\w/]|[.,:-]\d)"), _phone),
    Rule(PhiKind.PHONE, 40, re.compile(
        r"(?<![\w+])\+\d{1,3}(?:[\s.-]?\(\d{1,4}\)[\s.-]?\d{1,5})?(?:[\s.-]\d{1,5}){1,5}(?!\d)"
        r"|(?<![\w+])\+\d{8,15}(?!\d)"), _digit_count(8, 15)),
    Rule(PhiKind.PHONE, 40, re.compile(r"(?<![\w+])(?:[01]\d{10}|\d{10})(?!\w)")),
    Rule(PhiKind.PHONE, 40, re.compile(
        r"\b(?:cell|mobile|mob|tel|telephone|phone|ph|fax|landline|whatsapp|signal)\b\.?(?:\s*(?:no\.?|number|nr|is|:|#))*\s*"
        r"(?P<token>\(?\d[\d\s().-]{3,}\d)", _I), _digit_count(5, 15), group="token"),
    Rule(PhiKind.DATE, 30, re.compile(
        r"(?<![\w/.:-])(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})(?!\w|[/.:-]\d)"), _iso_date),
    Rule(PhiKind.DATE, 30, re.compile(
        r"(?<![\w/.:-])(?P<a>\d{1,2})\s?(?P<sep>[-/.])\s?(?P<b>\d{1,2})\s?(?P=sep)\s?(?P<y>\d{4}|\d{2})"
        r"(?!\w|[/.:-]\d)"), _numeric_date),
    Rule(PhiKind.DATE, 30, re.compile(
        rf"\b{_MONTH}\.?\s+(?P<day>\d{{1,2}}){_ORD},?\s+{_YEAR_TOKEN}(?!\d)", _I), _text_date),
    Rule(PhiKind.DATE, 30, re.compile(
        rf"(?<![\w.])(?P<day>\d{{1,2}}){_ORD}(?:\s+of)?[\s-]+{_MONTH}\.?,?[\s-]+{_YEAR_TOKEN}(?!\d)", _I), _text_date),
    Rule(PhiKind.ADDRESS, 20, re.compile(
        rf"(?<![\w./:-])\d{{1,5}}[A-Za-z]?,?\s+(?:(?:[A-Z][\w'’.-]*|\d{{1,3}}(?:st|nd|rd|th))\s+)"
        rf"{{1,4}}{_SUFFIX_ANY_FIRST}\b\.?")),
    Rule(PhiKind.ADDRESS, 20, re.compile(
        rf"(?<![\w./:$€£-])\d{{1,5}}[a-z]?,?\s+(?:(?!{_STOP}\b)[a-z][a-z'’-]+\s+){{1,3}}{_LOWER_SUFFIX}\b(?!\s+trip)\.?",
        _I)),
    Rule(PhiKind.ADDRESS, 20, re.compile(rf"\b{_GERMANIC}\s*\d{{1,4}}\s?[a-zA-Z]?\b")),
    Rule(PhiKind.ADDRESS, 20, re.compile(rf"\b{_ROMANCE}\s+(?:[\w'’.-]+\s+){{1,4}}?\d{{1,4}}[a-zA-Z]?\b")),
    Rule(PhiKind.ADDRESS, 20, re.compile(rf"\b{_ROMANCE}\s+(?:[\w'’.-]+\s+){{0,3}}[\w'’.-]+,\s*\d{{1,4}}\b")),
    Rule(PhiKind.ADDRESS, 20, re.compile(r"\bP\.?\s?O\.?\s*Box\s*#?\s*\d+\b", _I)),
    Rule(PhiKind.ADDRESS, 18, re.compile(rf"(?<![\w$€£.,-])(?:[A-Z]-)?\d{{5}}\s+{_TOWN}\b")),
    Rule(PhiKind.ADDRESS, 18, re.compile(rf"(?<![\w$€£.,-])\d{{4}}\s?[A-Z]{{2}}\s+{_TOWN}\b")),
    Rule(PhiKind.ADDRESS, 18, re.compile(r"\b[A-Z]{1,2}\d[A-Z\d]?\s?\d[ABD-HJLNP-UW-Z]{2}\b")),
    Rule(PhiKind.ADDRESS, 18, re.compile(r"\b[A-Z]{2}\s\d{5}(?:-\d{4})?\b")),
    Rule(PhiKind.ADDRESS, 18, re.compile(
        r"\b(?:zip|zip\s*code|postcode|post\s*code|postal\s*code|plz|code\s*postal)\W{0,3}(?P<token>[A-Z0-9][A-Z0-9 -]{2,8}[A-Z0-9])",
        _I), lambda m: sum(ch.isdigit() for ch in m["token"]) >= 3, group="token"),
    Rule(PhiKind.RECORD_NUMBER, 10, re.compile(r"(?<!\d)(?<!\d[.,])\d{7,}(?!\d)")),
)
