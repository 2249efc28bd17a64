"""Delivery to the lending system: background rounds (rounds.py) and signed webhooks (webhooks.py)."""
