"""Held decisions: the book of each tenant (book.py), what ends them (effects.py, reverse.py, service.py)."""
