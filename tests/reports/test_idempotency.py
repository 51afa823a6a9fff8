"""A retried submission with the same idempotency key returns the first report, also under races."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest
from django.db import connection, connections
from django.utils import timezone

from lapor.reports.models import Report, ReportEvent
from lapor.reports.services import report_submit
from tests.reports.conftest import build_world

FIELDS = {
    "title": "Sampah menumpuk di pasar",
    "body": "Sampah tidak diangkut seminggu.",
    "village_code": "36.74.01.1001",
}


def _fields(world, **extra):
    return {**FIELDS, "incident_date": timezone.localdate() - timedelta(days=1), "reporter": world.reporter, **extra}


def test_same_key_returns_the_first_report(world):
    filed = report_submit(**_fields(world), idempotency_key="form-token-1")
    first, secret = filed.report, filed.secret
    filed = report_submit(**_fields(world), idempotency_key="form-token-1")
    again, second_secret = filed.report, filed.secret
    assert again.pk == first.pk
    assert secret
    assert second_secret == ""
    assert Report.objects.count() == 1
    assert ReportEvent.objects.filter(report=first).count() == 1


def test_keys_are_scoped_to_the_reporter_and_channel(world):
    filed = report_submit(**_fields(world), idempotency_key="k")
    mine, _ = filed.report, filed.secret
    filed = report_submit(**_fields(world, reporter=world.member_of_public), idempotency_key="k")
    theirs, _ = filed.report, filed.secret
    filed = report_submit(**_fields(world, channel="api"), idempotency_key="k")
    by_api, _ = filed.report, filed.secret
    assert len({mine.pk, theirs.pk, by_api.pk}) == 3


def test_without_a_key_each_submission_is_new(world):
    report_submit(**_fields(world))
    report_submit(**_fields(world))
    assert Report.objects.count() == 2


@pytest.mark.postgres
def test_concurrent_retries_never_create_two(committed_rows_purged):
    world = build_world()
    barrier = threading.Barrier(8)
    results: list[int] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            barrier.wait()
            filed = report_submit(**_fields(world), idempotency_key="retry-storm")
            report, _secret = filed.report, filed.secret
            results.append(report.pk)
        except BaseException as error:  # reported by the assertion below
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=submit) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(results) == 8
    assert len(set(results)) == 1
    assert Report.objects.count() == 1
    assert ReportEvent.objects.count() == 1
    assert connection.vendor == "postgresql"
