"""The console's permission matrix: every console URL × every kind of visitor.

URLs are discovered from ``lapor.console.urls`` when the tests are collected, so a page added later is
tested without anyone remembering to; its arguments come from ``tests/console/conftest.py``
(``URL_ARGUMENTS``; a URL it cannot fill fails). Every URL needs a row in EXPECTATIONS below: a URL
without one fails, so that who may use a new page is decided deliberately, not by accident.

The rules, from the console issue (#6) and the console brief:
- anonymous visitors are sent to the console's sign-in page;
- a signed-in citizen (here the reporter of the reports themselves) gets 404: the console does not exist
  for them;
- staff outside the scope of what a URL is about (another institution, a sibling unit, a role that does
  not manage) get 404 too: existence is not revealed; never 403, never 200 with data;
- the roles allowed get 200 for a page, and for a POST-only URL (posted empty) a redirect or the page
  again with the form's errors (400): never 403, 404 or 500.
Every staff client here has proven its second factor (tests/console/test_auth.py checks that without it
nothing is served).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from django.urls import reverse

from lapor.accounts.models import User
from lapor.regions.models import Region
from tests.console.conftest import (
    AUTH_URL_NAMES,
    ConsoleObjects,
    UnfilledUrlError,
    build_console_objects,
    console_url,
    console_url_names,
    verified_login,
)
from tests.reports.conftest import World, cached_world

# Who visits. "citizen" is the reporter of every report in the world; "sibling_officer" is the liaison
# officer of the city's environment office (a unit next to the one the report was forwarded to);
# "copy_holder" the liaison officer of the ministry that received a copy; "outsider" the coordinator of an
# unrelated regency.
ROLES = (
    "anonymous",
    "citizen",
    "national_admin",
    "coordinator",
    "officer",
    "sibling_officer",
    "oversight",
    "copy_holder",
    "outsider",
)
STAFF_ROLES = frozenset(ROLES) - {"anonymous", "citizen"}
PEOPLE: dict[str, Callable[[World], User]] = {
    "citizen": lambda world: world.reporter,
    "national_admin": lambda world: world.national_admin,
    "coordinator": lambda world: world.coordinator,
    "officer": lambda world: world.officer,
    "sibling_officer": lambda world: world.environment_officer,
    "oversight": lambda world: world.oversight,
    "copy_holder": lambda world: world.copy_officer,
    "outsider": lambda world: world.outsider,
}

PAGE_OK = frozenset({200})
# A post with no data (or the data of the row) by an allowed role: a redirect, or the form again with its
# errors (200 from a form page, 400 from an action posted from another page).
POST_OK = frozenset({200, 302, 303, 400})
# Who sees the report that is owned by the city, forwarded to its transport office and copied to the
# social ministry (conftest's "forwarded"): the national admin, the city's coordinator, the transport
# office, the oversight body, and the copy holder. Not the sibling unit, not the unrelated regency.
REPORT_VIEWERS = frozenset({"national_admin", "coordinator", "officer", "oversight", "copy_holder"})
# Who manages the city (its coordinator) and every institution (the national admin).
CITY_MANAGERS = frozenset({"national_admin", "coordinator"})


@dataclasses.dataclass(frozen=True)
class Expect:
    # "GET" for a page, "POST" for a POST-only URL, both for a form page (GET, then POST, each checked).
    methods: tuple[str, ...]
    allowed: frozenset[str]
    # What an allowed role posts; most URLs are posted empty. A view that answers an invalid post with 404
    # (as if the URL did not exist) needs valid data here for the allowed roles to show.
    data: dict[str, str] = dataclasses.field(default_factory=dict)
    # Who may post to a form page when fewer than may see it (None: the same).
    post_allowed: frozenset[str] | None = None

    def allowed_for(self, method: str) -> frozenset[str]:
        if method == "POST" and self.post_allowed is not None:
            return self.post_allowed
        return self.allowed


def page(allowed: frozenset[str] | set[str]) -> Expect:
    return Expect(("GET",), frozenset(allowed))


def form_page(allowed: frozenset[str] | set[str], *, post_allowed: frozenset[str] | set[str] | None = None) -> Expect:
    return Expect(
        ("GET", "POST"), frozenset(allowed), post_allowed=None if post_allowed is None else frozenset(post_allowed)
    )


def post(allowed: frozenset[str] | set[str], **data: str) -> Expect:
    return Expect(("POST",), frozenset(allowed), data)


def _report_action() -> Expect:
    # Everyone who may see the report reaches the action; whether it is allowed for them now is the
    # workflow's answer (a message and a redirect back), never a 404 that would deny what they can see.
    return post(REPORT_VIEWERS)


EXPECTATIONS: dict[str, Expect] = {
    # Sign-in and security: every staff member, about their own account.
    "console:security": page(STAFF_ROLES),
    "console:security_recovery_codes": post(STAFF_ROLES),
    "console:security_sessions_end": post(STAFF_ROLES),
    # Inbox: every staff member has one (its queues differ by role).
    "console:inbox": page(STAFF_ROLES),
    # Bulk dispatch and archiving: those who dispatch (the national admin, coordinators in their own
    # institution: the outsider is the regency's coordinator). Others get 404, not an empty form.
    "console:inbox_bulk": post(CITY_MANAGERS | {"outsider"}),
    "console:saved_filters": page(STAFF_ROLES),
    # The report workspace and its files.
    "console:report": page(REPORT_VIEWERS),
    "console:report_attachment": page(REPORT_VIEWERS),
    # Institutions by name for the dispatch form: only for who may dispatch the report now (the new
    # report, still with the national institution: the national admin); 404 for everyone else.
    "console:report_institutions": page({"national_admin"}),
    "console:report_dispatch": _report_action(),
    "console:report_forward": _report_action(),
    "console:report_follow_up": _report_action(),
    "console:report_request_information": _report_action(),
    "console:report_return": _report_action(),
    "console:report_hold": _report_action(),
    "console:report_resume": _report_action(),
    "console:report_archive": _report_action(),
    "console:report_merge": _report_action(),
    "console:report_note": _report_action(),
    "console:report_comment": _report_action(),
    "console:report_redact": _report_action(),
    "console:report_privacy": _report_action(),
    # Institution management: coordinators in their subtree, the national admin everywhere.
    # The entry page shows the coordinator's own institution: the regency's coordinator has one too.
    "console:manage": page(CITY_MANAGERS | {"outsider"}),
    "console:manage_institution": page(CITY_MANAGERS),
    "console:manage_unit_create": form_page(CITY_MANAGERS),
    "console:manage_unit_rename": form_page(CITY_MANAGERS),
    "console:manage_unit_activation": post(CITY_MANAGERS),
    "console:manage_staff": page(CITY_MANAGERS),
    "console:manage_staff_invite": form_page(CITY_MANAGERS),
    "console:manage_membership_revoke": post(CITY_MANAGERS),
    # An empty or unknown role is answered with 404: post a role the coordinator may give.
    "console:manage_membership_role": post(CITY_MANAGERS, role="liaison_officer"),
    # Lifting a member's sign-in lock: those who manage the member's institution.
    "console:manage_membership_unlock": post(CITY_MANAGERS),
    "console:manage_deadlines": form_page(CITY_MANAGERS),
    "console:manage_deadline_remove": post(CITY_MANAGERS),
    "console:manage_templates": form_page(CITY_MANAGERS),
    "console:manage_template_edit": form_page(CITY_MANAGERS),
    "console:manage_template_delete": post(CITY_MANAGERS),
    # The categories an institution handles are set from above: the city's coordinator sees the city's,
    # the national admin (above the city) changes them.
    "console:manage_categories": form_page(CITY_MANAGERS, post_allowed={"national_admin"}),
}

URLS = [(name, arguments) for name, _route, arguments in console_url_names() if name not in AUTH_URL_NAMES]


class _Rollback(Exception):  # noqa: N818 - a control-flow signal, not an error
    pass


def _client(role: str, objects: ConsoleObjects) -> Client:
    if role == "anonymous":
        return Client()
    user = PEOPLE[role](objects.world)
    if role == "citizen":
        client = Client()
        client.force_login(user)
        return client
    return verified_login(Client(), user)


def _outcome(expect: Expect, method: str, role: str, status: int, location: str) -> str | None:
    """What is wrong with this answer (None when it is right)."""
    if status in (403, 500):
        return f"{status} (never allowed)"
    if role == "anonymous":
        if status == 302 and location.startswith(reverse("console:login")):
            return None
        return f"{status} {location} (expected a redirect to the console's sign-in)"
    if role in expect.allowed_for(method):
        ok = PAGE_OK if method == "GET" else POST_OK
        if status in ok:
            return None
        return f"{status} {location} (expected {sorted(ok)})"
    if status == 404:
        return None
    return f"{status} {location} (expected 404: existence is not revealed)"


@pytest.mark.parametrize(("name", "arguments"), URLS, ids=[name for name, _arguments in URLS])
def test_permission_matrix(db, name, arguments):
    assert name in EXPECTATIONS, (
        f"{name} has no row in EXPECTATIONS (tests/console/test_matrix.py): decide who may use it."
    )
    expect = EXPECTATIONS[name]
    objects = build_console_objects(cached_world())
    try:
        url = console_url(name, arguments, objects)
    except UnfilledUrlError as error:
        pytest.fail(str(error))
    problems = []
    for method in expect.methods:
        for role in ROLES:
            # Each visitor on the same world, as it was: what an allowed POST changed is rolled back.
            try:
                with transaction.atomic():
                    client = _client(role, objects)
                    response = client.get(url) if method == "GET" else client.post(url, expect.data)
                    problem = _outcome(expect, method, role, response.status_code, response.get("Location", ""))
                    if problem:
                        problems.append(f"{method} {role}: {problem}")
                    raise _Rollback
            except _Rollback:
                pass
    assert not problems, f"{name} ({url}):\n  " + "\n  ".join(problems)


def test_every_row_of_the_table_is_a_console_url():
    """A row for a URL that no longer exists is a decision about nothing: remove it."""
    names = {name for name, _route, _arguments in console_url_names()}
    assert not set(EXPECTATIONS) - names


def test_the_matrix_covers_every_console_url_but_the_sign_in_pages():
    names = {name for name, _route, _arguments in console_url_names()}
    assert {"console:security", "console:security_recovery_codes"} <= {name for name, _arguments in URLS}
    assert names - {name for name, _arguments in URLS} == AUTH_URL_NAMES & names


@pytest.mark.parametrize("role", ["outsider", "sibling_officer", "citizen"])
def test_the_confidential_report_is_not_revealed_outside_its_scope(db, role):
    objects = build_console_objects(cached_world())
    client = _client(role, objects)
    assert client.get(reverse("console:report", args=[objects.confidential.tracking_id])).status_code == 404
    # Nor is a tracking ID that does not exist answered differently.
    assert client.get(reverse("console:report", args=["LAP-0000-0000"])).status_code == 404


def test_the_unverified_report_is_the_national_admins(db):
    objects = build_console_objects(cached_world())
    url = reverse("console:report", args=[objects.new.tracking_id])
    assert _client("national_admin", objects).get(url).status_code == 200
    for role in ("coordinator", "officer", "outsider", "copy_holder"):
        assert _client(role, objects).get(url).status_code == 404, role


# --- the Django admin ------------------------------------------------------------------------------------------
#
# Every page of every registered model (changelist, add, change, delete, history), the index, each app's
# list and the admin's own pages, for every kind of visitor. Decided (ADR 0007): the admin is for active
# superusers who signed in through the console with their second factor, nobody else; a refusal never
# reveals the admin to a signed-in person who is no superuser (404, as in the console). A page the model's
# admin does not offer at all (adding regions, deleting memberships) is 403 for the superuser too: that is
# Django's answer to a permitted user for a refused action, listed in ADMIN_MODELS so that it is deliberate.
#
# Visitors: anonymous; a citizen signed in through the portal; a staff member signed in through the portal
# (password, no second factor); a superuser signed in through the portal; a staff member of the console
# (the national admin) with the second factor; someone with Django's is_staff and every model permission,
# second factor proven, but no superuser; a superuser whose session proved a device but never went through
# the console's sign-in (no console session clocks); and the superuser signed in as required.

ADMIN_ROLES = (
    "anonymous",
    "citizen",
    "staff_via_portal",
    "superuser_via_portal",
    "verified_national_admin",
    "verified_model_staff",
    "superuser_outside_console",
    "superuser",
)
# Answers that are a refusal for a signed-in visitor: the admin does not exist for them.
ADMIN_HIDDEN = frozenset({"citizen", "staff_via_portal", "verified_national_admin", "verified_model_staff"})
# Visitors sent into the console's sign-in (password, then code or enrolment); never a page.
ADMIN_SENT_TO_SIGN_IN = frozenset({"anonymous", "superuser_via_portal", "superuser_outside_console"})


@dataclasses.dataclass(frozen=True)
class AdminModel:
    # Which object the change, delete and history pages are about (built on the console's world).
    instance: Callable[[ConsoleObjects], object]
    # The pages the superuser is refused (403) because the model's admin never offers them.
    refused: frozenset[str] = frozenset()


def _notification(objects: ConsoleObjects) -> object:
    from lapor.notifications.choices import Audience, NotificationChannel
    from lapor.notifications.models import Notification

    return Notification.objects.create(
        audience=Audience.REPORTER,
        channel=NotificationChannel.EMAIL,
        address="rina@example.id",
        subject="Laporan Anda",
        body="Isi pesan.",
        dedupe_key="matrix:admin",
    )


def _task_result(objects: ConsoleObjects) -> object:
    from django.utils import timezone
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.create(
        args_kwargs={"args": [], "kwargs": {}},
        task_path="lapor.notifications.tasks.deliver_due_notifications",
        backend_name="default",
        run_after=timezone.now(),
        exception_class_path="",
        traceback="",
    )


def _holiday(objects: ConsoleObjects) -> object:
    import datetime

    from lapor.core.models import HolidayOverride

    return HolidayOverride.objects.create(
        date=datetime.date(2026, 12, 24), kind=HolidayOverride.Kind.values[0], name="Cuti"
    )


def _category(objects: ConsoleObjects) -> object:
    from lapor.institutions.services import category_create

    return category_create(code="jalan", name="Jalan dan jembatan", parent=None)


def _group(objects: ConsoleObjects) -> object:
    from django.contrib.auth.models import Group

    return Group.objects.create(name="Pengelola")


# Every registered model needs a row: a model registered later fails until someone decides about it.
ADMIN_MODELS: dict[str, AdminModel] = {
    "auth.group": AdminModel(_group),
    "django_tasks_database.dbtaskresult": AdminModel(_task_result, refused=frozenset({"add", "delete"})),
    "core.holidayoverride": AdminModel(_holiday),
    "regions.region": AdminModel(
        lambda objects: Region.objects.get(code="36.74"),
        refused=frozenset({"add", "delete"}),
    ),
    "institutions.institution": AdminModel(lambda objects: objects.world.transport),
    "institutions.category": AdminModel(_category),
    # The reporter holds no membership, so that the delete page is offered (see tests/accounts/test_admin.py
    # for an account with memberships, which is never deleted).
    "accounts.user": AdminModel(lambda objects: objects.world.reporter),
    "accounts.membership": AdminModel(lambda objects: objects.officer_membership, refused=frozenset({"delete"})),
    "notifications.notification": AdminModel(_notification, refused=frozenset({"add", "delete"})),
}


def _registered_models() -> list[str]:
    from django.contrib import admin

    return sorted(model._meta.label_lower for model in admin.site._registry)


def _admin_urls(label: str, instance: object) -> list[tuple[str, str]]:
    """(page, URL) of a model's pages in the admin."""
    app_label, model_name = label.split(".")
    pk = getattr(instance, "pk")  # noqa: B009 - any model instance
    return [
        ("changelist", reverse(f"admin:{app_label}_{model_name}_changelist")),
        ("add", reverse(f"admin:{app_label}_{model_name}_add")),
        ("change", reverse(f"admin:{app_label}_{model_name}_change", args=[pk])),
        ("delete", reverse(f"admin:{app_label}_{model_name}_delete", args=[pk])),
        ("history", reverse(f"admin:{app_label}_{model_name}_history", args=[pk])),
    ]


def _site_urls() -> list[tuple[str, str]]:
    app_labels = sorted({label.split(".")[0] for label in _registered_models()})
    return [
        ("index", reverse("admin:index")),
        *[(f"app_list {app_label}", reverse("admin:app_list", args=[app_label])) for app_label in app_labels],
        ("password_change", reverse("admin:password_change")),
        ("password_change_done", reverse("admin:password_change_done")),
        ("jsi18n", reverse("admin:jsi18n")),
        ("autocomplete", reverse("admin:autocomplete") + "?app_label=accounts&model_name=membership&field_name=user"),
    ]


def _superuser(objects: ConsoleObjects) -> User:
    user = User.objects.filter(email="root@example.id").first()
    if user is None:
        from tests.accounts.factories import UserFactory

        user = UserFactory.create(superuser=True, email="root@example.id", full_name="Rudi Root")
    return user


def _model_staff() -> User:
    from django.contrib.auth.models import Permission

    from tests.accounts.factories import UserFactory

    user = User.objects.filter(email="staf.django@example.id").first()
    if user is None:
        user = UserFactory.create(is_staff=True, email="staf.django@example.id", full_name="Sari Staf")
        user.user_permissions.set(Permission.objects.all())
    return user


def _admin_client(role: str, objects: ConsoleObjects) -> Client:
    client = Client()
    world = objects.world
    if role == "anonymous":
        return client
    if role in ("citizen", "staff_via_portal", "superuser_via_portal"):
        person = {"citizen": world.reporter, "staff_via_portal": world.coordinator}.get(role) or _superuser(objects)
        # What the portal's sign-in leaves: signed in with the password, no second factor, no console step.
        client.force_login(person)
        return client
    if role == "verified_national_admin":
        return verified_login(client, world.national_admin)
    if role == "verified_model_staff":
        return verified_login(client, _model_staff())
    if role == "superuser_outside_console":
        from django_otp import DEVICE_ID_SESSION_KEY

        from tests.console.conftest import confirmed_device

        superuser = _superuser(objects)
        client.force_login(superuser)
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = confirmed_device(superuser).persistent_id
        session.save()
        return client
    return verified_login(client, _superuser(objects))


def _secret_material(objects: ConsoleObjects) -> list[str]:
    """Every TOTP key (hex and base32, as an app would be given it) and every recovery code (as shown
    once, and as stored) in the world: none may appear in an admin response."""
    import base64

    from django_otp.plugins.otp_static.models import StaticToken
    from django_otp.plugins.otp_totp.models import TOTPDevice

    from lapor.accounts.signin import AttemptContext, recovery_codes_regenerate
    from tests.console.conftest import confirmed_device, totp_code

    superuser = _superuser(objects)
    codes = recovery_codes_regenerate(
        user=superuser,
        code=totp_code(confirmed_device(superuser)),
        context=AttemptContext.of(address="192.0.2.1", user_agent="matrix"),
    )
    material = list(codes)
    for device in TOTPDevice.objects.all():
        material.append(device.key)
        material.append(base64.b32encode(device.bin_key).decode().rstrip("="))
    material += list(StaticToken.objects.values_list("token", flat=True))
    return material


def _admin_outcome(role: str, refused: bool, status: int, location: str) -> str | None:
    if status == 500:
        return "500 (never allowed)"
    if role in ADMIN_SENT_TO_SIGN_IN:
        if status == 302 and location.startswith(reverse("console:login")):
            return None
        return f"{status} {location} (expected a redirect into the console's sign-in)"
    if role in ADMIN_HIDDEN:
        return None if status == 404 else f"{status} {location} (expected 404: the admin is for superusers)"
    expected = 403 if refused else 200
    return None if status == expected else f"{status} {location} (expected {expected})"


def _check_admin_urls(objects: ConsoleObjects, urls: list[tuple[str, str, bool]]) -> list[str]:
    secrets = _secret_material(objects)
    clients = {role: _admin_client(role, objects) for role in ADMIN_ROLES}
    problems = []
    for page_name, url, refused in urls:
        for role in ADMIN_ROLES:
            # This visitor's session is ended by its first admin request: a new one for each.
            client = _admin_client(role, objects) if role == "superuser_outside_console" else clients[role]
            response = client.get(url)
            problem = _admin_outcome(role, refused, response.status_code, response.get("Location", ""))
            if problem:
                problems.append(f"{page_name} {url} {role}: {problem}")
            body = response.content.decode(errors="replace")
            leaked = [secret for secret in secrets if secret in body]
            if leaked:
                problems.append(f"{page_name} {url} {role}: second-factor material in the response")
    return problems


def test_every_registered_model_has_a_row_in_the_admin_matrix():
    assert set(_registered_models()) == set(ADMIN_MODELS), (
        "Decide who may use each model's admin pages: ADMIN_MODELS in tests/console/test_matrix.py."
    )


def test_no_second_factor_secrets_are_registered_in_the_admin():
    assert not [label for label in _registered_models() if label.startswith("otp_")]


@pytest.mark.parametrize("label", sorted(ADMIN_MODELS))
def test_admin_permission_matrix(db, settings, label):
    # The task results' pages read each task's backend: the database backend, as in production (the
    # test settings run tasks at once, a backend that keeps no results).
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    row = ADMIN_MODELS[label]
    objects = build_console_objects(cached_world())
    instance = row.instance(objects)
    urls = [(page_name, url, page_name in row.refused) for page_name, url in _admin_urls(label, instance)]
    problems = _check_admin_urls(objects, urls)
    assert not problems, f"{label}:\n  " + "\n  ".join(problems)


def test_admin_site_pages_matrix(db):
    objects = build_console_objects(cached_world())
    problems = _check_admin_urls(objects, [(page_name, url, False) for page_name, url in _site_urls()])
    assert not problems, "\n  ".join(problems)


# --- the portal's forms that act in an institution's capacity -----------------------------------------------
#
# Staff are also citizens, and the portal's sign-in asks only for a password. Every portal POST that can act in
# an institution's capacity is listed here and checked for: staff signed in through the portal (password only)
# act only as the private citizens they also are, never in the institution's name; the same staff with a proven
# second factor act for their institution; citizens act as before.

PORTAL_ROLES = ("reporter", "member_of_public", *sorted(REPORT_VIEWERS))
STAFF_ACTOR_ROLES = frozenset({"unit_officer", "coordinator", "national_admin", "oversight", "copy_holder"})
# Who may hide a comment on the forwarded report: those who may redact its public text.
COMMENT_MODERATORS = frozenset({"national_admin", "coordinator", "officer"})


def _portal_person(role: str, world: World) -> User:
    return (
        world.reporter
        if role == "reporter"
        else world.member_of_public
        if role == "member_of_public"
        else (PEOPLE[role](world))
    )


def _portal_client(role: str, world: World, *, second_factor: bool) -> Client:
    user = _portal_person(role, world)
    if second_factor and role in STAFF_ROLES:
        return verified_login(Client(), user)
    client = Client()
    client.force_login(user)  # what the portal's password sign-in (/akun/masuk/) leaves
    return client


def _comment_capacity(role: str, objects: ConsoleObjects, *, second_factor: bool) -> tuple[int, str, int | None]:
    from lapor.reports.choices import Action
    from lapor.reports.models import ReportEvent

    report = objects.forwarded
    client = _portal_client(role, objects.world, second_factor=second_factor)
    response = client.post(reverse("portal:report_comment", args=[report.tracking_id]), {"message": "Sudah dicek."})
    event = ReportEvent.objects.filter(report=report, action=Action.COMMENT).order_by("-sequence").first()
    assert event is not None, (role, response.status_code)
    return response.status_code, str(event.actor_role), event.actor_institution_id


@pytest.mark.parametrize("second_factor", [False, True], ids=["password_only", "second_factor"])
@pytest.mark.parametrize("role", PORTAL_ROLES)
def test_portal_comment_speaks_for_an_institution_only_with_the_second_factor(db, role, second_factor):
    objects = build_console_objects(cached_world())
    status, actor_role, institution_id = _comment_capacity(role, objects, second_factor=second_factor)
    assert status == 302
    if role == "reporter":
        assert (actor_role, institution_id) == ("reporter", None)
    elif role in STAFF_ROLES and second_factor:
        assert actor_role in STAFF_ACTOR_ROLES
    else:
        # A private citizen's comment: in nobody's capacity but the public's, in no institution's name.
        assert (actor_role, institution_id) == ("public", None)


@pytest.mark.parametrize("second_factor", [False, True], ids=["password_only", "second_factor"])
@pytest.mark.parametrize("role", PORTAL_ROLES)
def test_portal_comment_hiding_needs_the_second_factor(db, role, second_factor):
    from lapor.reports.choices import Action
    from lapor.reports.models import ReportEvent
    from lapor.reports.services import report_comment

    objects = build_console_objects(cached_world())
    report = objects.forwarded
    comment = report_comment(user=objects.world.member_of_public, report=report, message="Dasar malas semua!").event
    client = _portal_client(role, objects.world, second_factor=second_factor)
    page = client.get(reverse("portal:report", args=[report.tracking_id])).content.decode()
    hide_url = reverse("portal:report_comment_hide", args=[report.tracking_id, comment.sequence])
    response = client.post(hide_url, {"reason": "Kasar."})
    hidden = ReportEvent.objects.filter(report=report, action=Action.REDACT).exists()
    if second_factor and role in COMMENT_MODERATORS:
        assert (response.status_code, hidden) == (302, True)
        assert hide_url in page
    else:
        assert (response.status_code, hidden) == (403, False)
        assert hide_url not in page


def test_a_staff_session_the_console_would_end_no_longer_speaks_for_the_institution_in_the_portal(db, monkeypatch):
    from lapor.console import access
    from lapor.reports.choices import Action
    from lapor.reports.models import ReportEvent

    objects = build_console_objects(cached_world())
    report = objects.forwarded
    client = _portal_client("officer", objects.world, second_factor=True)
    comment_url = reverse("portal:report_comment", args=[report.tracking_id])
    real_seconds = access.now_seconds
    offset = {"seconds": 0.0}
    monkeypatch.setattr(access, "now_seconds", lambda: real_seconds() + offset["seconds"])

    # Working in the portal keeps the staff session alive: 25 minutes apart, twice.
    for _step in range(2):
        offset["seconds"] += 25 * 60
        assert client.post(comment_url, {"message": "Sedang kami cek."}).status_code == 302
        event = ReportEvent.objects.filter(report=report, action=Action.COMMENT).order_by("-sequence").first()
        assert event is not None
        assert str(event.actor_role) in STAFF_ACTOR_ROLES

    comments = ReportEvent.objects.filter(report=report, action=Action.COMMENT).count()
    offset["seconds"] += settings.CONSOLE_SESSION_IDLE_SECONDS + 60
    client.post(comment_url, {"message": "Sudah selesai."})
    speaking_for_an_institution = ReportEvent.objects.filter(
        report=report, action=Action.COMMENT, actor_institution__isnull=False
    ).count()
    assert speaking_for_an_institution == 2
    assert ReportEvent.objects.filter(report=report, action=Action.COMMENT).count() == comments
    assert "_auth_user_id" not in client.session
