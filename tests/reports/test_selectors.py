"""The public feed's reads: only what the public may see, whoever asks; filters at every level; keyset
pages; search of the public text on both databases; headline statistics; similar open reports; the
coarse map positions; and the moderation of public comments."""

from __future__ import annotations

import dataclasses
import importlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import AnonymousUser
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from lapor.accounts.services import user_create
from lapor.institutions.services import category_create
from lapor.regions.choices import RegionKind, RegionLevel
from lapor.regions.models import Region
from lapor.reports.choices import Action, ArchiveReason, ReportKind, Status
from lapor.reports.errors import ReportError, ReportErrorCode
from lapor.reports.models import Report, ReportEvent
from lapor.reports.privacy import MASK
from lapor.reports.selectors import (
    MAP_MIN_SOURCES,
    FeedFilters,
    FeedSort,
    InvalidRegionCode,
    SearchCount,
    district_code_of,
    district_map_positions,
    headline_stats,
    public_feed,
    public_report_detail,
    public_reports,
    public_search_count,
    search_words,
    similar_open_reports,
)
from lapor.reports.serializers import public_report, reporter_view, staff_view
from lapor.reports.services import (
    report_archive,
    report_comment,
    report_comment_hide,
    report_confirm,
    report_dispatch,
    report_follow_up,
    report_redact,
    report_support,
)
from lapor.reports.workflow import PUBLISHED
from tests.reports.conftest import VILLAGE

pytestmark = pytest.mark.django_db

OTHER_VILLAGE = "36.74.01.1002"  # same district (Serpong) as VILLAGE
OTHER_DISTRICT_VILLAGE = "36.74.02.1001"  # Kota Tangerang Selatan, another district
REGENCY_VILLAGE = "36.03.01.2001"  # Kabupaten Tangerang


@pytest.fixture
def places(world):
    rows = [
        (OTHER_VILLAGE, "36.74.01", RegionLevel.VILLAGE, RegionKind.URBAN_VILLAGE, "Lengkong Gudang"),
        ("36.74.02", "36.74", RegionLevel.DISTRICT, RegionKind.DISTRICT, "Serpong Utara"),
        (OTHER_DISTRICT_VILLAGE, "36.74.02", RegionLevel.VILLAGE, RegionKind.URBAN_VILLAGE, "Pakualam"),
        ("36.03.01", "36.03", RegionLevel.DISTRICT, RegionKind.DISTRICT, "Balaraja"),
        (REGENCY_VILLAGE, "36.03.01", RegionLevel.VILLAGE, RegionKind.RURAL_VILLAGE, "Saga"),
    ]
    for code, parent, level, kind, name in rows:
        Region.objects.create(code=code, parent_id=parent, level=level, kind=kind, name=name)
    return world


def publish(world, institution=None, **overrides) -> Report:
    report = world.submit(**overrides)
    return report_dispatch(user=world.national_admin, report=report, institution=institution or world.city).report


def filed_at(report: Report, moment: datetime) -> Report:
    Report.objects.filter(pk=report.pk).update(created_at=moment)
    report.refresh_from_db()
    return report


def tracking_ids(reports) -> list[str]:
    return [report.tracking_id for report in reports]


def everyone(world) -> list[object]:
    return [
        AnonymousUser(),
        world.reporter,
        world.member_of_public,
        world.outsider,
        world.coordinator,
        world.national_admin,
        world.oversight,
    ]


# --- what the public sees ---------------------------------------------------------------------------


def test_the_feed_shows_published_reports_only_whoever_asks(world):
    shown = publish(world)
    unverified = world.submit()
    confidential = publish(world, is_confidential=True)
    archived = report_archive(user=world.national_admin, report=world.submit(), reason=ArchiveReason.DUPLICATE).report
    closed = report_confirm(
        user=world.reporter,
        report=report_follow_up(user=world.coordinator, report=publish(world), message="Selesai.", final=True).report,
    ).report
    for viewer in everyone(world):
        ids = tracking_ids(public_feed(viewer, FeedFilters()).reports)
        assert shown.tracking_id in ids
        assert closed.tracking_id in ids
        for hidden in (unverified, confidential, archived):
            assert hidden.tracking_id not in ids, viewer
        assert public_report_detail(confidential.tracking_id, viewer) is None
        assert public_report_detail(unverified.tracking_id, viewer) is None
        assert public_report_detail(shown.tracking_id, viewer) is not None
    # The national admin may read the confidential one elsewhere (the console), never here.
    assert Report.objects.visible_to(world.national_admin).filter(pk=confidential.pk).exists()
    assert set(public_reports(world.national_admin)) == {shown, closed}


def test_filters_by_region_at_every_level(places):
    world = places
    here = publish(world)
    neighbour = publish(world, village_code=OTHER_VILLAGE)
    other_district = publish(world, village_code=OTHER_DISTRICT_VILLAGE)
    regency = publish(world, institution=world.regency, village_code=REGENCY_VILLAGE)
    nowhere = publish(world, village_code="")

    def found(code: str) -> set[str]:
        return set(tracking_ids(public_feed(None, FeedFilters(region_code=code)).reports))

    assert found(VILLAGE) == {here.tracking_id}
    assert found("36.74.01") == {here.tracking_id, neighbour.tracking_id}
    assert found("36.74") == {here.tracking_id, neighbour.tracking_id, other_district.tracking_id}
    assert found("36") == {here.tracking_id, neighbour.tracking_id, other_district.tracking_id, regency.tracking_id}
    assert found("36.03") == {regency.tracking_id}
    assert nowhere.tracking_id in found("")
    # "36.7" is no code; "36.74.0" would match 36.74.01 as a string prefix if codes were compared naively.
    with pytest.raises(InvalidRegionCode):
        public_feed(None, FeedFilters(region_code="36.74.0"))


def test_filters_by_institution_with_its_units(world):
    city = publish(world, institution=world.city)
    transport = publish(world, institution=world.transport)
    regency = publish(world, institution=world.regency)

    def found(institution) -> set[str]:
        return set(tracking_ids(public_feed(None, FeedFilters(institution=institution)).reports))

    assert found(world.city) == {city.tracking_id, transport.tracking_id}
    assert found(world.transport) == {transport.tracking_id}
    assert found(world.regency) == {regency.tracking_id}


def test_filters_by_category_status_kind_and_period(world):
    infrastructure = category_create(code="infrastruktur", name="Infrastruktur")
    lights = category_create(code="pju", name="Penerangan Jalan Umum", parent=infrastructure)
    health = category_create(code="kesehatan", name="Kesehatan")
    lamp = publish(world, category=lights)
    road = publish(world, category=infrastructure, kind=ReportKind.SUGGESTION)
    clinic = report_follow_up(user=world.coordinator, report=publish(world, category=health), message="Dicek.").report
    now = timezone.now()
    filed_at(lamp, now - timedelta(days=40))
    filed_at(road, now - timedelta(days=10))

    def found(**filters) -> set[str]:
        return set(tracking_ids(public_feed(None, FeedFilters(**filters)).reports))

    assert found(category=infrastructure) == {lamp.tracking_id, road.tracking_id}
    assert found(category=lights) == {lamp.tracking_id}
    assert found(status=Status.IN_PROGRESS) == {clinic.tracking_id}
    assert found(status=Status.DISPATCHED) == {lamp.tracking_id, road.tracking_id}
    # An unpublished status is no way in.
    assert found(status=Status.SUBMITTED) == set()
    assert found(kind=ReportKind.SUGGESTION) == {road.tracking_id}
    today = timezone.localdate()
    assert found(date_from=today - timedelta(days=11)) == {road.tracking_id, clinic.tracking_id}
    assert found(date_to=today - timedelta(days=10)) == {lamp.tracking_id, road.tracking_id}
    assert found(date_from=today - timedelta(days=41), date_to=today - timedelta(days=39)) == {lamp.tracking_id}


# --- pages ------------------------------------------------------------------------------------------


def test_newest_first_in_keyset_pages(world):
    base = timezone.now() - timedelta(days=1)
    reports = [filed_at(publish(world), base + timedelta(minutes=index)) for index in range(7)]
    # Two reports filed at the same moment are ordered by id, and neither is lost between pages.
    filed_at(reports[3], reports[2].created_at)
    expected = tracking_ids(sorted(reports, key=lambda report: (report.created_at, report.pk), reverse=True))
    seen: list[str] = []
    cursor = ""
    pages = 0
    while True:
        page = public_feed(None, FeedFilters(), FeedSort.NEWEST, cursor, page_size=3)
        seen += tracking_ids(page.reports)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == expected
    assert pages == 3


def test_most_supported_first_in_keyset_pages(world):
    reports = [publish(world) for _ in range(5)]
    supporters = [user_create(full_name=f"Pendukung {index}", email=f"p{index}@example.id") for index in range(3)]
    for index, report in enumerate(reports[:3]):
        for supporter in supporters[: index + 1]:
            report_support(user=supporter, report=report)
    first = public_feed(None, FeedFilters(), FeedSort.MOST_SUPPORTED, page_size=2)
    assert tracking_ids(first.reports) == [reports[2].tracking_id, reports[1].tracking_id]
    assert first.next_cursor is not None
    second = public_feed(None, FeedFilters(), FeedSort.MOST_SUPPORTED, first.next_cursor, page_size=2)
    assert tracking_ids(second.reports) == [reports[0].tracking_id, reports[4].tracking_id]
    assert second.next_cursor is not None
    third = public_feed(None, FeedFilters(), FeedSort.MOST_SUPPORTED, second.next_cursor, page_size=2)
    assert tracking_ids(third.reports) == [reports[3].tracking_id]
    assert third.next_cursor is None


def test_a_cursor_that_is_not_ours_shows_the_first_page(world):
    reports = [publish(world) for _ in range(3)]
    first = public_feed(None, FeedFilters(), FeedSort.NEWEST, page_size=2)
    for cursor in ("garbage", "!!!", "bnwxMnwz", "bnw="):
        assert public_feed(None, FeedFilters(), FeedSort.NEWEST, cursor, page_size=2) == first
    # A cursor of one order does not page the other.
    other = public_feed(None, FeedFilters(), FeedSort.MOST_SUPPORTED, first.next_cursor or "", page_size=2)
    assert other == public_feed(None, FeedFilters(), FeedSort.MOST_SUPPORTED, page_size=2)
    assert len(reports) == 3


def test_a_page_is_one_query_whatever_the_number_of_reports(world, django_assert_num_queries):
    for _ in range(8):
        publish(world)
    with django_assert_num_queries(1):
        page = public_feed(None, FeedFilters(region_code="36.74"), FeedSort.NEWEST, page_size=5)
        for report in page.reports:
            assert report.village is not None
            assert report.village.parent.parent.parent.code == "36"  # type: ignore[union-attr]
            assert report.owner.name
            assert report.category is None


def test_the_page_query_uses_neither_offset_nor_count(world):
    publish(world)
    publish(world)
    with CaptureQueriesContext(connection) as captured:
        page = public_feed(None, FeedFilters(), FeedSort.NEWEST, page_size=1)
        public_feed(None, FeedFilters(), FeedSort.NEWEST, page.next_cursor or "", page_size=1)
    for query in captured.captured_queries:
        assert "OFFSET" not in query["sql"].upper()
        assert "COUNT(" not in query["sql"].upper()


# --- search -----------------------------------------------------------------------------------------


def test_search_words():
    assert search_words("Lampu JALAN, lampu mati!") == ["lampu", "jalan", "mati"]
    assert search_words("lampu di jalan yang mati", drop_common=True) == ["lampu", "jalan", "mati"]
    assert len(search_words(" ".join(f"kata{index}" for index in range(20)))) == 8


def test_search_finds_every_word_in_the_public_text_only(world):
    lamp = publish(world, title="Lampu jalan mati", body="Gelap sekali di malam hari.")
    pothole = publish(world, title="Jalan berlubang", body="Lubang besar di depan pasar.")
    phone = publish(world, title="Petugas minta uang", body="Hubungi saya di 0812-3456-7890 untuk bukti.")
    redacted = publish(world, title="Pak Joko meminta pungutan", body="Di loket pelayanan KTP.")
    report_redact(
        user=world.coordinator, report=redacted, public_title="Petugas meminta pungutan", public_body="Di loket KTP."
    )

    def found(text: str) -> set[str]:
        return set(tracking_ids(public_feed(None, FeedFilters(text=text)).reports))

    assert found("jalan") == {lamp.tracking_id, pothole.tracking_id}
    assert found("JALAN lampu") == {lamp.tracking_id}
    assert found("lubang pasar") == {pothole.tracking_id}
    assert found("jalan kereta") == set()
    # The reporter's own words are not searched: the phone is masked, the name redacted.
    assert MASK in Report.objects.get(pk=phone.pk).public_body
    assert found("3456") == set()
    assert found("Joko") == set()
    assert found("pungutan") == {redacted.tracking_id}


def test_search_never_finds_a_confidential_or_unpublished_report(world):
    publish(world, title="Kata sandi rahasia", is_confidential=True)
    world.submit(title="Kata sandi belum terverifikasi")
    assert public_feed(world.national_admin, FeedFilters(text="sandi")).reports == []


@pytest.mark.postgres
def test_search_on_postgresql_stems_indonesian_words(world):
    lamp = publish(world, title="Lampu jalan mati", body="Jalanan gelap sekali di malam hari.")
    permit = publish(world, title="Perizinan usaha lambat", body="Pengurusan izin sudah tiga bulan.")

    def found(text: str) -> set[str]:
        return set(tracking_ids(public_feed(None, FeedFilters(text=text)).reports))

    assert found("jalanan") == {lamp.tracking_id}  # stemmed to "jalan"
    assert found("izin") == {permit.tracking_id}  # "perizinan" stems to "izin"
    assert found('"lampu jalan"') == {lamp.tracking_id}
    assert found("lampu -gelap") == set()


def plan_with_only(
    index: str, filters: FeedFilters, sort: FeedSort = FeedSort.NEWEST, forbid: tuple[str, ...] = ("seqscan",)
) -> str:
    """The plan of the feed's query when ``index`` is the one index of the reports table the planner
    may use (besides unique ones) and the ``forbid`` plan nodes are off: a test table is tiny, so this
    shows whether the planner can use ``index`` for the query at all. It can only if the index's
    expression and predicate are the query's, to the letter."""
    with CaptureQueriesContext(connection) as captured:
        public_feed(None, filters, sort)
    (query,) = captured.captured_queries
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT index.relname FROM pg_index JOIN pg_class index ON index.oid = pg_index.indexrelid "
            "WHERE pg_index.indrelid = 'reports_report'::regclass AND NOT pg_index.indisunique "
            "AND index.relname <> %s",
            [index],
        )
        for (name,) in cursor.fetchall():
            cursor.execute(f'DROP INDEX "{name}"')  # rolled back with the test's transaction
        for node in forbid:
            cursor.execute(f"SET LOCAL enable_{node} = off")
        cursor.execute("EXPLAIN " + query["sql"])
        return "\n".join(row[0] for row in cursor.fetchall())


@pytest.mark.postgres
def test_search_on_postgresql_is_answered_from_the_gin_index(world):
    publish(world, title="Lampu jalan mati")
    plan = plan_with_only("report_public_text_search", FeedFilters(text="lampu jalan"))
    assert "report_public_text_search" in plan, plan


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("index", "sort"),
    [("report_public_newest", FeedSort.NEWEST), ("report_public_supported", FeedSort.MOST_SUPPORTED)],
)
def test_pages_on_postgresql_walk_the_partial_index_of_their_order(world, index, sort):
    publish(world)
    plan = plan_with_only(index, FeedFilters(), sort, forbid=("seqscan", "bitmapscan", "sort"))
    assert f"Index Scan using {index}" in plan, plan
    assert "Sort" not in plan, plan


@pytest.mark.postgres
def test_a_region_filter_on_postgresql_can_use_the_prefix_index(world):
    publish(world)
    plan = plan_with_only("report_village_prefix", FeedFilters(region_code="36.74"))
    assert "report_village_prefix" in plan, plan


@pytest.mark.postgres
def test_the_feed_indexes_exist_on_postgresql(world):
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = 'reports_report'")
        names = {row[0] for row in cursor.fetchall()}
    assert {"report_public_text_search", "report_public_newest", "report_public_supported"} <= names
    assert "report_village_prefix" in names


def test_the_migration_indexes_exactly_the_published_statuses():
    for name in ("0003_public_feed_indexes", "0007_stored_search_vectors"):
        migration = importlib.import_module(f"lapor.reports.migrations.{name}")
        listed = migration.PUBLISHED.split("IN (")[1].rstrip(")").replace("'", "").split(", ")
        assert sorted(listed) == sorted(PUBLISHED)


# --- headline statistics ----------------------------------------------------------------------------


def test_headline_statistics_count_published_reports_only(world):
    quick = publish(world)
    slow = publish(world)
    waiting = publish(world)
    publish(world, is_confidential=True)
    world.submit()  # unverified
    now = timezone.now()
    last_year = filed_at(publish(world), now - timedelta(days=400))
    for report, hours in ((quick, 2), (slow, 50)):
        report_follow_up(user=world.coordinator, report=report, message="Ditangani.")
        Report.objects.filter(pk=report.pk).update(dispatched_at=now - timedelta(hours=hours), first_follow_up_at=now)
    stats = headline_stats(now)
    assert stats.reports_this_month == 3
    assert stats.dispatched == 3
    assert stats.followed_up == 2
    assert stats.followed_up_percent == 67
    assert stats.median_hours_to_first_follow_up == pytest.approx(26)
    assert stats.median_days_to_first_follow_up == pytest.approx(1.1)
    assert waiting.first_follow_up_at is None
    assert last_year.created_at < now - timedelta(days=365)


def test_headline_statistics_of_an_odd_number_and_of_nothing(world, django_assert_max_num_queries):
    empty = headline_stats(timezone.now())
    assert (empty.reports_this_month, empty.followed_up_share, empty.median_hours_to_first_follow_up) == (0, None, None)
    reports = [report_follow_up(user=world.coordinator, report=publish(world), message="Ok.").report for _ in range(3)]
    now = timezone.now()
    for report, hours in zip(reports, (1, 3, 30), strict=True):
        Report.objects.filter(pk=report.pk).update(dispatched_at=now - timedelta(hours=hours), first_follow_up_at=now)
    with django_assert_max_num_queries(2):
        stats = headline_stats(now)
    assert stats.median_hours_to_first_follow_up == pytest.approx(3)
    assert stats.median_whole_hours == 3


def test_this_months_count_starts_on_the_first_in_local_time(world):
    report = publish(world)
    # 1 March 00:30 in Jakarta is still February in UTC.
    filed_at(report, datetime(2026, 2, 28, 17, 30, tzinfo=UTC))
    with timezone.override("Asia/Jakarta"):
        assert headline_stats(datetime(2026, 3, 2, tzinfo=UTC)).reports_this_month == 1
    with timezone.override("UTC"):
        assert headline_stats(datetime(2026, 3, 2, tzinfo=UTC)).reports_this_month == 0


# --- similar open reports ---------------------------------------------------------------------------


def test_similar_open_reports_nearby_in_the_same_category(places):
    world = places
    lights = category_create(code="pju", name="Penerangan Jalan Umum")
    water = category_create(code="air", name="Air Bersih")
    best = publish(world, category=lights, title="Lampu jalan mati", body="Lampu jalan di depan pasar mati.")
    some = publish(world, category=lights, village_code=OTHER_VILLAGE, title="Lampu taman", body="Redup.")
    unrelated = publish(world, category=lights, title="Tiang miring", body="Tiang listrik hampir roboh.")
    other_category = publish(world, category=water, title="Lampu jalan mati juga", body="Lampu jalan mati.")
    other_district = publish(world, category=lights, village_code=OTHER_DISTRICT_VILLAGE, title="Lampu jalan mati")
    closed = report_confirm(
        user=world.reporter,
        report=report_follow_up(
            user=world.coordinator,
            report=publish(world, category=lights, title="Lampu jalan mati lagi"),
            message="Diganti.",
            final=True,
        ).report,
    ).report
    confidential = publish(world, category=lights, title="Lampu jalan mati", is_confidential=True)
    unverified = world.submit(category=lights, title="Lampu jalan mati")

    similar = similar_open_reports(
        category=lights, village_code=VILLAGE, text="Lampu jalan di gang mati sejak kemarin", limit=5
    )
    ids = tracking_ids(similar)
    assert ids[0] == best.tracking_id
    assert set(ids) == {best.tracking_id, some.tracking_id, unrelated.tracking_id}
    assert ids.index(some.tracking_id) < ids.index(unrelated.tracking_id)  # shares "lampu"
    for excluded in (other_category, other_district, closed, confidential, unverified):
        assert excluded.tracking_id not in ids
    assert tracking_ids(similar_open_reports(lights, VILLAGE, "jalan lampu", limit=1)) == [best.tracking_id]
    # Without a category: every open report nearby; without a place: nothing to compare with.
    assert other_category.tracking_id in tracking_ids(similar_open_reports(None, VILLAGE, "lampu jalan", limit=10))
    assert similar_open_reports(lights, "", "lampu") == []
    assert similar_open_reports(lights, "bukan kode", "lampu") == []
    # A district chosen without its village.
    assert best.tracking_id in tracking_ids(similar_open_reports(lights, "36.74.01", "lampu"))
    assert similar_open_reports(lights, VILLAGE, "", limit=5)


def test_similar_open_reports_cost_a_bounded_number_of_queries(world, django_assert_max_num_queries):
    for _ in range(6):
        publish(world, title="Lampu jalan mati")
    # The newest candidates, then (on PostgreSQL) their ranking: two queries, whatever the candidates.
    with django_assert_max_num_queries(2):
        similar = similar_open_reports(None, VILLAGE, "lampu jalan", limit=5)
        assert [report.village.parent.name for report in similar] == ["Serpong"] * 5  # type: ignore[union-attr]


# --- the map ----------------------------------------------------------------------------------------


def test_a_district_is_placed_only_once_enough_people_marked_points(places):
    world = places
    people = [user_create(full_name=f"Warga {index}", email=f"w{index}@example.id") for index in range(MAP_MIN_SOURCES)]
    near, far = (Decimal("-6.300"), Decimal("106.660")), (Decimal("-6.400"), Decimal("106.760"))
    # One person marking many reports counts once, with the mean of their points.
    for _ in range(MAP_MIN_SOURCES + 2):
        publish(world, reporter=people[0], latitude=far[0], longitude=far[1])
    assert district_map_positions(["36.74.01"]) == {}
    for person in people[1:-1]:
        publish(world, reporter=person, latitude=near[0], longitude=near[1])
    assert district_map_positions(["36.74.01"]) == {}
    # Confidential points do not count, and are not averaged in.
    publish(world, reporter=people[-1], latitude=Decimal("-7"), longitude=Decimal("110"), is_confidential=True)
    assert district_map_positions(["36.74.01"]) == {}
    publish(world, reporter=None, guest_email="tamu@example.id", latitude=near[0], longitude=near[1])
    positions = district_map_positions(["36.74.01", "36.74.02"])
    assert set(positions) == {"36.74.01"}
    # (far + 4 near) / 5 people, not (7 far + 4 near) / 11 reports; rounded to 0.01 degree.
    assert (positions["36.74.01"].latitude, positions["36.74.01"].longitude) == (-6.32, 106.68)
    assert district_code_of(VILLAGE) == "36.74.01"
    assert district_code_of("36.74") is None
    assert district_code_of(None) is None


# --- moderated comments -----------------------------------------------------------------------------


def test_staff_hide_a_public_comment_which_stays_in_the_trail(world):
    report = publish(world)
    kept = report_comment(user=world.member_of_public, report=report, message="Setuju, mohon segera.").event
    rude = report_comment(user=world.member_of_public, report=report, message="Dasar petugas malas semua!").event
    event = report_comment_hide(user=world.coordinator, report=report, sequence=rude.sequence, reason="Kasar.").event
    assert event.action == Action.REDACT
    assert event.details == {"hidden_comment": rude.sequence}
    public = public_report(Report.objects.get(pk=report.pk))
    texts = [item.text for item in public.events if item.action == Action.COMMENT]
    assert texts == ["Setuju, mohon segera."]
    assert "malas" not in str(dataclasses.asdict(reporter_view(Report.objects.get(pk=report.pk))))
    staff = staff_view(Report.objects.get(pk=report.pk), viewer=world.coordinator)
    assert any("malas" in item.text for item in staff.events)
    assert any(item.details.get("hidden_comment") == rude.sequence for item in staff.events)
    assert ReportEvent.objects.filter(pk=rude.pk).exists()
    assert kept.sequence != rude.sequence


def test_only_staff_who_may_redact_hide_comments(world):
    report = publish(world)
    comment = report_comment(user=world.member_of_public, report=report, message="Komentar.").event
    for outsider in (world.member_of_public, world.reporter, world.outsider, world.environment_officer):
        with pytest.raises(ReportError) as refused:
            report_comment_hide(user=outsider, report=report, sequence=comment.sequence, reason="Tidak suka.")
        assert refused.value.code == ReportErrorCode.ACTION_NOT_ALLOWED
    dispatch = ReportEvent.objects.get(report=report, action=Action.DISPATCH)
    with pytest.raises(ReportError) as not_a_comment:
        report_comment_hide(user=world.national_admin, report=report, sequence=dispatch.sequence, reason="X.")
    assert not_a_comment.value.code == ReportErrorCode.INVALID_TARGET
    with pytest.raises(ReportError) as no_reason:
        report_comment_hide(user=world.national_admin, report=report, sequence=comment.sequence, reason=" ")
    assert no_reason.value.code == ReportErrorCode.MISSING_REASON
    report_comment_hide(user=world.national_admin, report=report, sequence=comment.sequence, reason="Spam.")
    with pytest.raises(ReportError) as twice:
        report_comment_hide(user=world.coordinator, report=report, sequence=comment.sequence, reason="Spam.")
    assert twice.value.code == ReportErrorCode.INVALID_TARGET


def test_the_public_report_shows_the_institutions_deadlines_with_their_state(world):
    report = publish(world)
    detail = public_report_detail(report.tracking_id)
    assert detail is not None
    public = public_report(detail)
    clocks = {clock.clock: clock for clock in public.clocks}
    assert {"first_follow_up", "resolution", "overall", "verify_dispatch"} >= set(clocks)
    assert clocks["first_follow_up"].state == "green"
    assert clocks["first_follow_up"].state_label == "On time"
    assert "reporter_reply" not in clocks


def test_a_public_report_page_reads_in_a_bounded_number_of_queries(world, django_assert_max_num_queries):
    report = publish(world)
    for index in range(5):
        report_comment(user=world.member_of_public, report=report, message=f"Komentar {index}.")
    with django_assert_max_num_queries(4):
        detail = public_report_detail(report.tracking_id)
        assert detail is not None
        public = public_report(detail)
    assert len([event for event in public.events if event.action == Action.COMMENT]) == 5


@pytest.mark.parametrize("sort", list(FeedSort))
def test_search_pages_in_every_order_show_every_match_once(world, sort):
    matches = [
        publish(world, title=f"Jembatan rusak {number}", body="Jembatan retak. " * (number % 3 + 1))
        for number in range(7)
    ]
    publish(world, title="Taman kotor")
    seen, cursor = [], ""
    for _page in range(10):
        page = public_feed(None, FeedFilters(text="jembatan"), sort, cursor, page_size=2)
        seen += tracking_ids(page.reports)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert sorted(seen) == sorted(report.tracking_id for report in matches)
    count = public_search_count(None, FeedFilters(text="jembatan"))
    assert count == SearchCount(value=7, exact=True)
    assert public_search_count(None, FeedFilters()) is None


@pytest.mark.postgres
def test_relevance_puts_a_title_match_before_a_body_match(world):
    body_only = publish(world, title="Taman kota", body="Di dekat jembatan rusak.")
    title = publish(world, title="Jembatan rusak", body="Sudah lama.")
    filed_at(title, timezone.now() - timedelta(days=30))  # older, and still first
    page = public_feed(None, FeedFilters(text="jembatan"), FeedSort.RELEVANCE)
    assert tracking_ids(page.reports) == [title.tracking_id, body_only.tracking_id]
