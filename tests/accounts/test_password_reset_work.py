"""A code to reset a password (or to sign in) costs the same work for an address without an account as
for one with: the response time does not tell who uses Lapor. Compared by the statements run, not by
timing (which a loaded test machine would make flaky)."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from lapor.accounts.choices import OneTimeCodePurpose
from lapor.accounts.models import OneTimeCode
from lapor.accounts.services import user_code_send, user_create
from lapor.notifications.models import Notification
from tests.accounts.factories import PASSWORD

pytestmark = pytest.mark.django_db

LITERALS = re.compile(r"'(?:[^']|'')*'|\b\d+(?:\.\d+)?\b|\bNULL\b|\bTRUE\b|\bFALSE\b", re.IGNORECASE)
SAVEPOINT_NAME = re.compile(r'"s\w+_x\d+"')
# Keeping what was done or undoing it ends a savepoint at the same cost.
SAVEPOINT_END = re.compile(r"^(RELEASE|ROLLBACK TO) SAVEPOINT")


def _shape(sql: str) -> str:
    return SAVEPOINT_END.sub("END SAVEPOINT", SAVEPOINT_NAME.sub("?", LITERALS.sub("?", sql)))


def _statements(address: str, purpose: OneTimeCodePurpose) -> list[str]:
    """The shape of every statement sending a code to ``address`` runs (its values left out)."""
    with CaptureQueriesContext(connection) as captured:
        user_code_send(address=address, purpose=purpose, language="id")
    sql = [query["sql"] for query in captured.captured_queries]
    # Django releases a savepoint right after rolling back to it: one step of undoing, not more work.
    undone = [
        index
        for index in range(1, len(sql))
        if sql[index].startswith("RELEASE SAVEPOINT") and sql[index - 1] == sql[index].replace("RELEASE", "ROLLBACK TO")
    ]
    return [_shape(statement) for index, statement in enumerate(sql) if index not in undone]


@pytest.mark.parametrize("purpose", [OneTimeCodePurpose.PASSWORD_RESET, OneTimeCodePurpose.LOGIN])
@pytest.mark.parametrize("address", ["warga@example.id", "+6281234567890"])
def test_an_unknown_address_takes_the_same_statements_as_an_account(address, purpose):
    known = address.replace("warga", "sari").replace("7890", "7891")
    user_create(
        full_name="Sari",
        email=known if "@" in known else None,
        phone=known if "@" not in known else None,
        password=PASSWORD,
    )
    for_account = _statements(known, purpose)
    for_nobody = _statements(address, purpose)
    assert len(for_account) > 3
    assert for_nobody == for_account
    # ... and yet nothing is kept, nor sent, for the address without an account.
    assert set(OneTimeCode.objects.values_list("address", flat=True)) == {known}
    assert set(Notification.objects.values_list("address", flat=True)) == {known}
