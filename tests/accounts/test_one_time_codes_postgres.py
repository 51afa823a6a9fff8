"""One-time codes under concurrent requests on PostgreSQL: codes sent at the same moment leave one code
that works, and wrong tries made at the same moment are all counted."""

from __future__ import annotations

import re
import threading
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest
from django.core import mail
from django.db import connection

from lapor.accounts.choices import OneTimeCodePurpose
from lapor.accounts.errors import AccountError, AccountErrorCode
from lapor.accounts.models import OneTimeCode
from lapor.accounts.services import ONE_TIME_CODE_MAX_ATTEMPTS, one_time_code_send, one_time_code_verify
from lapor.notifications.models import Notification

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]

EMAIL = "serentak@example.id"
LOGIN = OneTimeCodePurpose.LOGIN
THREADS = 8


def together(work: Callable[[int], Any], count: int = THREADS) -> list[Any]:
    """Runs ``work(index)`` in ``count`` threads released at once; returns each result or error."""
    start = threading.Barrier(count)
    results: list[Any] = [None] * count

    def run(index: int) -> None:
        try:
            start.wait()
            results[index] = work(index)
        except BaseException as error:
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def code_of(row: OneTimeCode) -> str:
    """The code of ``row`` as its owner received it (the outbox keeps it masked once delivered)."""
    notification = Notification.objects.filter(dedupe_key__startswith=f"one-time-code:{row.pk}:").latest("pk")
    delivered = [
        message for message in mail.outbox if message.extra_headers.get("X-Lapor-Notification") == str(notification.pk)
    ]
    assert delivered, f"notification {notification.pk} was not delivered"
    return re.findall(r"(?<!\d)\d{6}(?!\d)", str(delivered[-1].body))[0]


def test_codes_sent_at_the_same_moment_leave_one_that_works():
    results = together(lambda _index: one_time_code_send(address=EMAIL, purpose=LOGIN, language="id"))

    assert not [result for result in results if isinstance(result, BaseException)], results
    unused = list(OneTimeCode.objects.filter(address=EMAIL, purpose=LOGIN, used_at__isnull=True))
    assert len(unused) == 1
    assert one_time_code_verify(address=EMAIL, purpose=LOGIN, code=code_of(unused[0])).used_at is not None


def test_wrong_tries_at_the_same_moment_are_all_counted():
    row = one_time_code_send(address=EMAIL, purpose=LOGIN, language="id")
    code = code_of(row)
    bad = f"{(int(code) + 1) % 1_000_000:06d}"

    def guess(_index: int) -> AccountErrorCode:
        try:
            one_time_code_verify(address=EMAIL, purpose=LOGIN, code=bad)
        except AccountError as error:
            return error.code
        raise AssertionError("a wrong code was accepted")

    outcomes = Counter(together(guess, count=ONE_TIME_CODE_MAX_ATTEMPTS + 3))

    assert outcomes == {
        AccountErrorCode.CODE_WRONG: ONE_TIME_CODE_MAX_ATTEMPTS - 1,
        AccountErrorCode.CODE_TOO_MANY_ATTEMPTS: 4,
    }
    assert OneTimeCode.objects.get(pk=row.pk).attempts == ONE_TIME_CODE_MAX_ATTEMPTS
    with pytest.raises(AccountError) as error:
        one_time_code_verify(address=EMAIL, purpose=LOGIN, code=code)
    assert error.value.code == AccountErrorCode.CODE_TOO_MANY_ATTEMPTS
