"""Journeys through the operator console in a real browser, in Indonesian (the default language). Every
staff member signs in through the console's pages with a password and a TOTP code computed here from
the authenticator's key, as their phone would (the national admin first sets the authenticator up,
reading the key off the page):

- the national admin dispatches a new report to the institution the routing suggestion names; the
  city's coordinator forwards it to its transport office; the office's liaison officer posts a
  follow-up;
- an institution the report was dispatched to declares it "not our authority": the report returns to
  the dispatcher, who routes it again with a suggestion;
- an overdue report shows red and appears in the coordinator's overdue queue.
"""

from __future__ import annotations

import base64
import time
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice
from playwright.sync_api import Locator, Page, expect

from lapor.accounts.models import User
from lapor.reports.choices import Action, Status
from lapor.reports.models import Report, ReportAssignment, ReportClock
from lapor.reports.services import report_dispatch, report_forward
from tests.browser.conftest import Browsing, axe_violations, describe_violations
from tests.reports.conftest import World

pytestmark = [pytest.mark.browser, pytest.mark.usefixtures("indonesian_default")]

PASSWORD = "kata-sandi-konsol-yang-panjang"


def _code(key: bytes, *, not_before_step: int = -1) -> str:
    """The code an authenticator with ``key`` shows now; the next step's when this step was used already
    (a device never accepts one step twice, and accepts one step of drift)."""
    generator = TOTP(key)
    generator.time = time.time()
    if generator.t() <= not_before_step:
        generator.time += TOTP(key).step
    return f"{generator.token():06d}"


def _device_code(user: User) -> str:
    device = TOTPDevice.objects.get(user=user, confirmed=True)
    return _code(device.bin_key, not_before_step=device.last_t)


def _staff(world: World, *people: User) -> None:
    for user in people:
        user.set_password(PASSWORD)
        user.save(update_fields=["password"])
    for user in people:
        if user != world.national_admin:
            TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)


def send(page: Page, button: Locator, *, statuses: frozenset[int] = frozenset({200})) -> None:
    """Click a form's button and wait for the page it leads to: never an error of the server or CSRF."""
    with page.expect_navigation() as navigation:
        button.click()
    response = navigation.value
    assert response is not None
    assert response.status in statuses, f"{response.status}: {page.inner_text('body')[:800]}"


def _password_step(page: Page, user: User) -> None:
    page.goto(reverse("console:login"))
    page.locator("[name=login]").fill(user.email or "")
    page.locator("[name=password]").fill(PASSWORD)
    send(page, page.locator("main form button[type=submit]").first)


def sign_in(browsing: Browsing, user: User) -> Page:
    """A new browser signed in to the console as ``user``: password, then the code from the device."""
    page = browsing.page()
    _password_step(page, user)
    assert page.url.endswith(reverse("console:verify")), page.url
    # Without the second factor nothing of the console opens.
    page.goto(reverse("console:inbox"))
    assert reverse("console:verify") in page.url
    page.locator("[name=code]").fill(_device_code(user))
    send(page, page.locator("main form button[type=submit]").first)
    assert page.url.endswith(reverse("console:inbox")), page.url
    return page


def enrol_and_sign_in(browsing: Browsing, user: User) -> Page:
    """The first sign-in: set the authenticator up from the key shown as text, keep the recovery codes."""
    page = browsing.page()
    _password_step(page, user)
    assert page.url.endswith(reverse("console:enroll")), page.url
    expect(page.locator(".qr svg")).to_be_visible()
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    page.locator("[name=code]").fill(_code(key))
    send(page, page.locator("main form button[type=submit]").first)
    expect(page.locator("#recovery-codes li")).to_have_count(10)
    send(page, page.locator("main a.button-primary"))
    assert page.url.endswith(reverse("console:inbox")), page.url
    return page


def open_report(page: Page, report: Report, *, queue: str = "") -> None:
    """From the inbox (a queue of it), open the report by its link."""
    page.goto(reverse("console:inbox") + (f"?antrian={queue}" if queue else ""))
    link = page.locator(f"a[data-inbox-open][href='{reverse('console:report', args=[report.tracking_id])}']")
    send(page, link)


def test_dispatch_with_a_suggestion_forward_to_a_unit_and_follow_up(browsing: Browsing, world: World) -> None:
    _staff(world, world.national_admin, world.coordinator, world.officer)
    report = world.submit(title="Lampu lalu lintas mati di simpang Ciater")

    admin = enrol_and_sign_in(browsing, world.national_admin)
    open_report(admin, report, queue="verifikasi")
    dispatch = admin.locator("#dispatch")
    suggestion = dispatch.locator(f"input[name=dispatch-institution][value='{world.city.code}']")
    expect(suggestion).to_be_visible()
    suggestion.check()
    send(admin, dispatch.locator("button[type=submit]"))
    report.refresh_from_db()
    assert report.status == Status.DISPATCHED
    assert report.owner == world.city

    coordinator = sign_in(browsing, world.coordinator)
    open_report(coordinator, report, queue="baru")
    forward = coordinator.locator("#forward")
    forward.locator(f"input[name=forward-units][value='{world.transport.code}']").check()
    send(coordinator, forward.locator("button[type=submit]"))
    assert ReportAssignment.objects.filter(report=report, unit=world.transport, is_active=True).exists()

    officer = sign_in(browsing, world.officer)
    open_report(officer, report, queue="unit")
    follow_up = officer.locator("#follow_up")
    follow_up.locator("[name=follow_up-message]").fill("Petugas Dishub memperbaiki lampu besok pagi.")
    send(officer, follow_up.locator("button[type=submit]"))
    report.refresh_from_db()
    assert report.status == Status.IN_PROGRESS
    assert report.events.filter(action=Action.FOLLOW_UP, actor=world.officer).exists()
    expect(officer.locator("main")).to_contain_text("Petugas Dishub memperbaiki lampu besok pagi.")


def test_not_our_authority_returns_the_report_to_the_dispatcher_who_routes_it_again(
    browsing: Browsing, world: World
) -> None:
    _staff(world, world.national_admin, world.outsider)
    report = world.submit(title="Jalan berlubang di Ciater")
    report = report_dispatch(user=world.national_admin, report=report, institution=world.regency).report

    regency = sign_in(browsing, world.outsider)
    open_report(regency, report, queue="baru")
    panel = regency.locator("#return")
    panel.locator("[name=return-reason]").fill("Ciater ada di Kota Tangerang Selatan, bukan Kabupaten Tangerang.")
    # The report is no longer the regency's: the answer must be a page it may see (its inbox, saying the
    # report was returned), not the report's page, which is now a 404 for it.
    send(regency, panel.locator("button[type=submit]"))
    report.refresh_from_db()
    assert report.status == Status.RETURNED
    assert report.owner != world.regency

    admin = enrol_and_sign_in(browsing, world.national_admin)
    open_report(admin, report, queue="dikembalikan")
    expect(admin.locator("main")).to_contain_text("bukan Kabupaten Tangerang")
    dispatch = admin.locator("#dispatch")
    dispatch.locator(f"input[name=dispatch-institution][value='{world.city.code}']").check()
    send(admin, dispatch.locator("button[type=submit]"))
    report.refresh_from_db()
    assert report.status == Status.DISPATCHED
    assert report.owner == world.city


def test_an_overdue_report_shows_red_in_the_coordinators_overdue_queue(browsing: Browsing, world: World) -> None:
    _staff(world, world.national_admin, world.coordinator)
    late = report_forward(
        user=world.coordinator,
        report=report_dispatch(
            user=world.national_admin, report=world.submit(title="Sampah menumpuk di pasar"), institution=world.city
        ).report,
        units=[world.transport],
    ).report
    on_time = report_dispatch(
        user=world.national_admin, report=world.submit(title="Trotoar retak"), institution=world.city
    ).report
    # Time passes: the first report's running deadlines ended yesterday.
    now = timezone.now()
    ReportClock.objects.filter(report=late, stopped_at__isnull=True).update(
        started_at=now - timedelta(days=10), yellow_at=now - timedelta(days=3), due_at=now - timedelta(days=1)
    )

    coordinator = sign_in(browsing, world.coordinator)
    coordinator.goto(reverse("console:inbox") + "?antrian=terlambat")
    rows = coordinator.locator("tr[data-inbox-row]")
    expect(rows).to_have_count(1)
    row = rows.first
    expect(row).to_contain_text("Sampah menumpuk di pasar")
    badge = row.locator(".badge.state-red")
    expect(badge).to_be_visible()
    red = coordinator.evaluate("() => getComputedStyle(document.documentElement).getPropertyValue('--red').trim()")
    assert red, "the stylesheet defines no --red"
    colour = badge.evaluate("element => getComputedStyle(element).color")
    probe = coordinator.evaluate(
        "value => { const probe = document.createElement('span'); probe.style.color = value;"
        " document.body.append(probe); const colour = getComputedStyle(probe).color; probe.remove();"
        " return colour; }",
        red,
    )
    assert colour == probe, f"the overdue badge is {colour}, not red ({probe})"
    assert on_time.tracking_id not in rows.first.inner_text()

    send(coordinator, row.locator("a[data-inbox-open]"))
    expect(coordinator.locator("main .badge.state-red").first).to_be_visible()


def test_the_sign_in_pages_have_no_serious_accessibility_problems(browsing: Browsing, world: World) -> None:
    _staff(world, world.coordinator)
    page = browsing.page()
    problems = {}
    page.goto(reverse("console:login"))
    problems["login"] = axe_violations(page)
    page.locator("[name=login]").fill("koordinator@example.id")
    page.locator("[name=password]").fill("salah")
    send(page, page.locator("main form button[type=submit]").first)
    problems["login with an error"] = axe_violations(page)
    TOTPDevice.objects.filter(user=world.coordinator).delete()
    _password_step(page, world.coordinator)
    problems["enroll"] = axe_violations(page)
    page = enrol_and_sign_in(browsing, world.coordinator)
    page.goto(reverse("console:security"))
    problems["security"] = axe_violations(page)
    found = {name: describe_violations(violations) for name, violations in problems.items() if violations}
    assert not found, found


def test_the_inbox_fits_a_phone_and_staff_find_institutions_by_name(browsing: Browsing, world: World) -> None:
    _staff(world, world.national_admin)
    reports = [
        world.submit(title="Lampu penerangan jalan umum di sepanjang Jalan Raya Ciater Barat mati total sejak lama"),
        world.submit(title="Trotoar retak"),
        world.submit(title="Saluran air tersumbat sampah di depan Pasar Ciater hingga banjir setiap hujan deras"),
    ]

    admin = enrol_and_sign_in(browsing, world.national_admin)
    admin.set_viewport_size({"width": 390, "height": 844})
    admin.goto(reverse("console:inbox") + "?antrian=verifikasi")
    rows = admin.locator("tr[data-inbox-row]")
    expect(rows).to_have_count(len(reports))
    width = admin.evaluate("() => document.documentElement.scrollWidth")
    assert width <= 390, f"the inbox is {width} px wide on a 390 px screen"
    for index in range(len(reports)):
        row = rows.nth(index)
        for cell in (row.locator(".cell-id"), row.locator(".cell-title"), row.locator(".cell-status")):
            expect(cell).to_be_visible()
            box = cell.bounding_box()
            assert box is not None
            assert box["x"] >= 0, (cell.inner_text(), box)
            assert box["x"] + box["width"] <= 390, (cell.inner_text(), box)
    expect(rows.first.locator(".cell-status")).to_contain_text("Belum Terverifikasi")
    problems = describe_violations(axe_violations(admin))
    assert not problems, problems

    # "Or another institution" and "Copies to" take names: typing part of one lists the matches.
    open_report(admin, reports[1], queue="verifikasi")
    assert admin.evaluate("() => document.documentElement.scrollWidth") <= 390
    dispatch = admin.locator("#dispatch")
    expect(dispatch).to_contain_text("60 hari kerja")  # what "Bobot" means, next to it
    typed = dispatch.locator("[name=dispatch-other_institution]")
    typed.press_sequentially("perhubung")
    choice = dispatch.locator(".institution-results button", has_text=world.transport.name)
    expect(choice).to_be_visible()
    choice.click()
    expect(typed).to_have_value(f"{world.transport.name} ({world.transport.code})")
    copies = dispatch.locator("[name=dispatch-copies]")
    copies.press_sequentially("sosial")
    dispatch.locator(".institution-results button", has_text=world.social_ministry.name).click()
    expect(copies).to_have_value(f"{world.social_ministry.name} ({world.social_ministry.code}), ")
    send(admin, dispatch.locator("button[type=submit]"))
    report = reports[1]
    report.refresh_from_db()
    assert (report.status, report.owner) == (Status.DISPATCHED, world.transport)
    assert list(report.copies.values_list("institution", flat=True)) == [world.social_ministry.pk]
