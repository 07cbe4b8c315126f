"""The `/alliance` grammar: every form of SPEC §7, and a one-line reason for bad input."""

from __future__ import annotations

from datetime import date

import pytest

from bot.domain import grammar as g
from bot.domain.cases import CaseKind, generate_case_code, normalize_case_code


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("", g.OpenCheckin()),
        ("   ", g.OpenCheckin()),
        ("CPL-7KQ2", g.OpenCheckin(code="CPL-7KQ2")),
        ("cpl-7kq2", g.OpenCheckin(code="CPL-7KQ2")),
        ("new couple", g.NewCase(kind=CaseKind.COUPLE, members=2)),
        ("new family members=4", g.NewCase(kind=CaseKind.FAMILY, members=4)),
        ("NEW Individual", g.NewCase(kind=CaseKind.INDIVIDUAL, members=1)),
        ("new couple labels=P1,P2", g.NewCase(kind=CaseKind.COUPLE, members=2, labels=("P1", "P2"))),
        ("log CPL-7KQ2 8 7 8 8", g.LogCheckin(code="CPL-7KQ2", ratings=("8", "7", "8", "8"))),
        ('log CPL-7KQ2 8 7 8 8 session=3 flags=stuck,sides note="felt flat"',
         g.LogCheckin(code="CPL-7KQ2", ratings=("8", "7", "8", "8"),
                      options={"session": "3", "flags": "stuck,sides", "note": "felt flat"})),
        ("log CPL-7KQ2 8 7 8 8 note=\u201csmart quotes\u201d", g.LogCheckin(code="CPL-7KQ2", ratings=("8", "7", "8", "8"), options={"note": "smart quotes"})),
        ("cases", g.ListCases()),
        ("history CPL-7KQ2", g.ShowHistory(code="CPL-7KQ2")),
        ("share CPL-7KQ2 <@U0COTHER1|colleague>", g.ShareCase(code="CPL-7KQ2", user_id="U0COTHER1")),
        ("pause CPL-7KQ2", g.ChangeStatus(code="CPL-7KQ2", action="pause")),
        ("close CPL-7KQ2", g.ChangeStatus(code="CPL-7KQ2", action="close")),
        ("reopen CPL-7KQ2", g.ChangeStatus(code="CPL-7KQ2", action="reopen")),
        ("forget CPL-7KQ2", g.ForgetCase(code="CPL-7KQ2")),
        ("remind fri 15:00", g.SetReminder(weekday=4, time="15:00")),
        ("remind Monday 9:05", g.SetReminder(weekday=0, time="09:05")),
        ("remind off", g.SetReminder(weekday=None)),
        ("away until 2027-01-04", g.SetAway(until=date(2027, 1, 4))),
        ("away off", g.SetAway(until=None)),
        ("AWAY OFF", g.SetAway(until=None)),
        ("IND\u2013SWBQ", g.OpenCheckin(code="IND-SWBQ")),
        ("IND SWBQ", g.OpenCheckin(code="IND-SWBQ")),
        ("indswbq", g.OpenCheckin(code="IND-SWBQ")),
        ('"IND SWBQ"', g.OpenCheckin(code="IND-SWBQ")),
        ("ind \u2014 swbq", g.OpenCheckin(code="IND-SWBQ")),
        ("log IND SWBQ 8 8", g.LogCheckin(code="IND-SWBQ", ratings=("8", "8"))),
        ("log cpl 7kq2 8 7 8 8 session=3", g.LogCheckin(code="CPL-7KQ2", ratings=("8", "7", "8", "8"), options={"session": "3"})),
        ("log CPL\u22127KQ2 8 7 8 8", g.LogCheckin(code="CPL-7KQ2", ratings=("8", "7", "8", "8"))),
        ("history fam 0011", g.ShowHistory(code="FAM-0011")),
        ("share cpl 7kq2 <@U0COTHER1>", g.ShareCase(code="CPL-7KQ2", user_id="U0COTHER1")),
        ("log CPL-7KQ2 8,8,7,8", g.LogCheckin(code="CPL-7KQ2", ratings=("8", "8", "7", "8"))),
        ("log CPL-7KQ2 8, 8, 7, 8", g.LogCheckin(code="CPL-7KQ2", ratings=("8", "8", "7", "8"))),
        ("log CPL-7KQ2 8 ,8 , 7,8 session=2", g.LogCheckin(code="CPL-7KQ2", ratings=("8", "8", "7", "8"), options={"session": "2"})),
        ("config show", g.Config(args=("show",))),
        ("export", g.Export()),
        ("help", g.Help()),
    ],
)
def test_parses(text: str, expected: g.Command) -> None:
    assert g.parse_command(text) == expected


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("frobnicate", "is not something Alliance knows"),
        ("new", "Say which kind"),
        ("new throuple", "is not a kind of case"),
        ("new couple members=3", "A couple case has 2 members"),
        ("new family members=x", "A family case has 2 to 8 members"),
        ("new couple colour=blue", "is not an option of `new`"),
        ("log", "needs a case code"),
        ("log CPL-7KQ", "is not a case code"),
        ("log CPL-7KQ2", "needs a rating"),
        ("log CPL-7KQ2 8 7 8 8 mood=fine", "is not a log option"),
        ("log CPL-7KQ2 8 session=2 7", "Put the ratings before"),
        ("log CPL-7KQ2 8 7 session=2 session=3", "given twice"),
        ('log CPL-7KQ2 8 7 8 8 note="open', "A quote is not closed"),
        ("history", "takes one case code"),
        ("history CPL-7KQ2 extra", "takes one case code"),
        ("share CPL-7KQ2 colleague", "Mention the person"),
        ("remind someday 15:00", "is not a day of the week"),
        ("remind friday 25:00", "is not a time of day"),
        ("away until tomorrow", "is not a date"),
        ("away 2027-01-04", "takes `until` and a date, or `off`"),
        ("away until 2027-02-30", "February 2027 has no 30th."),
        ("away until 2028-02-30", "February 2028 has no 30th."),
        ("away until 2027-04-31", "April 2027 has no 31st."),
        ("away until 2027-13-01", "There is no month 13"),
        ("away until 2027-01-00", "January 2027 has no 0th."),
        ("log IND 8 8", "`IND` is not a case code"),
        ("log IND SWB 8 8", "`IND` is not a case code"),
        ("IND", "is not something Alliance knows"),
    ],
)
def test_bad_input_gets_one_line_with_an_example(text: str, says: str) -> None:
    with pytest.raises(g.CommandError) as caught:
        g.parse_command(text)
    message = caught.value.message
    assert says in message
    assert "\n" not in message
    assert "`/alliance " in message


def test_codes_are_random_and_of_the_crockford_alphabet() -> None:
    codes = {generate_case_code(CaseKind.COUPLE) for _ in range(200)}
    assert len(codes) > 190
    for code in codes:
        assert normalize_case_code(code) == code
        assert not set(code[4:]) & set("ILOU")


@pytest.mark.parametrize(("typed", "canonical"), [("cpl-7kq2", "CPL-7KQ2"), ("FAM-O0I1", "FAM-0011"), ("ind-l234", "IND-1234")])
def test_codes_forgive_crockford_lookalikes(typed: str, canonical: str) -> None:
    assert normalize_case_code(typed) == canonical


@pytest.mark.parametrize(
    "typed",
    ["IND\u2013SWBQ", "IND\u2014SWBQ", "IND\u2212SWBQ", "IND\u2010SWBQ", "IND\u2011SWBQ", "IND\uff0dSWBQ",
     "IND SWBQ", "IND  SWBQ", "indswbq", " ind-swbq "],
)
def test_codes_forgive_any_dash_a_space_or_no_separator(typed: str) -> None:
    assert normalize_case_code(typed) == "IND-SWBQ"


def test_leap_day_is_a_date_only_in_a_leap_year() -> None:
    assert g.parse_command("away until 2028-02-29") == g.SetAway(until=date(2028, 2, 29))
    with pytest.raises(g.CommandError, match="February 2027 has no 29th"):
        g.parse_command("away until 2027-02-29")


@pytest.mark.parametrize("typed", ["CPL-7KQ", "CPL-7KQ22", "XYZ-7KQ2", "CPL-7KU2", "CPL_7KQ2", "CPL--7KQ2", "CPL7KQ", "CP L7KQ2"])
def test_not_codes(typed: str) -> None:
    assert normalize_case_code(typed) is None
