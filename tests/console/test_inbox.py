"""The console's inboxes: queues per role as tabs with counts, filters as a GET form, sorts, search,
keyset pages, saved filters, bulk actions, the keyboard shortcuts' help, privacy on the page, the
number of queries whatever the number of reports, and CSRF."""

from __future__ import annotations

import re
from datetime import timedelta
from urllib.parse import parse_qs, urlparse

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from lapor.core.ids import format_tracking_id
from lapor.institutions.services import category_create
from lapor.reports.choices import Channel, ReportKind, Status
from lapor.reports.models import Report, ReportSupport, SavedFilter
from lapor.reports.privacy import MASK
from lapor.reports.selectors import INBOX_PAGE_SIZE
from lapor.reports.services import (
    report_forward,
    report_hold,
    report_return,
    report_support,
)
from tests.console.conftest import password_only_login, verified_login
from tests.reports.test_inbox_selectors import (
    bulk_reports,
    dispatched,
    ids,
    make_overdue,
    make_yellow,
    ombudsman_member,
    referred,
)

INBOX = "console:inbox"
SENTINEL = "ZANZIBARSENTINEL"


def inbox(client: Client, **query: str):
    response = client.get(reverse(INBOX), query)
    assert response.status_code == 200
    return response


def shown(response) -> set[str]:
    return {row.report.tracking_id for row in response.context["rows"]}


def listed(response) -> list[str]:
    return [row.report.tracking_id for row in response.context["rows"]]


def tabs(response) -> dict[str, int]:
    return {tab["queue"].value: tab["count"] for tab in response.context["tabs"]}


def notes(response) -> list[str]:
    return [str(message) for message in get_messages(response.wsgi_request)]


# --- who gets in ------------------------------------------------------------------------------------


def test_the_inbox_is_for_verified_staff_only(world, client):
    url = reverse(INBOX)
    assert client.get(url).status_code == 302  # to the sign-in page
    client.force_login(world.member_of_public)
    assert client.get(url).status_code == 404  # no staff rights: as if there were no console
    password_only_login(client, world.coordinator)
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"].startswith((reverse("console:verify"), reverse("console:enroll")))


@pytest.mark.parametrize("name", ["inbox_bulk", "saved_filters"])
def test_the_other_inbox_pages_refuse_non_staff(world, client, name):
    url = reverse(f"console:{name}")
    assert client.post(url, {}).status_code == 302
    client.force_login(world.member_of_public)
    assert client.post(url, {}).status_code == 404
    assert client.get(url).status_code in (404, 405)


def test_the_inbox_answers_only_get(world, console_client):
    assert console_client(world.coordinator).post(reverse(INBOX)).status_code == 405


# --- queues per role --------------------------------------------------------------------------------


def test_the_national_admin_sees_its_queues_with_counts(world, console_client):
    unverified = world.submit(title="Belum diverifikasi")
    returned = report_return(user=world.coordinator, report=dispatched(world), reason="Bukan wewenang kota.").report
    late = make_overdue(dispatched(world, institution=world.regency))
    client = console_client(world.national_admin)

    first = inbox(client)
    assert first.context["queue"].value == "verifikasi"  # the first tab is the default
    assert shown(first) == ids(unverified)
    assert tabs(first) == {"verifikasi": 1, "dikembalikan": 1, "terlambat": 1, "semua": 3}
    assert shown(inbox(client, antrian="dikembalikan")) == ids(returned)
    assert shown(inbox(client, antrian="terlambat")) == ids(late)
    assert shown(inbox(client, antrian="semua")) == ids(unverified, returned, late)
    page = first.content.decode()
    assert 'aria-current="page"' in page
    assert "?antrian=terlambat" in page
    # A queue the user does not have shows their first one.
    assert shown(inbox(client, antrian="unit")) == ids(unverified)


def test_the_coordinator_sees_new_returned_overdue_and_its_subtree(world, console_client):
    new = dispatched(world, title="Baru")
    handed_back = report_return(
        user=world.officer,
        report=report_forward(user=world.coordinator, report=dispatched(world), units=[world.transport]).report,
        reason="Bukan urusan Dishub.",
    ).report
    late = make_overdue(dispatched(world, institution=world.transport))
    dispatched(world, institution=world.regency, title=SENTINEL)
    client = console_client(world.coordinator)

    response = inbox(client)
    assert response.context["queue"].value == "baru"
    assert shown(response) == ids(new)
    assert tabs(response) == {"baru": 1, "dikembalikan": 1, "terlambat": 1, "salinan": 0, "semua": 3}
    assert shown(inbox(client, antrian="dikembalikan")) == ids(handed_back)
    overdue = inbox(client, antrian="terlambat")
    assert shown(overdue) == ids(late)
    assert 'class="badge state-red"' in overdue.content.decode()
    everything = inbox(client, antrian="semua")
    assert shown(everything) == ids(new, handed_back, late)
    assert SENTINEL not in everything.content.decode()


def test_the_liaison_officer_sees_its_units_reports(world, console_client):
    mine = report_forward(user=world.coordinator, report=dispatched(world), units=[world.transport]).report
    late = make_overdue(
        report_forward(user=world.coordinator, report=dispatched(world), units=[world.transport]).report
    )
    report_forward(user=world.coordinator, report=dispatched(world, title=SENTINEL), units=[world.environment])
    client = console_client(world.officer)

    response = inbox(client)
    assert response.context["queue"].value == "unit"
    assert shown(response) == ids(mine, late)
    assert tabs(response) == {"unit": 2, "terlambat": 1, "salinan": 0}
    assert shown(inbox(client, antrian="terlambat")) == ids(late)
    assert SENTINEL not in response.content.decode()
    # Neither the bulk actions nor their checkboxes: a liaison officer does not verify reports.
    assert 'name="laporan"' not in response.content.decode()


def test_oversight_browses_read_only_and_the_ombudsman_sees_referrals(world, console_client):
    open_report = dispatched(world)
    dispatched(world, is_confidential=True, title=SENTINEL)
    sent_on = referred(world)
    oversight = inbox(console_client(world.oversight))
    assert tabs(oversight) == {"semua": 2}
    assert shown(oversight) == ids(open_report, sent_on)
    assert SENTINEL not in oversight.content.decode()
    assert 'name="laporan"' not in oversight.content.decode()

    ombudsman = inbox(console_client(ombudsman_member(world)), antrian="rujukan")
    assert shown(ombudsman) == ids(sent_on)
    assert tabs(ombudsman)["rujukan"] == 1


def test_an_outsiders_queues_are_empty(world, console_client):
    dispatched(world, title=SENTINEL)
    make_overdue(dispatched(world, title=SENTINEL))
    world.submit(target_institution=world.city, title=SENTINEL)
    client = console_client(world.outsider)
    for queue in ("baru", "dikembalikan", "terlambat", "salinan", "semua"):
        response = inbox(client, antrian=queue)
        assert shown(response) == set()
        assert set(tabs(response).values()) == {0}
        assert SENTINEL not in response.content.decode()
        assert shown(inbox(client, antrian=queue, q=SENTINEL.lower())) == set()


def test_no_reporter_data_on_the_page_and_masked_titles_for_anonymous_reports(world, console_client):
    anonymous = dispatched(world, title="Saya Rina Pelapor melapor lampu mati", is_anonymous=True)
    guest = dispatched(
        world, reporter=None, guest_name="Gita Tamu", guest_email="gita@example.id", guest_phone="081298765432"
    )
    for user in (world.national_admin, world.coordinator):
        page = inbox(console_client(user), antrian="semua").content.decode()
        assert format_tracking_id(anonymous.tracking_id) in page
        assert f"Saya {MASK} melapor lampu mati" in page
        assert format_tracking_id(guest.tracking_id) in page
        for identity in ("Rina", "rina@example.id", "Gita Tamu", "gita@example.id", "081298765432"):
            assert identity not in page


# --- filters, sorts, search and pages ---------------------------------------------------------------


def test_every_filter_works_as_a_get_form(world, console_client):
    lights = category_create(code="pju", name="Penerangan Jalan Umum")
    street = dispatched(world, category=lights, title="Lampu")
    suggestion = dispatched(world, kind=ReportKind.SUGGESTION, channel=Channel.SMS, title="Saran")
    late = make_overdue(dispatched(world, title="Terlambat"))
    warned = make_yellow(dispatched(world, title="Hampir"))
    held = report_hold(
        user=world.coordinator,
        report=dispatched(world),
        reason="Tunggu",
        resume_on=timezone.localdate() + timedelta(days=3),
    ).report
    nowhere = dispatched(world, village_code="", title="Tanpa lokasi")
    old = dispatched(world, title="Lama")
    Report.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=40))
    client = console_client(world.coordinator)

    def found(**query: str) -> set[str]:
        return shown(inbox(client, antrian="semua", **query))

    everything = ids(street, suggestion, late, warned, held, nowhere, old)
    assert found() == everything
    assert found(status="on_hold") == ids(held)
    assert found(tenggat="red") == ids(late)
    assert found(tenggat="yellow") == ids(warned)
    assert found(tenggat="paused") == ids(held)
    assert found(tenggat="green") == everything - ids(late, warned, held)
    assert found(kategori="pju") == ids(street)
    assert found(wilayah="36") == everything - ids(nowhere)
    assert found(wilayah="36.74.01") == everything - ids(nowhere)
    assert found(wilayah="36.74.01.1001") == everything - ids(nowhere)
    assert found(wilayah="36.03") == set()
    assert found(kanal="sms") == ids(suggestion)
    assert found(jenis="aspirasi") == ids(suggestion)
    month_ago = (timezone.localdate() - timedelta(days=30)).isoformat()
    assert found(sampai=month_ago) == ids(old)
    assert found(dari=month_ago) == everything - ids(old)
    assert found(kanal="sms", jenis="pengaduan") == set()


def test_invalid_filters_are_shown_next_to_their_fields(world, console_client):
    dispatched(world)
    response = inbox(
        console_client(world.coordinator), antrian="semua", wilayah="99.99", dari="2026-02-10", sampai="2026-01-01"
    )
    assert response.context["rows"] == []
    page = response.content.decode()
    assert "No region with this name or code." in page
    assert "The end of the period cannot be before its start." in page
    assert "Correct the filters above to see reports." in page


def test_sorts_and_search(world, console_client):
    body = "Mohon segera ditangani."
    soon = make_yellow(dispatched(world, title="Jalan berlubang di Serpong", body=body))
    later = dispatched(world, title="Taman kota kotor", body=body)
    overdue = make_overdue(dispatched(world, title="Jalan banjir", body=body))
    closed_clock = dispatched(world, title="Jalan gelap", body=body)
    closed_clock.clocks.update(stopped_at=timezone.now())
    client = console_client(world.coordinator)

    assert listed(inbox(client, antrian="semua")) == [
        overdue.tracking_id,
        soon.tracking_id,
        later.tracking_id,
        closed_clock.tracking_id,
    ]
    newest = listed(inbox(client, antrian="semua", urut="terbaru"))
    assert newest == [closed_clock.tracking_id, overdue.tracking_id, later.tracking_id, soon.tracking_id]
    assert listed(inbox(client, antrian="semua", urut="terlama")) == list(reversed(newest))
    assert shown(inbox(client, antrian="semua", q="jalan")) == ids(soon, overdue, closed_clock)
    assert shown(inbox(client, antrian="semua", q="jalan berlubang")) == ids(soon)
    assert shown(inbox(client, antrian="semua", q=format_tracking_id(later.tracking_id).lower())) == ids(later)


def test_keyset_pages_through_the_view(world, console_client):
    reports = bulk_reports(world, INBOX_PAGE_SIZE + 5, owner=world.city)
    client = console_client(world.coordinator)
    first = inbox(client, antrian="semua", urut="terbaru")
    assert first.context["first_page"]
    assert len(first.context["rows"]) == INBOX_PAGE_SIZE
    next_url = first.context["next_url"]
    assert next_url
    assert 'rel="next"' in first.content.decode()
    query = {key: values[0] for key, values in parse_qs(urlparse(next_url).query).items()}
    assert query["antrian"] == "semua"
    assert query["urut"] == "terbaru"
    second = inbox(client, **query)
    assert len(second.context["rows"]) == 5
    assert not second.context["next_url"]
    assert "Back to the first page" in second.content.decode()
    assert sorted(listed(first) + listed(second)) == sorted(report.tracking_id for report in reports)


# --- saved filters ----------------------------------------------------------------------------------


def test_saving_applying_and_deleting_a_filter(world, console_client):
    late = make_overdue(dispatched(world))
    dispatched(world)
    client = console_client(world.coordinator)
    page = inbox(client, antrian="semua", tenggat="red", setelah="abc")
    saved_query = page.context["current_query"]
    assert saved_query == "antrian=semua&tenggat=red"  # without the page, queue first

    response = client.post(
        reverse("console:saved_filters"),
        {"aksi": "simpan", "nama": "Terlambat di kota", "kueri": saved_query + "&evil=1"},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(INBOX) + "?antrian=semua&tenggat=red"
    saved = SavedFilter.objects.get(user=world.coordinator)
    assert saved.query == "antrian=semua&tenggat=red"

    listing = inbox(client)
    assert listing.context["saved_filters"] == [saved]
    assert 'href="/konsol/?antrian=semua&amp;tenggat=red"' in listing.content.decode()
    assert shown(client.get(response["Location"])) == ids(late)
    manage = client.get(reverse("console:saved_filters"))
    assert manage.status_code == 200
    assert "Terlambat di kota" in manage.content.decode()

    # Another staff member neither sees nor deletes it.
    other = console_client(world.officer)
    assert "Terlambat di kota" not in other.get(reverse("console:saved_filters")).content.decode()
    assert inbox(other).context["saved_filters"] == []
    assert other.post(reverse("console:saved_filters"), {"aksi": "hapus", "id": saved.pk}).status_code == 404
    assert SavedFilter.objects.filter(pk=saved.pk).exists()

    deleted = client.post(reverse("console:saved_filters"), {"aksi": "hapus", "id": saved.pk})
    assert deleted.status_code == 302
    assert not SavedFilter.objects.filter(pk=saved.pk).exists()


def test_a_filter_without_a_name_is_refused(world, console_client):
    client = console_client(world.coordinator)
    response = client.post(
        reverse("console:saved_filters"), {"aksi": "simpan", "nama": "", "kueri": "antrian=baru"}, follow=True
    )
    assert "This field is required." in response.content.decode()
    assert not SavedFilter.objects.exists()
    assert client.post(reverse("console:saved_filters"), {"aksi": "lain"}).status_code == 404


# --- bulk actions -----------------------------------------------------------------------------------


def test_bulk_dispatch_reports_each_reports_own_error(world, console_client):
    first, second = world.submit(title="Satu"), world.submit(title="Dua")
    already = dispatched(world, institution=world.regency)
    client = console_client(world.national_admin)
    response = client.post(
        reverse("console:inbox_bulk"),
        {
            "aksi": "disposisi",
            "instansi": "kota-tangsel",
            "laporan": [first.tracking_id, already.tracking_id, second.tracking_id, "23456789A"],
            "kembali": "antrian=verifikasi&evil=1",
        },
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(INBOX) + "?antrian=verifikasi"
    for report in (first, second):
        report.refresh_from_db()
        assert report.status == Status.DISPATCHED
        assert report.owner_id == world.city.pk
    already.refresh_from_db()
    assert already.owner_id == world.regency.pk
    messages = notes(response)
    assert any("2 reports dispatched to Pemerintah Kota Tangerang Selatan" in message for message in messages)
    assert any(message.startswith(format_tracking_id(already.tracking_id)) for message in messages)
    assert any("No report with this tracking ID." in message for message in messages)
    # The summary is shown on the inbox page the action returns to.
    page = client.get(response["Location"]).content.decode()
    assert "2 reports dispatched" in page


def test_bulk_dispatch_needs_a_known_institution(world, console_client):
    report = world.submit()
    client = console_client(world.national_admin)
    response = client.post(
        reverse("console:inbox_bulk"), {"aksi": "disposisi", "instansi": "tidak-ada", "laporan": [report.tracking_id]}
    )
    assert response.status_code == 302
    assert any("No active institution" in message for message in notes(response))
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED


def test_bulk_archive_as_duplicate_merges_so_supporters_follow_the_survivor(world, console_client):
    survivor = dispatched(world, title="Lampu mati (pertama)")
    duplicate = dispatched(world, title="Lampu mati lagi")
    report_support(user=world.member_of_public, report=duplicate)
    closed = dispatched(world)
    closed.status = Status.CLOSED
    closed.save(update_fields=["status"])
    client = console_client(world.coordinator)
    response = client.post(
        reverse("console:inbox_bulk"),
        {
            "aksi": "gabung",
            "ke": format_tracking_id(survivor.tracking_id),
            "laporan": [duplicate.tracking_id, closed.tracking_id],
        },
    )
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.status == Status.MERGED
    assert duplicate.merged_into_id == survivor.pk
    assert ReportSupport.objects.filter(report=survivor, user=world.member_of_public).exists()
    messages = notes(response)
    assert any("1 report archived as a duplicate of" in message for message in messages)
    assert any(message.startswith(format_tracking_id(closed.tracking_id)) for message in messages)


def test_bulk_merge_into_a_report_out_of_scope_is_not_found(world, console_client):
    survivor = world.submit(target_institution=world.regency)  # not published: only the regency sees it
    duplicate = dispatched(world)
    response = console_client(world.coordinator).post(
        reverse("console:inbox_bulk"),
        {"aksi": "gabung", "ke": survivor.tracking_id, "laporan": [duplicate.tracking_id]},
    )
    assert any("No report with this tracking ID." in message for message in notes(response))
    duplicate.refresh_from_db()
    assert duplicate.status == Status.DISPATCHED


def test_an_outsider_cannot_bulk_act_on_other_institutions_reports(world, console_client):
    theirs = dispatched(world, institution=world.regency)
    unpublished = world.submit(target_institution=world.city)
    published = dispatched(world)  # the public, and so any signed-in person, may read it: not act on it
    response = console_client(world.outsider).post(
        reverse("console:inbox_bulk"),
        {"aksi": "gabung", "ke": theirs.tracking_id, "laporan": [unpublished.tracking_id, published.tracking_id]},
    )
    assert response.status_code == 302
    messages = notes(response)
    assert f"{format_tracking_id(unpublished.tracking_id)}: No report with this tracking ID." in messages
    assert any(message.startswith(format_tracking_id(published.tracking_id)) for message in messages)
    assert not any("archived" in message for message in messages)
    for report, status in ((unpublished, Status.SUBMITTED), (published, Status.DISPATCHED)):
        report.refresh_from_db()
        assert report.status == status


@pytest.mark.parametrize(
    ("role", "action"),
    [("coordinator", "disposisi"), ("officer", "gabung"), ("officer", "disposisi"), ("oversight", "gabung")],
)
def test_bulk_actions_are_refused_to_the_wrong_role(world, console_client, role, action):
    report = world.submit(target_institution=world.city)
    survivor = dispatched(world)
    response = console_client(getattr(world, role)).post(
        reverse("console:inbox_bulk"),
        {
            "aksi": action,
            "instansi": "kota-tangsel-dishub",
            "ke": survivor.tracking_id,
            "laporan": [report.tracking_id],
        },
    )
    assert response.status_code == 404
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED


def test_csrf_is_required_for_every_post(world):
    report = world.submit()
    client = verified_login(Client(enforce_csrf_checks=True), world.national_admin)
    bulk = client.post(
        reverse("console:inbox_bulk"),
        {"aksi": "disposisi", "instansi": "kota-tangsel", "laporan": [report.tracking_id]},
    )
    assert bulk.status_code == 403
    saved = client.post(reverse("console:saved_filters"), {"aksi": "simpan", "nama": "x", "kueri": ""})
    assert saved.status_code == 403
    report.refresh_from_db()
    assert report.status == Status.SUBMITTED
    assert not SavedFilter.objects.exists()
    # With the token from the page, it works.
    page = client.get(reverse(INBOX)).content.decode()
    found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert found is not None
    token = found.group(1)
    done = client.post(
        reverse("console:inbox_bulk"),
        {
            "aksi": "disposisi",
            "instansi": "kota-tangsel",
            "laporan": [report.tracking_id],
            "csrfmiddlewaretoken": token,
        },
    )
    assert done.status_code == 302
    report.refresh_from_db()
    assert report.status == Status.DISPATCHED


# --- keyboard shortcuts -----------------------------------------------------------------------------


def test_keyboard_shortcuts_are_listed_and_progressive(world, console_client):
    dispatched(world)
    page = inbox(console_client(world.coordinator), antrian="semua").content.decode()
    assert '<details class="shortcuts">' in page
    assert "Keyboard shortcuts" in page
    for key in ("j", "k", "Enter", "x", "/", "g", "i"):
        assert f"<kbd>{key}</kbd>" in page
    assert re.search(r'<script src="[^"]*console/inbox\.js" defer>', page)
    assert "data-inbox-row" in page
    assert "data-inbox-search" in page
    assert "data-inbox-pick" in page
    # The report link is there without JavaScript (Enter on it opens the report).
    assert "data-inbox-open" in page


# --- speed ------------------------------------------------------------------------------------------


def _queries_to_render(client: Client, **query: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        inbox(client, **query)
    return len(captured.captured_queries)


@pytest.mark.parametrize("queue", ["baru", "terlambat", "semua", "dikembalikan"])
def test_the_inbox_renders_in_the_same_queries_whatever_the_number_of_reports(
    world, console_client, django_assert_max_num_queries, queue
):
    category_create(code="pju", name="Penerangan Jalan Umum")
    client = console_client(world.coordinator)
    bulk_reports(world, 30, owner=world.city)
    inbox(client)  # the session's first stamps are written once
    with_30 = _queries_to_render(client, antrian=queue)
    bulk_reports(world, 270, owner=world.city)
    with_300 = _queries_to_render(client, antrian=queue)
    assert with_30 == with_300
    with django_assert_max_num_queries(15):
        inbox(client, antrian=queue, q="jalan", tenggat="green", urut="terbaru")


def test_a_tab_counted_past_the_cap_says_more(world, console_client, monkeypatch):
    monkeypatch.setattr("lapor.reports.selectors.inbox.INBOX_COUNT_CAP", 3)
    monkeypatch.setattr("lapor.console.views.inbox.INBOX_COUNT_CAP", 3)
    bulk_reports(world, 4, owner=world.city)
    late = make_overdue(dispatched(world, institution=world.transport))
    response = inbox(console_client(world.coordinator))
    counted = {tab["queue"].value: (tab["count"], tab["more"]) for tab in response.context["tabs"]}
    assert counted["semua"] == (3, True)
    assert counted["terlambat"] == (1, False)
    page = response.content.decode()
    assert '<span class="count">(3+)</span>' in page
    assert '<span class="count">(1)</span>' in page
    assert shown(inbox(console_client(world.coordinator), antrian="terlambat")) == ids(late)
