"""Everything Alliance does on a schedule: a lease so one scheduler acts at a
time, a ledger of sent messages so nothing goes out twice, and the sweeps."""
