"""Tenants and their API keys (service.py)."""
