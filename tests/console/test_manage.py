"""Institution management in the console: units, staff, deadline overrides, follow-up templates and
categories handled, for a coordinator within its own subtree and the national admin everywhere.

The world (tests/reports/conftest.py): the coordinator manages Kota Tangerang Selatan (city) with its
Dishub (transport) and DLH (environment); the outsider coordinates Kabupaten Tangerang (regency), an
unrelated subtree; the officer is the liaison officer of Dishub; oversight is held at the national root.
Every write is tried in scope (it works), and out of scope, by roles without the right, and with ids
from another subtree: each of those is a 404 and changes nothing.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from lapor.accounts.choices import Role
from lapor.accounts.models import LoginRecord, Membership, User
from lapor.accounts.permissions import (
    SUBTREE_GRANTABLE_ROLES,
    Permission,
    grantable_roles,
    has_permission,
    permissions_at,
)
from lapor.accounts.services import membership_grant, user_create
from lapor.core.identifiers import mask_contact
from lapor.institutions.choices import AdministrativeAction, DeadlineClock, DeadlineUnit, InstitutionKind
from lapor.institutions.models import (
    AdministrativeEvent,
    Category,
    DeadlineOverride,
    FollowUpTemplate,
    Institution,
    InstitutionCategory,
    InstitutionCoverage,
)
from lapor.institutions.services import (
    category_create,
    deadline_override_set,
    follow_up_template_create,
    institution_create,
)
from lapor.notifications.models import Notification
from tests.console.conftest import password_only_login
from tests.reports.conftest import World

ConsoleClient = Callable[[User], Client]


@dataclass
class Scene:
    """The world plus the objects the management pages act on, inside and outside the city's subtree."""

    world: World
    city_template: FollowUpTemplate
    regency_template: FollowUpTemplate
    regency_unit: Institution
    regency_officer_membership: Membership
    officer_membership: Membership
    street_lights: Category


@pytest.fixture
def scene(world: World) -> Scene:
    regency_unit = institution_create(
        name="Dinas Perhubungan Kabupaten",
        kind=InstitutionKind.REGIONAL_UNIT,
        parent=world.regency,
        code="kab-tangerang-dishub",
        region_codes=["36.03"],
    )
    regency_officer = user_create(full_name="Raka Kabupaten", email="raka@example.id")
    return Scene(
        world=world,
        city_template=follow_up_template_create(
            institution=world.city, name="Diterima", body="Laporan {tracking_id} kami terima."
        ),
        regency_template=follow_up_template_create(institution=world.regency, name="Kabupaten", body="Teks kabupaten."),
        regency_unit=regency_unit,
        regency_officer_membership=membership_grant(
            user=regency_officer, institution=regency_unit, role=Role.LIAISON_OFFICER
        ),
        officer_membership=Membership.objects.get(user=world.officer, institution=world.transport),
        street_lights=category_create(code="penerangan-jalan-umum", name="Penerangan Jalan Umum"),
    )


def url(name: str, *args: Any) -> str:
    return reverse(f"console:{name}", args=args)


# --- pages ---------------------------------------------------------------------------------------------


def pages_about(scene: Scene, target: str) -> list[str]:
    """Every management page about the city's subtree ("inside") or the regency's ("outside")."""
    world = scene.world
    if target == "inside":
        institution, unit, template = world.city, world.transport, scene.city_template
    else:
        institution, unit, template = world.regency, scene.regency_unit, scene.regency_template
    return [
        url("manage_institution", institution.pk),
        url("manage_institution", unit.pk),
        url("manage_unit_create", institution.pk),
        url("manage_unit_rename", unit.pk),
        url("manage_staff", institution.pk),
        url("manage_staff_invite", institution.pk),
        url("manage_deadlines", institution.pk),
        url("manage_templates", institution.pk),
        url("manage_template_edit", template.pk),
        url("manage_categories", unit.pk),
    ]


def test_the_coordinator_sees_every_page_of_its_subtree(scene, console_client):
    client = console_client(scene.world.coordinator)
    assert client.get(url("manage")).status_code == 200
    for page in pages_about(scene, "inside"):
        response = client.get(page)
        assert response.status_code == 200, page


def test_the_coordinator_gets_404_for_every_page_outside_its_subtree(scene, console_client):
    client = console_client(scene.world.coordinator)
    for page in pages_about(scene, "outside"):
        assert client.get(page).status_code == 404, page
    # Above it and beside it too: the national root, a ministry.
    for institution in (scene.world.national_root, scene.world.social_ministry):
        assert client.get(url("manage_institution", institution.pk)).status_code == 404
        assert client.get(url("manage_staff", institution.pk)).status_code == 404


@pytest.mark.parametrize("person", ["officer", "environment_officer", "oversight", "copy_officer", "outsider"])
def test_staff_without_the_right_get_404_for_every_page_of_the_city(scene, console_client, person):
    client = console_client(getattr(scene.world, person))
    pages = pages_about(scene, "inside")
    if person != "outsider":
        # The outsider coordinates a subtree of its own, so it has a management home (tested below).
        pages.append(url("manage"))
    for page in pages:
        assert client.get(page).status_code == 404, (person, page)


def test_a_signed_in_person_who_is_not_staff_gets_404(scene, client):
    client.force_login(scene.world.reporter)
    for page in [url("manage"), *pages_about(scene, "inside")]:
        assert client.get(page).status_code == 404, page


def test_anonymous_visitors_and_password_only_staff_are_not_served(scene, client):
    for page in [url("manage"), url("manage_staff", scene.world.city.pk)]:
        response = client.get(page)
        assert response.status_code == 302
        assert response["Location"].startswith(url("login"))
    password_only_login(client, scene.world.coordinator)
    before = snapshot()
    for page in [url("manage"), *pages_about(scene, "inside")]:
        response = client.get(page)
        assert response.status_code == 302, page
        assert response["Location"].startswith((url("verify"), url("enroll")))
    for address, data in writes_about(scene, "inside"):
        assert client.post(address, data).status_code == 302, address
    assert snapshot() == before


def test_the_national_admin_sees_every_page_everywhere(scene, console_client):
    client = console_client(scene.world.national_admin)
    for page in [url("manage"), *pages_about(scene, "inside"), *pages_about(scene, "outside")]:
        assert client.get(page).status_code == 200, page
    assert client.get(url("manage_institution", scene.world.national_root.pk)).status_code == 200


def test_the_management_home_lists_the_top_of_what_one_manages(scene, console_client):
    world = scene.world
    # A second coordinator membership inside the first adds nothing to the list.
    membership_grant(user=world.coordinator, institution=world.transport, role=Role.COORDINATOR)
    page = console_client(world.coordinator).get(url("manage")).content.decode()
    assert url("manage_institution", world.city.pk) in page
    assert url("manage_institution", world.transport.pk) not in page
    assert url("manage_institution", world.regency.pk) not in page
    national = console_client(world.national_admin).get(url("manage")).content.decode()
    assert url("manage_institution", world.national_root.pk) in national


def test_the_institution_page_shows_the_subtree_as_a_tree(scene, console_client):
    world = scene.world
    kecamatan = institution_create(name="Kecamatan Serpong", kind=InstitutionKind.DISTRICT, parent=world.city)
    institution_create(name="Kelurahan Ciater", kind=InstitutionKind.VILLAGE, parent=kecamatan, is_active=True)
    institution_create(name="Kantor Lama", kind=InstitutionKind.WORK_UNIT, parent=world.city, is_active=False)
    response = console_client(world.coordinator).get(url("manage_institution", world.city.pk))
    page = response.content.decode()
    for name in ("Dinas Perhubungan", "Dinas Lingkungan Hidup", "Kecamatan Serpong", "Kelurahan Ciater", "Kantor Lama"):
        assert name in page
    assert 'class="level-2"' in page  # the kelurahan, two levels below
    assert "Pemerintah Kabupaten Tangerang" not in page
    assert "Dinas Perhubungan Kabupaten" not in page
    # The coordinator's own institution: units may be created under it, but it is not renamed here.
    assert url("manage_unit_create", world.city.pk) in page
    assert url("manage_unit_rename", world.city.pk) not in page
    assert url("manage_unit_activation", world.city.pk) not in page


def test_the_institution_page_costs_the_same_few_queries_however_big_the_subtree(
    scene, console_client, django_assert_max_num_queries
):
    world = scene.world
    client = console_client(world.coordinator)
    client.get(url("manage_institution", world.city.pk))
    with CaptureQueriesContext(connection) as few:
        client.get(url("manage_institution", world.city.pk))
    for number in range(30):
        institution_create(name=f"Kelurahan {number}", kind=InstitutionKind.VILLAGE, parent=world.transport)
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("manage_institution", world.city.pk))
    assert response.content.decode().count("Kelurahan ") == 30
    assert len(few.captured_queries) <= 10


# --- units ---------------------------------------------------------------------------------------------


def test_the_coordinator_creates_a_unit_under_one_of_its_institutions(scene, console_client):
    world = scene.world
    client = console_client(world.coordinator)
    response = client.post(
        url("manage_unit_create", world.transport.pk),
        {
            "name": "UPT Parkir",
            "short_name": "",
            "kind": InstitutionKind.WORK_UNIT,
            "sector": "perhubungan",
            "region_codes": "",
        },
    )
    unit = Institution.objects.get(name="UPT Parkir")
    assert response.status_code == 302
    assert response["Location"] == url("manage_institution", unit.pk)
    assert unit.parent == world.transport
    # With no area given, it serves the area of the institution above it.
    assert list(InstitutionCoverage.objects.filter(institution=unit).values_list("region_id", flat=True)) == ["36.74"]


def test_a_coordinator_creates_only_unit_kinds_and_only_inside_its_area(scene, console_client):
    world = scene.world
    client = console_client(world.coordinator)
    ministry = client.post(
        url("manage_unit_create", world.city.pk),
        {"name": "Kementerian Baru", "kind": InstitutionKind.MINISTRY, "sector": "umum", "region_codes": ""},
    )
    assert ministry.status_code == 400
    elsewhere = client.post(
        url("manage_unit_create", world.city.pk),
        {"name": "Kecamatan Lain", "kind": InstitutionKind.DISTRICT, "sector": "umum", "region_codes": "36.03"},
    )
    assert elsewhere.status_code == 400
    assert "36.03" in elsewhere.content.decode()
    inside = client.post(
        url("manage_unit_create", world.city.pk),
        {"name": "Kecamatan Serpong", "kind": InstitutionKind.DISTRICT, "sector": "umum", "region_codes": "36.74.01"},
    )
    assert inside.status_code == 302
    assert not Institution.objects.filter(name__in=["Kementerian Baru", "Kecamatan Lain"]).exists()
    serpong = Institution.objects.get(name="Kecamatan Serpong")
    assert list(serpong.coverages.values_list("region_id", flat=True)) == ["36.74.01"]


def test_unit_create_shows_the_services_errors_on_the_form(scene, console_client):
    world = scene.world
    response = console_client(world.coordinator).post(
        url("manage_unit_create", world.city.pk),
        {"name": "Kecamatan X", "kind": InstitutionKind.DISTRICT, "sector": "umum", "region_codes": "36.74.99"},
    )
    assert response.status_code == 400
    assert "36.74.99" in response.content.decode()


def test_the_coordinator_renames_deactivates_and_reactivates_a_unit(scene, console_client):
    world = scene.world
    client = console_client(world.coordinator)
    response = client.post(
        url("manage_unit_rename", world.transport.pk), {"name": "  Dishub  Kota ", "short_name": "Dishub"}
    )
    assert response.status_code == 302
    world.transport.refresh_from_db()
    assert (world.transport.name, world.transport.short_name) == ("Dishub Kota", "Dishub")

    child = institution_create(name="UPT Terminal", kind=InstitutionKind.WORK_UNIT, parent=world.transport)
    client.post(url("manage_unit_activation", world.transport.pk), {"active": "0"})
    world.transport.refresh_from_db()
    child.refresh_from_db()
    assert not world.transport.is_active
    assert not child.is_active

    # A unit under a closed one cannot come back first: the message says why, nothing changes.
    response = client.post(url("manage_unit_activation", child.pk), {"active": "1"}, follow=True)
    child.refresh_from_db()
    assert not child.is_active
    assert "Reactivate the institution above it first." in response.content.decode()

    client.post(url("manage_unit_activation", world.transport.pk), {"active": "1"})
    world.transport.refresh_from_db()
    assert world.transport.is_active


def test_a_coordinator_never_renames_or_closes_its_own_institution(scene, console_client):
    world = scene.world
    client = console_client(world.coordinator)
    assert client.post(url("manage_unit_rename", world.city.pk), {"name": "Kota Baru"}).status_code == 404
    assert client.post(url("manage_unit_activation", world.city.pk), {"active": "0"}).status_code == 404
    assert (
        client.post(url("manage_categories", world.city.pk), {"categories": ["penerangan-jalan-umum"]}).status_code
        == 404
    )
    world.city.refresh_from_db()
    assert world.city.name == "Pemerintah Kota Tangerang Selatan"
    assert world.city.is_active
    assert not InstitutionCategory.objects.filter(institution=world.city).exists()


# --- the same writes, out of scope ---------------------------------------------------------------------


def writes_about(scene: Scene, target: str) -> list[tuple[str, dict[str, Any]]]:
    """Every management write with valid data, about the city's subtree or the regency's."""
    world = scene.world
    if target == "inside":
        institution, unit, template, membership = (
            world.city,
            world.transport,
            scene.city_template,
            scene.officer_membership,
        )
    else:
        institution, unit, template, membership = (
            world.regency,
            scene.regency_unit,
            scene.regency_template,
            scene.regency_officer_membership,
        )
    return [
        (
            url("manage_unit_create", institution.pk),
            {"name": "Unit Baru", "kind": InstitutionKind.WORK_UNIT, "sector": "umum", "region_codes": ""},
        ),
        (url("manage_unit_rename", unit.pk), {"name": "Nama Baru", "short_name": ""}),
        (url("manage_unit_activation", unit.pk), {"active": "0"}),
        (
            url("manage_staff_invite", institution.pk),
            {"full_name": "Tamu Baru", "contact": "tamu@example.id", "role": Role.LIAISON_OFFICER, "unit": unit.pk},
        ),
        (url("manage_membership_revoke", membership.pk), {}),
        (url("manage_membership_role", membership.pk), {"role": Role.COORDINATOR}),
        (
            url("manage_deadlines", institution.pk),
            {"clock": DeadlineClock.FIRST_FOLLOW_UP, "amount": 2, "unit": "working_days"},
        ),
        (url("manage_deadline_remove", institution.pk), {"clock": DeadlineClock.FIRST_FOLLOW_UP}),
        (url("manage_templates", institution.pk), {"name": "Baru", "body": "Teks baru"}),
        (url("manage_template_edit", template.pk), {"name": "Diubah", "body": "Teks diubah"}),
        (url("manage_template_delete", template.pk), {}),
        (url("manage_categories", unit.pk), {"categories": ["penerangan-jalan-umum"]}),
    ]


def snapshot() -> dict[str, Any]:
    """Everything a management write could change."""
    return {
        "institutions": list(Institution.objects.order_by("pk").values_list("pk", "name", "short_name", "is_active")),
        "memberships": list(Membership.objects.order_by("pk").values_list("pk", "user_id", "role", "is_active")),
        "users": list(User.objects.order_by("pk").values_list("pk", "email")),
        "overrides": list(DeadlineOverride.objects.order_by("pk").values_list("institution_id", "clock", "amount")),
        "templates": list(FollowUpTemplate.objects.order_by("pk").values_list("pk", "name", "body")),
        "categories": list(InstitutionCategory.objects.order_by("pk").values_list("institution_id", "category_id")),
        "outbox": Notification.objects.count(),
    }


def test_the_coordinator_gets_404_for_every_write_outside_its_subtree_and_nothing_changes(scene, console_client):
    deadline_override_set(institution=scene.world.regency, clock=DeadlineClock.FIRST_FOLLOW_UP, amount=2, unit="hours")
    client = console_client(scene.world.coordinator)
    before = snapshot()
    for address, data in writes_about(scene, "outside"):
        assert client.post(address, data).status_code == 404, address
    assert snapshot() == before


@pytest.mark.parametrize("person", ["officer", "environment_officer", "oversight", "copy_officer", "outsider"])
def test_the_same_writes_are_refused_to_staff_without_the_right(scene, console_client, person):
    deadline_override_set(institution=scene.world.city, clock=DeadlineClock.FIRST_FOLLOW_UP, amount=2, unit="hours")
    client = console_client(getattr(scene.world, person))
    before = snapshot()
    for address, data in writes_about(scene, "inside"):
        assert client.post(address, data).status_code == 404, (person, address)
    assert snapshot() == before


def test_the_same_writes_are_refused_to_a_signed_in_person_who_is_not_staff(scene, client):
    client.force_login(scene.world.reporter)
    before = snapshot()
    for address, data in writes_about(scene, "inside"):
        assert client.post(address, data).status_code == 404, address
    assert snapshot() == before


@pytest.mark.parametrize("target", ["inside", "outside"])
def test_the_national_admin_may_make_every_write_everywhere(
    scene, console_client, django_capture_on_commit_callbacks, target
):
    world = scene.world
    institution = world.city if target == "inside" else world.regency
    deadline_override_set(institution=institution, clock=DeadlineClock.FIRST_FOLLOW_UP, amount=2, unit="hours")
    client = console_client(world.national_admin)
    for address, data in writes_about(scene, target):
        if "status" in address:
            continue  # deactivating would hide the unit from the writes after it; tested on its own below
        with django_capture_on_commit_callbacks(execute=False):
            response = client.post(address, data)
        assert response.status_code == 302, address
    assert Institution.objects.filter(parent=institution, name="Unit Baru").exists()
    assert Institution.objects.filter(name="Nama Baru").exists()
    assert User.objects.filter(email="tamu@example.id").exists()
    assert Notification.objects.filter(address="tamu@example.id").exists()
    assert not FollowUpTemplate.objects.filter(institution=institution).exclude(name="Baru").exists()
    response = client.post(url("manage_unit_activation", world.regency.pk), {"active": "0"})
    assert response.status_code == 302
    world.regency.refresh_from_db()
    assert not world.regency.is_active


# --- staff ---------------------------------------------------------------------------------------------


def test_the_staff_page_lists_the_memberships_of_the_subtree(scene, console_client):
    world = scene.world
    LoginRecord.objects.create(
        user=world.officer, stage=LoginRecord.Stage.SECOND_FACTOR, outcome=LoginRecord.Outcome.SUCCESS
    )
    page = console_client(world.coordinator).get(url("manage_staff", world.city.pk)).content.decode()
    for name in ("Kori Koordinator", "Pandu Penghubung", "Lia Lingkungan"):
        assert name in page
    for name in ("Oki Luar", "Raka Kabupaten", "Nadia Nasional", "Ombi Pengawas"):
        assert name not in page
    # Contacts are shown masked, never whole.
    assert "dishub@example.id" not in page
    assert mask_contact("dishub@example.id") in page
    # The last console sign-in, where there is one.
    assert "<time" in staff_row(page, scene.officer_membership)
    assert "<time" not in staff_row(page, Membership.objects.get(user=world.environment_officer))
    # The coordinator's own row offers no action on itself.
    own = Membership.objects.get(user=world.coordinator)
    assert url("manage_membership_revoke", own.pk) not in page
    assert url("manage_membership_revoke", scene.officer_membership.pk) in page


def staff_row(page: str, membership: Membership) -> str:
    return page.split(f'<tr data-membership="{membership.pk}">', 1)[1].split("</tr>", 1)[0]


def test_ended_memberships_are_listed_only_on_request(scene, console_client):
    world = scene.world
    client = console_client(world.coordinator)
    client.post(url("manage_membership_revoke", scene.officer_membership.pk), follow=True)  # shows the notice
    assert "Pandu Penghubung" not in client.get(url("manage_staff", world.city.pk)).content.decode()
    assert "Pandu Penghubung" in client.get(url("manage_staff", world.city.pk) + "?semua=1").content.decode()


def test_the_staff_page_costs_the_same_few_queries_however_many_people(
    scene, console_client, django_assert_max_num_queries
):
    world = scene.world
    client = console_client(world.coordinator)
    client.get(url("manage_staff", world.city.pk))
    with CaptureQueriesContext(connection) as few:
        client.get(url("manage_staff", world.city.pk))
    assert len(few.captured_queries) <= 13
    for number in range(25):
        person = user_create(full_name=f"Petugas {number:02d}", phone=f"0812345678{number:02d}")
        membership_grant(user=person, institution=world.environment, role=Role.LIAISON_OFFICER)
        LoginRecord.objects.create(
            user=person, stage=LoginRecord.Stage.SECOND_FACTOR, outcome=LoginRecord.Outcome.SUCCESS
        )
    with django_assert_max_num_queries(len(few.captured_queries)):
        response = client.get(url("manage_staff", world.city.pk))
    page = response.content.decode()
    assert page.count("<td>Petugas ") == 25
    assert "+62812•••••" in page


def test_an_invitation_creates_the_account_and_sends_a_message_through_the_outbox(
    scene, console_client, django_capture_on_commit_callbacks
):
    world = scene.world
    client = console_client(world.coordinator)
    with django_capture_on_commit_callbacks(execute=False):
        response = client.post(
            url("manage_staff_invite", world.city.pk),
            {
                "full_name": "Dewi Baru",
                "contact": " Dewi@Example.ID ",
                "role": Role.LIAISON_OFFICER,
                "unit": world.environment.pk,
            },
        )
    assert response.status_code == 302
    assert response["Location"] == url("manage_staff", world.city.pk)
    invited = User.objects.get(email="dewi@example.id")
    assert invited.full_name == "Dewi Baru"
    assert not invited.has_usable_password()
    membership = Membership.objects.get(user=invited)
    assert (membership.institution, membership.role, membership.granted_by) == (
        world.environment,
        Role.LIAISON_OFFICER,
        world.coordinator,
    )
    message = Notification.objects.get(address="dewi@example.id")
    assert message.recipient == invited
    assert message.channel == "email"
    assert "Dinas Lingkungan Hidup" in message.body
    assert "Kori Koordinator" in message.body
    assert "http://testserver" + reverse("portal:password_reset") in message.body


def test_an_invitation_by_phone_goes_by_sms(scene, console_client, django_capture_on_commit_callbacks):
    world = scene.world
    with django_capture_on_commit_callbacks(execute=False):
        console_client(world.coordinator).post(
            url("manage_staff_invite", world.city.pk),
            {
                "full_name": "Budi SMS",
                "contact": "0812-9999-0000",
                "role": Role.COORDINATOR,
                "unit": world.transport.pk,
            },
        )
    invited = User.objects.get(phone="+6281299990000")
    message = Notification.objects.get(recipient=invited)
    assert message.channel == "sms"
    assert reverse("portal:password_reset") in message.body


def test_inviting_someone_with_an_account_keeps_it_and_tells_them(
    scene, console_client, django_capture_on_commit_callbacks
):
    world = scene.world
    world.reporter.set_password("kata-sandi-yang-panjang-sekali")
    world.reporter.save()
    with django_capture_on_commit_callbacks(execute=False):
        response = console_client(world.coordinator).post(
            url("manage_staff_invite", world.city.pk),
            {
                "full_name": "Nama Lain",
                "contact": "rina@example.id",
                "role": Role.LIAISON_OFFICER,
                "unit": world.transport.pk,
            },
        )
    assert response.status_code == 302
    world.reporter.refresh_from_db()
    assert world.reporter.full_name == "Rina Pelapor"
    # Nothing is given before the person accepts (tests/portal/test_invitations.py).
    membership = Membership.objects.get(user=world.reporter, institution=world.transport)
    assert (membership.is_active, membership.is_pending, membership.invited_as) == (False, True, "rina@example.id")
    message = Notification.objects.get(recipient=world.reporter)
    # They have a password already: the message sends them to sign in and accept, not to set one.
    assert reverse("portal:password_reset") not in message.body
    assert "http://testserver" + reverse("portal:invitations") in message.body
    assert reverse("console:login") in message.body


def test_an_invitation_is_refused_for_bad_input_and_roles_the_coordinator_may_not_give(scene, console_client):
    world = scene.world
    client = console_client(world.coordinator)
    before = snapshot()
    bad_contact = client.post(
        url("manage_staff_invite", world.city.pk),
        {"full_name": "X", "contact": "bukan alamat", "role": Role.LIAISON_OFFICER, "unit": world.city.pk},
    )
    assert bad_contact.status_code == 400
    for role in (Role.NATIONAL_ADMIN, Role.OVERSIGHT):
        response = client.post(
            url("manage_staff_invite", world.city.pk),
            {"full_name": "X", "contact": "x@example.id", "role": role, "unit": world.city.pk},
        )
        assert response.status_code == 400
    outside_unit = client.post(
        url("manage_staff_invite", world.city.pk),
        {"full_name": "X", "contact": "x@example.id", "role": Role.LIAISON_OFFICER, "unit": world.regency.pk},
    )
    assert outside_unit.status_code == 400
    assert snapshot() == before


def test_the_coordinator_changes_roles_between_coordinator_and_liaison_officer(scene, console_client):
    world = scene.world
    client = console_client(world.coordinator)
    response = client.post(
        url("manage_membership_role", scene.officer_membership.pk), {"role": Role.COORDINATOR, "from": world.city.pk}
    )
    assert response.status_code == 302
    assert response["Location"] == url("manage_staff", world.city.pk)
    scene.officer_membership.refresh_from_db()
    assert not scene.officer_membership.is_active
    assert scene.officer_membership.revoked_by == world.coordinator
    promoted = Membership.objects.get(user=world.officer, institution=world.transport, is_active=True)
    assert promoted.role == Role.COORDINATOR
    assert promoted.granted_by == world.coordinator
    # And back.
    client.post(url("manage_membership_role", promoted.pk), {"role": Role.LIAISON_OFFICER})
    assert list(Membership.objects.filter(user=world.officer, is_active=True).values_list("role", flat=True)) == [
        Role.LIAISON_OFFICER
    ]


@pytest.mark.parametrize("role", [Role.NATIONAL_ADMIN, Role.OVERSIGHT, "superuser"])
def test_a_coordinator_never_grants_national_admin_or_oversight(scene, console_client, role):
    client = console_client(scene.world.coordinator)
    before = snapshot()
    assert client.post(url("manage_membership_role", scene.officer_membership.pk), {"role": role}).status_code == 404
    assert snapshot() == before


def test_oversight_and_national_admin_memberships_in_the_subtree_are_the_national_admins_alone(scene, console_client):
    world = scene.world
    regional_ombudsman = user_create(full_name="Obi Perwakilan", email="perwakilan@example.id")
    oversight = membership_grant(user=regional_ombudsman, institution=world.city, role=Role.OVERSIGHT)
    coordinator = console_client(world.coordinator)
    page = coordinator.get(url("manage_staff", world.city.pk)).content.decode()
    assert "Obi Perwakilan" in page
    assert url("manage_membership_revoke", oversight.pk) not in page
    before = snapshot()
    assert coordinator.post(url("manage_membership_revoke", oversight.pk)).status_code == 404
    assert (
        coordinator.post(url("manage_membership_role", oversight.pk), {"role": Role.LIAISON_OFFICER}).status_code == 404
    )
    assert snapshot() == before
    national = console_client(world.national_admin)
    assert national.post(url("manage_membership_revoke", oversight.pk)).status_code == 302
    oversight.refresh_from_db()
    assert not oversight.is_active
    assert oversight.revoked_by == world.national_admin


def test_the_national_admin_may_give_every_role(scene, console_client):
    world = scene.world
    response = console_client(world.national_admin).post(
        url("manage_membership_role", scene.officer_membership.pk), {"role": Role.OVERSIGHT}
    )
    assert response.status_code == 302
    assert Membership.objects.get(user=world.officer, is_active=True).role == Role.OVERSIGHT


def test_grantable_roles_by_capacity(scene):
    world = scene.world
    assert grantable_roles(world.coordinator, world.transport) == SUBTREE_GRANTABLE_ROLES
    assert grantable_roles(world.coordinator, world.regency) == frozenset()
    assert grantable_roles(world.national_admin, world.regency) == frozenset(Role)
    assert grantable_roles(world.officer, world.transport) == frozenset()
    assert grantable_roles(world.oversight, world.city) == frozenset()


def test_nobody_ends_or_changes_their_own_membership_here(scene, console_client):
    world = scene.world
    client = console_client(world.coordinator)
    own = Membership.objects.get(user=world.coordinator, institution=world.city)
    response = client.post(url("manage_membership_revoke", own.pk), follow=True)
    assert response.status_code == 200
    client.post(url("manage_membership_role", own.pk), {"role": Role.LIAISON_OFFICER})
    own.refresh_from_db()
    assert own.is_active
    assert own.role == Role.COORDINATOR


def test_a_revoked_membership_cannot_change_role(scene, console_client):
    world = scene.world
    client = console_client(world.coordinator)
    client.post(url("manage_membership_revoke", scene.officer_membership.pk))
    client.post(url("manage_membership_role", scene.officer_membership.pk), {"role": Role.COORDINATOR})
    assert not Membership.objects.filter(user=world.officer, is_active=True).exists()


def test_the_return_page_is_never_outside_the_coordinators_scope(scene, console_client):
    response = console_client(scene.world.coordinator).post(
        url("manage_membership_revoke", scene.officer_membership.pk), {"from": scene.world.regency.pk}
    )
    assert response["Location"] == url("manage_staff", scene.world.transport.pk)


@pytest.mark.parametrize("origin", ["²", "٣", "9" * 5000, "-1", ""])
def test_a_return_page_that_is_no_id_goes_back_to_the_membership_s_page(scene, console_client, origin):
    response = console_client(scene.world.coordinator).post(
        url("manage_membership_revoke", scene.officer_membership.pk), {"from": origin}
    )
    assert response.status_code == 302
    assert response["Location"] == url("manage_staff", scene.world.transport.pk)


# --- deadlines -----------------------------------------------------------------------------------------


def deadline_rows(client: Client, institution: Institution) -> dict[str, str]:
    page = client.get(url("manage_deadlines", institution.pk)).content.decode()
    return {
        clock.value: page.split(f'data-clock="{clock.value}" data-source="', 1)[1].split('"', 1)[0]
        for clock in DeadlineClock
    }


def test_deadlines_show_their_source_and_the_coordinator_sets_and_removes_its_own(scene, console_client):
    world = scene.world
    deadline_override_set(
        institution=world.city, clock=DeadlineClock.FIRST_FOLLOW_UP, amount=2, unit=DeadlineUnit.WORKING_DAYS
    )
    client = console_client(world.coordinator)
    rows = deadline_rows(client, world.transport)
    assert rows[DeadlineClock.FIRST_FOLLOW_UP] == "inherited"
    assert rows[DeadlineClock.VERIFY_DISPATCH] == "national"
    page = client.get(url("manage_deadlines", world.transport.pk)).content.decode()
    assert "Pemerintah Kota Tangerang Selatan" in page

    response = client.post(
        url("manage_deadlines", world.transport.pk),
        {"clock": DeadlineClock.FIRST_FOLLOW_UP, "amount": 48, "unit": DeadlineUnit.HOURS, "basis": "Perwali 1/2026"},
    )
    assert response.status_code == 302
    override = DeadlineOverride.objects.get(institution=world.transport)
    assert (override.clock, override.amount, override.unit, override.basis) == (
        DeadlineClock.FIRST_FOLLOW_UP,
        48,
        DeadlineUnit.HOURS,
        "Perwali 1/2026",
    )
    assert deadline_rows(client, world.transport)[DeadlineClock.FIRST_FOLLOW_UP] == "own"

    client.post(url("manage_deadline_remove", world.transport.pk), {"clock": DeadlineClock.FIRST_FOLLOW_UP})
    assert not DeadlineOverride.objects.filter(institution=world.transport).exists()
    assert deadline_rows(client, world.transport)[DeadlineClock.FIRST_FOLLOW_UP] == "inherited"


def test_the_deadline_page_shows_each_budget_with_where_it_comes_from(scene, console_client, settings):
    world = scene.world
    changed = copy.deepcopy(settings.REPORT_DEADLINES)
    changed["verify_dispatch"] = (4, "working_days")
    settings.REPORT_DEADLINES = changed
    deadline_override_set(institution=world.city, clock=DeadlineClock.FIRST_FOLLOW_UP, amount=48, unit="hours")
    deadline_override_set(
        institution=world.transport,
        clock=DeadlineClock.RESOLUTION_LIGHT,
        amount=1,
        unit=DeadlineUnit.WORKING_DAYS,
        basis="Perwali 1/2026",
    )
    page = console_client(world.coordinator).get(url("manage_deadlines", world.transport.pk)).content.decode()

    def row(clock: DeadlineClock) -> str:
        return page.split(f'data-clock="{clock.value}"', 1)[1].split("</tr>", 1)[0]

    assert 'data-source="national"' in row(DeadlineClock.VERIFY_DISPATCH)
    assert "4 working days" in row(DeadlineClock.VERIFY_DISPATCH)
    assert "60 calendar days" in row(DeadlineClock.OVERALL)
    inherited = row(DeadlineClock.FIRST_FOLLOW_UP)
    assert 'data-source="inherited"' in inherited
    assert "48 hours" in inherited
    assert world.city.name in inherited
    own = row(DeadlineClock.RESOLUTION_LIGHT)
    assert 'data-source="own"' in own
    assert "1 working days" in own
    assert "Perwali 1/2026" in own


def test_a_bad_deadline_is_shown_on_the_form(scene, console_client):
    response = console_client(scene.world.coordinator).post(
        url("manage_deadlines", scene.world.city.pk), {"clock": "forever", "amount": 0, "unit": DeadlineUnit.HOURS}
    )
    assert response.status_code == 400
    assert not DeadlineOverride.objects.exists()


# --- follow-up templates -------------------------------------------------------------------------------


def test_the_coordinator_creates_edits_and_deletes_templates(scene, console_client):
    world = scene.world
    client = console_client(world.coordinator)
    response = client.post(
        url("manage_templates", world.transport.pk), {"name": "Perbaikan", "body": "Laporan {tracking_id}: {nama}."}
    )
    assert response.status_code == 302
    template = FollowUpTemplate.objects.get(institution=world.transport)
    assert template.body == "Laporan {tracking_id}: {nama}."
    # The unit's page lists its own templates and those it inherits from the city.
    page = client.get(url("manage_templates", world.transport.pk)).content.decode()
    assert "Perbaikan" in page
    assert "Diterima" in page
    assert "Kabupaten" not in page  # the regency's template is not offered in the city

    duplicate = client.post(url("manage_templates", world.transport.pk), {"name": "Perbaikan", "body": "Lagi"})
    assert duplicate.status_code == 400
    assert FollowUpTemplate.objects.filter(institution=world.transport).count() == 1

    client.post(url("manage_template_edit", template.pk), {"name": "Perbaikan jalan", "body": "Sudah diperbaiki."})
    template.refresh_from_db()
    assert (template.name, template.body) == ("Perbaikan jalan", "Sudah diperbaiki.")

    client.post(url("manage_template_delete", template.pk))
    assert not FollowUpTemplate.objects.filter(pk=template.pk).exists()


# --- categories ----------------------------------------------------------------------------------------


def test_the_coordinator_sets_the_categories_a_unit_handles(scene, console_client):
    world = scene.world
    roads = category_create(code="jalan-rusak", name="Jalan Rusak")
    client = console_client(world.coordinator)
    response = client.post(
        url("manage_categories", world.transport.pk), {"categories": ["penerangan-jalan-umum", "jalan-rusak"]}
    )
    assert response.status_code == 302
    assert set(InstitutionCategory.objects.filter(institution=world.transport).values_list("category", flat=True)) == {
        scene.street_lights.pk,
        roads.pk,
    }
    page = client.get(url("manage_categories", world.transport.pk)).content.decode()
    assert 'value="jalan-rusak" id="category-jalan-rusak" checked' in page
    client.post(url("manage_categories", world.transport.pk), {"categories": ["jalan-rusak"]})
    assert list(InstitutionCategory.objects.filter(institution=world.transport).values_list("category", flat=True)) == [
        roads.pk
    ]
    unknown = client.post(url("manage_categories", world.transport.pk), {"categories": ["tidak-ada"]})
    assert unknown.status_code == 400


# --- the questions behind the pages --------------------------------------------------------------------


def test_permissions_at_answers_as_has_permission_does_for_every_permission(scene):
    world = scene.world
    people = [world.national_admin, world.coordinator, world.officer, world.oversight, world.outsider, world.reporter]
    places = [world.national_root, world.city, world.transport, world.environment, world.regency, scene.regency_unit]
    for person in people:
        for place in places:
            expected = {
                permission for permission in Permission if has_permission(person, permission, institution=place)
            }
            assert permissions_at(person, place) == expected, (person, place)
    # A coordinator's permissions reach the units below its institution, not the institutions above it.
    assert Permission.SUBTREE_DEADLINE_MANAGE in permissions_at(world.coordinator, world.transport)
    assert Permission.SUBTREE_DEADLINE_MANAGE not in permissions_at(world.coordinator, world.national_root)


@pytest.mark.parametrize(
    ("contact", "masked"),
    [
        ("dishub@example.id", "d•••@example.id"),
        ("+6281234567890", "+62812•••••890"),
        ("", ""),
        (None, ""),
    ],
)
def test_contacts_are_masked(contact, masked):
    assert mask_contact(contact) == masked


# --- the administrative trail --------------------------------------------------------------------------


def test_every_write_of_the_console_names_the_acting_user_in_the_trail(scene, console_client):
    world = scene.world
    client = console_client(world.coordinator)
    trail = AdministrativeEvent.objects.filter(actor=world.coordinator)
    steps: list[tuple[str, dict[str, Any], Institution, AdministrativeAction]] = [
        (
            url("manage_unit_rename", world.transport.pk),
            {"name": "Dishub"},
            world.transport,
            AdministrativeAction.UNIT_UPDATE,
        ),
        (
            url("manage_unit_activation", world.transport.pk),
            {"active": "0"},
            world.transport,
            AdministrativeAction.UNIT_DEACTIVATE,
        ),
        (
            url("manage_unit_activation", world.transport.pk),
            {"active": "1"},
            world.transport,
            AdministrativeAction.UNIT_REACTIVATE,
        ),
        (
            url("manage_unit_create", world.city.pk),
            {"name": "Kecamatan Pamulang", "kind": InstitutionKind.DISTRICT, "sector": "umum", "region_codes": ""},
            world.city,
            AdministrativeAction.UNIT_CREATE,
        ),
        (
            url("manage_deadlines", world.city.pk),
            {"clock": DeadlineClock.FIRST_FOLLOW_UP, "amount": 3, "unit": DeadlineUnit.WORKING_DAYS, "basis": ""},
            world.city,
            AdministrativeAction.DEADLINE_SET,
        ),
        (
            url("manage_deadline_remove", world.city.pk),
            {"clock": DeadlineClock.FIRST_FOLLOW_UP},
            world.city,
            AdministrativeAction.DEADLINE_REMOVE,
        ),
        (
            url("manage_templates", world.city.pk),
            {"name": "Baru", "body": "Teks."},
            world.city,
            AdministrativeAction.TEMPLATE_CREATE,
        ),
        (
            url("manage_template_edit", scene.city_template.pk),
            {"name": "Diterima", "body": "Teks lain."},
            world.city,
            AdministrativeAction.TEMPLATE_UPDATE,
        ),
        (url("manage_template_delete", scene.city_template.pk), {}, world.city, AdministrativeAction.TEMPLATE_DELETE),
        (
            url("manage_categories", world.transport.pk),
            {"categories": [scene.street_lights.code]},
            world.transport,
            AdministrativeAction.CATEGORIES_SET,
        ),
        (
            url("manage_membership_unlock", scene.officer_membership.pk),
            {},
            world.transport,
            AdministrativeAction.MEMBERSHIP_UNLOCK,
        ),
        (
            url("manage_membership_role", scene.officer_membership.pk),
            {"role": Role.COORDINATOR},
            world.transport,
            AdministrativeAction.MEMBERSHIP_ROLE_CHANGE,
        ),
    ]
    for address, data, institution, action in steps:
        before = AdministrativeEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
        response = client.post(address, data)
        assert response.status_code == 302, (address, response.status_code)
        # A new unit's trail starts with its own creation.
        where = (
            Institution.objects.get(name="Kecamatan Pamulang")
            if action is AdministrativeAction.UNIT_CREATE
            else institution
        )
        assert trail.filter(pk__gt=before, institution=where, action=action).exists(), address
    promoted = Membership.objects.get(user=world.officer, institution=world.transport, is_active=True)
    assert client.post(url("manage_membership_revoke", promoted.pk)).status_code == 302
    assert trail.filter(action=AdministrativeAction.MEMBERSHIP_REVOKE, subject_id=promoted.pk).exists()


def test_the_management_views_find_protected_objects_only_through_the_access_layer():
    """No manager of a guarded model in the views: a read there would be a door without a guard."""
    from lapor.console.views import manage

    source = Path(manage.__file__).read_text(encoding="utf-8")
    for model in ("Institution", "Membership", "FollowUpTemplate", "DeadlineOverride", "User"):
        assert f"{model}.objects" not in source, model
