"""Everything Alliance does on a schedule: the scheduler and its lease, and the sweeps
(reminders, the daily scan, the digest)."""
