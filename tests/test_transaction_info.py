"""What a transaction keeps in `session.info` ends with it (bot/store/transaction_info.py):
the next transaction of the same session must not see the last one's settings, locked
cases or therapists it read."""

from __future__ import annotations

from sqlalchemy import create_engine, text
from sqlalchemy.orm import Session

from bot.store.transaction_info import transaction_key
from bot.usecases.cases import LOCKED_CASES
from bot.usecases.therapists import PRESENT

KEY = transaction_key("tests.transaction_info")


def test_registered_keys_end_with_the_outermost_transaction_committed_or_not() -> None:
    engine = create_engine("sqlite://")
    with Session(engine) as session:
        with session.begin():
            session.execute(text("SELECT 1"))
            session.info[KEY] = 1
            session.info["tests.unregistered"] = 1
            with session.begin_nested():  # a savepoint's end is not the transaction's
                session.info[PRESENT] = {"U0ASKER01"}
            assert session.info[PRESENT] == {"U0ASKER01"} and session.info[KEY] == 1
        assert KEY not in session.info and PRESENT not in session.info
        assert session.info["tests.unregistered"] == 1  # only what was registered is forgotten

        session.begin()
        session.info[LOCKED_CASES] = {7: object()}
        session.rollback()
        assert LOCKED_CASES not in session.info
