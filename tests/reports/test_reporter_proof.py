"""The reporter's proof: how someone acting as a report's reporter without an account shows it.

The access layer hands out a `ReporterProof` for the private link (tracking ID and secret) and for the
contact the report was filed with (the SMS and e-mail doors); the services take the proof, not a flag a
face sets, and accept it for its own report only.
"""

from __future__ import annotations

import pytest

from lapor.reports.access import ProofKind, ReporterProof, reporter_proof_by_contact, reporter_proof_by_link
from lapor.reports.choices import Status
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.services import (
    report_confirm,
    report_dispatch,
    report_follow_up,
    report_forward,
    report_provide_information,
    report_request_information,
)
from tests.reports.conftest import World

GUEST = {
    "reporter": None,
    "guest_name": "Sari",
    "guest_email": "Sari.Pelapor@Example.id",
    "guest_phone": "0812-3456-7890",
}


def answered(world: World, report):
    report = report_dispatch(user=world.national_admin, report=report, institution=world.city).report
    report = report_forward(user=world.coordinator, report=report, units=[world.transport]).report
    return report_follow_up(user=world.officer, report=report, message="Lampu sudah diganti.", final=True).report


def test_a_proof_is_made_by_the_access_layer_only(world: World) -> None:
    report = world.submit()
    with pytest.raises(TypeError):
        ReporterProof(report_id=report.pk, kind=ProofKind.PRIVATE_LINK, issuer=object())


def test_the_private_link_gives_a_proof_that_the_reporters_actions_accept(world: World) -> None:
    report, secret = world.submit_with_link(**GUEST)
    found, proof = reporter_proof_by_link(report.tracking_id, secret)
    assert (found.pk, proof.kind, proof.report_id) == (report.pk, ProofKind.PRIVATE_LINK, report.pk)
    confirmed = report_confirm(user=None, report=answered(world, report), proof=proof).report
    assert confirmed.status == Status.CLOSED
    last = confirmed.events.order_by("-sequence").first()
    assert last is not None
    assert last.actor_role == "reporter"


@pytest.mark.parametrize("secret", ["", "not-the-secret", "x" * 500])
def test_a_wrong_secret_answers_as_an_unknown_report(world: World, secret: str) -> None:
    report, _secret = world.submit_with_link(**GUEST)
    with pytest.raises(ReportError) as wrong:
        reporter_proof_by_link(report.tracking_id, secret)
    with pytest.raises(ReportError) as unknown:
        reporter_proof_by_link("LAP-0000-XXXXXX", secret)
    assert wrong.value.code == unknown.value.code == ReportErrorCode.NOT_FOUND
    assert str(wrong.value.message) == str(unknown.value.message)


def test_a_proof_for_one_report_acts_on_no_other(world: World) -> None:
    first, first_secret = world.submit_with_link(**GUEST)
    second = answered(world, world.submit(**GUEST))
    _found, proof = reporter_proof_by_link(first.tracking_id, first_secret)
    with pytest.raises(ReportError) as refused:
        report_confirm(user=None, report=second, proof=proof)
    assert refused.value.code == ReportErrorCode.NOT_FOUND
    second.refresh_from_db()
    assert second.status == Status.COMPLETED


def test_without_a_proof_or_an_account_nobody_acts_as_the_reporter(world: World) -> None:
    report = answered(world, world.submit(**GUEST))
    with pytest.raises(ReportError) as refused:
        report_confirm(user=None, report=report)
    assert refused.value.code == ReportErrorCode.ACTION_NOT_ALLOWED


@pytest.mark.parametrize(
    ("contact", "matches"),
    [
        ({"email": "sari.pelapor@example.id"}, True),
        ({"email": "  SARI.PELAPOR@EXAMPLE.ID "}, True),
        ({"phone": "+62 812 3456 7890"}, True),
        ({"phone": "6281234567890"}, True),
        ({"email": "someone.else@example.id"}, False),
        ({"phone": "0812-0000-0000"}, False),
        ({"email": "", "phone": ""}, False),
    ],
)
def test_the_contact_a_guest_filed_with_proves_the_reporter(
    world: World, contact: dict[str, str], matches: bool
) -> None:
    report = world.submit(**GUEST)
    if matches:
        found, proof = reporter_proof_by_contact(report.tracking_id, **contact)
        assert (found.pk, proof.kind) == (report.pk, ProofKind.CONTACT)
    else:
        with pytest.raises(ReportError) as refused:
            reporter_proof_by_contact(report.tracking_id, **contact)
        assert refused.value.code == ReportErrorCode.NOT_FOUND


def test_an_account_reporters_own_contact_proves_them_and_another_does_not(world: World) -> None:
    report = world.submit()
    _found, proof = reporter_proof_by_contact(report.tracking_id, email=str(world.reporter.email).upper())
    assert proof.report_id == report.pk
    with pytest.raises(ReportError):
        reporter_proof_by_contact(report.tracking_id, email=str(world.outsider.email))


def test_the_state_still_decides_what_a_proven_reporter_may_do(world: World) -> None:
    report, secret = world.submit_with_link(**GUEST)
    _found, proof = reporter_proof_by_link(report.tracking_id, secret)
    with pytest.raises(ReportError) as refused:
        report_provide_information(user=None, report=report, answer="Depan pasar.", proof=proof)
    assert refused.value.code == ReportErrorCode.ACTION_NOT_ALLOWED
    assert str(refused.value.message) == "No details were asked for."
    asked = report_request_information(user=world.national_admin, report=report, question="Di mana tepatnya?").report
    answered_now = report_provide_information(user=None, report=asked, answer="Depan pasar.", proof=proof).report
    assert answered_now.status == Status.SUBMITTED
