"""Permissions: the role table, the scope rules, generated over every role, permission and position."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lapor.accounts import permissions as permissions_module
from lapor.accounts.choices import Role
from lapor.accounts.models import User
from lapor.accounts.permissions import (
    ROLE_PERMISSIONS,
    ROLE_SCOPES,
    Permission,
    Scope,
    has_any_permission,
    has_permission,
    paths_to_root,
    permissions_of,
    roles_for,
)
from lapor.accounts.services import membership_grant, membership_revoke
from lapor.institutions.models import Institution
from lapor.reports.choices import Action, Actor
from lapor.reports.workflow import TRANSITIONS
from tests.accounts.conftest import MakeInstitution
from tests.accounts.factories import UserFactory

RELATIONS = ("same", "child", "grandchild", "parent", "sibling", "unrelated")

# The scope rules, written out independently of the implementation: which positions of the target,
# relative to the institution the membership is held at, each scope reaches.
REACHES: dict[Scope, frozenset[str]] = {
    Scope.NATIONAL: frozenset(RELATIONS),
    Scope.SUBTREE: frozenset({"same", "child", "grandchild"}),
    Scope.OVERSIGHT: frozenset({"same", "child", "grandchild"}),
    Scope.UNIT: frozenset({"same"}),
}


@dataclass
class Tree:
    """parent ─┬─ member ── child ── grandchild      unrelated (another root)
    └─ sibling"""

    parent: Institution
    member: Institution
    child: Institution
    grandchild: Institution
    sibling: Institution
    unrelated: Institution

    def target(self, relation: str) -> Institution:
        return self.member if relation == "same" else getattr(self, relation)


@pytest.fixture
def tree(make_institution: MakeInstitution) -> Tree:
    parent = make_institution("Provinsi Jawa Barat")
    member = make_institution("Kabupaten Bogor", parent)
    sibling = make_institution("Kabupaten Bekasi", parent)
    child = make_institution("Dinas Perhubungan", member)
    grandchild = make_institution("UPT Terminal", child)
    unrelated = make_institution("Kementerian Kesehatan")
    return Tree(parent, member, child, grandchild, sibling, unrelated)


def test_permission_names_follow_scope_resource_action() -> None:
    for permission in Permission:
        assert re.fullmatch(r"[a-z]+:[a-z]+:[a-z_]+", permission.value), permission
        scope, resource, action = permission.value.split(":")
        assert permission.scope is Scope(scope)
        assert (permission.resource, permission.action) == (resource, action)


def test_every_permission_belongs_to_some_role_of_its_scope() -> None:
    granted = set().union(*ROLE_PERMISSIONS.values())
    assert granted == set(Permission)
    assert set(ROLE_PERMISSIONS) == set(ROLE_SCOPES) == set(Role)
    for role, permissions in ROLE_PERMISSIONS.items():
        assert all(permission.scope is ROLE_SCOPES[role] for permission in permissions), role


def test_report_actions_have_one_vocabulary_the_workflow_table() -> None:
    """What may be done to a report is named only by the workflow table's actions (taken in the
    capacities the access layer gives): no permission names a report, and the table names every action."""
    assert [permission for permission in Permission if permission.resource == "report"] == []
    assert {transition.action for transition in TRANSITIONS} == set(Action)
    assert set().union(*(transition.actors for transition in TRANSITIONS)) == set(Actor)


def test_the_matrix_in_the_docstring_is_the_table() -> None:
    doc = permissions_module.__doc__ or ""
    header = next(line for line in doc.splitlines() if line.strip().startswith("permission ") and " N  C  L  O" in line)
    columns = {role: header.index(letter) for role, letter in zip(Role, "NCLO", strict=True)}
    documented: dict[Role, set[Permission]] = {role: set() for role in Role}
    for line in doc.splitlines():
        match = re.match(r"\s+([a-z]+:[a-z]+:[a-z_]+)\s", line)
        if match is None:
            continue
        for role, column in columns.items():
            if len(line) > column and line[column] == "x":
                documented[role].add(Permission(match.group(1)))
    assert documented == {role: set(granted) for role, granted in ROLE_PERMISSIONS.items()}


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("0001", ["0001"]),
        ("0001000A", ["0001", "0001000A"]),
        ("00010002000Z", ["0001", "00010002", "00010002000Z"]),
    ],
)
def test_paths_to_root(path: str, expected: list[str]) -> None:
    assert paths_to_root(path) == expected


@pytest.mark.parametrize("path", ["", "001", "000100"])
def test_paths_to_root_refuses_malformed_paths(path: str) -> None:
    with pytest.raises(ValueError, match="path"):
        paths_to_root(path)


@pytest.mark.django_db
@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("permission", list(Permission), ids=str)
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_permission_matrix(tree: Tree, role: Role, permission: Permission, relation: str) -> None:
    user = UserFactory.create()
    membership_grant(user=user, institution=tree.member, role=role)
    expected = permission in ROLE_PERMISSIONS[role] and relation in REACHES[permission.scope]
    assert has_permission(user, permission, institution=tree.target(relation)) is expected


@pytest.mark.django_db
@pytest.mark.parametrize("relation", RELATIONS)
@pytest.mark.parametrize("role", list(Role), ids=str)
def test_roles_for_follows_the_widest_scope_of_each_role(tree: Tree, role: Role, relation: str) -> None:
    user = UserFactory.create()
    membership_grant(user=user, institution=tree.member, role=role)
    reaches = REACHES[ROLE_SCOPES[role]]
    expected = frozenset({role}) if relation in reaches else frozenset()
    assert roles_for(user, tree.target(relation)) == expected


@pytest.mark.django_db
def test_has_permission_is_one_query(tree: Tree, django_assert_num_queries) -> None:
    user = UserFactory.create()
    membership_grant(user=user, institution=tree.parent, role=Role.COORDINATOR)
    membership_grant(user=user, institution=tree.child, role=Role.LIAISON_OFFICER)
    membership_grant(user=user, institution=tree.unrelated, role=Role.OVERSIGHT)
    user = User.objects.get(pk=user.pk)
    with django_assert_num_queries(1):
        assert has_permission(user, Permission.SUBTREE_USER_MANAGE, institution=tree.grandchild)
    with django_assert_num_queries(1):
        assert not has_permission(user, Permission.OVERSIGHT_STATISTICS_READ, institution=tree.grandchild)
    with django_assert_num_queries(1):
        assert has_any_permission(
            user,
            [Permission.NATIONAL_USER_MANAGE, Permission.SUBTREE_DEADLINE_MANAGE, Permission.OVERSIGHT_REFERRAL_ACCEPT],
            institution=tree.child,
        )
    with django_assert_num_queries(1):
        assert roles_for(user, tree.child) == {Role.COORDINATOR, Role.LIAISON_OFFICER}
    with django_assert_num_queries(1):
        assert len(permissions_of(user)) > 0


@pytest.mark.django_db
def test_has_permission_query_uses_exact_paths(tree: Tree) -> None:
    """Ancestors are looked up by exact path (an index lookup), never with LIKE."""
    user = UserFactory.create()
    with CaptureQueriesContext(connection) as queries:
        has_permission(user, Permission.SUBTREE_STATISTICS_READ, institution=tree.grandchild)
    (query,) = queries.captured_queries
    assert "LIKE" not in query["sql"].upper()


@pytest.mark.django_db
def test_several_memberships_combine(tree: Tree) -> None:
    user = UserFactory.create()
    membership_grant(user=user, institution=tree.child, role=Role.LIAISON_OFFICER)
    membership_grant(user=user, institution=tree.sibling, role=Role.COORDINATOR)
    assert roles_for(user, tree.child) == {Role.LIAISON_OFFICER}
    assert not has_permission(user, Permission.SUBTREE_USER_MANAGE, institution=tree.child)
    assert has_permission(user, Permission.SUBTREE_USER_MANAGE, institution=tree.sibling)
    assert roles_for(user, tree.sibling) == {Role.COORDINATOR}
    assert roles_for(user, tree.grandchild) == frozenset()


@pytest.mark.django_db
def test_national_permissions_need_no_institution(tree: Tree) -> None:
    admin = UserFactory.create()
    membership_grant(user=admin, institution=tree.unrelated, role=Role.NATIONAL_ADMIN)
    assert has_permission(admin, Permission.NATIONAL_CALENDAR_MANAGE)
    assert not has_permission(UserFactory.create(), Permission.NATIONAL_CALENDAR_MANAGE)


@pytest.mark.django_db
@pytest.mark.parametrize("permission", [p for p in Permission if p.scope is not Scope.NATIONAL], ids=str)
def test_other_permissions_require_an_institution(permission: Permission) -> None:
    with pytest.raises(ValueError, match="institution"):
        has_permission(UserFactory.create(), permission)


@pytest.mark.django_db
def test_revoked_membership_grants_nothing(tree: Tree) -> None:
    user = UserFactory.create()
    membership = membership_grant(user=user, institution=tree.member, role=Role.COORDINATOR)
    assert has_permission(user, Permission.SUBTREE_STATISTICS_READ, institution=tree.child)
    membership_revoke(membership=membership)
    assert not has_permission(user, Permission.SUBTREE_STATISTICS_READ, institution=tree.child)
    assert roles_for(user, tree.member) == frozenset()
    assert permissions_of(user) == set()


@pytest.mark.django_db
def test_deactivated_user_has_no_permission(tree: Tree, django_assert_num_queries) -> None:
    user = UserFactory.create()
    membership_grant(user=user, institution=tree.member, role=Role.NATIONAL_ADMIN)
    user.is_active = False
    user.save(update_fields=["is_active"])
    with django_assert_num_queries(0):
        assert not has_permission(user, Permission.NATIONAL_USER_MANAGE)
        assert roles_for(user, tree.member) == frozenset()
        assert permissions_of(user) == set()


@pytest.mark.django_db
def test_anonymous_has_no_permission(tree: Tree) -> None:
    assert not has_permission(AnonymousUser(), Permission.SUBTREE_STATISTICS_READ, institution=tree.member)
    assert roles_for(AnonymousUser(), tree.member) == frozenset()
    assert permissions_of(AnonymousUser()) == set()


@pytest.mark.django_db
@pytest.mark.parametrize("permission", list(Permission), ids=str)
def test_superuser_gets_no_workflow_permission(tree: Tree, permission: Permission) -> None:
    superuser = UserFactory.create(superuser=True)
    assert not has_permission(superuser, permission, institution=tree.member)


@pytest.mark.django_db
def test_permissions_of_lists_each_permission_at_its_institution(tree: Tree) -> None:
    user = UserFactory.create()
    membership_grant(user=user, institution=tree.member, role=Role.LIAISON_OFFICER)
    membership_grant(user=user, institution=tree.parent, role=Role.OVERSIGHT)
    revoked = membership_grant(user=user, institution=tree.sibling, role=Role.COORDINATOR)
    membership_revoke(membership=revoked)
    expected = {(permission, tree.member.pk) for permission in ROLE_PERMISSIONS[Role.LIAISON_OFFICER]} | {
        (permission, tree.parent.pk) for permission in ROLE_PERMISSIONS[Role.OVERSIGHT]
    }
    assert permissions_of(user) == expected
