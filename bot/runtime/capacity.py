"""How many threads of a serving process may use the database at once, and so how
many connections its request engine's pool holds: a request's thread must never
wait for a connection (it would spend its 3 s there), so there is one for each."""

from __future__ import annotations

HTTP_THREADS = 16  # waitress threads serving requests (bot/runtime/slow_clients.py)
LISTENER_THREADS = 16  # Bolt's lazy listeners: the Slack calls made after an acknowledgement
BACKGROUND_THREADS = 2  # the outbox deliverer and the recorder of answers to signed requests

POOL_SIZE = HTTP_THREADS + BACKGROUND_THREADS  # connections kept (opened when first needed)
POOL_OVERFLOW = 8  # more, for lazy listeners' database work, closed again when returned
