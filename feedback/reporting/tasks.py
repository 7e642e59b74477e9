"""Celery tasks of the rollups: thin, take a day (ISO text), idempotent."""

from __future__ import annotations

from datetime import date

from celery import shared_task

from feedback.reporting import rollups


@shared_task(name="feedback.rollups_refresh", soft_time_limit=110, time_limit=120, max_retries=0)
def rollups_refresh(day: str) -> bool:
    return rollups.rollups_refresh(day=date.fromisoformat(day))


@shared_task(name="feedback.rollups_sweep", soft_time_limit=240, time_limit=300, max_retries=0)
def rollups_sweep() -> int:
    """Beat: roll up the days that ended, and the days still marked (a refresh not enqueued
    while the broker was down)."""
    rollups.rollups_advance()
    return sum(rollups.rollups_refresh(day=day) for day in rollups.rollups_marked_days())
