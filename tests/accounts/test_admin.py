from __future__ import annotations

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.test import Client
from django.urls import reverse

from lapor.accounts.choices import Role
from lapor.accounts.models import Membership, User
from lapor.accounts.services import membership_grant
from lapor.institutions.choices import InstitutionKind
from tests.accounts.conftest import MakeInstitution
from tests.accounts.factories import PASSWORD, UserFactory
from tests.console.conftest import verified_login

pytestmark = pytest.mark.django_db

NIK = "3201012345678901"
CHANGELIST = "admin:accounts_user_changelist"


@pytest.fixture
def superuser() -> User:
    return UserFactory.create(superuser=True, email="root@example.id")


@pytest.fixture
def admin_client(client: Client, superuser: User) -> Client:
    return verified_login(client, superuser)


@pytest.fixture
def ani(make_institution: MakeInstitution) -> User:
    user = UserFactory.create(full_name="Ani Lestari", email="ani@example.id", phone="081234567890", nik=NIK)
    membership_grant(user=user, institution=make_institution("Kabupaten Bogor"), role=Role.COORDINATOR)
    return user


def _change_data(user: User, **overrides: str) -> dict[str, str]:
    data = {
        "full_name": user.full_name,
        "email": user.email or "",
        "phone": user.phone or "",
        "preferred_language": user.preferred_language,
        "time_zone": user.time_zone,
        "is_active": "on",
        "set_nik": "",
        "memberships-TOTAL_FORMS": "0",
        "memberships-INITIAL_FORMS": "0",
        "memberships-MIN_NUM_FORMS": "0",
        "memberships-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return data


def _membership_rows(user: User) -> dict[str, str]:
    rows: dict[str, str] = {}
    memberships = list(user.memberships.order_by("pk"))
    for index, membership in enumerate(memberships):
        rows[f"memberships-{index}-id"] = str(membership.pk)
        rows[f"memberships-{index}-user"] = str(user.pk)
        rows[f"memberships-{index}-institution"] = str(membership.institution_id)
        rows[f"memberships-{index}-role"] = membership.role
        if membership.is_active:
            rows[f"memberships-{index}-is_active"] = "on"
    rows["memberships-TOTAL_FORMS"] = rows["memberships-INITIAL_FORMS"] = str(len(memberships))
    return rows


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?is_staff__exact=1",
        "?has_nik=yes",
        "?has_nik=no",
        "?role=coordinator",
        "?role=none",
        "?institution_kind=unit_kerja",
        "?q=Lestari",
    ],
)
def test_changelist_renders_without_the_nik(admin_client: Client, ani: User, query: str) -> None:
    response = admin_client.get(reverse(CHANGELIST) + query)
    assert response.status_code == 200
    assert NIK not in response.content.decode()


def test_changelist_filters(admin_client: Client, ani: User, superuser: User) -> None:
    def listed(query: str) -> set[User]:
        return set(admin_client.get(reverse(CHANGELIST) + query).context["cl"].result_list)

    assert listed("?role=coordinator") == {ani}
    assert listed("?role=none") == {superuser}
    assert listed("?has_nik=yes") == {ani}
    assert listed("?has_nik=no") == {superuser}
    assert listed("?is_superuser__exact=1") == {superuser}
    assert listed(f"?institution_kind={InstitutionKind.WORK_UNIT}") == {ani}
    assert listed(f"?institution_kind={InstitutionKind.MINISTRY}") == set()


def test_every_filter_link_works(admin_client: Client, ani: User) -> None:
    changelist = admin_client.get(reverse(CHANGELIST)).context["cl"]
    links = [choice["query_string"] for spec in changelist.filter_specs for choice in spec.choices(changelist)]
    assert any("date_joined" in link for link in links)
    for link in links:
        response = admin_client.get(reverse(CHANGELIST) + link)
        assert response.status_code == 200, link
        assert NIK not in response.content.decode()


def test_institution_autocomplete_for_memberships(admin_client: Client, ani: User) -> None:
    response = admin_client.get(
        reverse("admin:autocomplete"),
        {"app_label": "accounts", "model_name": "membership", "field_name": "institution", "term": "Bogor"},
    )
    assert response.status_code == 200
    assert [result["text"] for result in response.json()["results"]] == ["Kabupaten Bogor"]


@pytest.mark.parametrize("term", ["Lestari", "ani@example", "0812-3456-7890", "+62 812 3456 7890", NIK])
def test_search_by_name_email_phone_in_any_format_and_nik(admin_client: Client, ani: User, term: str) -> None:
    response = admin_client.get(reverse(CHANGELIST), {"q": term})
    assert list(response.context["cl"].result_list) == [ani]


def test_change_page_shows_only_the_masked_nik(admin_client: Client, ani: User) -> None:
    response = admin_client.get(reverse("admin:accounts_user_change", args=[ani.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert NIK not in html
    assert NIK[:12] not in html
    assert ani.nik_masked in html
    assert ani.nik_ciphertext not in html
    assert 'name="set_nik"' in html


def test_add_page_renders(admin_client: Client) -> None:
    response = admin_client.get(reverse("admin:accounts_user_add"))
    assert response.status_code == 200
    html = response.content.decode()
    for field in ("full_name", "email", "phone", "password1", "password2"):
        assert f'name="{field}"' in html


def test_add_creates_the_account_through_the_service(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {
            "full_name": "Budi Santoso",
            "email": "Budi@Example.ID",
            "phone": "0812-1111-2222",
            "usable_password": "true",
            "password1": PASSWORD,
            "password2": PASSWORD,
        },
    )
    assert response.status_code == 302, response.context["adminform"].form.errors
    user = User.objects.get(email="budi@example.id")
    assert user.phone == "+6281211112222"
    assert user.check_password(PASSWORD)


def test_add_with_phone_only_and_password_login_disabled(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {"full_name": "Citra", "email": "", "phone": "081233334444", "usable_password": "false"},
    )
    assert response.status_code == 302
    user = User.objects.get(phone="+6281233334444")
    assert user.email is None
    assert not user.has_usable_password()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"email": "ANI@example.id"}, "email"),
        ({"email": "", "phone": "+62 812 3456 7890"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"phone": "12345"}, "phone"),
        ({"password2": "something-else-entirely"}, "password2"),
        ({"password1": "12345678", "password2": "12345678"}, "password2"),
    ],
)
def test_add_refuses_bad_input(admin_client: Client, ani: User, data: dict[str, str], field: str) -> None:
    post = {
        "full_name": "Dewi",
        "email": "dewi@example.id",
        "phone": "",
        "usable_password": "true",
        "password1": PASSWORD,
        "password2": PASSWORD,
        **data,
    }
    response = admin_client.post(reverse("admin:accounts_user_add"), post)
    assert response.status_code == 200
    assert field in response.context["adminform"].form.errors
    assert User.objects.count() == 2


def test_add_refuses_an_account_without_email_or_phone(admin_client: Client) -> None:
    response = admin_client.post(
        reverse("admin:accounts_user_add"),
        {"full_name": "Eka", "email": "", "phone": "", "usable_password": "false"},
    )
    assert response.status_code == 200
    assert response.context["adminform"].form.non_field_errors()
    assert not User.objects.filter(full_name="Eka").exists()


def test_change_sets_the_nik_without_echoing_it(admin_client: Client, superuser: User) -> None:
    user = UserFactory.create(email="fajar@example.id")
    url = reverse("admin:accounts_user_change", args=[user.pk])
    response = admin_client.post(url, _change_data(user, set_nik="3201 0123 4567 8902"))
    assert response.status_code == 302
    user.refresh_from_db()
    assert user.reveal_nik() == "3201012345678902"
    assert "3201012345678902" not in admin_client.get(url).content.decode()


def test_change_with_a_taken_nik_is_refused_without_echoing_it(admin_client: Client, ani: User) -> None:
    user = UserFactory.create(email="fajar@example.id")
    url = reverse("admin:accounts_user_change", args=[user.pk])
    response = admin_client.post(url, _change_data(user, set_nik=NIK))
    assert response.status_code == 200
    assert "set_nik" in response.context["adminform"].form.errors
    assert NIK not in response.content.decode()
    user.refresh_from_db()
    assert user.nik_index is None


def test_change_removes_the_nik(admin_client: Client, ani: User) -> None:
    url = reverse("admin:accounts_user_change", args=[ani.pk])
    response = admin_client.post(url, {**_change_data(ani, remove_nik="on"), **_membership_rows(ani)})
    assert response.status_code == 302
    ani.refresh_from_db()
    assert ani.nik_index is None


def test_change_normalises_contacts_and_refuses_taken_ones(admin_client: Client, ani: User) -> None:
    user = UserFactory.create(email="fajar@example.id")
    url = reverse("admin:accounts_user_change", args=[user.pk])
    response = admin_client.post(url, _change_data(user, phone="0812-3456-7890"))
    assert response.status_code == 200
    assert "phone" in response.context["adminform"].form.errors
    response = admin_client.post(url, _change_data(user, email="Fajar.Baru@Example.id", phone="0812 5555 6666"))
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.email, user.phone) == ("fajar.baru@example.id", "+6281255556666")


def test_membership_inline_grants_and_revokes_through_the_services(
    admin_client: Client, superuser: User, make_institution: MakeInstitution
) -> None:
    institution = make_institution("Kota Depok")
    user = UserFactory.create(email="gita@example.id")
    url = reverse("admin:accounts_user_change", args=[user.pk])
    new_row = {
        "memberships-TOTAL_FORMS": "1",
        "memberships-0-user": str(user.pk),
        "memberships-0-institution": str(institution.pk),
        "memberships-0-role": Role.LIAISON_OFFICER,
        "memberships-0-is_active": "on",
    }
    response = admin_client.post(url, _change_data(user, **new_row))
    assert response.status_code == 302
    membership = Membership.objects.get(user=user)
    assert (membership.institution, membership.role, membership.is_active) == (institution, Role.LIAISON_OFFICER, True)
    assert membership.granted_by == superuser

    rows = _membership_rows(user)
    del rows["memberships-0-is_active"]
    # A membership's institution and role are fixed: a changed role in the POST is ignored.
    rows["memberships-0-role"] = Role.COORDINATOR
    response = admin_client.post(url, {**_change_data(user), **rows})
    assert response.status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active
    assert membership.role == Role.LIAISON_OFFICER
    assert membership.revoked_by == superuser


def test_membership_admin_pages_render(admin_client: Client, ani: User) -> None:
    membership = ani.memberships.get()
    for url in (
        reverse("admin:accounts_membership_changelist"),
        reverse("admin:accounts_membership_changelist") + "?role__exact=coordinator&is_active__exact=1",
        reverse("admin:accounts_membership_changelist") + "?institution__kind__exact=unit_kerja",
        reverse("admin:accounts_membership_add"),
        reverse("admin:accounts_membership_change", args=[membership.pk]),
    ):
        response = admin_client.get(url)
        assert response.status_code == 200, url
        assert NIK not in response.content.decode()


def test_membership_admin_grants_and_revokes(
    admin_client: Client, superuser: User, make_institution: MakeInstitution
) -> None:
    institution = make_institution("Kota Bandung")
    user = UserFactory.create(email="hadi@example.id")
    response = admin_client.post(
        reverse("admin:accounts_membership_add"),
        {"user": str(user.pk), "institution": str(institution.pk), "role": Role.OVERSIGHT, "is_active": "on"},
    )
    assert response.status_code == 302
    membership = Membership.objects.get(user=user)
    assert membership.granted_by == superuser

    response = admin_client.post(
        reverse("admin:accounts_membership_changelist"),
        {"action": "revoke_selected", "_selected_action": [str(membership.pk)]},
    )
    assert response.status_code == 302
    membership.refresh_from_db()
    assert not membership.is_active
    assert membership.revoked_by == superuser


def test_membership_admin_refuses_an_inactive_user(admin_client: Client, make_institution: MakeInstitution) -> None:
    institution = make_institution("Kota Bandung")
    user = UserFactory.create(email="indra@example.id", inactive=True)
    response = admin_client.post(
        reverse("admin:accounts_membership_add"),
        {"user": str(user.pk), "institution": str(institution.pk), "role": Role.OVERSIGHT, "is_active": "on"},
    )
    assert response.status_code == 200
    assert "user" in response.context["adminform"].form.errors
    assert not Membership.objects.exists()


def test_memberships_cannot_be_deleted(admin_client: Client, ani: User) -> None:
    membership = ani.memberships.get()
    response = admin_client.get(reverse("admin:accounts_membership_delete", args=[membership.pk]))
    assert response.status_code == 403


def test_staff_who_are_not_superusers_cannot_open_the_user_admin(client: Client) -> None:
    # Even with every model permission and the second factor proven: the admin is for superusers.
    staff = UserFactory.create(is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(content_type__app_label="accounts"))
    verified_login(client, staff)
    assert client.get(reverse(CHANGELIST)).status_code == 404


def test_change_a_phone_only_account(admin_client: Client) -> None:
    user = UserFactory.create(email=None, phone="081277778888")
    url = reverse("admin:accounts_user_change", args=[user.pk])
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, _change_data(user, full_name="Joko Widodo"))
    assert response.status_code == 302
    user.refresh_from_db()
    assert (user.full_name, user.email, user.phone) == ("Joko Widodo", None, "+6281277778888")
    # Django names this URL after its own user model, whatever AUTH_USER_MODEL is.
    response = admin_client.get(reverse("admin:auth_user_password_change", args=[user.pk]))
    assert response.status_code == 200
    assert "+6281277778888" in response.content.decode()


def test_a_role_change_in_the_admin_is_a_revocation_and_a_grant_on_record(
    admin_client: Client, superuser: User, ani: User
) -> None:
    """A role is changed by ending the membership and granting another, in one save, through the services:
    both stay on record with who did it and when, and the admin's history names the change."""
    old = ani.memberships.get()
    url = reverse("admin:accounts_user_change", args=[ani.pk])
    rows = _membership_rows(ani)
    del rows["memberships-0-is_active"]
    rows.update(
        {
            "memberships-TOTAL_FORMS": "2",
            "memberships-1-user": str(ani.pk),
            "memberships-1-institution": str(old.institution_id),
            "memberships-1-role": Role.OVERSIGHT,
            "memberships-1-is_active": "on",
        }
    )
    response = admin_client.post(url, {**_change_data(ani), **rows})
    assert response.status_code == 302
    old.refresh_from_db()
    assert (old.role, old.is_active, old.revoked_by) == (Role.COORDINATOR, False, superuser)
    assert old.revoked_at is not None
    new = ani.memberships.get(is_active=True)
    assert (new.role, new.institution_id, new.granted_by) == (Role.OVERSIGHT, old.institution_id, superuser)
    entry = LogEntry.objects.get(object_id=str(ani.pk))
    assert entry.user_id == superuser.pk
    assert "membership" in entry.get_change_message().lower()


def test_admin_access_is_not_given_from_the_admin(admin_client: Client, ani: User) -> None:
    """A superuser session (stolen or borrowed) cannot make more superusers, nor staff with permissions."""
    url = reverse("admin:accounts_user_change", args=[ani.pk])
    everything = [str(pk) for pk in Permission.objects.values_list("pk", flat=True)[:3]]
    data = {**_change_data(ani, is_staff="on", is_superuser="on"), **_membership_rows(ani)}
    response = admin_client.post(url, {**data, "user_permissions": everything})
    assert response.status_code == 302
    ani.refresh_from_db()
    assert (ani.is_staff, ani.is_superuser) == (False, False)
    assert not ani.user_permissions.exists()
    html = admin_client.get(url).content.decode()
    assert 'name="is_superuser"' not in html
    assert 'name="is_staff"' not in html


def test_an_account_that_held_a_membership_is_deactivated_never_deleted(admin_client: Client, ani: User) -> None:
    assert admin_client.get(reverse("admin:accounts_user_delete", args=[ani.pk])).status_code == 403
    response = admin_client.post(reverse(CHANGELIST), {"action": "delete_selected", "_selected_action": [str(ani.pk)]})
    assert User.objects.filter(pk=ani.pk).exists()
    assert ani.memberships.exists()
    assert response.status_code in (200, 302)
    # An account that never held one (a citizen's, say) can still be deleted here.
    citizen = UserFactory.create(email="warga@example.id")
    assert admin_client.get(reverse("admin:accounts_user_delete", args=[citizen.pk])).status_code == 200
