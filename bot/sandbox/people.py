"""The invented people of the local workspace: codes and roles, no names."""

from __future__ import annotations

from dataclasses import dataclass

from bot.sandbox.slack_api import User

SUPERVISION_CHANNEL = "C0SUPERV1"
SUPERVISION_NAME = "supervision"
WORKSPACE_TIMEZONE = "America/New_York"


@dataclass(frozen=True)
class Person:
    id: str
    label: str
    role: str
    tz: str
    is_admin: bool = False

    def as_user(self) -> User:
        return User(tz=self.tz, is_admin=self.is_admin, name=self.label.lower().replace(" ", "-"))


THERAPIST_A = Person("U0THERA01", "Therapist A", "therapist", "America/New_York")
THERAPIST_B = Person("U0THERB01", "Therapist B", "therapist", "Europe/Berlin")
THERAPIST_C = Person("U0THERC01", "Therapist C", "therapist", "America/Los_Angeles")
SUPERVISOR = Person("U0SUPER01", "Supervisor", "supervisor", "America/New_York")
ADMIN = Person("U0ADMIN01", "Admin", "workspace admin", "America/Chicago", is_admin=True)
PEOPLE = (THERAPIST_A, THERAPIST_B, THERAPIST_C, SUPERVISOR, ADMIN)


def person(user_id: str) -> Person:
    for candidate in PEOPLE:
        if candidate.id == user_id:
            return candidate
    raise KeyError(user_id)
