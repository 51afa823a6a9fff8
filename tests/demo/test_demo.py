import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from lapor.accounts.choices import Role
from lapor.accounts.models import Membership, User
from lapor.accounts.permissions import Permission, has_permission, roles_for
from lapor.demo.services import DEMO_ACCOUNTS, DEMO_PASSWORD, demo_load, demo_logins
from lapor.institutions.choices import DeadlineClock, DeadlineUnit, InstitutionKind
from lapor.institutions.models import Category, Institution
from lapor.institutions.selectors import effective_deadline, units_covering
from lapor.reports.access import staff_scope

# These tests are about institutions and accounts; the demo reports have theirs in test_demo_reports.py.


@override_settings(DEBUG=True)
def test_demo_load_creates_the_tiers_and_one_account_per_role(banten_regions):
    result = demo_load(reports=0)

    assert result.institutions_created == Institution.objects.count() > 30
    assert result.accounts_created == len(DEMO_ACCOUNTS)
    assert Category.objects.filter(parent__isnull=True).count() >= 8
    roles = set(Membership.objects.values_list("role", flat=True))
    assert roles == {Role.NATIONAL_ADMIN, Role.COORDINATOR, Role.LIAISON_OFFICER, Role.OVERSIGHT}
    for code in (
        "kemenpanrb",
        "ombudsman",
        "ksp",
        "kemendagri",
        "prov-banten",
        "kab-tangerang",
        "kota-tangsel",
        "kemensos",
        "pln",
        "kota-tangsel-dishub",
        "kab-tangerang-disdukcapil",
        "kota-tangsel-kel-ciater",
    ):
        assert Institution.objects.filter(code=code).exists(), code

    warga = User.objects.get(email="warga@demo.lapor.id")
    assert warga.check_password(DEMO_PASSWORD)
    assert not warga.memberships.exists()


@override_settings(DEBUG=True)
def test_demo_load_twice_creates_nothing_more(banten_regions):
    demo_load(reports=0)
    counts = (Institution.objects.count(), User.objects.count(), Membership.objects.count(), Category.objects.count())

    again = demo_load(reports=0)

    assert (again.institutions_created, again.accounts_created, again.memberships_granted) == (0, 0, 0)
    assert counts == (
        Institution.objects.count(),
        User.objects.count(),
        Membership.objects.count(),
        Category.objects.count(),
    )


@override_settings(DEBUG=True)
def test_demo_roles_have_their_powers_where_they_should(banten_regions):
    demo_load(reports=0)
    dishub = Institution.objects.get(code="kota-tangsel-dishub")
    kabupaten_dishub = Institution.objects.get(code="kab-tangerang-dishub")
    coordinator = User.objects.get(email="koordinator.tangsel@demo.lapor.id")
    officer = User.objects.get(email="dishub.tangsel@demo.lapor.id")
    national = User.objects.get(email="nasional@demo.lapor.id")

    assert has_permission(coordinator, Permission.SUBTREE_DEADLINE_MANAGE, institution=dishub)
    assert not has_permission(coordinator, Permission.SUBTREE_DEADLINE_MANAGE, institution=kabupaten_dishub)
    assert roles_for(officer, dishub) == {Role.LIAISON_OFFICER}
    assert roles_for(officer, kabupaten_dishub) == frozenset()
    assert has_permission(national, Permission.NATIONAL_INSTITUTION_MANAGE)


@override_settings(DEBUG=True)
def test_demo_routing_and_deadline_override(banten_regions):
    demo_load(reports=0)
    street_lights = Category.objects.get(code="penerangan-jalan-umum")

    units = list(units_covering(village_code="36.74.01.1001", category=street_lights))

    assert units[0].code == "kota-tangsel-dishub"
    assert {unit.code for unit in units} >= {"kota-tangsel", "prov-banten"}
    assert not {unit.code for unit in units} & {"kab-tangerang-dishub", "kota-tangsel-kel-ciater"}
    override = effective_deadline(
        institution=Institution.objects.get(code="kab-tangerang-dishub"), clock=DeadlineClock.FIRST_FOLLOW_UP
    )
    assert override is not None
    assert (override.amount, override.unit) == (48, DeadlineUnit.HOURS)
    assert (
        effective_deadline(
            institution=Institution.objects.get(code="kota-tangsel-dishub"), clock=DeadlineClock.FIRST_FOLLOW_UP
        )
        is None
    )


@override_settings(DEBUG=True)
def test_demo_command_prints_every_login(banten_regions, capsys):
    call_command("demo", "load", "--reports", "0")
    output = capsys.readouterr().out
    for login, _password, _what in demo_logins():
        assert login in output
    assert DEMO_PASSWORD in output
    assert "Koordinator" in output or "coordinator" in output.lower()


@pytest.mark.django_db
@override_settings(DEBUG=False)
def test_demo_refused_without_debug():
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo", "load")
    assert not User.objects.exists()


@pytest.mark.django_db
@override_settings(DEBUG=True)
def test_demo_needs_regions_first():
    with pytest.raises(CommandError, match="lapor regions load"):
        call_command("demo", "load")


@override_settings(DEBUG=True)
def test_ombudsman_and_ksp_sit_in_their_own_oversight_bodies_beside_the_national_institution(banten_regions):
    demo_load(reports=0)
    national = Institution.objects.get(code="nasional")
    assert not Membership.objects.filter(institution=national, role=Role.OVERSIGHT).exists()
    for email, code in (("ombudsman@demo.lapor.id", "ombudsman"), ("ksp@demo.lapor.id", "ksp")):
        membership = Membership.objects.get(user__email=email)
        assert (membership.institution.code, membership.role) == (code, Role.OVERSIGHT)
        assert membership.institution.kind == InstitutionKind.OVERSIGHT
        assert membership.institution.parent_id == national.pk
        scope = staff_scope(membership.user)
        # They read the national tree beside them, and handle only the cases their own body owns.
        assert scope.oversight_paths == (national.path,)
        assert scope.oversight_bodies == {membership.institution_id}
