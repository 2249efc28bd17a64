"""The walk every event takes (walk.py), its idempotency (idempotency.py) and the shape of its decision (decision.py)."""
