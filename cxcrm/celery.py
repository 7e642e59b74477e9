"""The Celery application. Workers and beat start with ``celery -A cxcrm ...``."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cxcrm.settings")

app = Celery("cxcrm")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Workers write their heartbeats to the cache (the admin's system status).
import cxcrm.workers  # noqa: E402, F401
