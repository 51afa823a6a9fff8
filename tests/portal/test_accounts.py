"""Citizen accounts in the portal: every page, GET and POST, success and each error; codes through the
outbox; no page that tells whether an account exists; the claim of guest reports."""

from __future__ import annotations

import re
from datetime import timedelta
from html import unescape

import pytest
from django.contrib.auth import SESSION_KEY
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lapor.accounts.models import OneTimeCode, User
from lapor.accounts.services import user_create
from lapor.notifications.models import Notification
from lapor.portal.views.accounts import PENDING_SESSION_KEY, RESET_SESSION_KEY
from lapor.reports.choices import Action
from lapor.reports.models import Report, ReportEvent
from tests.accounts.factories import PASSWORD
from tests.reports.conftest import World

pytestmark = pytest.mark.django_db

EMAIL = "warga@example.id"
PHONE = "+6281234567890"
NEW_PASSWORD = "kata-sandi-baru-yang-panjang"


def url(name: str, *args: object) -> str:
    return reverse(f"portal:{name}", args=args)


def text(response) -> str:
    return unescape(response.content.decode())


def codes_to(address: str) -> list[str]:
    rows = Notification.objects.filter(address=address, dedupe_key__startswith="one-time-code:").order_by("pk")
    return [re.findall(r"(?<!\d)\d{6}(?!\d)", row.body)[0] for row in rows]


def latest_code(address: str) -> str:
    codes = codes_to(address)
    assert codes, f"no code was sent to {address}"
    return codes[-1]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def account(email: str | None = EMAIL, phone: str | None = None, **extra: object) -> User:
    return user_create(full_name="Warga Biasa", email=email, phone=phone, password=PASSWORD, **extra)  # type: ignore[arg-type]


def signed_in_user(client: Client) -> int | None:
    value = client.session.get(SESSION_KEY)
    return int(value) if value is not None else None


def field_error(response, field: str) -> str:
    """The error shown next to a field, checking that the field points at it (aria-describedby) and
    is marked invalid."""
    html = response.content.decode()
    match = re.search(rf'<p class="field-error" id="id_{field}-error">(.*?)</p>', html, re.S)
    assert match, f"no error next to {field}"
    widget = re.search(rf'<(?:input|select|textarea)[^>]*\bid="id_{field}"[^>]*>', html)
    assert widget, f"no widget {field}"
    assert 'aria-invalid="true"' in widget.group(0)
    assert f"id_{field}-error" in widget.group(0)
    return unescape(match.group(1))


def error_summary(response) -> str:
    match = re.search(
        r'<div class="notice notice-error" role="alert"[^>]*>(.*?)</div>', response.content.decode(), re.S
    )
    return unescape(re.sub(r"<[^>]+>", " ", match.group(1))) if match else ""


def verify(client: Client, code: str):
    return client.post(url("verify"), {"code": code})


# --- sign in ----------------------------------------------------------------------------------------


def test_the_sign_in_page_works_without_javascript(client):
    response = client.get(url("login"), {"next": "/akun/pengaturan/"})
    assert response.status_code == 200
    html = text(response)
    assert 'name="login"' in html
    assert 'autocomplete="username"' in html
    assert 'type="password"' in html
    assert 'autocomplete="current-password"' in html
    assert '<label for="id_login">' in html
    assert '<label for="id_password">' in html
    assert 'name="next" value="/akun/pengaturan/"' in html
    assert 'name="send_code"' in html
    assert 'name="website"' in html  # the honeypot
    assert url("register") in html
    assert url("password_reset") in html


def test_signing_in_with_a_password_rotates_the_session(client):
    user = account()
    session = client.session
    session["probe"] = 1
    session.save()
    before = client.session.session_key

    response = client.post(url("login"), {"login": "Warga@Example.ID", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == url("my_reports")
    assert signed_in_user(client) == user.pk
    assert client.session.session_key != before


def test_signing_in_with_a_phone_number_in_any_format(client):
    user = account(email=None, phone="0812-3456-7890")
    client.post(url("login"), {"login": "+62 812 3456 7890", "password": PASSWORD})
    assert signed_in_user(client) == user.pk


def test_signing_in_follows_a_safe_next_only(client):
    account()
    response = client.post(url("login"), {"login": EMAIL, "password": PASSWORD, "next": url("preferences")})
    assert response["Location"] == url("preferences")
    client.post(url("logout"))
    response = client.post(url("login"), {"login": EMAIL, "password": PASSWORD, "next": "https://evil.example/"})
    assert response["Location"] == url("my_reports")


def test_a_signed_in_visitor_is_sent_on(client):
    client.force_login(account())
    assert client.get(url("login"))["Location"] == url("my_reports")
    assert client.get(url("login"), {"next": url("claim")})["Location"] == url("claim")


def test_wrong_password_unknown_and_deactivated_accounts_look_the_same(client):
    account()
    gone = account(email="gone@example.id")
    User.objects.filter(pk=gone.pk).update(is_active=False)
    answers = {}
    for login, password in (
        (EMAIL, "not-the-password"),
        ("nobody@example.id", PASSWORD),
        ("gone@example.id", PASSWORD),
    ):
        response = client.post(url("login"), {"login": login, "password": password})
        assert response.status_code == 400
        assert signed_in_user(client) is None
        answers[login] = error_summary(response)
        html = text(response)
        assert f'value="{login}"' in html  # what was typed stays
        assert password not in html  # but never the password
    assert set(answers.values()) == {answers[EMAIL]}
    assert "The e-mail address, phone number or password is not right." in answers[EMAIL]


def test_sign_in_errors_sit_next_to_their_fields(client):
    response = client.post(url("login"), {"login": "warga", "password": ""})
    assert response.status_code == 400
    assert "Enter an e-mail address (name@example.id) or an Indonesian phone number" in field_error(response, "login")
    assert field_error(response, "password") == "Enter your password, or ask for a code instead."
    assert 'value="warga"' in text(response)


def test_the_sign_in_form_needs_its_csrf_token():
    account()
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(url("login"), {"login": EMAIL, "password": PASSWORD})
    assert response.status_code == 403


@pytest.mark.parametrize(
    ("page", "fields"),
    [
        ("login", {"login": EMAIL, "password": PASSWORD}),
        ("login", {"login": EMAIL, "send_code": "1"}),
        ("register", {"full_name": "Bot", "contact": "bot@example.id", "password1": PASSWORD, "password2": PASSWORD}),
        ("password_reset", {"contact": EMAIL}),
    ],
)
def test_a_bot_filling_the_honeypot_is_refused(client, page, fields):
    account()
    response = client.post(url(page), {**fields, "website": "http://spam.example"})
    assert response.status_code == 400
    assert "Your form could not be sent." in text(response)
    assert signed_in_user(client) is None
    assert not Notification.objects.exists()
    assert User.objects.count() == 1


def test_password_guesses_are_rate_limited_per_address(client, settings):
    settings.RATE_LIMITS = {"login": {"account": ("2/15m",)}, "login_unverified": {"guest": ("100/15m",)}}
    account()
    for _ in range(2):
        client.post(url("login"), {"login": EMAIL, "password": "wrong-password"})
    response = client.post(url("login"), {"login": EMAIL, "password": PASSWORD})
    assert response.status_code == 429
    assert "Retry-After" in response
    assert signed_in_user(client) is None


def test_sign_in_with_a_code_instead_of_the_password(client):
    user = account()
    response = client.post(url("login"), {"login": EMAIL, "send_code": "1", "next": url("claim")})
    assert response["Location"] == url("verify")
    page = client.get(url("verify"))
    assert f"If an account uses {EMAIL}, we sent a 6-digit code to it." in re.sub(r"<[^>]+>", "", text(page))
    assert 'autocomplete="one-time-code"' in text(page)

    response = verify(client, latest_code(EMAIL))

    assert response["Location"] == url("claim")
    assert signed_in_user(client) == user.pk
    assert PENDING_SESSION_KEY not in client.session
    user.refresh_from_db()
    assert user.email_is_verified


def test_asking_for_a_sign_in_code_does_not_tell_whether_the_account_exists(client):
    account()
    pages = {}
    for login in (EMAIL, "nobody@example.id"):
        other = Client()
        response = other.post(url("login"), {"login": login, "send_code": "1"})
        assert response["Location"] == url("verify")
        page = re.sub(r"<[^>]+>|csrfmiddlewaretoken\S+", "", text(other.get(url("verify"))))
        pages[login] = page.replace(login, "ADDRESS")
    assert pages[EMAIL] == pages["nobody@example.id"]
    assert codes_to(EMAIL)
    assert not codes_to("nobody@example.id")
    other = Client()
    other.post(url("login"), {"login": "nobody@example.id", "send_code": "1"})
    response = verify(other, "123456")
    assert "This code is not right." in field_error(response, "code")


def test_sign_in_codes_are_rate_limited_per_address(client, settings):
    settings.RATE_LIMITS = {"otp": {"account": ("1/1h",)}, "otp_unverified": {"guest": ("100/1h",)}}
    account()
    client.post(url("login"), {"login": EMAIL, "send_code": "1"})
    response = client.post(url("login"), {"login": EMAIL, "send_code": "1"})
    assert response.status_code == 429
    assert len(codes_to(EMAIL)) == 1


def test_signing_out_needs_a_post(client):
    client.force_login(account())
    assert client.get(url("logout")).status_code == 405
    assert signed_in_user(client) is not None
    response = client.post(url("logout"))
    assert response["Location"] == url("home")
    assert signed_in_user(client) is None


# --- registration -------------------------------------------------------------------------------------


def register(client: Client, **overrides: str):
    fields = {"full_name": "Warga Baru", "contact": EMAIL, "password1": PASSWORD, "password2": PASSWORD}
    fields.update(overrides)
    return client.post(url("register"), fields)


def test_the_registration_page(client):
    response = client.get(url("register"))
    assert response.status_code == 200
    html = text(response)
    for field in ("full_name", "contact", "password1", "password2"):
        assert f'<label for="id_{field}">' in html
    assert 'autocomplete="new-password"' in html
    assert 'aria-describedby="id_contact-help"' in html


def test_registering_creates_the_account_once_the_code_comes_back(client):
    response = register(client, next=url("preferences"))
    assert response["Location"] == url("verify")
    assert not User.objects.exists()
    pending = client.session[PENDING_SESSION_KEY]
    # What waits in the session: never the password itself.
    assert PASSWORD not in str(pending)
    assert pending["registration"]["password_hash"].startswith(("md5$", "argon2"))
    page = text(client.get(url("verify")))
    assert EMAIL in page
    assert "to create your account" in page

    response = verify(client, latest_code(EMAIL))

    user = User.objects.get()
    assert (user.full_name, user.email, user.email_is_verified) == ("Warga Baru", EMAIL, True)
    assert user.check_password(PASSWORD)
    assert user.preferred_language == "en"
    assert response["Location"] == url("preferences")
    assert signed_in_user(client) == user.pk
    assert PENDING_SESSION_KEY not in client.session


def test_registering_with_a_phone_number(client):
    register(client, contact="0812 3456 7890")
    verify(client, latest_code(PHONE))
    user = User.objects.get()
    assert (user.email, user.phone, user.phone_is_verified) == (None, PHONE, True)
    assert Notification.objects.get(address=PHONE).channel == "sms"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"full_name": ""}, "full_name", "This field is required."),
        ({"contact": "warga@"}, "contact", "Enter an e-mail address (name@example.id)"),
        ({"contact": "0812"}, "contact", "Enter an Indonesian phone number, e.g. 0812 3456 7890."),
        ({"password1": "pendek", "password2": "pendek"}, "password1", "This password is too short."),
        ({"password1": "1234567890123", "password2": "1234567890123"}, "password1", "entirely numeric"),
        ({"password1": "warga@example.id", "password2": "warga@example.id"}, "password1", "too similar"),
        ({"password2": "another-password-2026"}, "password2", "The two passwords differ."),
    ],
)
def test_registration_errors_sit_next_to_their_fields_and_keep_what_was_typed(client, overrides, field, message):
    response = register(client, **overrides)
    assert response.status_code == 400
    assert message in field_error(response, field)
    html = text(response)
    if "full_name" not in overrides:
        assert 'value="Warga Baru"' in html
    assert f'value="{overrides.get("contact", EMAIL)}"' in html
    assert not re.search(r'type="password"[^>]*value="', html)  # passwords are never sent back
    assert not User.objects.exists()
    assert not Notification.objects.exists()


def test_registering_a_taken_address_looks_like_any_registration(client):
    account()
    fresh = Client()
    register(fresh, contact="fresh@example.id")
    taken = Client()
    response = register(taken)
    assert response["Location"] == url("verify")
    pages = [
        re.sub(r"<[^>]+>|csrfmiddlewaretoken\S+", "", text(visitor.get(url("verify")))).replace(address, "ADDRESS")
        for visitor, address in ((fresh, "fresh@example.id"), (taken, EMAIL))
    ]
    assert pages[0] == pages[1]
    # The owner of the address is told instead; no code exists, so none can be guessed.
    notice = Notification.objects.get(address=EMAIL)
    assert notice.subject == "You already have a Lapor account"
    assert not OneTimeCode.objects.filter(address=EMAIL).exists()
    response = verify(taken, "123456")
    assert "This code is not right." in field_error(response, "code")
    assert User.objects.count() == 1


# --- the code page --------------------------------------------------------------------------------------


def test_the_code_page_without_a_flow_sends_to_sign_in(client):
    response = client.get(url("verify"))
    assert response["Location"] == url("login")
    assert client.post(url("verify"), {"code": "123456"})["Location"] == url("login")


def test_a_flow_left_waiting_too_long_is_forgotten(client):
    register(client)
    session = client.session
    session[PENDING_SESSION_KEY]["started_at"] = (timezone.now() - timedelta(hours=2)).isoformat()
    session.save()
    assert client.get(url("verify"))["Location"] == url("login")
    assert PENDING_SESSION_KEY not in client.session


@pytest.mark.parametrize(
    ("typed", "message"),
    [("", "This field is required."), ("12345", "Enter the 6 digits"), ("12a456", "Enter the 6 digits")],
)
def test_a_code_that_cannot_be_one_is_refused_without_counting(client, typed, message):
    register(client)
    response = verify(client, typed)
    assert response.status_code == 400
    assert message in field_error(response, "code")
    assert OneTimeCode.objects.get().attempts == 0


def test_wrong_codes_are_counted_until_the_code_dies_then_a_new_one_works(client):
    register(client)
    code = latest_code(EMAIL)
    for _ in range(4):
        response = verify(client, wrong(code))
        assert "This code is not right." in field_error(response, "code")
        assert f'value="{wrong(code)}"' in text(response)  # what was typed stays
    response = verify(client, wrong(code))
    assert "Too many wrong tries" in field_error(response, "code")
    response = verify(client, code)
    assert "Too many wrong tries" in field_error(response, "code")
    assert not User.objects.exists()

    response = client.post(url("verify"), {"resend": "1"})

    assert response["Location"] == url("verify")
    assert "We sent a new code." in text(client.get(url("verify")))
    fresh = latest_code(EMAIL)
    assert len(codes_to(EMAIL)) == 2
    verify(client, fresh)
    assert User.objects.get().email == EMAIL


def test_an_expired_code_says_so(client):
    register(client)
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    response = verify(client, latest_code(EMAIL))
    assert "This code has expired. Ask for a new one." in field_error(response, "code")


def test_asking_for_new_codes_is_rate_limited(client, settings):
    settings.RATE_LIMITS = {"otp": {"account": ("2/1h",)}, "otp_unverified": {"guest": ("100/1h",)}}
    register(client)
    client.post(url("verify"), {"resend": "1"})
    response = client.post(url("verify"), {"resend": "1"})
    assert response.status_code == 429
    assert len(codes_to(EMAIL)) == 2


def test_an_address_taken_while_the_code_travelled(client):
    register(client)
    code = latest_code(EMAIL)
    account()
    response = verify(client, code)
    assert response["Location"] == url("login")
    assert "An account with this e-mail address already exists." in text(client.get(url("login")))
    assert User.objects.count() == 1
    assert PENDING_SESSION_KEY not in client.session


# --- a new password -------------------------------------------------------------------------------------


def test_setting_a_new_password_with_a_code(client):
    user = account()
    elsewhere = Client()
    elsewhere.force_login(user)
    assert client.get(url("password_reset")).status_code == 200

    response = client.post(url("password_reset"), {"contact": EMAIL})
    assert response["Location"] == url("verify")
    response = verify(client, latest_code(EMAIL))
    assert response["Location"] == url("password_reset")
    page = text(client.get(url("password_reset")))
    assert "Choose a new password" in page
    assert 'name="password1"' in page

    response = client.post(url("password_reset"), {"password1": NEW_PASSWORD, "password2": "something-else-2026"})
    assert "The two passwords differ." in field_error(response, "password2")
    response = client.post(url("password_reset"), {"password1": "12345678901", "password2": "12345678901"})
    assert "entirely numeric" in field_error(response, "password1")

    response = client.post(url("password_reset"), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})

    assert response["Location"] == url("my_reports")
    assert signed_in_user(client) == user.pk
    assert RESET_SESSION_KEY not in client.session
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    # The other device was signed in with the old password: it is signed out now.
    assert elsewhere.get(url("my_reports")).status_code == 302


def test_a_new_password_for_an_unknown_address_looks_the_same(client):
    response = client.post(url("password_reset"), {"contact": "nobody@example.id"})
    assert response["Location"] == url("verify")
    assert "If an account uses nobody@example.id" in re.sub(r"<[^>]+>", "", text(client.get(url("verify"))))
    assert not Notification.objects.exists()


def test_a_new_password_request_needs_a_valid_address(client):
    response = client.post(url("password_reset"), {"contact": "not an address"})
    assert response.status_code == 400
    assert "Enter an e-mail address" in field_error(response, "contact")
    assert 'value="not an address"' in text(response)


def test_a_proven_reset_waits_only_ten_minutes(client):
    account()
    client.post(url("password_reset"), {"contact": EMAIL})
    verify(client, latest_code(EMAIL))
    session = client.session
    session[RESET_SESSION_KEY]["until"] = (timezone.now() - timedelta(seconds=1)).isoformat()
    session.save()
    response = client.get(url("password_reset"))
    page = text(response)
    assert "That took too long. Ask for a new code." in page
    assert 'name="contact"' in page
    assert 'name="password1"' not in page
    response = client.post(url("password_reset"), {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD})
    assert not User.objects.get().check_password(NEW_PASSWORD)


# --- my reports -----------------------------------------------------------------------------------------


def test_my_reports_needs_an_account(client):
    response = client.get(url("my_reports"))
    assert response["Location"] == f"{url('login')}?next={url('my_reports')}"


def test_my_reports_lists_only_the_reporters_own_reports(client, world: World):
    mine = world.submit(title="Lampu jalan mati di depan pasar")
    confidential = world.submit(title="Pungutan liar di kelurahan", is_confidential=True)
    someone_elses = world.submit(reporter=world.member_of_public, title="Sampah menumpuk di sungai")
    guest = world.submit(reporter=None, guest_email=world.reporter.email, title="Laporan sebagai tamu")
    client.force_login(world.reporter)

    response = client.get(url("my_reports"))

    assert response.status_code == 200
    html = text(response)
    for report in (mine, confidential):
        assert report.title in html
        assert url("track_report", report.tracking_id) in html
    assert someone_elses.title not in html
    assert guest.title not in html  # a guest report joins only through the claim
    assert "Unverified" in html  # the status, in words
    assert "Verify and dispatch" in html  # the running deadline with its state
    assert url("claim") in html


def test_my_reports_costs_the_same_queries_for_one_report_or_many(client, world: World):
    world.submit()
    client.force_login(world.reporter)
    with CaptureQueriesContext(connection) as one:
        client.get(url("my_reports"))
    for number in range(4):
        world.submit(title=f"Laporan nomor {number}")
    with CaptureQueriesContext(connection) as many:
        response = client.get(url("my_reports"))
    assert text(response).count('class="report-card"') == 5
    assert len(many.captured_queries) == len(one.captured_queries)


def test_my_reports_pages_by_keyset(client, world: World, monkeypatch):
    monkeypatch.setattr("lapor.portal.views.accounts.MY_REPORTS_PAGE", 2)
    reports = [world.submit(title=f"Laporan ke-{number}") for number in range(3)]
    client.force_login(world.reporter)
    first = text(client.get(url("my_reports")))
    assert reports[2].title in first
    assert reports[1].title in first
    assert reports[0].title not in first
    next_page = re.search(r'href="(\?sebelum=\d+)"', first)
    assert next_page
    second = text(client.get(url("my_reports") + next_page.group(1)))
    assert reports[0].title in second
    assert reports[1].title not in second
    assert 'href="?sebelum=' not in second


def test_my_reports_without_reports(client):
    client.force_login(account())
    assert "No report is filed with this account yet." in text(client.get(url("my_reports")))


# --- preferences ----------------------------------------------------------------------------------------


def test_preferences_need_an_account(client):
    assert client.get(url("preferences"))["Location"] == f"{url('login')}?next={url('preferences')}"


def test_the_channel_is_offered_only_with_both_contacts(client):
    client.force_login(account())
    html = text(client.get(url("preferences")))
    assert 'name="preferred_language"' in html
    assert 'name="preferred_channel"' not in html
    client.force_login(account(email="dua@example.id", phone=PHONE))
    html = text(client.get(url("preferences")))
    assert 'name="preferred_channel"' in html


def test_saving_preferences(client):
    user = account(phone=PHONE)
    client.force_login(user)
    response = client.post(
        url("preferences"), {"action": "preferences", "preferred_language": "en", "preferred_channel": "sms"}
    )
    assert response["Location"] == url("preferences")
    user.refresh_from_db()
    assert (user.preferred_language, user.preferred_channel) == ("en", "sms")
    assert "Your preferences are saved." in text(client.get(url("preferences")))


def test_preference_errors_sit_next_to_their_fields(client):
    user = account(phone=PHONE)
    client.force_login(user)
    response = client.post(
        url("preferences"), {"action": "preferences", "preferred_language": "fr", "preferred_channel": "pigeon"}
    )
    assert response.status_code == 400
    html = response.content.decode()
    assert 'id="id_preferred_language-error"' in html
    assert 'id="id_preferred_channel-error"' in html
    assert "Select a valid choice." in html
    user.refresh_from_db()
    assert user.preferred_language == "id"


def test_adding_a_phone_number_with_a_code(client):
    user = account()
    client.force_login(user)
    response = client.post(url("preferences"), {"action": "contact", "contact": "0812-3456-7890"})
    assert response["Location"] == url("verify")
    assert PHONE in text(client.get(url("verify")))
    response = verify(client, latest_code(PHONE))
    assert response["Location"] == url("preferences")
    user.refresh_from_db()
    assert (user.phone, user.phone_is_verified) == (PHONE, True)
    page = text(client.get(url("preferences")))
    assert "is now on your account" in page
    assert 'name="preferred_channel"' in page


def test_a_contact_that_is_not_one_is_refused_and_kept(client):
    client.force_login(account())
    response = client.post(url("preferences"), {"action": "contact", "contact": "0812"})
    assert "Enter an Indonesian phone number" in field_error(response, "contact")
    assert 'value="0812"' in text(response)
    assert not Notification.objects.exists()


def test_a_contact_of_another_account_is_refused_once_proven(client):
    user = account()
    account(email="lain@example.id")
    client.force_login(user)
    client.post(url("preferences"), {"action": "contact", "contact": "lain@example.id"})
    response = verify(client, latest_code("lain@example.id"))
    assert response["Location"] == url("preferences")
    assert "An account with this e-mail address already exists." in text(client.get(url("preferences")))
    user.refresh_from_db()
    assert user.email == EMAIL


def test_a_contact_flow_ends_when_its_account_signs_out(client):
    client.force_login(account())
    client.post(url("preferences"), {"action": "contact", "contact": PHONE})
    code = latest_code(PHONE)
    client.post(url("logout"))
    client.force_login(account(email="lain@example.id"))
    assert verify(client, code)["Location"] == url("login")
    assert not User.objects.filter(phone=PHONE).exists()


# --- claiming guest reports -----------------------------------------------------------------------------


def test_claiming_needs_an_account(client):
    assert client.get(url("claim"))["Location"] == f"{url('login')}?next={url('claim')}"
    assert client.post(url("claim"), {"action": "claim"})["Location"].startswith(url("login"))


def test_a_guest_verifies_their_address_then_claims_their_reports(client, world: World):
    mine = world.submit(reporter=None, guest_email="tamu@example.id", title="Jalan rusak di depan sekolah")
    other = world.submit(reporter=None, guest_email="lain@example.id", title="Laporan orang lain")
    user = user_create(full_name="Tamu", email="tamu@example.id", password=PASSWORD)
    client.force_login(user)

    page = text(client.get(url("claim")))
    assert "not verified" in page
    assert 'value="verify_email"' in page
    assert mine.title not in page  # an address not yet proven shows nothing

    response = client.post(url("claim"), {"action": "verify_email"})
    assert response["Location"] == url("verify")
    response = verify(client, latest_code("tamu@example.id"))
    assert response["Location"] == url("claim")
    page = text(client.get(url("claim")))
    assert "tamu@example.id is verified" in page
    assert mine.title in page
    assert other.title not in page

    response = client.post(url("claim"), {"action": "claim"})

    assert response["Location"] == url("my_reports")
    listing = text(client.get(url("my_reports")))
    assert "1 report is now in your account." in listing
    assert mine.title in listing
    assert other.title not in listing
    assert Report.objects.get(pk=mine.pk).reporter == user
    assert Report.objects.get(pk=other.pk).reporter_id is None
    assert ReportEvent.objects.filter(report=mine, action=Action.CLAIM, actor=user).count() == 1
    assert not ReportEvent.objects.filter(report=other, action=Action.CLAIM).exists()


def test_claiming_with_nothing_waiting(client):
    client.force_login(account())
    response = client.post(url("claim"), {"action": "claim"})
    assert response["Location"] == url("claim")
    assert "No report filed as a guest with your verified contacts is waiting." in text(client.get(url("claim")))


def test_a_claim_code_goes_only_to_the_accounts_own_contact(client):
    client.force_login(account())  # no phone
    response = client.post(url("claim"), {"action": "verify_phone"})
    assert response["Location"] == url("claim")
    assert not Notification.objects.exists()


# --- language ------------------------------------------------------------------------------------------


@pytest.mark.usefixtures("indonesian_default")
def test_account_pages_are_indonesian_by_default(client):
    for name in ("login", "register", "password_reset"):
        response = client.get(url(name))
        assert response.status_code == 200
        assert response.headers["Content-Language"] == "id"
        assert b'<html lang="id">' in response.content
    assert url("login") == "/akun/masuk/"
