"""Synthetic lenders' traffic with ground truth. `sim` only produces events: it knows
nothing of the internals it is used to test."""
