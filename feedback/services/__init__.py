"""Writes of the feedback app, one module per part of the loop."""
