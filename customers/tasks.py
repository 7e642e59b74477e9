from __future__ import annotations

from celery import shared_task

from customers.privacy import customers_erase_inactive


@shared_task(name="customers.erase_inactive", soft_time_limit=600, time_limit=660, max_retries=0)
def erase_inactive() -> int:
    """Beat, daily: the retention rule (CXCRM_RETENTION_MONTHS; 0 keeps everything)."""
    return customers_erase_inactive()
