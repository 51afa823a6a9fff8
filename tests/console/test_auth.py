"""Staff sign-in to the console: password, mandatory second factor, recovery codes, lockout, session
expiry, recent sign-ins; and the guard that serves no console page without all of it."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from lapor.accounts import signin
from lapor.accounts.models import LoginRecord, User
from lapor.console import access
from tests.console.conftest import (
    confirmed_device,
    password_only_login,
    totp_code,
    verified_login,
)

PASSWORD = "kata-sandi-yang-panjang-42"
BROWSER = "Mozilla/5.0 (X11; Linux x86_64) LaporTest/1.0"
STAFF = ["national_admin", "coordinator", "officer", "environment_officer", "oversight", "copy_officer"]


@pytest.fixture
def staff_passwords(world):
    for name in [*STAFF, "outsider", "reporter", "member_of_public"]:
        user = getattr(world, name)
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    return PASSWORD


def _client() -> Client:
    return Client(HTTP_USER_AGENT=BROWSER)


def _password(client: Client, login: str, password: str = PASSWORD, **extra: str):
    return client.post(reverse("console:login"), {"login": login, "password": password, **extra})


def _code(client: Client, code: str, **extra: str):
    return client.post(reverse("console:verify"), {"code": code, **extra})


def _home() -> str:
    return access.console_home()


def _is_verified_session(client: Client) -> bool:
    return bool(client.session.get("otp_device_id")) and client.get(reverse("console:security")).status_code == 200


# --- the whole flow ----------------------------------------------------------------------------------------


def test_first_sign_in_enrols_the_authenticator_then_hands_out_recovery_codes_once(world, staff_passwords):
    client = _client()
    assert client.get(reverse("console:login")).status_code == 200

    response = _password(client, "koordinator@example.id")
    assert response.status_code == 302
    assert response["Location"] == reverse("console:enroll")
    # Signed in with the password only: no console page yet, only the set-up.
    assert client.get(reverse("console:security"))["Location"].startswith(reverse("console:enroll"))

    page = client.get(reverse("console:enroll"))
    assert page.status_code == 200
    content = page.content.decode()
    assert "<svg" in content  # the QR code, inline
    device = TOTPDevice.objects.get(user=world.coordinator, confirmed=False)
    found = re.search(r'id="totp-secret">([A-Z2-7 ]+)<', content)
    assert found is not None
    secret = found.group(1)
    assert len(secret.replace(" ", "")) == 32  # 20 random bytes, base32
    # A reload shows the same secret (the pending device is kept).
    assert client.get(reverse("console:enroll")).content.decode().count(secret) == 1

    wrong = client.post(reverse("console:enroll"), {"code": "000000" if totp_code(device) != "000000" else "111111"})
    assert wrong.status_code == 200
    assert "not right" in wrong.content.decode()
    assert not TOTPDevice.objects.get(pk=device.pk).confirmed

    done = client.post(reverse("console:enroll"), {"code": totp_code(device)})
    assert done.status_code == 200
    codes = re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", done.content.decode())
    assert len(codes) == 10
    assert len(set(codes)) == 10
    assert TOTPDevice.objects.get(pk=device.pk).confirmed
    # Stored as keyed hashes only: the codes themselves are nowhere in the database.
    stored = set(StaticToken.objects.filter(device__user=world.coordinator).values_list("token", flat=True))
    assert len(stored) == 10
    assert not stored & ({*codes} | {code.replace("-", "") for code in codes})

    # Verified: the console opens.
    assert client.get(reverse("console:security")).status_code == 200
    assert client.get(reverse("console:enroll"))["Location"] == _home()

    # Sign out; next time the code is asked for (no second set-up).
    client.post(reverse("console:logout"))
    assert client.get(reverse("console:security"))["Location"].startswith(reverse("console:login"))
    assert _password(client, "koordinator@example.id")["Location"] == reverse("console:verify")
    assert client.get(reverse("console:enroll"))["Location"] == reverse("console:verify")
    response = _code(client, totp_code(device, steps_ahead=1))
    assert response.status_code == 302
    assert response["Location"] == _home()
    assert client.get(reverse("console:security")).status_code == 200

    # And with a recovery code instead of the app, in a new browser.
    other = _client()
    _password(other, "koordinator@example.id")
    response = _code(other, codes[0].upper().replace("-", " "))
    assert response.status_code == 302
    assert other.get(reverse("console:security")).status_code == 200


def test_the_login_page_accepts_a_phone_number(world, staff_passwords):
    world.officer.phone = "+6281234567890"
    world.officer.save(update_fields=["phone"])
    confirmed_device(world.officer)
    client = _client()
    response = _password(client, "0812-3456-7890")
    assert response["Location"] == reverse("console:verify")


def test_next_is_kept_through_both_steps_and_foreign_targets_are_refused(world, staff_passwords):
    device = confirmed_device(world.officer)
    client = _client()
    target = reverse("console:security")
    first = urlsplit(client.get(target)["Location"])
    assert (first.path, parse_qs(first.query)) == (reverse("console:login"), {"next": [target]})
    response = _password(client, "dishub@example.id", next=target)
    second = urlsplit(response["Location"])
    assert (second.path, parse_qs(second.query)) == (reverse("console:verify"), {"next": [target]})
    assert f'value="{target}"' in client.get(response["Location"]).content.decode()
    response = _code(client, totp_code(device), next=target)
    assert response["Location"] == target

    evil = _client()
    _password(evil, "dishub@example.id")
    response = _code(evil, totp_code(device, steps_ahead=1), next="https://evil.example/")
    assert response["Location"] == _home()


# --- the second factor is mandatory for every staff role -------------------------------------------------


@pytest.mark.parametrize("person", STAFF)
def test_without_the_second_factor_no_console_url_is_served(world, person, console_url_cases):
    user = getattr(world, person)
    enrolled = person != "oversight"
    if enrolled:
        confirmed_device(user)
    client = password_only_login(Client(), user)
    for case in console_url_cases:
        response = client.get(case.url)
        assert response.status_code in (302, 405), (person, case.name, response.status_code)
        if response.status_code == 302:
            step = reverse("console:verify") if enrolled else reverse("console:enroll")
            assert response["Location"].startswith(step), (person, case.name, response["Location"])
        for method in ("post",):
            posted = getattr(client, method)(case.url, {})
            assert posted.status_code in (302, 405), (person, case.name, method, posted.status_code)
            if posted.status_code == 302:
                assert posted["Location"].startswith((reverse("console:verify"), reverse("console:enroll")))


@pytest.mark.parametrize("person", STAFF)
def test_the_password_step_alone_never_opens_the_console(world, staff_passwords, person, console_url_cases):
    user = getattr(world, person)
    confirmed_device(user)
    client = _client()
    response = _password(client, user.email or "")
    assert response["Location"] == reverse("console:verify")
    assert client.session.get("otp_device_id") is None
    for case in console_url_cases:
        response = client.get(case.url)
        if response.status_code == 405:  # POST-only
            response = client.post(case.url, {})
        assert response.status_code == 302, (person, case.name)
        assert response["Location"].startswith(reverse("console:verify")), (person, case.name)


def test_a_session_verified_elsewhere_without_the_console_clocks_is_not_trusted(world):
    device = confirmed_device(world.coordinator)
    client = Client()
    client.force_login(world.coordinator)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    response = client.get(reverse("console:security"))
    assert response["Location"].startswith(reverse("console:login"))
    assert "_auth_user_id" not in client.session


def test_an_unconfirmed_device_does_not_verify_a_session(world):
    device = TOTPDevice.objects.create(user=world.coordinator, name="x", confirmed=False)
    client = verified_login(Client(), world.coordinator)
    session = client.session
    session["otp_device_id"] = device.persistent_id
    session.save()
    assert client.get(reverse("console:security")).status_code == 302


def test_the_verify_page_needs_the_console_password_step(world):
    """A staff member signed in elsewhere (the public site, perhaps with an e-mailed code) gives the
    console's password first: the second factor alone does not open it."""
    confirmed_device(world.coordinator)
    client = Client()
    client.force_login(world.coordinator)
    assert client.get(reverse("console:security"))["Location"].startswith(reverse("console:verify"))
    assert client.get(reverse("console:verify"))["Location"].startswith(reverse("console:login"))
    assert client.get(reverse("console:enroll"))["Location"].startswith(reverse("console:login"))


# --- recovery codes ---------------------------------------------------------------------------------------


def _enrolled(client: Client, user: User) -> tuple[TOTPDevice, list[str]]:
    _password(client, user.email or "")
    client.get(reverse("console:enroll"))
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    page = client.post(reverse("console:enroll"), {"code": totp_code(device)})
    return device, re.findall(r"<li><code>([a-z2-9-]{11})</code></li>", page.content.decode())


def test_a_recovery_code_works_once(world, staff_passwords):
    _device, codes = _enrolled(_client(), world.officer)
    first = _client()
    _password(first, "dishub@example.id")
    assert _code(first, codes[3])["Location"] == _home()
    assert LoginRecord.objects.filter(user=world.officer, method=LoginRecord.Method.RECOVERY).count() == 1

    again = _client()
    _password(again, "dishub@example.id")
    response = _code(again, codes[3])
    assert response.status_code == 200
    assert "not right" in response.content.decode()
    assert again.get(reverse("console:security")).status_code == 302
    assert StaticDevice.objects.get(user=world.officer).token_set.count() == 9


def test_new_recovery_codes_need_a_current_code_and_replace_the_old(world, staff_passwords):
    client = _client()
    device, old_codes = _enrolled(client, world.coordinator)
    url = reverse("console:security_recovery_codes")

    refused = client.post(url, {"code": "123456" if totp_code(device, steps_ahead=1) != "123456" else "654321"})
    assert refused.status_code == 400
    assert StaticToken.objects.filter(device__user=world.coordinator).count() == 10

    response = client.post(url, {"code": totp_code(device, steps_ahead=1)})
    assert response.status_code == 200
    new_codes = re.findall(r"<li><code>([a-z2-9-]{11})</code></li>", response.content.decode())
    assert len(new_codes) == 10
    assert not set(new_codes) & set(old_codes)

    stale = _client()
    _password(stale, world.coordinator.email)
    assert _code(stale, old_codes[0]).status_code == 200
    assert _code(stale, new_codes[0])["Location"] == _home()


def test_the_security_page_regeneration_form_requires_csrf(world):
    client = Client(enforce_csrf_checks=True)
    verified_login(client, world.coordinator)
    assert client.post(reverse("console:security_recovery_codes"), {"code": "123456"}).status_code == 403


# --- lockout ----------------------------------------------------------------------------------------------


def test_five_failed_passwords_lock_the_account_for_fifteen_minutes(world, staff_passwords, clock):
    confirmed_device(world.coordinator)
    client = _client()
    for attempt in range(4):
        response = _password(client, "koordinator@example.id", "salah")
        assert "do not match" in response.content.decode(), attempt
    response = _password(client, "koordinator@example.id", "salah")
    content = response.content.decode()
    assert "locked until" in content
    ends = timezone.localtime(signin.clock() + timedelta(minutes=15))
    assert ends.strftime("%H:%M") in content

    # The right password does not help while locked, from any browser, and is not even checked.
    other = _client()
    response = _password(other, "koordinator@example.id")
    assert response.status_code == 200
    assert "locked until" in response.content.decode()
    assert "_auth_user_id" not in other.session
    assert LoginRecord.objects.filter(user=world.coordinator, outcome=LoginRecord.Outcome.LOCKED).count() == 1

    clock.advance(minutes=14, seconds=50)
    assert "locked until" in _password(other, "koordinator@example.id").content.decode()
    clock.advance(seconds=20)
    response = _password(other, "koordinator@example.id")
    assert response["Location"] == reverse("console:verify")


def test_failed_codes_count_toward_the_lock_with_failed_passwords(world, staff_passwords, clock):
    device = confirmed_device(world.officer)
    client = _client()
    for _attempt in range(3):
        _password(client, "dishub@example.id", "salah")
    _password(client, "dishub@example.id")
    wrong = "000000" if totp_code(device) != "000000" else "111111"
    assert "not right" in _code(client, wrong).content.decode()
    # The fifth failure locks, and the right code then does not help either.
    assert "locked until" in _code(client, wrong).content.decode()
    response = _code(client, totp_code(device))
    assert response.status_code == 200
    assert "locked until" in response.content.decode()
    assert client.get(reverse("console:security")).status_code == 302

    clock.advance(minutes=16)
    # The password step has timed out by now: sign in again, from the start.
    assert _password(client, "dishub@example.id")["Location"] == reverse("console:verify")
    assert _code(client, totp_code(device, steps_ahead=1))["Location"] == _home()


def test_failures_spread_over_more_than_the_window_do_not_lock(world, staff_passwords, clock):
    confirmed_device(world.coordinator)
    client = _client()
    for _attempt in range(4):
        _password(client, "koordinator@example.id", "salah")
        clock.advance(minutes=4)
    # 4 failures within 16 minutes: the first is out of the 15-minute window when the fifth comes.
    assert "do not match" in _password(client, "koordinator@example.id", "salah").content.decode()
    assert _password(client, "koordinator@example.id")["Location"] == reverse("console:verify")


def test_lock_replays_failures_after_a_lock_ended(world, clock):
    user = world.coordinator
    context = signin.AttemptContext()
    start = signin.clock()
    for minute in range(5):
        LoginRecord.objects.create(
            user=user,
            occurred_at=start + timedelta(minutes=minute),
            stage=LoginRecord.Stage.PASSWORD,
            outcome=LoginRecord.Outcome.FAILURE,
        )
    assert signin.lock_ends_at(user=user, now=start + timedelta(minutes=5)) == start + timedelta(minutes=19)
    assert signin.lock_ends_at(user=user, now=start + timedelta(minutes=19)) is None
    # After the lock, earlier failures no longer count: one new failure does not lock again.
    LoginRecord.objects.create(
        user=user,
        occurred_at=start + timedelta(minutes=20),
        stage=LoginRecord.Stage.PASSWORD,
        outcome=LoginRecord.Outcome.FAILURE,
    )
    assert signin.lock_ends_at(user=user, now=start + timedelta(minutes=20)) is None
    assert context.network == ""


# --- no enumeration ---------------------------------------------------------------------------------------


def _normalised(response) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode())


def test_a_citizen_an_unknown_address_and_a_wrong_password_get_the_same_answer(world, staff_passwords):
    wrong_password = _password(_client(), "koordinator@example.id", "salah")
    citizen_client = _client()
    citizen = _password(citizen_client, "rina@example.id")  # the citizen's RIGHT password
    unknown = _password(_client(), "tidak-ada@example.id")
    assert wrong_password.status_code == citizen.status_code == unknown.status_code == 200
    assert (
        _normalised(wrong_password).replace("koordinator@example.id", "X")
        == _normalised(citizen).replace("rina@example.id", "X")
        == _normalised(unknown).replace("tidak-ada@example.id", "X")
    )
    assert "_auth_user_id" not in citizen_client.session


def test_an_unknown_address_is_locked_like_a_staff_account(world, staff_passwords):
    for name in ("tidak-ada@example.id", "rina@example.id", "koordinator@example.id"):
        client = _client()
        for _attempt in range(4):
            _password(client, name, "salah")
        assert "locked until" in _password(client, name, "salah").content.decode(), name


def test_a_deactivated_staff_account_gets_the_same_answer(world, staff_passwords):
    world.officer.is_active = False
    world.officer.save(update_fields=["is_active"])
    response = _password(_client(), "dishub@example.id")
    assert "do not match" in response.content.decode()


# --- who may come in --------------------------------------------------------------------------------------


def test_anonymous_visitors_are_sent_to_the_sign_in_page(db):
    response = Client().get(reverse("console:security"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("console:login"))
    for name in ("console:verify", "console:enroll"):
        assert Client().get(reverse(name))["Location"].startswith(reverse("console:login"))


def test_a_signed_in_citizen_gets_404_everywhere(world):
    client = Client()
    client.force_login(world.reporter)
    for name in ("console:security", "console:verify", "console:enroll"):
        assert client.get(reverse(name)).status_code == 404, name


def test_a_verified_staff_member_on_the_sign_in_page_goes_to_the_console(world, console_client):
    client = console_client(world.national_admin)
    assert client.get(reverse("console:login"))["Location"] == _home()
    assert client.get(reverse("console:verify"))["Location"] == _home()


# --- session expiry ---------------------------------------------------------------------------------------


def test_a_session_idle_too_long_ends(world, console_client, clock):
    client = console_client(world.coordinator)
    clock.advance(minutes=29)
    assert client.get(reverse("console:security")).status_code == 200
    clock.advance(minutes=29)  # active 29 minutes ago: still fine
    assert client.get(reverse("console:security")).status_code == 200
    clock.advance(minutes=31)
    response = client.get(reverse("console:security"))
    assert response["Location"].startswith(reverse("console:login"))
    assert "_auth_user_id" not in client.session
    # Signed out for good: the next request does not get in either.
    assert client.get(reverse("console:security"))["Location"].startswith(reverse("console:login"))


def test_a_session_ends_twelve_hours_after_signing_in_however_active(world, console_client, clock):
    client = console_client(world.officer)
    for _step in range(35):  # 11 h 40 min of steady work
        clock.advance(minutes=20)
        assert client.get(reverse("console:security")).status_code == 200
    clock.advance(minutes=21)  # 12 h 1 min after signing in
    assert client.get(reverse("console:security"))["Location"].startswith(reverse("console:login"))


def test_expiry_settings_are_read(world, console_client, clock, settings):
    settings.CONSOLE_SESSION_IDLE_SECONDS = 60
    client = console_client(world.coordinator)
    clock.advance(seconds=61)
    assert client.get(reverse("console:security")).status_code == 302


# --- recent sign-ins, devices, other sessions -------------------------------------------------------------


def test_the_security_page_shows_recent_sign_ins_with_network_and_browser(world, staff_passwords):
    device = confirmed_device(world.coordinator)
    client = _client()
    _password(client, "koordinator@example.id", "salah")
    _password(client, "koordinator@example.id")
    _code(client, totp_code(device))
    page = client.get(reverse("console:security"))
    content = page.content.decode()
    assert page.status_code == 200
    assert "127.0.0.0/24" in content
    assert "127.0.0.1" not in content  # the address itself is not kept
    assert "LaporTest/1.0" in content
    assert content.count('<tr class="login-success">') == 2
    assert content.count('<tr class="login-failure">') == 1
    assert "Authenticator app" in content
    records = LoginRecord.objects.filter(user=world.coordinator).order_by("occurred_at")
    assert [(record.stage, record.outcome, record.method) for record in records] == [
        ("password", "failure", ""),
        ("password", "success", ""),
        ("second_factor", "success", "totp"),
    ]


def test_the_security_page_shows_only_ones_own_sign_ins(world, staff_passwords, console_client):
    _password(_client(), "dishub@example.id", "salah")
    content = console_client(world.coordinator).get(reverse("console:security")).content.decode()
    assert "No sign-ins recorded yet." in content


def test_signing_out_other_sessions_ends_them_and_keeps_this_one(world, staff_passwords):
    device = confirmed_device(world.coordinator)
    sessions = []
    for steps in range(3):
        client = _client()
        _password(client, "koordinator@example.id")
        assert _code(client, totp_code(device, steps_ahead=steps - 1))["Location"] == _home(), steps
        sessions.append(client)
    keeper, *others = sessions
    response = keeper.post(reverse("console:security_sessions_end"))
    assert response["Location"] == reverse("console:security")
    assert keeper.get(reverse("console:security")).status_code == 200
    for other in others:
        assert other.get(reverse("console:security"))["Location"].startswith(reverse("console:login"))
    assert Session.objects.count() == 1


def test_the_session_key_changes_when_the_second_factor_is_proven(world, staff_passwords):
    device = confirmed_device(world.coordinator)
    client = _client()
    _password(client, "koordinator@example.id")
    before = client.session.session_key
    _code(client, totp_code(device))
    assert client.session.session_key != before


def test_logout_is_post_only_and_needs_csrf(world):
    client = Client(enforce_csrf_checks=True)
    verified_login(client, world.coordinator)
    assert client.get(reverse("console:logout")).status_code == 405
    assert client.post(reverse("console:logout")).status_code == 403
    assert client.get(reverse("console:security")).status_code == 200


def test_the_sign_in_form_needs_csrf(world, staff_passwords):
    client = Client(enforce_csrf_checks=True)
    response = client.post(reverse("console:login"), {"login": "koordinator@example.id", "password": PASSWORD})
    assert response.status_code == 403
    page = client.get(reverse("console:login"))
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode())
    assert found is not None
    token = found.group(1)
    response = client.post(
        reverse("console:login"),
        {"login": "koordinator@example.id", "password": PASSWORD, "csrfmiddlewaretoken": token},
    )
    assert response.status_code == 302


def test_the_login_address_flood_ceiling_answers_429(world, staff_passwords, settings):
    settings.RATE_LIMITS = {"console_login": {"ip": ("3/15m",)}}
    client = _client()
    for _attempt in range(3):
        assert _password(client, "tidak-ada@example.id", "salah").status_code == 200
    assert _password(client, "tidak-ada@example.id", "salah").status_code == 429


def test_old_sign_in_records_are_purged(world):
    now = timezone.now()
    for days in (10, 179, 181, 400):
        LoginRecord.objects.create(
            user=world.coordinator,
            occurred_at=now - timedelta(days=days),
            stage=LoginRecord.Stage.PASSWORD,
            outcome=LoginRecord.Outcome.SUCCESS,
        )
    assert signin.login_record_purge(now=now) == 2
    assert LoginRecord.objects.count() == 2
