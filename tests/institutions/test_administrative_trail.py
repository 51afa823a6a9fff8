"""Every administrative change made by a user is checked through the door (lapor.accounts.administration
for institutions, templates and deadlines; lapor.accounts.services for memberships) and names who changed
what in the institution's hash-chained trail (AdministrativeEvent); a refused change records nothing."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from lapor.accounts.administration import (
    deadline_override_remove,
    deadline_override_set,
    follow_up_template_create,
    follow_up_template_delete,
    follow_up_template_update,
    institution_create,
    institution_move,
    institution_set_categories,
    institution_set_coverage,
    institution_update,
)
from lapor.accounts.choices import Role
from lapor.accounts.errors import AccountError, AccountErrorCode
from lapor.accounts.models import LoginRecord, Membership
from lapor.accounts.services import (
    membership_change_role,
    membership_grant,
    membership_invite,
    membership_revoke,
    membership_unlock,
)
from lapor.core.audit import append_only_installed, chain_verify
from lapor.institutions import services as institution_services
from lapor.institutions.choices import AdministrativeAction, DeadlineClock, DeadlineUnit, InstitutionKind
from lapor.institutions.errors import InstitutionError, InstitutionErrorCode
from lapor.institutions.models import AdministrativeEvent, Category, FollowUpTemplate, Institution
from lapor.institutions.selectors import is_national_institution, national_institution
from lapor.institutions.services import category_create
from tests.reports.conftest import World, cached_world

URLS = {"password_url": "https://lapor.example/sandi/", "console_url": "https://lapor.example/konsol/"}


@pytest.fixture
def world(db: None) -> World:
    return cached_world()


def _last(institution: Institution) -> AdministrativeEvent:
    event = AdministrativeEvent.objects.filter(institution=institution).order_by("-sequence").first()
    assert event is not None
    return event


def _count() -> int:
    return AdministrativeEvent.objects.count()


def test_unit_create_names_the_coordinator_the_parent_and_the_unit(world: World):
    unit = institution_create(
        name="Kecamatan Ciputat", kind=InstitutionKind.DISTRICT, parent=world.city, actor=world.coordinator
    )
    event = AdministrativeEvent.objects.get(institution=unit, action=AdministrativeAction.UNIT_CREATE)
    assert event.actor == world.coordinator
    assert event.details == {
        "parent": world.city.pk,
        "name": "Kecamatan Ciputat",
        "code": unit.code,
        "kind": "kecamatan",
    }


@pytest.mark.parametrize(
    ("actor", "parent", "kind", "code"),
    [
        ("outsider", "city", InstitutionKind.DISTRICT, InstitutionErrorCode.UNKNOWN_INSTITUTION),
        ("officer", "transport", InstitutionKind.DISTRICT, InstitutionErrorCode.UNKNOWN_INSTITUTION),
        ("oversight", "city", InstitutionKind.DISTRICT, InstitutionErrorCode.UNKNOWN_INSTITUTION),
        # A coordinator creates units, never a ministry.
        ("coordinator", "city", InstitutionKind.MINISTRY, InstitutionErrorCode.INVALID_CHOICE),
        # Only the national admin creates a root.
        ("coordinator", None, InstitutionKind.MINISTRY, InstitutionErrorCode.UNKNOWN_PARENT),
    ],
)
def test_unit_create_is_refused_out_of_reach_and_records_nothing(
    world: World, actor: str, parent: str | None, kind: str, code: InstitutionErrorCode
):
    before, institutions = _count(), Institution.objects.count()
    with pytest.raises(InstitutionError) as raised:
        institution_create(
            name="Unit Liar", kind=kind, parent=getattr(world, parent) if parent else None, actor=getattr(world, actor)
        )
    assert raised.value.code == code
    assert (_count(), Institution.objects.count()) == (before, institutions)


def test_rename_deactivate_and_reactivate_name_who_and_what(world: World):
    institution_update(institution=world.transport, name="Dishub Tangsel", actor=world.coordinator)
    renamed = _last(world.transport)
    assert (renamed.actor, renamed.action) == (world.coordinator, AdministrativeAction.UNIT_UPDATE)
    assert renamed.details == {"name": ["Dinas Perhubungan", "Dishub Tangsel"]}
    institution_update(institution=world.transport, is_active=False, actor=world.coordinator)
    assert (_last(world.transport).actor, _last(world.transport).action) == (
        world.coordinator,
        AdministrativeAction.UNIT_DEACTIVATE,
    )
    institution_update(institution=world.transport, is_active=True, actor=world.national_admin)
    assert (_last(world.transport).actor, _last(world.transport).action) == (
        world.national_admin,
        AdministrativeAction.UNIT_REACTIVATE,
    )
    assert chain_verify(AdministrativeEvent, chain_id=world.transport.pk).ok


def test_a_coordinator_never_renames_its_own_institution_nor_reshapes_a_unit(world: World):
    before = _count()
    with pytest.raises(InstitutionError):
        institution_update(institution=world.city, name="Kota Baru", actor=world.coordinator)
    with pytest.raises(InstitutionError):
        institution_update(institution=world.transport, code="dishub-baru", actor=world.coordinator)
    world.city.refresh_from_db()
    assert world.city.name == "Pemerintah Kota Tangerang Selatan"
    assert _count() == before


def test_unit_move_names_both_parents(world: World):
    district = institution_services.institution_create(
        name="Kecamatan Serpong", kind=InstitutionKind.DISTRICT, parent=world.city
    )
    institution_move(institution=district, new_parent=world.transport, actor=world.coordinator)
    event = _last(district)
    assert (event.actor, event.action) == (world.coordinator, AdministrativeAction.UNIT_MOVE)
    assert event.details == {"from": world.city.pk, "to": world.transport.pk}
    with pytest.raises(InstitutionError):
        institution_move(institution=district, new_parent=world.regency, actor=world.coordinator)


def test_categories_set_names_what_was_added_and_removed(world: World):
    category_create(code="jalan", name="Jalan")
    category_create(code="lampu", name="Lampu jalan")
    institution_set_categories(institution=world.transport, category_codes=["jalan"], actor=world.coordinator)
    institution_set_categories(institution=world.transport, category_codes=["lampu"], actor=world.coordinator)
    event = _last(world.transport)
    assert (event.actor, event.action) == (world.coordinator, AdministrativeAction.CATEGORIES_SET)
    assert event.details == {"added": ["lampu"], "removed": ["jalan"]}
    assert Category.objects.count() == 2
    with pytest.raises(InstitutionError):
        institution_set_categories(institution=world.transport, category_codes=[], actor=world.outsider)


def test_coverage_set_is_checked_and_names_what_was_added_and_removed(world: World):
    institution_set_coverage(institution=world.transport, region_codes=["36.74.01"], actor=world.coordinator)
    event = _last(world.transport)
    assert (event.actor, event.action) == (world.coordinator, AdministrativeAction.COVERAGE_SET)
    assert "36.74.01" in event.details["added"]
    before = _count()
    for actor in (world.outsider, world.officer, world.oversight, world.reporter):
        with pytest.raises(InstitutionError) as raised:
            institution_set_coverage(institution=world.transport, region_codes=["36.03"], actor=actor)
        assert raised.value.code == InstitutionErrorCode.UNKNOWN_INSTITUTION
    assert _count() == before


def test_only_the_national_admin_makes_a_root(world: World):
    district = institution_services.institution_create(
        name="Kecamatan Pamulang", kind=InstitutionKind.DISTRICT, parent=world.city
    )
    with pytest.raises(InstitutionError) as raised:
        institution_move(institution=district, new_parent=None, actor=world.coordinator)
    assert raised.value.code == InstitutionErrorCode.UNKNOWN_PARENT
    institution_move(institution=district, new_parent=None, actor=world.national_admin)
    district.refresh_from_db()
    assert district.parent_id is None
    assert _last(district).actor == world.national_admin


def test_deadline_set_and_remove_name_the_clock_and_the_values(world: World):
    deadline_override_set(
        institution=world.transport,
        clock=DeadlineClock.FIRST_FOLLOW_UP,
        amount=2,
        unit=DeadlineUnit.WORKING_DAYS,
        basis="Perwali 12/2025",
        actor=world.coordinator,
    )
    event = _last(world.transport)
    assert (event.actor, event.action) == (world.coordinator, AdministrativeAction.DEADLINE_SET)
    assert event.details == {
        "clock": "first_follow_up",
        "amount": 2,
        "unit": "working_days",
        "basis": "Perwali 12/2025",
        "previous": None,
    }
    assert deadline_override_remove(
        institution=world.transport, clock=DeadlineClock.FIRST_FOLLOW_UP, actor=world.national_admin
    )
    removed = _last(world.transport)
    assert (removed.actor, removed.action) == (world.national_admin, AdministrativeAction.DEADLINE_REMOVE)
    assert removed.details["previous"] == {"amount": 2, "unit": "working_days", "basis": "Perwali 12/2025"}
    before = _count()
    for actor in (world.outsider, world.officer, world.oversight, world.reporter):
        with pytest.raises(InstitutionError):
            deadline_override_set(
                institution=world.transport, clock="overall", amount=9, unit="working_days", actor=actor
            )
    assert _count() == before


def test_template_create_edit_and_delete_name_the_template(world: World):
    template = follow_up_template_create(
        institution=world.transport, name="Selesai", body="Sudah diperbaiki.", actor=world.coordinator
    )
    created = _last(world.transport)
    assert (created.actor, created.action, created.subject_id) == (
        world.coordinator,
        AdministrativeAction.TEMPLATE_CREATE,
        template.pk,
    )
    follow_up_template_update(template=template, name="Tuntas", actor=world.coordinator)
    edited = _last(world.transport)
    assert (edited.action, edited.details) == (
        AdministrativeAction.TEMPLATE_UPDATE,
        {"name": ["Selesai", "Tuntas"], "fields": ["name"]},
    )
    with pytest.raises(InstitutionError) as raised:
        follow_up_template_delete(template=template, actor=world.outsider)
    assert raised.value.code == InstitutionErrorCode.UNKNOWN_TEMPLATE
    assert follow_up_template_delete(template=template, actor=world.coordinator)
    deleted = _last(world.transport)
    assert (deleted.actor, deleted.action, deleted.subject_id, deleted.details) == (
        world.coordinator,
        AdministrativeAction.TEMPLATE_DELETE,
        template.pk,
        {"name": "Tuntas"},
    )
    assert not FollowUpTemplate.objects.filter(pk=template.pk).exists()


def test_membership_invite_grant_role_change_revoke_and_unlock_name_who_and_whom(
    world: World, django_capture_on_commit_callbacks: Callable[..., Any]
):
    with django_capture_on_commit_callbacks(execute=False):
        invitation = membership_invite(
            full_name="Budi Baru",
            address="budi@example.id",
            institution=world.transport,
            role=Role.LIAISON_OFFICER,
            invited_by=None,
            actor=world.coordinator,
            **URLS,
        )
    invited = _last(world.transport)
    assert (invited.actor, invited.action, invited.subject_id) == (
        world.coordinator,
        AdministrativeAction.MEMBERSHIP_INVITE,
        invitation.membership.pk,
    )
    assert invited.details == {"user": invitation.user.pk, "role": "liaison_officer", "pending": True}

    granted = membership_grant(
        user=world.reporter, institution=world.transport, role=Role.LIAISON_OFFICER, actor=world.coordinator
    )
    event = _last(world.transport)
    assert (event.actor, event.action, event.subject_id) == (
        world.coordinator,
        AdministrativeAction.MEMBERSHIP_GRANT,
        granted.pk,
    )
    assert granted.granted_by == world.coordinator

    changed = membership_change_role(membership=granted, role=Role.COORDINATOR, actor=world.coordinator)
    event = _last(world.transport)
    assert (event.actor, event.action, event.subject_id) == (
        world.coordinator,
        AdministrativeAction.MEMBERSHIP_ROLE_CHANGE,
        changed.pk,
    )
    assert event.details == {"user": world.reporter.pk, "role": "coordinator", "previous_role": "liaison_officer"}

    membership_unlock(membership=changed, actor=world.coordinator)
    event = _last(world.transport)
    assert (event.actor, event.action, event.subject_id) == (
        world.coordinator,
        AdministrativeAction.MEMBERSHIP_UNLOCK,
        changed.pk,
    )
    assert LoginRecord.objects.filter(
        user=world.reporter, outcome=LoginRecord.Outcome.UNLOCKED, acted_by=world.coordinator
    ).exists()

    membership_revoke(membership=changed, actor=world.coordinator)
    event = _last(world.transport)
    assert (event.actor, event.action, event.subject_id) == (
        world.coordinator,
        AdministrativeAction.MEMBERSHIP_REVOKE,
        changed.pk,
    )
    assert chain_verify(AdministrativeEvent, chain_id=world.transport.pk).ok


def test_membership_changes_out_of_reach_are_refused_and_record_nothing(world: World):
    officer = Membership.objects.get(user=world.officer, institution=world.transport)
    before = _count()
    with pytest.raises(AccountError) as raised:
        membership_revoke(membership=officer, actor=world.outsider)
    assert raised.value.code == AccountErrorCode.MEMBERSHIP_NOT_FOUND
    with pytest.raises(AccountError) as raised:
        membership_change_role(membership=officer, role=Role.NATIONAL_ADMIN, actor=world.coordinator)
    assert raised.value.code == AccountErrorCode.ROLE_NOT_GRANTABLE
    with pytest.raises(AccountError) as raised:
        membership_grant(user=world.reporter, institution=world.transport, role=Role.OVERSIGHT, actor=world.coordinator)
    assert raised.value.code == AccountErrorCode.ROLE_NOT_GRANTABLE
    own = Membership.objects.get(user=world.coordinator, institution=world.city)
    with pytest.raises(AccountError) as raised:
        membership_revoke(membership=own, actor=world.coordinator)
    assert raised.value.code == AccountErrorCode.OWN_MEMBERSHIP
    officer.refresh_from_db()
    own.refresh_from_db()
    assert officer.is_active
    assert own.is_active
    assert _count() == before


def test_the_system_acts_unchecked_and_the_trail_names_nobody(world: World):
    unit = institution_services.institution_create(
        name="Kelurahan Pondok", kind=InstitutionKind.VILLAGE, parent=world.transport
    )
    event = _last(unit)
    assert event.actor is None
    assert event.action == AdministrativeAction.UNIT_CREATE


def test_the_trail_is_append_only(world: World):
    assert append_only_installed("institutions_administrativeevent")


def test_one_way_to_find_the_national_institution(world: World):
    national = national_institution()
    assert national == world.national_root
    assert is_national_institution(national)
    assert not is_national_institution(world.city)
    institution_services.institution_update(institution=world.national_root, is_active=False)
    assert national_institution() is None
