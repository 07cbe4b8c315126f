"""A held-out probe set for the PHI guard, written before the guard was tuned
(issue 12) and not used to tune it: the rates it measures are the honest ones.

The test asserts the issue's targets (at least 95% of identifying probes refused,
at most 1 in 40 legitimate notes refused) and prints the measured rates.
All details are invented: 555 numbers, example domains, made-up streets.
"""

from __future__ import annotations

from bot.domain.phi import check_free_text

IDENTIFYING: list[str] = [
    "her mobile: 555 867 5309",
    "call him at 555_867_5309",
    "ph. 555.867.5309 after six",
    "tel 867-5309",
    "mobile number is 5 5 5 8 6 7 5 3 0 9",
    "B gave +49 151 2345 6789 as the contact",
    "office line (0)30 1234 5678",
    "reach A via 0044 7700 900 456",
    "email jo dot smith at example dot org",
    "write to b.smith (at) mailbox (dot) net",
    "contact: pat[at]example[dot]com",
    "A's mail is pat@example",
    "born on 7/22/1979",
    "DOB: 22-07-79",
    "birthday July 22nd, 1979",
    "born 22nd July '79",
    "date of birth 1979/7/22",
    "seen first on 22 Jul 79",
    "lives at 48 Oakfield Road",
    "moved to 9 elm grove avenue",
    "address 77 Harbour Lane, Bristol BS1 4RN",
    "Rue de la Paix 12, 75002 Paris",
    "Kastanienallee 23, 10435 Berlin",
    "Calle Mayor 8, 28013 Madrid",
    "Herengracht 401, 1017 BP Amsterdam",
    "SSN: 321 54 9876",
    "social security no. 321549876",
    "ssn 321/54/9876",
    "MRN: A1234567",
    "medicaid # 99887766",
    "insurance policy QX-4471-902",
    "member id ZP88123",
    "patient number 00451",
    "see bobsmith.io for his blog",
    "her page is anna-writes.de",
    "server 192.168.10.42 logged it",
    "came from 10.0.0.7",
    "her instagram is @anna.writes",
    "twitter handle @bob_smith79",
    "find him on facebook.com/bob.smith",
    "passport number X1234567",
    "zip code 90210, near the school",
]

LEGITIMATE: list[str] = [
    "A rated the session 6/10, B 9/10",
    "PHQ-9 went 18/27 -> 11/27",
    "GAD-7 scores 15/21, 12/21, 9/21",
    "check in again at weeks 3/6/9",
    "sessions 2/4/6 were the hardest",
    "A is 34 and B is 36",
    "together for 12 years, married 7",
    "the fight lasted 45 minutes",
    "they argue 3-4 times a week",
    "spent $2,500 on the wedding, still a sore point",
    "owes €300 to his brother",
    "2 kids, ages 4 and 7",
    "case CPL-7KQ2 moved to fortnightly",
    "compare with FAM-3XY9 pattern",
    "session 14 of 20",
    "homework: 10 minutes of talking, 5 days out of 7",
    "B slept 5-6 hours most nights",
    "A at work until 8pm most days",
    "B works at a school; A at home",
    "ORS 28/40 and SRS 38/40",
    "stepped down to every 2 weeks",
    "the 3rd session felt like a turning point",
    "in April they felt closer",
    "since Christmas 2025 things shifted",
    "score went from 4.5 to 7.0",
    "they had 3 fights, down from 8",
    "scaling question: 7 out of 10",
    "A mentioned a 30 day challenge",
    "B drank 2-3 glasses of wine each night",
    "split 50/50 on chores now",
    "rent went up 15%",
    "met at 9:15 instead of 10:00",
    "a 2 hour drive to her parents",
    "the id and the superego came up as jokes",
    "at session 10 we review, dot the i's",
    "rupture at the start, repaired by minute 40",
    "B felt like an outsider at 1 of 3 family dinners",
    "A's score 12/15/18 on the three subscales",
    "review again in 4-6 weeks",
    "A called it a 24/7 job",
    "week 12: both at 8/10",
    "dropped from 27 to 19 points",
]


def refused(text: str) -> bool:
    return check_free_text("note", text) is not None


def test_the_held_out_set_is_big_enough() -> None:
    assert len(IDENTIFYING) >= 40 and len(LEGITIMATE) >= 40


def test_held_out_refusal_rates_meet_the_targets() -> None:
    missed = [text for text in IDENTIFYING if not refused(text)]
    wrongly = [text for text in LEGITIMATE if refused(text)]
    caught = len(IDENTIFYING) - len(missed)
    print(f"\nheld-out: identifying refused {caught}/{len(IDENTIFYING)} "
          f"({100 * caught / len(IDENTIFYING):.1f}%), legitimate refused {len(wrongly)}/{len(LEGITIMATE)}")
    print("missed:", missed)
    print("wrongly refused:", wrongly)
    assert caught / len(IDENTIFYING) >= 0.95, missed
    assert len(wrongly) * 40 <= len(LEGITIMATE), wrongly
