"""Console tests use the report tests' small world (tests/reports/conftest.py) and staff clients that
are signed in the way the console requires: password AND a confirmed second factor.

    def test_inbox(world, console_client):
        client = console_client(world.coordinator)        # signed in, second factor proven
        assert client.get(reverse("console:inbox")).status_code == 200

    def test_something(world, client):
        verified_login(client, world.officer)              # the same, on a client you already have

`verified_login` signs in without the pages (force_login plus the session state the sign-in pages
leave: the verified django-otp device and the console session's clocks). `password_only_login` leaves a
staff member signed in with the password alone: every console page must then refuse to serve.
`totp_code(device)` computes the current code of an authenticator, as the phone app would.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, reverse
from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from lapor.accounts import signin
from lapor.accounts.models import User
from lapor.console import access
from lapor.console.access import SESSION_LAST_SEEN, SESSION_SIGNED_IN_AT
from lapor.reports.models import Report
from lapor.reports.services import report_attach, report_dispatch, report_forward
from tests.images import photo_upload
from tests.reports.conftest import World, cached_world

ConsoleClient = Callable[[User], Client]


@pytest.fixture
def world(db: None) -> World:
    return cached_world()


def confirmed_device(user: User) -> TOTPDevice:
    """The user's confirmed authenticator, set up when missing (as the enrolment page would)."""
    device = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)
    return device


def totp_code(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """The code the authenticator app shows now (or ``steps_ahead`` time steps later: a device accepts
    one step of drift and never the same step twice, so a second sign-in within 30 s uses the next)."""
    generator = TOTP(device.bin_key, step=device.step, t0=device.t0, digits=device.digits, drift=device.drift)
    generator.time = time.time() + steps_ahead * device.step
    return f"{generator.token():0{device.digits}d}"


def verified_login(client: Client, user: User) -> Client:
    """Signs ``user`` in on ``client`` with password and second factor proven, as the console requires."""
    device = confirmed_device(user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    now = time.time()
    session[SESSION_SIGNED_IN_AT] = now
    session[SESSION_LAST_SEEN] = now
    session.save()
    return client


def password_only_login(client: Client, user: User) -> Client:
    """Signs ``user`` in with the password alone, as the console's sign-in page leaves them before the
    second factor (the password step proven just now, no device verified in this session)."""
    from lapor.console.views.auth import SESSION_PASSWORD_AT

    client.force_login(user)
    session = client.session
    session[SESSION_PASSWORD_AT] = time.time()
    session.save()
    return client


@pytest.fixture
def console_client(db: None) -> ConsoleClient:
    """A factory: ``console_client(user)`` is a new Client signed in as ``user`` with the second factor."""

    def make(user: User) -> Client:
        return verified_login(Client(), user)

    return make


# --- every console URL, with arguments from a small world of reports ----------------------------------------
#
# The URLs are discovered from lapor.console.urls, so that pages added later are covered by the permission
# matrix (tests/console/test_matrix.py) and by the second-factor test without anyone remembering to.
# A URL with arguments takes them from URL_ARGUMENTS (URL name -> {argument: object name}); an argument
# not listed there is filled by ARGUMENT_DEFAULTS by its name; one that neither fills FAILS the test that
# needs it, with a message saying what to add.

AUTH_URL_NAMES = frozenset({"console:login", "console:verify", "console:enroll", "console:logout"})

# How an argument is filled when URL_ARGUMENTS does not say: a report's tracking ID is the forwarded report.
ARGUMENT_DEFAULTS: dict[str, str] = {"tracking_id": "forwarded"}

# Per URL name, which object of `console_objects` fills each argument (object name, optionally
# ".attribute"; the attribute defaults to tracking_id for reports and pk for the rest).
URL_ARGUMENTS: dict[str, dict[str, str]] = {
    "console:report_attachment": {"attachment_id": "forwarded_attachment"},
    "console:report_institutions": {"tracking_id": "new"},
    "console:manage_institution": {"pk": "city"},
    "console:manage_unit_create": {"pk": "city"},
    "console:manage_unit_rename": {"pk": "transport"},
    "console:manage_unit_activation": {"pk": "transport"},
    "console:manage_staff": {"pk": "city"},
    "console:manage_staff_invite": {"pk": "city"},
    "console:manage_membership_revoke": {"pk": "officer_membership"},
    "console:manage_membership_role": {"pk": "officer_membership"},
    "console:manage_membership_unlock": {"pk": "officer_membership"},
    "console:manage_deadlines": {"pk": "city"},
    "console:manage_deadline_remove": {"pk": "city"},
    "console:manage_templates": {"pk": "city"},
    "console:manage_template_edit": {"pk": "city_template"},
    "console:manage_template_delete": {"pk": "city_template"},
    "console:manage_categories": {"pk": "city"},
}


@dataclasses.dataclass(frozen=True)
class UrlCase:
    name: str  # "console:report"
    url: str
    route: str


def console_url_names() -> list[tuple[str, str, tuple[str, ...]]]:
    """(URL name, route, argument names) of every named console URL, in the order they are declared."""
    from lapor.console import urls

    found: list[tuple[str, str, tuple[str, ...]]] = []

    def walk(patterns: list[URLPattern | URLResolver], prefix: str, namespace: str) -> None:
        for entry in patterns:
            if isinstance(entry, URLResolver):
                inner = f"{namespace}:{entry.namespace}" if entry.namespace else namespace
                walk(entry.url_patterns, prefix + str(entry.pattern), inner)
            elif entry.name:
                converters = getattr(entry.pattern, "converters", {}) or {}
                arguments = tuple(converters) or tuple(entry.pattern.regex.groupindex)
                found.append((f"{namespace}:{entry.name}", prefix + str(entry.pattern), arguments))

    walk(list(urls.urlpatterns), "", urls.app_name)
    return found


@dataclasses.dataclass
class ConsoleObjects:
    """What console URLs point at: reports in several states, institutions, a membership, a template."""

    world: World
    objects: dict[str, Any]

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["objects"][name]
        except KeyError:
            raise AttributeError(name) from None


def _report_in_city(world: World, *, confidential: bool = False, copies: bool = True) -> Report:
    report = world.submit(is_confidential=confidential) if confidential else world.submit()
    report = report_dispatch(
        user=world.national_admin,
        report=report,
        institution=world.city,
        copies=[world.social_ministry] if copies else [],
    ).report
    return report_forward(user=world.coordinator, report=report, units=[world.transport]).report


def build_console_objects(world: World) -> ConsoleObjects:
    from lapor.accounts.models import Membership
    from lapor.institutions.services import follow_up_template_create

    objects: dict[str, Any] = {
        # Owned by the city, forwarded to its transport office, copied to the social ministry.
        "forwarded": _report_in_city(world),
        "confidential": _report_in_city(world, confidential=True, copies=False),
        # Not verified yet: the national admin's.
        "new": world.submit(title="Trotoar rusak di depan sekolah"),
        "city": world.city,
        "transport": world.transport,
        "environment": world.environment,
        "regency": world.regency,
        "national_root": world.national_root,
        "officer_membership": Membership.objects.get(user=world.officer, institution=world.transport),
        "city_template": follow_up_template_create(
            institution=world.city, name="Terima kasih", body="Terima kasih atas laporan {tracking_id}."
        ),
    }
    (objects["forwarded_attachment"],) = report_attach(
        user=world.reporter, report=objects["forwarded"], files=[photo_upload("bukti.jpg")]
    ).attachments
    return ConsoleObjects(world=world, objects=objects)


@pytest.fixture
def console_objects(world: World) -> ConsoleObjects:
    return build_console_objects(world)


class UnfilledUrlError(LookupError):
    pass


def _resolve(objects: ConsoleObjects, source: str) -> Any:
    name, _dot, attribute = source.partition(".")
    if name not in objects.objects:
        raise UnfilledUrlError(f"no object {name!r} in console_objects (tests/console/conftest.py)")
    value = objects.objects[name]
    if attribute:
        return getattr(value, attribute)
    if isinstance(value, Report):
        return value.tracking_id
    return value.pk


def console_url(name: str, arguments: tuple[str, ...], objects: ConsoleObjects) -> str:
    """The URL of ``name`` filled from ``objects``; raises UnfilledUrlError saying what to add."""
    table = URL_ARGUMENTS.get(name, {})
    kwargs: dict[str, Any] = {}
    for argument in arguments:
        source = table.get(argument) or ARGUMENT_DEFAULTS.get(argument)
        if source is None:
            raise UnfilledUrlError(
                f"{name}: cannot fill the URL argument {argument!r}. Add it to URL_ARGUMENTS in "
                "tests/console/conftest.py (and the object it names to build_console_objects)."
            )
        kwargs[argument] = _resolve(objects, source)
    return reverse(name, kwargs=kwargs)


def console_url_cases_for(objects: ConsoleObjects, *, include_auth: bool = False) -> list[UrlCase]:
    cases = []
    for name, route, arguments in console_url_names():
        if name in AUTH_URL_NAMES and not include_auth:
            continue
        try:
            url = console_url(name, arguments, objects)
        except UnfilledUrlError as error:
            pytest.fail(str(error))
        cases.append(UrlCase(name=name, url=url, route=route))
    return cases


@pytest.fixture
def console_url_cases(console_objects: ConsoleObjects) -> list[UrlCase]:
    """Every console URL behind the staff guard (all but sign-in, second factor and sign-out), filled."""
    return console_url_cases_for(console_objects)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch):
    """Moves the clocks of lockout and session expiry: ``clock.advance(minutes=16)``."""

    class Clock:
        offset = timedelta()

        def advance(self, **delta: float) -> None:
            self.offset += timedelta(**delta)

    moving = Clock()
    real_now = timezone.now
    real_seconds = access.now_seconds
    monkeypatch.setattr(signin, "clock", lambda: real_now() + moving.offset)
    monkeypatch.setattr(access, "now_seconds", lambda: real_seconds() + moving.offset.total_seconds())
    return moving
