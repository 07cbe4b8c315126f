"""What a transaction remembers in `session.info` (the settings it read, the cases it
locked, the therapists it read) and forgets when it ends: keys registered here are
dropped once the outermost transaction of a session ends, committed or not."""

from __future__ import annotations

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

_KEYS: set[str] = set()


def transaction_key(key: str) -> str:
    """Register `key` as one of the transaction's own; returns it."""
    _KEYS.add(key)
    return key


@event.listens_for(Session, "after_transaction_end")
def _forget_when_the_transaction_ends(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:  # the transaction itself, not a savepoint inside it
        for key in _KEYS:
            session.info.pop(key, None)
