"""The Celery app. Settings come from Django's (``CELERY_*``); tasks live in each app's ``tasks.py``."""

import os

from celery import Celery
from celery.signals import setup_logging

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

app = Celery("jingjianda")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@setup_logging.connect
def _keep_project_logging(**kwargs):
    """Settings already configured logging (structlog, JSON in production): a receiver here
    stops Celery from replacing the root handlers, so worker and beat log like web."""
