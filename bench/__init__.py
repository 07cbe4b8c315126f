"""Benchmarks (`make bench`, `python -m bench`): acknowledgement latency against
a bare Bolt app, stall evaluation at 1 thousand and 1 million check-ins, and the
scheduled sweeps at health-system scale. Not part of `make test` or CI."""
