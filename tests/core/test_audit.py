"""The tamper-evident audit trail: chains, their verification, anchors, database protection, command.

The concrete models live in tests/audit_app (installed by tests.settings only): Ledger owns a chain of
LedgerEvent rows, as a report will own its ReportEvent rows; TopicEvent is keyed by a plain string.
Tampering is done as an attacker with database rights would do it: switch the append-only triggers
off (ALTER TABLE ... DISABLE TRIGGER on PostgreSQL, DROP TRIGGER on SQLite), then edit with SQL.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from io import StringIO
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, OperationalError, connection, connections, models, transaction
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import ProjectState
from django.test.utils import isolate_apps
from django.utils import timezone, translation
from hypothesis import given
from hypothesis import strategies as st

from lapor.core import audit
from lapor.core.audit import (
    GENESIS_HASH,
    AuditError,
    AuditErrorCode,
    ChainedEvent,
    ChainProblem,
    RunSQLForVendor,
    anchor_create,
    anchor_daily,
    anchor_verify,
    append_only_installed,
    append_only_operations,
    chain_append,
    chain_heads,
    chain_verify,
    chained_event_models,
    merkle_leaf,
    merkle_root,
    start_of_day,
)
from lapor.core.models import AuditAnchor
from lapor.core.tasks import anchor_audit_trails
from tests.audit_app.models import Ledger, LedgerEvent, TopicEvent

ROOT = Path(__file__).resolve().parents[2]
EVENT_TABLE = LedgerEvent._meta.db_table
ANCHOR_TABLE = AuditAnchor._meta.db_table


# Helpers


def append(ledger: Ledger, action: object = "note", **fields) -> LedgerEvent:
    with transaction.atomic():
        return chain_append(LedgerEvent, chain_id=ledger.pk, action=action, **fields)


def sequences(ledger: Ledger) -> list[int]:
    return list(LedgerEvent.objects.filter(ledger=ledger).order_by("sequence").values_list("sequence", flat=True))


def execute(sql: str, params: list[Any] | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)


@contextmanager
def append_only_lifted(*tables: str) -> Iterator[None]:
    """Switches the append-only triggers off for the block, as only the table owner or a superuser can."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # Django's foreign keys are deferred; ALTER TABLE refuses to run while their checks are pending.
            if connection.in_atomic_block:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            for table in tables:
                cursor.execute(f'ALTER TABLE "{table}" DISABLE TRIGGER USER')
            try:
                yield
            finally:
                for table in tables:
                    cursor.execute(f'ALTER TABLE "{table}" ENABLE TRIGGER USER')
                if connection.in_atomic_block:
                    cursor.execute("SET CONSTRAINTS ALL DEFERRED")
        else:
            placeholders = ", ".join(["%s"] * len(tables))
            cursor.execute(
                f"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name IN ({placeholders})",
                list(tables),
            )
            triggers = cursor.fetchall()
            assert triggers, "the append-only triggers should be installed"
            for name, _sql in triggers:
                cursor.execute(f'DROP TRIGGER "{name}"')
            try:
                yield
            finally:
                for _name, sql in triggers:
                    cursor.execute(sql)


def rfc6962_root(leaves: list[bytes]) -> str:
    """The Merkle tree hash exactly as RFC 6962 section 2.1 defines it, recursively."""

    def tree_hash(data: list[bytes]) -> bytes:
        if not data:
            return hashlib.sha256(b"").digest()
        if len(data) == 1:
            return hashlib.sha256(b"\x00" + data[0]).digest()
        split = 1 << ((len(data) - 1).bit_length() - 1)  # the largest power of two below len(data)
        return hashlib.sha256(b"\x01" + tree_hash(data[:split]) + tree_hash(data[split:])).digest()

    return tree_hash(leaves).hex()


@pytest.fixture(autouse=True)
def in_english() -> Iterator[None]:
    """Messages are checked in English, whatever the default language and its translations say."""
    with translation.override("en"):
        yield


@pytest.fixture
def ledger(db) -> Ledger:
    return Ledger.objects.create(name="Dinas Pekerjaan Umum")


@pytest.fixture
def other_ledger(db) -> Ledger:
    return Ledger.objects.create(name="Kelurahan Menteng")


@pytest.fixture
def committed_audit_rows(transactional_db) -> Iterator[None]:
    """Tests that commit events remove them before Django's flush, which the triggers would refuse."""
    yield
    with append_only_lifted(EVENT_TABLE, ANCHOR_TABLE):
        execute(f'DELETE FROM "{EVENT_TABLE}"')
        execute(f'DELETE FROM "{ANCHOR_TABLE}"')


# Appending


def test_appends_build_a_chain_per_owner(ledger, other_ledger):
    first, second, third = append(ledger), append(ledger), append(ledger)
    elsewhere = append(other_ledger)

    assert [first.sequence, second.sequence, third.sequence] == [1, 2, 3]
    assert first.previous_hash == GENESIS_HASH
    assert second.previous_hash == first.hash
    assert third.previous_hash == second.hash
    assert (elsewhere.sequence, elsewhere.previous_hash) == (1, GENESIS_HASH)
    assert len({first.hash, second.hash, third.hash, elsewhere.hash}) == 4
    assert first.created_at <= second.created_at <= third.created_at
    assert first.created_at.utcoffset() == timedelta(0)
    assert str(third) == f"audit_app.ledgerevent {ledger.pk}#3"


def test_the_hash_is_sha256_of_the_documented_canonical_json(ledger):
    event = append(
        ledger,
        action="dispatch",
        amount=Decimal("12.5"),
        happened_on=date(2026, 1, 2),
        details={"to": "Dinas", "copies": [1, "dua"], "reason": None},
        note="not hashed",
    )
    document = {
        "v": 1,
        "chain": ledger.pk,
        "sequence": 1,
        "previous_hash": "0" * 64,
        "created_at": event.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        # actor is None, so it is left out; None inside a JSON value stays.
        "payload": {
            "action": "dispatch",
            "amount": "12.50",
            "happened_on": "2026-01-02",
            "details": {"copies": [1, "dua"], "reason": None, "to": "Dinas"},
        },
    }
    canonical = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()

    assert event.canonical_json() == canonical
    assert event.hash == hashlib.sha256(canonical).hexdigest()


def test_loosely_typed_values_hash_the_same_after_a_database_round_trip(ledger, other_ledger):
    event = append(
        ledger,
        action=42,
        actor=other_ledger,
        amount="7.1",
        happened_on="2026-03-04",
        details={"when": datetime(2026, 3, 4, 5, 6, 7, 890, tzinfo=UTC), "rupiah": Decimal("1.50"), "é": "ñ"},
    )
    stored = LedgerEvent.objects.get(pk=event.pk)

    assert stored.action == "42"
    assert stored.computed_hash() == stored.hash == event.hash


def test_created_at_never_goes_back_in_a_chain_when_clocks_disagree(ledger, monkeypatch):
    first = append(ledger)
    monkeypatch.setattr(timezone, "now", lambda: first.created_at - timedelta(minutes=5))

    second = append(ledger)

    assert second.created_at == first.created_at
    assert chain_verify(LedgerEvent).ok


@pytest.mark.postgres
def test_postgres_indexes_the_hash_once_and_finds_the_last_event_through_the_chain_index(ledger):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE tablename = %s", [EVENT_TABLE])
        definitions = [row[0] for row in cursor.fetchall()]
        hash_indexes = [definition for definition in definitions if "(hash" in definition]
        assert len(hash_indexes) == 1, "no second, LIKE-pattern index on a hash nobody searches by prefix"
        assert hash_indexes[0].startswith("CREATE UNIQUE INDEX")
        cursor.execute("SET LOCAL enable_seqscan = off")
        query = LedgerEvent.objects.filter(ledger_id=ledger.pk).order_by("-sequence")[:1]
        sql, params = query.query.sql_with_params()
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "Index Scan Backward using audit_app_ledgerevent_chain" in plan


def test_the_unique_chain_sequence_constraint_refuses_a_second_event_in_the_same_place(ledger):
    event = append(ledger)
    duplicate = LedgerEvent(
        ledger=ledger, sequence=1, previous_hash=GENESIS_HASH, hash="f" * 64, created_at=event.created_at
    )

    with pytest.raises(IntegrityError), transaction.atomic():
        duplicate.save(force_insert=True)


def test_a_lost_race_is_retried_once_with_a_fresh_read(ledger, monkeypatch):
    append(ledger)
    real_last_event = audit._last_event
    reads = []

    def stale_first_read(*args):
        reads.append(args)
        return None if len(reads) == 1 else real_last_event(*args)

    monkeypatch.setattr(audit, "_last_event", stale_first_read)
    event = append(ledger)

    assert len(reads) == 2
    assert event.sequence == 2
    assert sequences(ledger) == [1, 2]
    assert chain_verify(LedgerEvent).ok


def test_a_race_lost_twice_raises_the_integrity_error(ledger, monkeypatch):
    append(ledger)
    monkeypatch.setattr(audit, "_last_event", lambda *args: None)

    with pytest.raises(IntegrityError):
        append(ledger)
    assert sequences(ledger) == [1]


@pytest.mark.django_db(transaction=True)
def test_appending_outside_a_transaction_is_refused(committed_audit_rows):
    ledger = Ledger.objects.create(name="autocommit")

    with pytest.raises(AuditError) as error:
        chain_append(LedgerEvent, chain_id=ledger.pk, action="note")

    assert error.value.code == AuditErrorCode.NO_TRANSACTION
    assert not LedgerEvent.objects.exists()


@pytest.mark.parametrize("field", ["sequence", "hash", "previous_hash", "created_at", "ledger", "ledger_id"])
def test_fields_the_chain_sets_cannot_be_passed(ledger, field):
    with pytest.raises(AuditError) as error, transaction.atomic():
        chain_append(LedgerEvent, chain_id=ledger.pk, action="note", **{field: 1})
    assert error.value.code == AuditErrorCode.RESERVED_FIELD


def test_appending_to_the_chain_of_a_missing_owner_is_refused(db):
    with pytest.raises(AuditError) as error, transaction.atomic():
        chain_append(LedgerEvent, chain_id=999_999, action="note")
    assert error.value.code == AuditErrorCode.UNKNOWN_CHAIN


def test_chains_keyed_by_a_plain_value_need_no_owner_row(db):
    with transaction.atomic():
        for topic, text in [("banjir", "a"), ("jalan", "b"), ("banjir", "c")]:
            chain_append(TopicEvent, chain_id=topic, text=text)

    assert list(TopicEvent.objects.order_by("topic", "sequence").values_list("topic", "sequence")) == [
        ("banjir", 1),
        ("banjir", 2),
        ("jalan", 1),
    ]
    result = chain_verify(TopicEvent, chain_id="banjir")
    assert (result.ok, result.events, result.chains) == (True, 2, 1)


# Verifying


def test_verify_counts_events_and_chains(ledger, other_ledger):
    for _ in range(3):
        append(ledger)
    append(other_ledger)

    result = chain_verify(LedgerEvent)
    assert result.ok
    assert (result.model_label, result.events, result.chains, result.break_count) == ("audit_app.ledgerevent", 4, 2, 0)
    assert result.first_break is None
    one = chain_verify(LedgerEvent, chain_id=str(other_ledger.pk))
    assert (one.ok, one.events, one.chains) == (True, 1, 1)


def test_an_edited_payload_is_detected(ledger):
    append(ledger, action="submit")
    edited = append(ledger, action="archive", details={"reason": "duplicate"})
    append(ledger, action="reopen")

    with append_only_lifted(EVENT_TABLE):
        execute(f"UPDATE \"{EVENT_TABLE}\" SET action = 'dispatch' WHERE id = %s", [edited.pk])

    result = chain_verify(LedgerEvent)
    assert not result.ok
    broken = result.first_break
    assert broken is not None
    assert (broken.chain_id, broken.sequence, broken.problem) == (ledger.pk, 2, ChainProblem.EDITED)
    assert broken.found == edited.hash
    assert broken.expected == LedgerEvent.objects.get(pk=edited.pk).computed_hash() != edited.hash
    assert result.break_count == 1
    assert "Entry 2 of chain" in broken.describe()
    assert "was changed after it was recorded" in broken.describe()


def test_an_unhashed_field_may_change_without_breaking_the_chain(ledger):
    event = append(ledger, note="typo")
    with append_only_lifted(EVENT_TABLE):
        execute(f"UPDATE \"{EVENT_TABLE}\" SET note = 'fixed' WHERE id = %s", [event.pk])
    assert chain_verify(LedgerEvent).ok


@pytest.mark.postgres
def test_postgres_refuses_the_update_and_verify_catches_it_once_the_trigger_is_disabled(ledger):
    event = append(ledger, action="submit", amount=Decimal("10.00"))

    with pytest.raises(IntegrityError, match="UPDATE on audit_app_ledgerevent refused"), transaction.atomic():
        execute(f'UPDATE "{EVENT_TABLE}" SET amount = 99 WHERE id = %s', [event.pk])

    execute("SET CONSTRAINTS ALL IMMEDIATE")
    execute(f'ALTER TABLE "{EVENT_TABLE}" DISABLE TRIGGER "{EVENT_TABLE}_append_only"')
    execute(f'UPDATE "{EVENT_TABLE}" SET amount = 99 WHERE id = %s', [event.pk])
    execute(f'ALTER TABLE "{EVENT_TABLE}" ENABLE TRIGGER "{EVENT_TABLE}_append_only"')

    broken = chain_verify(LedgerEvent).first_break
    assert broken is not None
    assert (broken.sequence, broken.problem, broken.found) == (1, ChainProblem.EDITED, event.hash)


def test_a_deleted_middle_event_is_a_gap(ledger, other_ledger):
    events = [append(ledger) for _ in range(4)]
    append(other_ledger)

    with append_only_lifted(EVENT_TABLE):
        execute(f'DELETE FROM "{EVENT_TABLE}" WHERE id = %s', [events[1].pk])

    result = chain_verify(LedgerEvent)
    broken = result.first_break
    assert broken is not None
    assert (broken.chain_id, broken.sequence, broken.problem) == (ledger.pk, 3, ChainProblem.MISSING)
    assert (broken.expected, broken.found) == ("2", "3")
    assert (result.events, result.chains, result.break_count) == (4, 2, 1)
    assert "missing entries before entry 3" in broken.describe()


def test_a_rewritten_event_with_a_recomputed_hash_breaks_the_next_link(ledger):
    events = [append(ledger) for _ in range(3)]

    with append_only_lifted(EVENT_TABLE):
        execute(f"UPDATE \"{EVENT_TABLE}\" SET action = 'forged' WHERE id = %s", [events[1].pk])
        forged = LedgerEvent.objects.get(pk=events[1].pk)
        execute(f'UPDATE "{EVENT_TABLE}" SET hash = %s WHERE id = %s', [forged.computed_hash(), forged.pk])

    broken = chain_verify(LedgerEvent).first_break
    assert broken is not None
    assert (broken.sequence, broken.problem) == (3, ChainProblem.BROKEN_LINK)
    assert broken.expected == forged.computed_hash()
    assert broken.found == events[1].hash


def test_events_swapped_between_places_are_detected(ledger):
    first, second = append(ledger, action="first"), append(ledger, action="second")

    with append_only_lifted(EVENT_TABLE):
        execute(f'UPDATE "{EVENT_TABLE}" SET sequence = sequence + 100 WHERE ledger_id = %s', [ledger.pk])
        execute(f'UPDATE "{EVENT_TABLE}" SET sequence = 1 WHERE id = %s', [second.pk])
        execute(f'UPDATE "{EVENT_TABLE}" SET sequence = 2 WHERE id = %s', [first.pk])

    broken = chain_verify(LedgerEvent).first_break
    assert broken is not None
    assert (broken.sequence, broken.problem) == (1, ChainProblem.BROKEN_LINK)


# Anchors


def test_an_anchor_records_the_merkle_root_of_every_chain_head(ledger, other_ledger):
    last = [append(ledger) for _ in range(3)][-1]
    only = append(other_ledger)
    upto = timezone.now()

    anchor = anchor_create(LedgerEvent, upto=upto)

    heads = sorted([(ledger.pk, 3, last.hash), (other_ledger.pk, 1, only.hash)])
    assert [(head.chain_id, head.sequence, head.hash) for head in chain_heads(LedgerEvent, upto=upto)] == heads
    assert anchor.merkle_root == rfc6962_root([merkle_leaf(*head) for head in heads])
    assert (anchor.model_label, anchor.sequence, anchor.upto) == ("audit_app.ledgerevent", 1, upto)
    assert (anchor.chain_count, anchor.event_count) == (2, 4)
    assert anchor.previous_anchor_hash == GENESIS_HASH
    assert anchor.hash == audit.anchor_hash(AuditAnchor.objects.get(pk=anchor.pk))
    assert anchor_verify(LedgerEvent).ok


def test_an_anchor_of_no_events_is_the_root_of_the_empty_tree(db):
    anchor = anchor_create(TopicEvent, upto=timezone.now())
    assert anchor.merkle_root == hashlib.sha256(b"").hexdigest()
    assert (anchor.chain_count, anchor.event_count) == (0, 0)


def test_a_deleted_last_event_is_caught_by_the_anchor_and_only_by_it(ledger):
    events = [append(ledger) for _ in range(3)]
    anchor_create(LedgerEvent, upto=timezone.now())

    with append_only_lifted(EVENT_TABLE):
        execute(f'DELETE FROM "{EVENT_TABLE}" WHERE id = %s', [events[-1].pk])

    assert chain_verify(LedgerEvent).ok  # a chain cut short at its end still links up
    result = anchor_verify(LedgerEvent)
    broken = result.first_break
    assert broken is not None
    assert not result.ok
    assert (broken.sequence, broken.problem) == (1, ChainProblem.ANCHOR_MISMATCH)
    assert "(1 chains, 3 events)" in broken.expected
    assert "(1 chains, 2 events)" in broken.found
    assert "no longer matches the events it covers" in broken.describe()


def test_a_rewritten_chain_tail_is_caught_by_the_anchor(ledger):
    events = [append(ledger) for _ in range(2)]
    anchor_create(LedgerEvent, upto=timezone.now())

    with append_only_lifted(EVENT_TABLE):
        execute(f"UPDATE \"{EVENT_TABLE}\" SET action = 'forged' WHERE id = %s", [events[-1].pk])
        forged = LedgerEvent.objects.get(pk=events[-1].pk)
        execute(f'UPDATE "{EVENT_TABLE}" SET hash = %s WHERE id = %s', [forged.computed_hash(), forged.pk])

    assert chain_verify(LedgerEvent).ok
    broken = anchor_verify(LedgerEvent).first_break
    assert broken is not None
    assert broken.problem == ChainProblem.ANCHOR_MISMATCH


def test_events_after_the_anchor_do_not_disturb_it(ledger, other_ledger):
    append(ledger)
    anchor_create(LedgerEvent, upto=timezone.now())
    append(ledger)
    append(other_ledger)

    result = anchor_verify(LedgerEvent)
    assert (result.ok, result.anchors, result.recomputed) == (True, 1, 1)


def test_anchors_form_a_chain_of_their_own(ledger):
    append(ledger)
    first = anchor_create(LedgerEvent, upto=timezone.now())
    append(ledger)
    second = anchor_create(LedgerEvent, upto=timezone.now())

    assert (second.sequence, second.previous_anchor_hash) == (2, first.hash)
    assert (second.event_count, first.event_count) == (2, 1)
    full = anchor_verify(LedgerEvent, full=True)
    assert (full.ok, full.anchors, full.recomputed) == (True, 2, 2)

    with append_only_lifted(ANCHOR_TABLE):
        execute(f'UPDATE "{ANCHOR_TABLE}" SET event_count = 7 WHERE id = %s', [first.pk])

    broken = anchor_verify(LedgerEvent).first_break
    assert broken is not None
    assert (broken.chain_id, broken.sequence, broken.problem) == (
        "anchors of audit_app.ledgerevent",
        1,
        ChainProblem.EDITED,
    )


def test_anchors_only_move_forward_and_never_into_the_future(ledger):
    upto = timezone.now()
    anchor_create(LedgerEvent, upto=upto)

    for moment, code in [
        (upto, AuditErrorCode.ANCHOR_NOT_AFTER_PREVIOUS),
        (upto - timedelta(days=1), AuditErrorCode.ANCHOR_NOT_AFTER_PREVIOUS),
        (timezone.now() + timedelta(hours=1), AuditErrorCode.ANCHOR_IN_FUTURE),
        (datetime(2026, 1, 1), AuditErrorCode.NAIVE_DATETIME),  # noqa: DTZ001
    ]:
        with pytest.raises(AuditError) as error:
            anchor_create(LedgerEvent, upto=moment)
        assert error.value.code == code
    assert AuditAnchor.objects.count() == 1


def test_the_daily_anchor_covers_up_to_midnight_and_is_made_once(ledger, monkeypatch):
    now = timezone.now()
    yesterday = now - timedelta(days=1)
    with monkeypatch.context() as patch:
        patch.setattr(timezone, "now", lambda: yesterday)
        append(ledger)
    append(ledger)  # today: after the daily anchor's time

    result = anchor_audit_trails.enqueue()
    assert result.status == "SUCCESSFUL", result.errors
    hashes = result.return_value

    # Every installed event model is anchored (the reports app's too), these two among them.
    everything = list(AuditAnchor.objects.order_by("model_label"))
    assert hashes == [anchor.hash for anchor in everything]
    anchors = [anchor for anchor in everything if anchor.model_label.startswith("audit_app.")]
    assert [anchor.model_label for anchor in anchors] == ["audit_app.ledgerevent", "audit_app.topicevent"]
    assert {anchor.upto for anchor in everything} == {start_of_day(now)}
    assert timezone.localtime(anchors[0].upto).time() == datetime.min.time()
    assert (anchors[0].chain_count, anchors[0].event_count) == (1, 1)
    assert anchor_audit_trails.enqueue().return_value == []
    assert anchor_daily(now=now) == []
    assert AuditAnchor.objects.count() == len(everything)


@given(st.lists(st.binary(max_size=8), max_size=70))
def test_the_streamed_merkle_root_is_the_rfc6962_tree_hash(leaves):
    assert merkle_root(leaves) == rfc6962_root(leaves)


def test_merkle_roots_match_known_values():
    assert merkle_root([]) == "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    assert merkle_root([b""]) == "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d"


# Database protection


@pytest.mark.parametrize("statement", ["UPDATE {table} SET sequence = sequence", "DELETE FROM {table}"])
@pytest.mark.parametrize("table", [EVENT_TABLE, ANCHOR_TABLE])
def test_audit_tables_refuse_update_and_delete(ledger, table, statement):
    append(ledger)
    anchor_create(LedgerEvent, upto=timezone.now())
    operation = statement.split()[0]

    with pytest.raises(IntegrityError, match=f"{operation} on {table} refused"), transaction.atomic():
        execute(statement.format(table=table))


def test_missing_or_disabled_triggers_are_noticed(db):
    assert append_only_installed(EVENT_TABLE)
    assert append_only_installed(ANCHOR_TABLE)
    assert not append_only_installed(TopicEvent._meta.db_table)  # this test model is left unprotected
    with append_only_lifted(EVENT_TABLE):
        assert not append_only_installed(EVENT_TABLE)
    assert append_only_installed(EVENT_TABLE)


def test_the_orm_cannot_change_or_remove_events_either(ledger):
    event = append(ledger)
    event.action = "changed"

    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        event.save()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        LedgerEvent.objects.update(action="changed")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        event.delete()
    assert chain_verify(LedgerEvent).ok


@pytest.mark.postgres
def test_postgres_refuses_truncating_an_audit_table_unless_it_is_empty(ledger):
    append(ledger)
    execute("SET CONSTRAINTS ALL IMMEDIATE")  # TRUNCATE refuses to run while foreign key checks are pending

    with pytest.raises(IntegrityError, match="TRUNCATE on audit_app_ledgerevent refused"), transaction.atomic():
        execute(f'TRUNCATE "{EVENT_TABLE}"')
    with transaction.atomic():
        execute(f'TRUNCATE "{ANCHOR_TABLE}"')  # empty: nothing is lost, and the test runner's flush does this
    assert LedgerEvent.objects.count() == 1


def test_the_append_only_sql_installs_and_removes_cleanly(db):
    operations = {operation.vendor: operation for operation in append_only_operations("audit_scratch")}
    operation = operations[connection.vendor]
    execute('CREATE TABLE "audit_scratch" (value integer)')
    execute('INSERT INTO "audit_scratch" (value) VALUES (1)')

    for sql in cast(list[str], operation.sql):
        execute(sql)
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        execute('UPDATE "audit_scratch" SET value = 2')
    for sql in cast(list[str], operation.reverse_sql):
        execute(sql)
    execute('UPDATE "audit_scratch" SET value = 2')
    execute('DELETE FROM "audit_scratch"')


@pytest.mark.parametrize("vendor", ["postgresql", "sqlite", "mysql"])
def test_each_vendor_runs_only_its_own_statements(vendor):
    executed: list[str] = []
    editor = SimpleNamespace(
        connection=SimpleNamespace(vendor=vendor, alias="default"),
        execute=lambda sql, params=None: executed.append(sql),
    )
    schema_editor = cast(BaseDatabaseSchemaEditor, editor)
    state = ProjectState()

    for operation in append_only_operations("reports_reportevent"):
        operation.database_forwards("reports", schema_editor, state, state)
    created = list(executed)
    executed.clear()
    for operation in reversed(append_only_operations("reports_reportevent")):
        operation.database_backwards("reports", schema_editor, state, state)

    if vendor == "postgresql":
        assert len(created) == 3
        assert "BEFORE TRUNCATE" in created[2]
        assert executed[-1] == 'DROP FUNCTION IF EXISTS "reports_reportevent_append_only"()'
    elif vendor == "sqlite":
        assert [sql.split('"')[1] for sql in created] == [
            "reports_reportevent_no_update",
            "reports_reportevent_no_delete",
        ]
        assert len(executed) == 2
    else:
        assert created == executed == []


def test_the_vendor_operation_deconstructs_for_the_migration_writer():
    operation = append_only_operations("reports_reportevent")[1]
    name, args, kwargs = operation.deconstruct()
    assert (name, kwargs["vendor"]) == ("RunSQLForVendor", "sqlite")
    assert RunSQLForVendor(*args, **kwargs).sql == operation.sql


@pytest.mark.parametrize("table", ["Reports", "x; DROP TABLE y", "a" * 60])
def test_append_only_operations_refuse_odd_table_names(table):
    with pytest.raises(ValueError, match=r"(?i)table name"):
        append_only_operations(table)


# Declaring an event model


def test_the_installed_event_models_are_found():
    found = chained_event_models()
    assert [model for model in found if model._meta.app_label == "audit_app"] == [LedgerEvent, TopicEvent]
    assert found == sorted(found, key=lambda model: model._meta.label_lower)


@isolate_apps("tests.audit_app")
def test_checks_explain_what_an_event_model_must_declare():
    class Owner(models.Model):
        class Meta:
            app_label = "audit_app"

        def __str__(self) -> str:
            return "owner"

    class Careless(ChainedEvent):
        CHAIN_FIELD = "owner"
        HASHED_FIELDS = ("text", "missing", "sequence")

        owner = models.ForeignKey(Owner, on_delete=models.CASCADE)
        text = models.CharField(max_length=10)
        forgotten = models.CharField(max_length=10)

        class Meta:
            app_label = "audit_app"

    class NoChain(ChainedEvent):
        class Meta:
            app_label = "audit_app"

    ids = {message.id for message in Careless.check()}
    assert {"lapor.audit.E002", "lapor.audit.E003", "lapor.audit.E004", "lapor.audit.E005"} <= ids
    assert "lapor.audit.E001" not in ids
    assert "lapor.audit.E001" in {message.id for message in NoChain.check()}
    with pytest.raises(AuditError) as error:
        chain_append(Careless, chain_id=1, text="x")
    assert error.value.code == AuditErrorCode.INVALID_MODEL
    assert LedgerEvent.check() == []


# Concurrency (PostgreSQL: SQLite lets one writer at a time anyway)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_appends_to_one_chain_take_consecutive_places(committed_audit_rows):
    ledger = Ledger.objects.create(name="busy")
    threads, appends_each = 8, 10
    start = threading.Barrier(threads)
    failures: list[BaseException] = []

    def appender(number: int) -> None:
        try:
            start.wait(timeout=10)
            for index in range(appends_each):
                with transaction.atomic():
                    chain_append(LedgerEvent, chain_id=ledger.pk, action=f"thread {number} append {index}")
        except BaseException as error:
            failures.append(error)
        finally:
            connections.close_all()

    workers = [threading.Thread(target=appender, args=(number,)) for number in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=60)

    assert failures == []
    assert sequences(ledger) == list(range(1, threads * appends_each + 1))
    result = chain_verify(LedgerEvent)
    assert (result.ok, result.events, result.chains) == (True, threads * appends_each, 1)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_appends_to_different_chains_do_not_wait_for_each_other(committed_audit_rows):
    held, free = Ledger.objects.create(name="held"), Ledger.objects.create(name="free")
    holding, release = threading.Event(), threading.Event()

    def hold_a_chain_open() -> None:
        try:
            with transaction.atomic():
                chain_append(LedgerEvent, chain_id=held.pk, action="slow transaction")
                holding.set()
                release.wait(timeout=30)
        finally:
            connections.close_all()

    def append_waiting_at_most(ledger: Ledger, lock_timeout: str) -> LedgerEvent:
        with transaction.atomic():
            execute(f"SET LOCAL lock_timeout = '{lock_timeout}'")
            return chain_append(LedgerEvent, chain_id=ledger.pk, action="append")

    holder = threading.Thread(target=hold_a_chain_open)
    holder.start()
    try:
        assert holding.wait(timeout=10)
        assert append_waiting_at_most(free, "5s").sequence == 1
        # The same chain does wait: this is the per-chain lock, not a global one.
        with pytest.raises(OperationalError, match="lock timeout"):
            append_waiting_at_most(held, "200ms")
    finally:
        release.set()
        holder.join(timeout=30)

    assert sequences(held) == [1]
    assert sequences(free) == [1]


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_loser_of_a_race_without_an_owner_row_gets_the_next_place(committed_audit_rows):
    inserted, committed = threading.Event(), threading.Event()
    outcome: dict[str, Any] = {}

    def first_writer() -> None:
        try:
            with transaction.atomic():
                chain_append(TopicEvent, chain_id="banjir", text="first")
                inserted.set()
                committed.wait(timeout=30)
        finally:
            connections.close_all()

    def second_writer() -> None:
        try:
            inserted.wait(timeout=10)
            with transaction.atomic():
                outcome["event"] = chain_append(TopicEvent, chain_id="banjir", text="second")
        except BaseException as error:
            outcome["error"] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first_writer), threading.Thread(target=second_writer)]
    for thread in threads:
        thread.start()
    try:
        # The second writer read an empty chain, so its insert of sequence 1 waits on the first's row.
        deadline = time.monotonic() + 10
        waiting = False
        while not waiting and time.monotonic() < deadline:
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                    "AND wait_event_type = 'Lock' AND query LIKE %s",
                    ['INSERT INTO "audit_app_topicevent"%'],
                )
                waiting = cursor.fetchone()[0] == 1
            time.sleep(0.02)
        assert waiting
    finally:
        committed.set()
        for thread in threads:
            thread.join(timeout=30)

    assert "error" not in outcome
    assert outcome["event"].sequence == 2
    assert chain_verify(TopicEvent).ok


# The command


def test_audit_verify_prints_ok_with_counts(ledger, other_ledger):
    for _ in range(3):
        append(ledger)
    append(other_ledger)
    anchor_create(LedgerEvent, upto=timezone.now())
    output, errors = StringIO(), StringIO()

    call_command("audit", "verify", stdout=output, stderr=errors)

    lines = output.getvalue().splitlines()
    assert "OK: 4 events in 2 chains (audit_app.ledgerevent)" in lines
    warnings = errors.getvalue()
    assert "WARNING: the table audit_app_topicevent is not append-only" in warnings
    assert "audit_app_ledgerevent" not in warnings
    assert "core_auditanchor" not in warnings
    assert "OK: 1 anchors, 1 recomputed (audit_app.ledgerevent)" in lines
    assert "OK: 0 events in 0 chains (audit_app.topicevent)" in lines


def test_audit_verify_fails_with_the_first_broken_link(ledger):
    events = [append(ledger) for _ in range(3)]
    with append_only_lifted(EVENT_TABLE):
        execute(f'DELETE FROM "{EVENT_TABLE}" WHERE id = %s', [events[1].pk])
    output, errors = StringIO(), StringIO()

    with pytest.raises(CommandError, match="The audit trail is broken"):
        call_command("audit", "verify", "--model", "audit_app.LedgerEvent", stdout=output, stderr=errors)

    assert f"BROKEN: audit_app.ledgerevent: Chain {ledger.pk} is missing entries before entry 3" in errors.getvalue()
    assert "OK: 0 anchors, 0 recomputed (audit_app.ledgerevent)" in output.getvalue()


@pytest.mark.parametrize("label", ["audit_app.Nothing", "nonsense", "audit_app.Ledger"])
def test_audit_verify_refuses_a_model_that_is_not_an_event_model(db, label):
    with pytest.raises(CommandError):
        call_command("audit", "verify", "--model", label)


def test_audit_anchor_anchors_now_and_prints_the_hash_to_publish(ledger):
    append(ledger)
    output = StringIO()

    call_command("audit", "anchor", stdout=output)

    anchors = list(AuditAnchor.objects.filter(model_label__startswith="audit_app.").order_by("model_label"))
    assert [anchor.model_label for anchor in anchors] == ["audit_app.ledgerevent", "audit_app.topicevent"]
    for anchor in anchors:
        assert f"Publish the anchor hash: {anchor.hash}" in output.getvalue()
    assert "Anchored audit_app.ledgerevent up to" in output.getvalue()


def test_audit_anchor_daily_and_upto(ledger):
    call_command("audit", "anchor", "--model", "audit_app.LedgerEvent", "--upto", "2026-01-01T00:00:00+07:00")
    anchor = AuditAnchor.objects.get()
    assert anchor.upto == datetime(2025, 12, 31, 17, 0, tzinfo=UTC)
    output = StringIO()
    call_command("audit", "anchor", "--daily", "--model", "audit_app.LedgerEvent", stdout=output)
    call_command("audit", "anchor", "--daily", "--model", "audit_app.LedgerEvent", stdout=output)
    assert output.getvalue().count("Anchored audit_app.ledgerevent") == 1
    assert "Nothing to anchor." in output.getvalue()
    with pytest.raises(CommandError, match="not an ISO 8601"):
        call_command("audit", "anchor", "--upto", "yesterday")
    with pytest.raises(CommandError, match="already anchored"):
        call_command("audit", "anchor", "--model", "audit_app.LedgerEvent", "--upto", "2026-01-01T00:00:00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_the_lapor_command_exits_non_zero_when_the_trail_is_broken(committed_audit_rows):
    ledger = Ledger.objects.create(name="cli")
    events = [append(ledger) for _ in range(2)]
    database = connection.settings_dict
    environment = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.settings",
        "LANGUAGE_CODE": "en",
        "DATABASE_URL": f"postgres://{database['USER']}@{database['HOST']}:{database['PORT']}/{database['NAME']}",
    }
    command = [sys.executable, "-m", "django", "audit", "verify", "--model", "audit_app.LedgerEvent"]

    healthy = subprocess.run(command, env=environment, cwd=ROOT, capture_output=True, text=True, check=False)
    assert healthy.returncode == 0, healthy.stderr
    assert "OK: 2 events in 1 chains (audit_app.ledgerevent)" in healthy.stdout

    execute(f'ALTER TABLE "{EVENT_TABLE}" DISABLE TRIGGER USER')
    execute(f"UPDATE \"{EVENT_TABLE}\" SET action = 'forged' WHERE id = %s", [events[0].pk])
    execute(f'ALTER TABLE "{EVENT_TABLE}" ENABLE TRIGGER USER')
    broken = subprocess.run(command, env=environment, cwd=ROOT, capture_output=True, text=True, check=False)
    assert broken.returncode == 1
    assert "was changed after it was recorded" in broken.stderr
