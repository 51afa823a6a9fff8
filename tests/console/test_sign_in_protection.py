"""The console's sign-in against an attacker and for a first operator: a language switch and the way to a
forgotten password on the sign-in page, lockout that an attacker elsewhere cannot use to keep a staff member
out, a coordinator's unlock, and other sessions ended when the second factor is guessed at."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from lapor.accounts import signin
from lapor.accounts.models import LoginRecord, Membership, User
from lapor.console import access
from tests.console.conftest import confirmed_device, totp_code


@pytest.mark.usefixtures("indonesian_default")
def test_the_console_sign_in_page_has_a_language_switch_and_a_forgotten_password_link(db):
    client = Client()
    page = client.get(reverse("console:login")).content.decode()
    assert f'href="{reverse("portal:password_reset")}"' in page
    assert "Lupa kata sandi?" in page
    assert f'action="{reverse("set_language")}"' in page
    assert '<label for="console-language-select">Bahasa</label>' in page
    switched = client.post(reverse("set_language"), {"language": "en", "next": reverse("console:login")})
    assert switched.status_code == 302
    english = client.get(switched["Location"]).content.decode()
    assert "Forgot your password?" in english
    assert "Staff sign-in" in english


# --- lockout ---------------------------------------------------------------------------------------------

PASSWORD = "kata-sandi-yang-panjang-42"
OFFICER_LOGIN = "dishub@example.id"
ATTACKER_ADDRESS = "203.0.113.9"
OWNER_ADDRESS = "198.51.100.7"


@pytest.fixture
def officer(world):
    world.officer.set_password(PASSWORD)
    world.officer.save(update_fields=["password"])
    confirmed_device(world.officer)
    return world.officer


def _from(address: str) -> Client:
    return Client(REMOTE_ADDR=address, HTTP_USER_AGENT="LaporTest/1.0")


def _password(client: Client, password: str = PASSWORD):
    return client.post(reverse("console:login"), {"login": OFFICER_LOGIN, "password": password})


def _code(client: Client, code: str):
    return client.post(reverse("console:verify"), {"code": code})


def _signed_in_console_session(user: User, address: str) -> Client:
    client = _from(address)
    assert _password(client)["Location"] == reverse("console:verify")
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    # A step ahead: each sign-in of these tests uses a code the device has not accepted yet.
    used = LoginRecord.objects.filter(user=user, outcome=LoginRecord.Outcome.SUCCESS).count()
    assert _code(client, totp_code(device, steps_ahead=used))["Location"] == access.console_home()
    assert client.get(reverse("console:security")).status_code == 200
    return client


def test_wrong_passwords_from_elsewhere_do_not_lock_the_owner_out(officer):
    attacker = _from(ATTACKER_ADDRESS)
    for _attempt in range(5):
        _password(attacker, "salah")
    # The attacker's address is locked for this account, even with the right password ...
    assert "locked until" in _password(attacker).content.decode()
    assert "_auth_user_id" not in attacker.session
    # ... and the owner, at their own address, signs in as usual.
    owner = _from(OWNER_ADDRESS)
    assert _password(owner)["Location"] == reverse("console:verify")


def test_wrong_passwords_from_the_same_address_still_lock(officer):
    client = _from(OWNER_ADDRESS)
    for _attempt in range(5):
        _password(client, "salah")
    assert "locked until" in _password(_from(OWNER_ADDRESS)).content.decode()


def test_wrong_second_factors_lock_the_account_everywhere_and_end_its_other_sessions(officer, world):
    owner_session = _signed_in_console_session(officer, OWNER_ADDRESS)
    # Someone who has the password guesses codes from elsewhere.
    intruder = _from(ATTACKER_ADDRESS)
    assert _password(intruder)["Location"] == reverse("console:verify")
    for _attempt in range(5):
        response = _code(intruder, "000000")
    assert "locked until" in response.content.decode()
    # The owner's console session is over, and signing in again waits for the lock, from any address.
    gone = owner_session.get(reverse("console:security"))
    assert gone.status_code == 302
    assert gone["Location"].startswith(reverse("console:login"))
    assert "locked until" in _password(_from("192.0.2.44")).content.decode()


def test_a_coordinator_lifts_a_lock_and_it_is_recorded(officer, world, console_client):
    intruder = _from(ATTACKER_ADDRESS)
    _password(intruder)
    for _attempt in range(5):
        _code(intruder, "000000")
    assert "locked until" in _password(_from(OWNER_ADDRESS)).content.decode()

    coordinator = console_client(world.coordinator)
    staff_page = coordinator.get(reverse("console:manage_staff", args=[world.city.pk])).content.decode()
    membership = Membership.objects.get(user=officer, institution=world.transport)
    unlock_url = reverse("console:manage_membership_unlock", args=[membership.pk])
    assert unlock_url in staff_page
    assert "sign-in locked until" in staff_page
    response = coordinator.post(unlock_url, {"from": world.city.pk})
    assert response.status_code == 302
    lifted = LoginRecord.objects.get(user=officer, outcome=LoginRecord.Outcome.UNLOCKED)
    assert lifted.acted_by == world.coordinator
    assert unlock_url not in coordinator.get(reverse("console:manage_staff", args=[world.city.pk])).content.decode()
    assert _password(_from(OWNER_ADDRESS))["Location"] == reverse("console:verify")
    assert signin.lock_ends_at(user=officer) is None
    # The member sees on their own security page that the lock was lifted, and by whom.
    own_page = console_client(officer).get(reverse("console:security")).content.decode()
    assert f"Lock lifted by {world.coordinator.full_name}" in own_page


def test_the_lock_of_an_unrelated_staff_member_is_not_the_coordinators_to_lift(officer, world, console_client):
    membership = Membership.objects.get(user=world.outsider)
    outsider_page = reverse("console:manage_membership_unlock", args=[membership.pk])
    assert console_client(world.coordinator).post(outsider_page).status_code == 404
    assert not LoginRecord.objects.filter(outcome=LoginRecord.Outcome.UNLOCKED).exists()
