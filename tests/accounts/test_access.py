"""The door to memberships: a permission matrix over every capacity (see lapor.accounts.access).

The world (tests/reports/conftest.py): the coordinator manages Kota Tangerang Selatan (city) with its
Dishub (transport), whose liaison officer is the officer; the outsider coordinates Kabupaten Tangerang
(regency); oversight is held at the national root; the reporter is a citizen.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.contrib.auth.models import AnonymousUser

from lapor.accounts.access import MembershipAction, access_membership, check_may_grant, visible_memberships
from lapor.accounts.choices import Role
from lapor.accounts.errors import AccountError, AccountErrorCode
from lapor.accounts.models import Membership
from tests.reports.conftest import World, cached_world

CAPACITIES = [
    "coordinator",
    "outsider",
    "officer",
    "national_admin",
    "oversight",
    "reporter",
    "anonymous",
    "password_only_coordinator",
]
# membership (holder, institution) -> the capacities that read it, and those that change it
READERS = {
    ("officer", "transport"): {"coordinator", "national_admin"},
    ("outsider", "regency"): {"outsider", "national_admin"},
    ("oversight", "national_root"): {"national_admin"},
}
CHANGERS = {
    ("officer", "transport"): {"coordinator", "national_admin"},
    # One's own membership is another coordinator's to change.
    ("outsider", "regency"): {"national_admin"},
    # An oversight membership is the national admin's alone.
    ("oversight", "national_root"): {"national_admin"},
}


@pytest.fixture
def world(db: None) -> World:
    return cached_world()


def _user(world: World, capacity: str) -> Any:
    if capacity == "anonymous":
        return AnonymousUser()
    if capacity == "password_only_coordinator":
        user = world.coordinator
        user.is_verified = lambda: False  # type: ignore[attr-defined]
        return user
    return getattr(world, capacity)


def _membership(world: World, holder: str, place: str) -> Membership:
    return Membership.objects.get(user=getattr(world, holder), institution=getattr(world, place))


@pytest.mark.parametrize("capacity", CAPACITIES)
def test_access_membership_matrix(world: World, capacity: str):
    user = _user(world, capacity)
    for target, readers in READERS.items():
        membership = _membership(world, *target)
        for action in [None, *MembershipAction]:
            allowed = capacity in (readers if action is None else CHANGERS[target])
            if allowed:
                assert access_membership(user, membership.pk, action) == membership, (target, action)
                continue
            with pytest.raises(AccountError) as raised:
                access_membership(user, membership.pk, action)
            own = capacity == target[0] and capacity in readers
            expected = AccountErrorCode.OWN_MEMBERSHIP if own else AccountErrorCode.MEMBERSHIP_NOT_FOUND
            assert raised.value.code == expected, (target, action)


def test_a_coordinator_reads_but_never_changes_an_oversight_membership_in_its_subtree(world: World):
    from lapor.accounts.services import membership_grant

    watcher = membership_grant(user=world.reporter, institution=world.transport, role=Role.OVERSIGHT)
    assert access_membership(world.coordinator, watcher.pk) == watcher
    for action in MembershipAction:
        with pytest.raises(AccountError) as raised:
            access_membership(world.coordinator, watcher.pk, action)
        assert raised.value.code == AccountErrorCode.MEMBERSHIP_NOT_FOUND


@pytest.mark.parametrize("action", list(MembershipAction))
def test_nobody_changes_their_own_membership(world: World, action: MembershipAction):
    own = _membership(world, "coordinator", "city")
    assert access_membership(world.coordinator, own.pk) == own
    with pytest.raises(AccountError) as raised:
        access_membership(world.coordinator, own.pk, action)
    assert raised.value.code == AccountErrorCode.OWN_MEMBERSHIP


@pytest.mark.parametrize("capacity", CAPACITIES)
def test_visible_memberships_are_those_of_the_managed_subtree(world: World, capacity: str):
    visible = set(visible_memberships(_user(world, capacity)).values_list("pk", flat=True))
    everything = set(Membership.objects.values_list("pk", flat=True))
    city_subtree = set(
        Membership.objects.filter(institution__path__startswith=world.city.path).values_list("pk", flat=True)
    )
    regency_subtree = set(
        Membership.objects.filter(institution__path__startswith=world.regency.path).values_list("pk", flat=True)
    )
    expected = {
        "coordinator": city_subtree,
        "outsider": regency_subtree,
        "national_admin": everything,
    }.get(capacity, set())
    assert visible == expected


@pytest.mark.parametrize(
    ("capacity", "role", "allowed"),
    [
        ("coordinator", Role.LIAISON_OFFICER, True),
        ("coordinator", Role.COORDINATOR, True),
        ("coordinator", Role.OVERSIGHT, False),
        ("coordinator", Role.NATIONAL_ADMIN, False),
        ("outsider", Role.LIAISON_OFFICER, False),
        ("officer", Role.LIAISON_OFFICER, False),
        ("oversight", Role.LIAISON_OFFICER, False),
        ("reporter", Role.LIAISON_OFFICER, False),
        ("anonymous", Role.LIAISON_OFFICER, False),
        ("password_only_coordinator", Role.LIAISON_OFFICER, False),
        ("national_admin", Role.OVERSIGHT, True),
    ],
)
def test_who_may_give_which_role_at_a_unit(world: World, capacity: str, role: Role, allowed: bool):
    user = _user(world, capacity)
    if allowed:
        check_may_grant(user, world.transport, role)
    else:
        with pytest.raises(AccountError) as raised:
            check_may_grant(user, world.transport, role)
        assert raised.value.code == AccountErrorCode.ROLE_NOT_GRANTABLE
