"""Deterministic demo data (``manage.py seed_demo``)."""

from feedback.demo.seed import SOURCE, DemoResult, demo_counts, demo_seed

__all__ = ["SOURCE", "DemoResult", "demo_counts", "demo_seed"]
