"""``/health/`` for operators and load balancers: JSON, 200 or 503, no login (see config/health.py)."""

from django.urls import path

from config.health import HealthView

urlpatterns = [path("", HealthView.as_view(), name="health")]
