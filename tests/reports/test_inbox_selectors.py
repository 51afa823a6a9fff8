"""The console's inbox selectors (reports.selectors, "the console's inboxes"): queues by role on top of
the access layer, deadline states, counts in one query, keyset pages in every order, the rows' masked
titles, and the saved-filter services.

The helpers at the top are shared with tests/console/test_inbox.py."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from lapor.accounts.choices import Role
from lapor.accounts.services import membership_grant, user_create
from lapor.core.ids import new_tracking_id
from lapor.institutions.models import Institution
from lapor.reports.choices import Clock, ClockState, Status
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report, ReportClock, SavedFilter
from lapor.reports.privacy import MASK
from lapor.reports.selectors import (
    Inbox,
    InboxFilters,
    InboxQueue,
    InboxSort,
    deadline_state_q,
    inbox_counts,
    inbox_page,
    saved_filters_of,
    staff_inbox,
)
from lapor.reports.services import (
    MAX_SAVED_FILTERS,
    report_dispatch,
    report_follow_up,
    report_forward,
    report_hold,
    report_refer,
    report_request_information,
    report_return,
    saved_filter_delete,
    saved_filter_save,
)
from tests.reports.conftest import World

# --- helpers (also used by tests/console/test_inbox.py) ---------------------------------------------


def dispatched(world: World, institution: Institution | None = None, **fields: object) -> Report:
    report = world.submit(**fields)
    return report_dispatch(user=world.national_admin, report=report, institution=institution or world.city).report


def make_overdue(report: Report) -> Report:
    """Every running clock of the report is past its due time."""
    now = timezone.now()
    ReportClock.objects.filter(report=report, stopped_at__isnull=True).update(
        started_at=now - timedelta(days=10), yellow_at=now - timedelta(days=2), due_at=now - timedelta(hours=1)
    )
    return report


def make_yellow(report: Report) -> Report:
    """Every running clock of the report has used more than 75% of its time, none is overdue."""
    now = timezone.now()
    ReportClock.objects.filter(report=report, stopped_at__isnull=True).update(
        started_at=now - timedelta(days=10), yellow_at=now - timedelta(hours=1), due_at=now + timedelta(days=1)
    )
    return report


def bulk_reports(world: World, count: int, *, owner: Institution, status: str = Status.DISPATCHED) -> list[Report]:
    """``count`` reports written straight to the tables (no events): for lists that must not grow in
    queries with their length. Each has a running first-follow-up clock, due on a different day."""
    now = timezone.now()
    reports = Report.objects.bulk_create(
        [
            Report(
                tracking_id=new_tracking_id(),
                title=f"Laporan massal {number}",
                body="Jalan berlubang di depan sekolah.",
                public_title=f"Laporan massal {number}",
                public_body="Jalan berlubang di depan sekolah.",
                incident_date=timezone.localdate(),
                reporter=world.reporter,
                owner=owner,
                status=status,
                created_at=now - timedelta(minutes=number),
                dispatched_at=now - timedelta(minutes=number),
            )
            for number in range(count)
        ]
    )
    ReportClock.objects.bulk_create(
        [
            ReportClock(
                report=report,
                clock=Clock.FIRST_FOLLOW_UP,
                started_at=now,
                yellow_at=now + timedelta(days=number % 7 + 1),
                due_at=now + timedelta(days=number % 7 + 2),
                budget=5,
                budget_unit="working_days",
            )
            for number, report in enumerate(reports)
        ]
    )
    return reports


def queue_ids(user: object, queue: InboxQueue, filters: InboxFilters | None = None) -> set[str]:
    page = inbox_page(staff_inbox(user), queue, filters, page_size=100)
    return {row.report.tracking_id for row in page.rows}


def ids(*reports: Report) -> set[str]:
    return {report.tracking_id for report in reports}


def ombudsman_member(world: World) -> object:
    member = user_create(full_name="Oma Ombudsman", email="oma@ombudsman.example.id", password=None)
    membership_grant(user=member, institution=world.ombudsman, role=Role.OVERSIGHT)
    return member


def referred(world: World) -> Report:
    report = dispatched(world, title="Tidak ada tanggapan enam puluh hari")
    ReportClock.objects.filter(report=report, clock=Clock.OVERALL).update(due_at=timezone.now() - timedelta(days=1))
    return report_refer(user=world.reporter, report=report).report


# --- queues by role ---------------------------------------------------------------------------------


def test_national_admin_queues(world):
    unverified = world.submit(title="Belum diverifikasi")
    waiting = report_request_information(user=world.national_admin, report=world.submit(), question="Di mana?").report
    to_city = dispatched(world)
    returned = report_return(user=world.coordinator, report=dispatched(world), reason="Bukan wewenang kota.").report
    late = make_overdue(dispatched(world, institution=world.regency))
    sent_to_city = world.submit(target_institution=world.city)  # the city verifies it, not the national admin

    assert returned.status == Status.RETURNED
    admin = world.national_admin
    assert queue_ids(admin, InboxQueue.VERIFY) == ids(unverified, waiting)
    assert queue_ids(admin, InboxQueue.RETURNED) == ids(returned)
    assert queue_ids(admin, InboxQueue.OVERDUE) == ids(late)
    assert queue_ids(admin, InboxQueue.ALL) == ids(unverified, waiting, to_city, returned, late, sent_to_city)
    assert list(staff_inbox(admin).queues) == [
        InboxQueue.VERIFY,
        InboxQueue.RETURNED,
        InboxQueue.OVERDUE,
        InboxQueue.ALL,
    ]


def test_coordinator_queues(world):
    new = dispatched(world, title="Baru didisposisikan")
    direct = world.submit(target_institution=world.city, title="Langsung ke kota")
    forwarded = report_forward(user=world.coordinator, report=dispatched(world), units=[world.transport]).report
    handed_back = report_return(
        user=world.officer,
        report=report_forward(user=world.coordinator, report=dispatched(world), units=[world.transport]).report,
        reason="Bukan urusan Dishub.",
    ).report
    # The city dispatched a report sent to it directly to its transport office, which returned it.
    routed = report_dispatch(
        user=world.coordinator, report=world.submit(target_institution=world.city), institution=world.transport
    ).report
    returned = report_return(user=world.officer, report=routed, reason="Bukan wewenang Dishub.").report
    late_unit = make_overdue(dispatched(world, institution=world.transport))
    elsewhere = make_overdue(dispatched(world, institution=world.regency))
    national = world.submit()

    assert handed_back.status == Status.DISPATCHED
    assert handed_back.owner_id == world.city.pk
    assert returned.status == Status.RETURNED
    assert returned.owner_id == world.city.pk
    coordinator = world.coordinator
    assert queue_ids(coordinator, InboxQueue.NEW) == ids(new, direct)
    assert queue_ids(coordinator, InboxQueue.RETURNED) == ids(handed_back, returned)
    assert queue_ids(coordinator, InboxQueue.OVERDUE) == ids(late_unit)
    assert queue_ids(coordinator, InboxQueue.ALL) == ids(new, direct, forwarded, handed_back, returned, late_unit)
    assert elsewhere.tracking_id not in queue_ids(coordinator, InboxQueue.ALL)
    assert national.tracking_id not in queue_ids(coordinator, InboxQueue.ALL)
    assert InboxQueue.VERIFY not in staff_inbox(coordinator).queues


def test_a_forwarded_report_leaves_new_and_a_follow_up_keeps_it_out_of_returned(world):
    report = dispatched(world)
    assert report.tracking_id in queue_ids(world.coordinator, InboxQueue.NEW)
    report_forward(user=world.coordinator, report=report, units=[world.transport, world.environment])
    assert report.tracking_id not in queue_ids(world.coordinator, InboxQueue.NEW)
    # One of two units hands it back: the other still works on it, so it is not a return yet.
    report_return(user=world.environment_officer, report=report, reason="Bukan urusan DLH.")
    assert report.tracking_id not in queue_ids(world.coordinator, InboxQueue.RETURNED)
    report_follow_up(user=world.officer, report=report, message="Sedang dicek.")
    report_return(user=world.officer, report=report, reason="Ternyata bukan urusan Dishub.")
    assert report.tracking_id in queue_ids(world.coordinator, InboxQueue.RETURNED)


def test_liaison_officer_queues(world):
    forwarded = report_forward(user=world.coordinator, report=dispatched(world), units=[world.transport]).report
    owned = dispatched(world, institution=world.transport)
    late = make_overdue(
        report_forward(user=world.coordinator, report=dispatched(world), units=[world.transport]).report
    )
    other_unit = report_forward(user=world.coordinator, report=dispatched(world), units=[world.environment]).report
    not_forwarded = dispatched(world)

    assert queue_ids(world.officer, InboxQueue.UNIT) == ids(forwarded, owned, late)
    assert queue_ids(world.officer, InboxQueue.OVERDUE) == ids(late)
    assert queue_ids(world.environment_officer, InboxQueue.UNIT) == ids(other_unit)
    assert not_forwarded.tracking_id not in queue_ids(world.officer, InboxQueue.UNIT)
    assert set(staff_inbox(world.officer).queues) == {InboxQueue.UNIT, InboxQueue.OVERDUE, InboxQueue.COPIES}


def test_copies_queue_and_masked_titles_for_copy_holders(world):
    report = world.submit(title="Bantuan sosial untuk Rina Pelapor belum cair")
    report = report_dispatch(
        user=world.national_admin, report=report, institution=world.city, copies=[world.social_ministry]
    ).report
    page = inbox_page(staff_inbox(world.copy_officer), InboxQueue.COPIES)
    assert [row.report.tracking_id for row in page.rows] == [report.tracking_id]
    # A copy holder may not know who filed it: the reporter's name is masked in the title.
    assert page.rows[0].title == f"Bantuan sosial untuk {MASK} belum cair"
    coordinator_row = inbox_page(staff_inbox(world.coordinator), InboxQueue.NEW).rows[0]
    assert coordinator_row.title == "Bantuan sosial untuk Rina Pelapor belum cair"


def test_anonymous_reports_have_masked_titles_for_everyone_but_their_reporter(world):
    dispatched(world, title="Saya Rina Pelapor, lampu mati", is_anonymous=True)
    for user in (world.national_admin, world.coordinator):
        box = staff_inbox(user)
        rows = inbox_page(box, InboxQueue.ALL).rows
        assert [row.title for row in rows] == [f"Saya {MASK}, lampu mati"]


def test_oversight_browses_its_scope_and_the_ombudsman_its_referrals(world):
    open_report = dispatched(world)
    confidential = dispatched(world, is_confidential=True)
    sent_back = referred(world)
    member = ombudsman_member(world)

    assert set(staff_inbox(world.oversight).queues) == {InboxQueue.ALL}
    assert queue_ids(world.oversight, InboxQueue.ALL) == ids(open_report, sent_back)
    assert confidential.tracking_id not in queue_ids(world.oversight, InboxQueue.ALL)
    assert queue_ids(member, InboxQueue.REFERRED) == ids(sent_back)
    assert not staff_inbox(member).may_dispatch
    assert not staff_inbox(member).may_merge


def test_an_outsider_has_queues_but_never_another_institutions_reports(world):
    make_overdue(dispatched(world))
    world.submit(target_institution=world.city)
    report_return(user=world.coordinator, report=dispatched(world), reason="Bukan wewenang.")
    box = staff_inbox(world.outsider)
    assert box.queues
    for queue in box.queues:
        assert queue_ids(world.outsider, queue) == set()
    assert set(inbox_counts(box).values()) == {0}


def test_confidential_reports_only_where_the_access_layer_allows(world):
    secret = dispatched(world, institution=world.transport, is_confidential=True)
    # The transport office owns it; the city above it does not see a confidential report of its unit.
    assert secret.tracking_id in queue_ids(world.officer, InboxQueue.UNIT)
    assert secret.tracking_id not in queue_ids(world.coordinator, InboxQueue.ALL)
    assert secret.tracking_id not in queue_ids(world.coordinator, InboxQueue.OVERDUE)
    assert secret.tracking_id in queue_ids(world.national_admin, InboxQueue.ALL)


def test_a_person_without_membership_has_no_queue(world):
    box = staff_inbox(world.member_of_public)
    assert box.queues == {}
    assert inbox_counts(box) == {}
    assert inbox_page(box, InboxQueue.ALL).rows == []


# --- deadline states and counts ---------------------------------------------------------------------


def test_deadline_states(world):
    green = dispatched(world)
    yellow = make_yellow(dispatched(world))
    red = make_overdue(dispatched(world))
    paused = report_hold(
        user=world.coordinator,
        report=dispatched(world),
        reason="Menunggu",
        resume_on=timezone.localdate() + timedelta(days=5),
    ).report
    now = timezone.now()

    def state(name: str) -> set[str]:
        return set(Report.objects.filter(deadline_state_q(name, now)).values_list("tracking_id", flat=True))

    assert state(ClockState.RED) == ids(red)
    assert state(ClockState.YELLOW) == ids(yellow)
    assert state(ClockState.GREEN) == ids(green)
    assert state(ClockState.PAUSED) == ids(paused)
    assert state("purple") == set()
    rows = {row.report.tracking_id: row for row in inbox_page(staff_inbox(world.coordinator), InboxQueue.ALL).rows}
    assert rows[red.tracking_id].deadline_state == ClockState.RED
    assert rows[yellow.tracking_id].deadline_state == ClockState.YELLOW
    assert rows[green.tracking_id].deadline_state == ClockState.GREEN
    assert rows[paused.tracking_id].deadline_state == ClockState.PAUSED
    nearest = rows[green.tracking_id].deadline
    assert nearest is not None
    assert nearest.clock == Clock.FIRST_FOLLOW_UP


def test_counts_match_the_queues_in_one_query(world, django_assert_num_queries):
    dispatched(world)
    make_overdue(dispatched(world, institution=world.transport))
    report_return(user=world.coordinator, report=dispatched(world), reason="Bukan wewenang.")
    world.submit(target_institution=world.city)
    for user in (world.national_admin, world.coordinator, world.officer, world.oversight):
        box = staff_inbox(user)
        with django_assert_num_queries(1):
            counts = inbox_counts(box)
        assert counts == {queue: len(queue_ids(user, queue)) for queue in box.queues}


# --- filters, search and pages ---------------------------------------------------------------------


def test_search_reads_the_reporters_words_only_where_the_viewer_may_know_them(world):
    named = dispatched(world, title="Jalan rusak", body="Saya Rina Pelapor, jalan di depan rumah rusak parah.")
    anonymous = dispatched(
        world, title="Sampah menumpuk", body="Saya Rina Pelapor, sampah tidak diangkut.", is_anonymous=True
    )
    for viewer in (world.coordinator, world.national_admin):
        box = staff_inbox(viewer)

        def found(text: str, box: Inbox = box) -> set[str]:
            return {row.report.tracking_id for row in inbox_page(box, InboxQueue.ALL, InboxFilters(text=text)).rows}

        assert found("rusak") == ids(named)
        assert found("sampah") == ids(anonymous)
        # The reporter's name finds the report filed openly, never the anonymous one.
        assert found("Rina") == ids(named)
        assert found(anonymous.tracking_id.lower()) == ids(anonymous)
        assert found("tidak-ada-kata-ini") == set()


def _walk(user: object, sort: InboxSort, page_size: int) -> list[str]:
    box = staff_inbox(user)
    seen: list[str] = []
    cursor = ""
    for _page in range(50):
        page = inbox_page(box, InboxQueue.ALL, sort=sort, cursor=cursor, page_size=page_size)
        seen += [row.report.tracking_id for row in page.rows]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor
    raise AssertionError("the pages never end")


@pytest.mark.parametrize("sort", list(InboxSort))
def test_keyset_pages_show_every_report_once_in_order(world, sort):
    reports = bulk_reports(world, 9, owner=world.city)
    # Two with the same due time, and one without any running clock (it comes last by deadline).
    ReportClock.objects.filter(report=reports[3]).update(due_at=reports[2].clocks.get().due_at)
    ReportClock.objects.filter(report=reports[8]).delete()
    seen = _walk(world.coordinator, sort, page_size=2)
    assert sorted(seen) == sorted(report.tracking_id for report in reports)
    rows = {report.tracking_id: report for report in Report.objects.filter(pk__in=[r.pk for r in reports])}
    if sort == InboxSort.NEWEST:
        assert seen == [r.tracking_id for r in sorted(rows.values(), key=lambda r: (r.created_at, r.pk), reverse=True)]
    elif sort == InboxSort.OLDEST:
        assert seen == [r.tracking_id for r in sorted(rows.values(), key=lambda r: (r.created_at, r.pk))]
    else:
        due = {clock.report_id: clock.due_at for clock in ReportClock.objects.filter(report__in=reports)}
        expected = sorted(rows.values(), key=lambda r: (r.pk not in due, due.get(r.pk) or timezone.now(), r.pk))
        assert seen == [r.tracking_id for r in expected]
        assert seen[-1] == reports[8].tracking_id


def test_a_cursor_of_another_order_or_garbage_starts_over(world):
    bulk_reports(world, 3, owner=world.city)
    box = staff_inbox(world.coordinator)
    first = inbox_page(box, InboxQueue.ALL, sort=InboxSort.NEWEST, page_size=1)
    assert first.next_cursor
    other = inbox_page(box, InboxQueue.ALL, sort=InboxSort.OLDEST, cursor=first.next_cursor, page_size=1)
    assert other.rows == inbox_page(box, InboxQueue.ALL, sort=InboxSort.OLDEST, page_size=1).rows
    for garbage in ("%%%", "bm90LWEtY3Vyc29y", "dGVuZ2dhdHx4fHk"):
        assert len(inbox_page(box, InboxQueue.ALL, cursor=garbage, page_size=1).rows) == 1


def test_a_page_costs_three_queries_whatever_its_length(world, django_assert_num_queries):
    bulk_reports(world, 40, owner=world.city)
    box = staff_inbox(world.coordinator)
    with django_assert_num_queries(3):
        page = inbox_page(box, InboxQueue.ALL, page_size=40)
    assert len(page.rows) == 40


# --- saved filters ----------------------------------------------------------------------------------


def test_saved_filters_belong_to_their_owner(world):
    saved = saved_filter_save(user=world.coordinator, name="Terlambat", query="?antrian=terlambat")
    assert saved.query == "antrian=terlambat"
    replaced = saved_filter_save(user=world.coordinator, name="Terlambat", query="antrian=terlambat&urut=terbaru")
    assert replaced.pk == saved.pk
    assert replaced.query == "antrian=terlambat&urut=terbaru"
    saved_filter_save(user=world.officer, name="Terlambat", query="antrian=unit")
    assert [item.name for item in saved_filters_of(world.coordinator)] == ["Terlambat"]
    assert saved_filters_of(world.coordinator).get().query == "antrian=terlambat&urut=terbaru"

    with pytest.raises(ReportError) as refused:
        saved_filter_delete(user=world.officer, saved_filter_id=saved.pk)
    assert refused.value.code == ReportErrorCode.NOT_FOUND
    assert SavedFilter.objects.filter(pk=saved.pk).exists()
    saved_filter_delete(user=world.coordinator, saved_filter_id=saved.pk)
    assert not SavedFilter.objects.filter(pk=saved.pk).exists()


def test_saved_filters_need_a_name_and_are_limited(world):
    with pytest.raises(ReportError) as unnamed:
        saved_filter_save(user=world.coordinator, name="  ", query="antrian=baru")
    assert unnamed.value.field == "name"
    with pytest.raises(ReportError):
        saved_filter_save(user=world.coordinator, name="Panjang", query="q=" + "x" * 1000)
    for number in range(MAX_SAVED_FILTERS):
        saved_filter_save(user=world.coordinator, name=f"Filter {number}", query="")
    with pytest.raises(ReportError):
        saved_filter_save(user=world.coordinator, name="Satu lagi", query="")


def test_counts_stop_at_the_cap_in_one_query(world, monkeypatch, django_assert_num_queries):
    """Each queue is counted up to INBOX_COUNT_CAP + 1 reports: beyond, the count says "more" without
    reading the rest; below, it is exact."""
    monkeypatch.setattr("lapor.reports.selectors.inbox.INBOX_COUNT_CAP", 3)
    bulk_reports(world, 6, owner=world.city)
    make_overdue(dispatched(world, institution=world.transport))
    box = staff_inbox(world.coordinator)
    with django_assert_num_queries(1):
        counts = inbox_counts(box)
    assert counts[InboxQueue.ALL] == 4  # 7 reports: more than 3
    assert counts[InboxQueue.NEW] == 4  # 6 reports nobody has worked on
    assert counts[InboxQueue.OVERDUE] == 1  # exact below the cap
    assert counts[InboxQueue.RETURNED] == 0
    assert counts[InboxQueue.COPIES] == 0


def test_a_large_queue_walked_by_deadline_pages_as_the_sorted_queue(world, monkeypatch):
    """A large queue by deadline is read from the running clocks in due order (in small batches here):
    page after page, the same rows in the same order as the queue sorted whole, the reports without a
    running clock last, a paused clock counting as none, each report once."""
    monkeypatch.setattr("lapor.reports.selectors.inbox.DEADLINE_WALK_BATCH", 2)
    with_clocks = bulk_reports(world, 9, owner=world.city)
    paused = with_clocks[4]
    ReportClock.objects.filter(report=paused).update(paused_at=timezone.now())
    second = ReportClock.objects.filter(report=with_clocks[6]).first()
    assert second is not None
    ReportClock.objects.create(
        report=with_clocks[6],
        clock=Clock.RESOLUTION,
        started_at=second.started_at,
        due_at=second.due_at - timedelta(days=30),
        yellow_at=second.yellow_at - timedelta(days=30),
        budget=second.budget,
        budget_unit=second.budget_unit,
    )
    without = bulk_reports(world, 3, owner=world.city)
    ReportClock.objects.filter(report__in=without).delete()
    box = staff_inbox(world.coordinator)

    def pages(**kwargs):
        rows, cursor = [], ""
        while True:
            page = inbox_page(box, InboxQueue.ALL, sort=InboxSort.DEADLINE, cursor=cursor, page_size=3, **kwargs)
            rows += [row.report.pk for row in page.rows]
            if page.next_cursor is None:
                return rows
            cursor = page.next_cursor

    sorted_whole = pages()
    walked = pages(queue_size=10**6)
    assert walked == sorted_whole
    assert len(walked) == len(set(walked)) == Report.objects.count()
    assert walked[0] == with_clocks[6].pk  # its second clock is the nearest of all
    assert set(walked[-4:]) == {paused.pk, *(report.pk for report in without)}


def test_a_walked_page_costs_a_few_queries_whatever_the_size(world, django_assert_max_num_queries):
    """The walk of a large queue: its batch of clocks and their check against the queue, the reports
    without a clock once the clocks run out, then the page's three queries."""
    bulk_reports(world, 40, owner=world.city)
    box = staff_inbox(world.coordinator)
    with django_assert_max_num_queries(6):
        page = inbox_page(box, InboxQueue.ALL, sort=InboxSort.DEADLINE, page_size=40, queue_size=10**6)
    assert len(page.rows) == 40


def test_a_large_search_walked_by_deadline_finds_what_the_sorted_search_finds(world, monkeypatch):
    monkeypatch.setattr("lapor.reports.selectors.inbox.DEADLINE_WALK_BATCH", 2)
    matching = bulk_reports(world, 7, owner=world.city)
    dispatched(world, title="Lampu mati", body="Lampu jalan di gang tiga mati sejak kemarin.")
    box = staff_inbox(world.coordinator)
    filters = InboxFilters(text="sekolah")

    def pages(**kwargs):
        rows, cursor = [], ""
        while True:
            page = inbox_page(box, InboxQueue.ALL, filters, InboxSort.DEADLINE, cursor=cursor, page_size=2, **kwargs)
            rows += [row.report.pk for row in page.rows]
            if page.next_cursor is None:
                return rows
            cursor = page.next_cursor

    walked = pages(queue_size=10**6)
    assert walked == pages()
    assert set(walked) == {report.pk for report in matching}
