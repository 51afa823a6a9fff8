"""One-time codes and the account services built on them: what is stored, what is sent and over which
channel, and every way a code stops working."""

from __future__ import annotations

import hmac
import json
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.test import override_settings
from django.utils import timezone

from lapor.accounts.choices import OneTimeCodePurpose, PreferredChannel
from lapor.accounts.errors import AccountError, AccountErrorCode
from lapor.accounts.models import OneTimeCode, User
from lapor.accounts.services import (
    ONE_TIME_CODE_LIFETIME,
    ONE_TIME_CODE_MAX_ATTEMPTS,
    one_time_code_purge,
    one_time_code_send,
    one_time_code_verify,
    user_code_send,
    user_code_verify,
    user_contact_code_send,
    user_contact_verify,
    user_create,
    user_password_set,
    user_preferences_set,
    user_registration_finish,
    user_registration_resend,
    user_registration_start,
)
from lapor.notifications.choices import NotificationChannel
from lapor.notifications.models import Notification
from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.django_db

EMAIL = "sari@example.id"
PHONE = "+6281234567890"
REGISTER = OneTimeCodePurpose.REGISTER
LOGIN = OneTimeCodePurpose.LOGIN
RESET = OneTimeCodePurpose.PASSWORD_RESET
CLAIM = OneTimeCodePurpose.CLAIM
CHANGE = OneTimeCodePurpose.CONTACT_CHANGE


def code_messages(address: str) -> list[Notification]:
    return list(Notification.objects.filter(address=address, dedupe_key__startswith="one-time-code:").order_by("pk"))


def code_in(notification: Notification) -> str:
    found = re.findall(r"(?<!\d)\d{6}(?!\d)", notification.body)
    assert len(found) == 1, notification.body
    return found[0]


def latest_code(address: str) -> str:
    messages = code_messages(address)
    assert messages, f"no code was sent to {address}"
    return code_in(messages[-1])


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def send(address: str = EMAIL, purpose: OneTimeCodePurpose = LOGIN, language: str = "en") -> str:
    one_time_code_send(address=address, purpose=purpose, language=language)
    return latest_code(address if "@" in address else PHONE)


def refused(expected: AccountErrorCode, **verify: str) -> None:
    with pytest.raises(AccountError) as error:
        one_time_code_verify(**verify)
    assert error.value.code == expected


# --- what is stored and sent ----------------------------------------------------------------------------


def test_only_a_keyed_hash_of_the_code_is_stored():
    code = send()
    row = OneTimeCode.objects.get(address=EMAIL)
    assert row.purpose == LOGIN
    assert code not in row.code_hash
    assert len(row.code_hash) == 64
    assert row.expires_at - row.created_at == ONE_TIME_CODE_LIFETIME == timedelta(minutes=10)
    assert row.attempts == 0
    assert row.used_at is None
    with override_settings(SECRET_KEY="another-secret-key-of-sufficient-length-0123456789"):
        # A different key, a different hash: the hash alone cannot be searched for the code.
        refused(AccountErrorCode.CODE_WRONG, address=EMAIL, purpose=LOGIN, code=code)


def test_an_email_address_gets_the_code_by_email_in_the_language_asked_for():
    code = send(EMAIL, REGISTER, language="en")
    message = code_messages(EMAIL)[-1]
    assert message.channel == NotificationChannel.EMAIL
    assert message.language == "en"
    assert message.report_id is None
    assert message.event_id is None
    assert message.subject == "Your Lapor code"
    assert "Your Lapor code to create your account:" in message.body
    assert code in message.body
    assert "within 10 minutes" in message.body


def test_a_phone_number_in_any_format_gets_the_code_by_sms_on_one_line():
    code = send("0812-3456-7890", CLAIM)
    message = code_messages(PHONE)[-1]
    assert message.channel == NotificationChannel.SMS
    assert message.address == PHONE
    assert message.subject == ""
    assert "\n" not in message.body
    assert len(message.body) <= 160
    assert message.body.startswith(f"{code} is your Lapor code to add the reports you filed as a guest")
    # Verified under any other spelling of the same number.
    assert one_time_code_verify(address="+62 812 3456 7890", purpose=CLAIM, code=code).address == PHONE


def test_the_code_is_delivered_by_the_notification_channels_after_commit(
    django_capture_on_commit_callbacks, settings, tmp_path
):
    settings.SMS_BACKEND = "file"
    settings.DATA_DIR = tmp_path
    with django_capture_on_commit_callbacks(execute=True):
        email_code = send(EMAIL, LOGIN)
    with django_capture_on_commit_callbacks(execute=True):
        sms_code = send(PHONE, LOGIN)
    assert [message.to for message in mail.outbox] == [[EMAIL]]
    assert email_code in mail.outbox[0].body
    lines = (Path(settings.DATA_DIR) / "sms" / "outbox.jsonl").read_text(encoding="utf-8").splitlines()
    sent = json.loads(lines[-1])
    assert sent["to"] == PHONE
    assert sms_code in sent["message"]
    assert {row.status for row in Notification.objects.all()} == {"sent"}


def test_an_address_that_is_neither_email_nor_phone_is_refused():
    for address, expected in (
        ("", AccountErrorCode.EMAIL_OR_PHONE_REQUIRED),
        ("sari", AccountErrorCode.EMAIL_INVALID),
        ("0812", AccountErrorCode.PHONE_INVALID),
    ):
        with pytest.raises(AccountError) as error:
            one_time_code_send(address=address, purpose=LOGIN, language="id")
        assert error.value.code == expected
    assert not OneTimeCode.objects.exists()
    assert not Notification.objects.exists()


# --- the life of a code ---------------------------------------------------------------------------------


def test_the_right_code_works_once():
    code = send()
    row = one_time_code_verify(address=EMAIL, purpose=LOGIN, code=code)
    assert row.used_at is not None
    refused(AccountErrorCode.CODE_WRONG, address=EMAIL, purpose=LOGIN, code=code)


def test_spaces_in_a_typed_code_do_not_matter():
    code = send()
    assert one_time_code_verify(address=EMAIL, purpose=LOGIN, code=f" {code[:3]} {code[3:]} ").used_at is not None


def test_a_code_serves_only_its_purpose():
    code = send(EMAIL, LOGIN)
    for other in (REGISTER, RESET, CLAIM, CHANGE):
        refused(AccountErrorCode.CODE_WRONG, address=EMAIL, purpose=other, code=code)
    # The failed tries for other purposes did not touch it.
    assert one_time_code_verify(address=EMAIL, purpose=LOGIN, code=code).attempts == 0


def test_a_code_serves_only_its_address():
    code = send(EMAIL, LOGIN)
    refused(AccountErrorCode.CODE_WRONG, address="other@example.id", purpose=LOGIN, code=code)


def test_no_code_sent_is_a_wrong_code():
    refused(AccountErrorCode.CODE_WRONG, address=EMAIL, purpose=LOGIN, code="123456")


def test_an_expired_code_is_refused_even_when_right():
    code = send()
    OneTimeCode.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
    refused(AccountErrorCode.CODE_EXPIRED, address=EMAIL, purpose=LOGIN, code=code)


def test_wrong_tries_are_counted_and_the_fifth_kills_the_code():
    code = send()
    for attempt in range(1, ONE_TIME_CODE_MAX_ATTEMPTS):
        refused(AccountErrorCode.CODE_WRONG, address=EMAIL, purpose=LOGIN, code=wrong(code))
        assert OneTimeCode.objects.get().attempts == attempt
    refused(AccountErrorCode.CODE_TOO_MANY_ATTEMPTS, address=EMAIL, purpose=LOGIN, code=wrong(code))
    assert OneTimeCode.objects.get().attempts == ONE_TIME_CODE_MAX_ATTEMPTS == 5
    # Dead: the right code no longer works either, and tries are no longer counted.
    refused(AccountErrorCode.CODE_TOO_MANY_ATTEMPTS, address=EMAIL, purpose=LOGIN, code=code)
    assert OneTimeCode.objects.get().attempts == 5


def test_a_new_code_replaces_the_unused_one():
    first = send()
    second = send()
    assert OneTimeCode.objects.filter(address=EMAIL, purpose=LOGIN, used_at__isnull=True).count() == 1
    if first != second:
        refused(AccountErrorCode.CODE_WRONG, address=EMAIL, purpose=LOGIN, code=first)
    assert one_time_code_verify(address=EMAIL, purpose=LOGIN, code=second).used_at is not None


def test_a_new_code_starts_with_fresh_tries_but_codes_of_other_purposes_stay():
    login_code = send(EMAIL, LOGIN)
    reset_code = send(EMAIL, RESET)
    refused(AccountErrorCode.CODE_WRONG, address=EMAIL, purpose=RESET, code=wrong(reset_code))
    assert one_time_code_verify(address=EMAIL, purpose=LOGIN, code=login_code).used_at is not None
    new_reset = send(EMAIL, RESET)
    assert one_time_code_verify(address=EMAIL, purpose=RESET, code=new_reset).attempts == 0


def test_codes_are_compared_in_constant_time(monkeypatch):
    compared: list[tuple[str, str]] = []
    original = hmac.compare_digest

    def spy(first: str, second: str) -> bool:
        compared.append((first, second))
        return original(first, second)

    code = send()
    monkeypatch.setattr("lapor.accounts.services.hmac.compare_digest", spy)
    one_time_code_verify(address=EMAIL, purpose=LOGIN, code=code)
    assert len(compared) == 1
    stored, given = compared[0]
    assert stored == given != code


def test_purge_deletes_only_codes_long_expired():
    send(EMAIL)
    send(PHONE)
    OneTimeCode.objects.filter(address=EMAIL).update(expires_at=timezone.now() - timedelta(days=2))
    assert one_time_code_purge() == 1
    assert list(OneTimeCode.objects.values_list("address", flat=True)) == [PHONE]


# --- accounts proven by a code -----------------------------------------------------------------------


def test_registration_creates_the_account_only_when_the_code_comes_back():
    registration = user_registration_start(
        full_name=" Sari  Dewi ", address="Sari@Example.ID", password=PASSWORD, language="en"
    )
    assert registration.address == EMAIL
    assert registration.full_name == "Sari Dewi"
    assert PASSWORD not in repr(registration)
    assert PASSWORD not in registration.password_hash
    assert not User.objects.exists()
    code = latest_code(EMAIL)
    with pytest.raises(AccountError):
        user_registration_finish(registration=registration, code=wrong(code))
    assert not User.objects.exists()
    user = user_registration_finish(registration=registration, code=code)
    user.refresh_from_db()
    assert (user.full_name, user.email, user.phone, user.preferred_language) == ("Sari Dewi", EMAIL, None, "en")
    assert user.check_password(PASSWORD)
    assert user.email_is_verified
    assert user.verified_contacts() == [EMAIL]
    assert user.is_active


def test_registration_with_a_phone_number():
    registration = user_registration_start(full_name="Budi", address="0812 3456 7890", password=PASSWORD, language="id")
    user = user_registration_finish(registration=registration, code=latest_code(PHONE))
    assert (user.email, user.phone, user.phone_is_verified) == (None, PHONE, True)


def test_registration_checks_the_name_and_the_password_before_sending_anything():
    cases = [
        ({"full_name": "  "}, AccountErrorCode.FULL_NAME_REQUIRED),
        ({"password": "short"}, AccountErrorCode.PASSWORD_INVALID),
        ({"password": "sari@example.id"}, AccountErrorCode.PASSWORD_INVALID),
        ({"address": "sari"}, AccountErrorCode.EMAIL_INVALID),
    ]
    for overrides, expected in cases:
        fields = {"full_name": "Sari Dewi", "address": EMAIL, "password": PASSWORD, "language": "id", **overrides}
        with pytest.raises(AccountError) as error:
            user_registration_start(**fields)
        assert error.value.code == expected
    assert not Notification.objects.exists()


def test_registration_with_a_taken_address_tells_its_owner_and_sends_no_code():
    user_create(full_name="Sari Lama", email=EMAIL, password=PASSWORD)
    registration = user_registration_start(full_name="Someone", address=EMAIL, password=PASSWORD, language="en")
    # The caller learns nothing: the same kind of answer as for a free address.
    assert registration.address == EMAIL
    assert not OneTimeCode.objects.exists()
    notice = Notification.objects.get(address=EMAIL)
    assert notice.subject == "You already have a Lapor account"
    assert not re.search(r"\d{6}", notice.body)
    user_registration_resend(registration=registration)
    assert Notification.objects.filter(address=EMAIL).count() == 2
    refused(AccountErrorCode.CODE_WRONG, address=EMAIL, purpose=REGISTER, code="000000")


def test_registration_finishing_after_someone_else_took_the_address():
    registration = user_registration_start(full_name="Sari", address=EMAIL, password=PASSWORD, language="id")
    code = latest_code(EMAIL)
    user_create(full_name="Faster", email=EMAIL, password=PASSWORD)
    with pytest.raises(AccountError) as error:
        user_registration_finish(registration=registration, code=code)
    assert error.value.code == AccountErrorCode.EMAIL_TAKEN


def test_sign_in_and_reset_codes_go_only_to_active_accounts_and_the_caller_cannot_tell():
    user_create(full_name="Sari", email=EMAIL, password=PASSWORD)
    gone = user_create(full_name="Gone", email="gone@example.id", password=PASSWORD)
    gone.is_active = False
    gone.save(update_fields=["is_active"])
    for purpose in (LOGIN, RESET):
        assert user_code_send(address="SARI@example.id", purpose=purpose, language="id") == EMAIL
        assert user_code_send(address="nobody@example.id", purpose=purpose, language="id") == "nobody@example.id"
        assert user_code_send(address="gone@example.id", purpose=purpose, language="id") == "gone@example.id"
    assert set(OneTimeCode.objects.values_list("address", flat=True)) == {EMAIL}
    assert not Notification.objects.exclude(address=EMAIL).exists()
    with pytest.raises(ValueError, match="not sent to accounts"):
        user_code_send(address=EMAIL, purpose=REGISTER, language="id")


def test_a_sign_in_code_returns_the_account_and_verifies_its_address():
    user = user_create(full_name="Sari", email=EMAIL, phone=PHONE, password=None)
    assert user.verified_contacts() == []
    user_code_send(address="0812 3456 7890", purpose=LOGIN, language="id")
    signed_in = user_code_verify(address=PHONE, purpose=LOGIN, code=latest_code(PHONE))
    assert signed_in == user
    signed_in.refresh_from_db()
    assert signed_in.verified_contacts() == [PHONE]
    assert not signed_in.email_is_verified


def test_a_sign_in_code_of_an_account_deactivated_meanwhile_is_refused():
    user = user_create(full_name="Sari", email=EMAIL, password=PASSWORD)
    user_code_send(address=EMAIL, purpose=LOGIN, language="id")
    User.objects.filter(pk=user.pk).update(is_active=False)
    with pytest.raises(AccountError) as error:
        user_code_verify(address=EMAIL, purpose=LOGIN, code=latest_code(EMAIL))
    assert error.value.code == AccountErrorCode.CODE_WRONG


def test_a_verified_contact_stops_counting_once_it_changes():
    user = user_create(full_name="Sari", email=EMAIL, password=PASSWORD)
    user_code_send(address=EMAIL, purpose=LOGIN, language="id")
    user = user_code_verify(address=EMAIL, purpose=LOGIN, code=latest_code(EMAIL))
    assert user.email_is_verified
    user.email = "changed@example.id"  # as the admin would
    user.save(update_fields=["email"])
    assert not user.email_is_verified
    assert user.verified_contacts() == []


def test_password_set_checks_the_validators():
    user = user_create(full_name="Sari Dewi", email=EMAIL, password=PASSWORD)
    with pytest.raises(AccountError) as error:
        user_password_set(user=user, password="1234567890")
    assert error.value.code == AccountErrorCode.PASSWORD_INVALID
    user_password_set(user=user, password="kata-sandi-baru-2027")
    user.refresh_from_db()
    assert user.check_password("kata-sandi-baru-2027")


def test_claim_codes_go_only_to_the_accounts_own_contacts():
    user = user_create(full_name="Sari", email=EMAIL, password=PASSWORD)
    with pytest.raises(AccountError) as error:
        user_contact_code_send(user=user, address="other@example.id", purpose=CLAIM, language="id")
    assert error.value.code == AccountErrorCode.CONTACT_NOT_OWN
    user_contact_code_send(user=user, address=EMAIL, purpose=CLAIM, language="id")
    user = user_contact_verify(user=user, address=EMAIL, purpose=CLAIM, code=latest_code(EMAIL))
    assert user.email_is_verified
    with pytest.raises(ValueError, match="not sent for a signed-in"):
        user_contact_code_send(user=user, address=EMAIL, purpose=LOGIN, language="id")


def test_a_contact_change_adds_the_proven_address():
    user = user_create(full_name="Sari", email=EMAIL, password=PASSWORD)
    user_contact_code_send(user=user, address="0812 3456 7890", purpose=CHANGE, language="id")
    code = latest_code(PHONE)
    with pytest.raises(AccountError):
        user_contact_verify(user=user, address=PHONE, purpose=CHANGE, code=wrong(code))
    user.refresh_from_db()
    assert user.phone is None
    user_contact_verify(user=user, address=PHONE, purpose=CHANGE, code=code)
    user = User.objects.get(pk=user.pk)
    assert (user.email, user.phone, user.phone_is_verified, user.email_is_verified) == (EMAIL, PHONE, True, False)


def test_a_contact_change_to_another_accounts_address_is_refused_after_the_proof():
    user = user_create(full_name="Sari", email=EMAIL, password=PASSWORD)
    user_create(full_name="Other", email="other@example.id", password=PASSWORD)
    user_contact_code_send(user=user, address="other@example.id", purpose=CHANGE, language="id")
    with pytest.raises(AccountError) as error:
        user_contact_verify(user=user, address="other@example.id", purpose=CHANGE, code=latest_code("other@example.id"))
    assert error.value.code == AccountErrorCode.EMAIL_TAKEN
    user.refresh_from_db()
    assert user.email == EMAIL


def test_preferences_need_the_contact_of_the_channel_chosen():
    user = user_create(full_name="Sari", email=EMAIL, password=PASSWORD)
    with pytest.raises(AccountError) as error:
        user_preferences_set(user=user, preferred_language="en", preferred_channel=PreferredChannel.SMS)
    assert error.value.code == AccountErrorCode.CHANNEL_UNAVAILABLE
    with pytest.raises(AccountError) as error:
        user_preferences_set(user=user, preferred_language="fr", preferred_channel="")
    assert error.value.code == AccountErrorCode.LANGUAGE_INVALID
    user_preferences_set(user=user, preferred_language="en", preferred_channel=PreferredChannel.EMAIL)
    user.refresh_from_db()
    assert (user.preferred_language, user.preferred_channel) == ("en", "email")
