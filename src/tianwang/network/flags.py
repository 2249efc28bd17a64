"""The customer flag bits a `Network` holds: one byte per customer in `Network.flags`.

Owns the bit values only — what sets them (`Network.mark`, `mark_blacklisted`, `mark_fraud`),
what reads them (measures, views) and what stores them (the checkpoint, persist.py) import
them from here. Imports nothing, so every module of the package can.
"""

REJECTED, BLACKLISTED, FRAUD = 1, 2, 4  # a decision rejected; on a blacklist; confirmed fraud

__all__ = ["BLACKLISTED", "FRAUD", "REJECTED"]
