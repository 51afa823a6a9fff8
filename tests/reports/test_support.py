"""'Dukung': one support per account, only on reports the supporter may see."""

import pytest

from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report, ReportSupport
from lapor.reports.services import report_dispatch, report_merge, report_support


def test_a_published_report_gets_one_support_per_account(world):
    report = report_dispatch(user=world.national_admin, report=world.submit(), institution=world.city).report

    supported = report_support(user=world.member_of_public, report=report)

    assert supported.support_count == 1
    with pytest.raises(ReportError) as again:
        report_support(user=world.member_of_public, report=report)
    assert again.value.code == ReportErrorCode.DUPLICATE_SUPPORT
    assert Report.objects.get(pk=report.pk).support_count == 1


def test_the_reporter_does_not_support_their_own_report(world):
    report = report_dispatch(user=world.national_admin, report=world.submit(), institution=world.city).report
    with pytest.raises(ReportError) as refused:
        report_support(user=world.reporter, report=report)
    assert refused.value.code == ReportErrorCode.DUPLICATE_SUPPORT


@pytest.mark.parametrize("confidential", [False, True])
def test_a_report_the_public_cannot_see_cannot_be_supported(world, confidential):
    report = world.submit(is_confidential=confidential)
    if confidential:
        report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report

    with pytest.raises(ReportError) as refused:
        report_support(user=world.member_of_public, report=report)

    assert refused.value.code == ReportErrorCode.NOT_FOUND
    assert not ReportSupport.objects.exists()


def test_supporters_follow_the_survivor_of_a_merge(world):
    survivor = report_dispatch(user=world.national_admin, report=world.submit(), institution=world.city).report
    duplicate = report_dispatch(user=world.national_admin, report=world.submit(), institution=world.city).report
    report_support(user=world.member_of_public, report=duplicate)

    report_merge(user=world.national_admin, report=duplicate, into=survivor)

    followers = set(ReportSupport.objects.filter(report=survivor).values_list("user_id", flat=True))
    assert followers == {world.member_of_public.pk}
    assert Report.objects.get(pk=survivor.pk).support_count == 1
