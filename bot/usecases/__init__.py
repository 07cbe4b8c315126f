"""Use cases: take a session, return plain data; never commit."""
