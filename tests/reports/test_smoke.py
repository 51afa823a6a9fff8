from lapor.core.audit import chain_verify
from lapor.reports.choices import Status
from lapor.reports.models import ReportEvent
from lapor.reports.services import (
    report_confirm,
    report_dispatch,
    report_follow_up,
    report_forward,
    report_rate,
)


def test_a_whole_life(world):
    report = world.submit()
    assert report.status == Status.SUBMITTED
    assert report.owner == world.national_root
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    assert report.status == Status.DISPATCHED
    report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report
    report = report_follow_up(user=world.officer, report=report, message="Petugas sudah dijadwalkan.").report
    assert report.status == Status.IN_PROGRESS
    report = report_follow_up(user=world.officer, report=report, message="Lampu sudah diganti.", final=True).report
    assert report.status == Status.COMPLETED
    report = report_confirm(user=world.reporter, report=report).report
    report = report_rate(user=world.reporter, report=report, rating=5, comment="Cepat").report
    assert report.status == Status.CLOSED
    assert ReportEvent.objects.filter(report=report).count() == 7
    assert chain_verify(ReportEvent).ok
