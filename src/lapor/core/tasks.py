from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from lapor.core.audit import anchor_daily
from lapor.core.models import ReferenceDataLoad


@task()
def record_worker_heartbeat() -> str:
    """Proves a worker is alive: writes the time it ran (used by `make run` and the tests)."""
    now = timezone.now().isoformat()
    ReferenceDataLoad.objects.update_or_create(dataset="worker-heartbeat", defaults={"checksum": now[:64]})
    return now


@task()
def anchor_audit_trails() -> list[str]:
    """Anchors every audit trail up to the start of today; enqueue it daily. A retry anchors nothing twice.

    Returns the new anchors' hashes, which are the ones to publish outside the database.
    """
    return [anchor.hash for anchor in anchor_daily()]
