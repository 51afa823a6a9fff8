"""The door to institutions, templates and deadline overrides: a permission matrix over every capacity.

The world (tests/reports/conftest.py): the coordinator manages Kota Tangerang Selatan (city) with its
Dishub (transport); the outsider coordinates Kabupaten Tangerang (regency); the officer is Dishub's
liaison officer; oversight is held at the national root; the reporter is a citizen.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from lapor.accounts.institution_access import (
    InstitutionAction,
    access_follow_up_template,
    access_institution,
    visible_deadline_overrides,
    visible_follow_up_templates,
    visible_institutions,
)
from lapor.institutions.choices import DeadlineClock, DeadlineUnit
from lapor.institutions.errors import InstitutionError, InstitutionErrorCode
from lapor.institutions.services import deadline_override_set, follow_up_template_create
from tests.reports.conftest import World, cached_world

ALL = frozenset(InstitutionAction)
# What a coordinator does at the institution it coordinates: everything but editing it (it never
# renames or closes its own institution) and reshaping (the national admin's alone).
OWN = ALL - {InstitutionAction.EDIT, InstitutionAction.RESHAPE}
BELOW = ALL - {InstitutionAction.RESHAPE}
NOTHING: frozenset[InstitutionAction] = frozenset()

# capacity -> {institution name in the world -> the actions allowed there}
MATRIX: dict[str, dict[str, frozenset[InstitutionAction]]] = {
    "coordinator": {"city": OWN, "transport": BELOW, "regency": NOTHING},
    "outsider": {"city": NOTHING, "transport": NOTHING, "regency": OWN},
    "officer": {"city": NOTHING, "transport": NOTHING, "regency": NOTHING},
    "national_admin": {"city": ALL, "transport": ALL, "regency": ALL},
    "oversight": {"city": NOTHING, "transport": NOTHING, "regency": NOTHING},
    "reporter": {"city": NOTHING, "transport": NOTHING, "regency": NOTHING},
    "anonymous": {"city": NOTHING, "transport": NOTHING, "regency": NOTHING},
    "password_only_coordinator": {"city": NOTHING, "transport": NOTHING, "regency": NOTHING},
}


@pytest.fixture
def world(db: None) -> World:
    return cached_world()


def _user(world: World, capacity: str) -> Any:
    if capacity == "anonymous":
        return AnonymousUser()
    if capacity == "password_only_coordinator":
        # A web session that proved the password only (django-otp's marker says not verified).
        user = world.coordinator
        user.is_verified = lambda: False  # type: ignore[attr-defined]
        return user
    return getattr(world, capacity)


@pytest.mark.parametrize("capacity", list(MATRIX))
def test_access_institution_matrix(world: World, capacity: str):
    user = _user(world, capacity)
    for place, allowed in MATRIX[capacity].items():
        institution = getattr(world, place)
        for action in InstitutionAction:
            if action in allowed:
                assert access_institution(user, institution.pk, action) == institution, (place, action)
                continue
            with pytest.raises(InstitutionError) as raised:
                access_institution(user, institution.pk, action)
            assert raised.value.code == InstitutionErrorCode.UNKNOWN_INSTITUTION, (place, action)


def test_an_institution_that_does_not_exist_is_refused_as_one_out_of_reach(world: World):
    with pytest.raises(InstitutionError) as raised:
        access_institution(world.national_admin, 10**9, InstitutionAction.VIEW)
    assert raised.value.code == InstitutionErrorCode.UNKNOWN_INSTITUTION


@pytest.mark.parametrize(
    ("capacity", "expected"),
    [
        ("coordinator", {"city", "transport", "environment"}),
        ("outsider", {"regency"}),
        (
            "national_admin",
            {
                "national_root",
                "kemenpanrb",
                "ombudsman",
                "social_ministry",
                "city",
                "transport",
                "environment",
                "regency",
            },
        ),
        ("officer", set()),
        ("oversight", set()),
        ("reporter", set()),
        ("anonymous", set()),
        ("password_only_coordinator", set()),
    ],
)
def test_visible_institutions_are_those_one_manages(world: World, capacity: str, expected: set[str]):
    names = {
        "national_root",
        "kemenpanrb",
        "ombudsman",
        "social_ministry",
        "city",
        "transport",
        "environment",
        "regency",
    }
    by_pk = {getattr(world, name).pk: name for name in names}
    visible = {by_pk[pk] for pk in visible_institutions(_user(world, capacity)).values_list("pk", flat=True)}
    assert visible == expected


@pytest.mark.parametrize(
    ("capacity", "city_template", "regency_template"),
    [
        ("coordinator", True, False),
        ("outsider", False, True),
        ("national_admin", True, True),
        ("officer", False, False),
        ("oversight", False, False),
        ("reporter", False, False),
        ("anonymous", False, False),
        ("password_only_coordinator", False, False),
    ],
)
def test_templates_and_deadlines_are_reached_through_their_institution(
    world: World, capacity: str, city_template: bool, regency_template: bool
):
    templates = {
        "city": follow_up_template_create(institution=world.transport, name="Selesai", body="Sudah diperbaiki."),
        "regency": follow_up_template_create(institution=world.regency, name="Selesai", body="Sudah diperbaiki."),
    }
    overrides = {
        "city": deadline_override_set(
            institution=world.transport, clock=DeadlineClock.FIRST_FOLLOW_UP, amount=2, unit=DeadlineUnit.WORKING_DAYS
        ),
        "regency": deadline_override_set(
            institution=world.regency, clock=DeadlineClock.FIRST_FOLLOW_UP, amount=2, unit=DeadlineUnit.WORKING_DAYS
        ),
    }
    user = _user(world, capacity)
    expected = {"city": city_template, "regency": regency_template}
    visible = set(visible_follow_up_templates(user).values_list("pk", flat=True))
    visible_overrides = set(visible_deadline_overrides(user).values_list("pk", flat=True))
    for place, allowed in expected.items():
        assert (templates[place].pk in visible) is allowed
        assert (overrides[place].pk in visible_overrides) is allowed
        if allowed:
            assert access_follow_up_template(user, templates[place].pk) == templates[place]
        else:
            with pytest.raises(InstitutionError) as raised:
                access_follow_up_template(user, templates[place].pk)
            assert raised.value.code == InstitutionErrorCode.UNKNOWN_TEMPLATE


def test_a_membership_at_a_deactivated_institution_manages_nothing(world: World):
    from lapor.accounts.access import managed_institutions_q
    from lapor.institutions.models import Institution

    assert access_institution(world.coordinator, world.transport.pk, InstitutionAction.MANAGE_STAFF)
    Institution.objects.filter(pk=world.city.pk).update(is_active=False)
    with pytest.raises(InstitutionError):
        access_institution(world.coordinator, world.transport.pk, InstitutionAction.MANAGE_STAFF)
    assert not visible_institutions(world.coordinator).exists()
    assert managed_institutions_q(world.coordinator) is None
