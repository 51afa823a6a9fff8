"""The Django admin (``/admin/``): for superusers who signed in through the console, second factor proven.

The admin has no sign-in of its own. ``/admin/login/`` checks no password: it sends the visitor to the
console's sign-in (``/konsol/masuk/?next=/admin/``), which has the lockout, the per-address ceilings,
the authenticator enrolment and the 15-minute password-step rule (ADR 0006, ADR 0007). Every admin page
then requires, like ``lapor.console.access.staff_required`` for the console: an active superuser, the
second factor proven in this session (django-otp's ``is_verified``), and a console session that has
not expired. A session from the citizen portal is never enough, whoever holds it.

Who is refused: anonymous visitors are sent to the console's sign-in; a signed-in person who is not an
active superuser (a citizen, any console staff member) gets 404, as in the console; a superuser without
the second factor in this session is sent to prove it.

django-otp's own admin pages (which show every device's TOTP key) are not registered here: devices and
recovery codes are managed on the console's pages, by their owner.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import update_wrapper
from typing import Any, TypeVar, cast

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _

ViewType = TypeVar("ViewType", bound=Callable[..., Any])

# Apps whose models hold second-factor secrets (TOTP keys, recovery codes): never in the admin.
SECRET_APP_LABELS = frozenset({"otp_totp", "otp_static", "otp_hotp", "otp_email", "otp_yubikey", "otp_webauthn"})


def admin_user_allowed(request: HttpRequest) -> bool:
    """Whether the signed-in person may use the admin at all: an active superuser (not yet whether this
    session proved the second factor)."""
    user = request.user
    return bool(user.is_authenticated and user.is_active and user.is_superuser)


def admin_refusal(request: HttpRequest) -> HttpResponse | None:
    """What the admin answers instead of a page (None: serve the page). Raises Http404 for a signed-in
    person who is no active superuser."""
    # The console's access rules are the admin's: imported here, once the apps are loaded.
    from lapor.console.access import verified_session_gate

    return verified_session_gate(request, may_enter=admin_user_allowed)


class LaporAdminSite(admin.AdminSite):
    site_header = _("Lapor administration")
    site_title = _("Lapor administration")
    index_title = _("Reference data and accounts")

    def has_permission(self, request: HttpRequest) -> bool:
        # Imported here, once the apps are loaded, as in admin_refusal.
        from lapor.console.access import is_verified, session_expired

        return admin_user_allowed(request) and is_verified(request) and not session_expired(request)

    def admin_view(self, view: ViewType, cacheable: bool = False) -> ViewType:
        inner = super().admin_view(view, cacheable)

        def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            refusal = admin_refusal(request)
            if refusal is not None:
                return refusal
            return inner(request, *args, **kwargs)

        return cast(ViewType, update_wrapper(guarded, inner))

    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Checks no password: the console's sign-in does, with its lockout and second factor."""
        refusal = admin_refusal(request)
        if refusal is not None:
            return refusal
        target = request.GET.get("next", "")
        if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False):
            target = ""
        return HttpResponseRedirect(target or reverse("admin:index", current_app=self.name))


class LaporAdminConfig(AdminConfig):
    default_site = "lapor.admin_site.LaporAdminSite"

    def ready(self) -> None:
        super().ready()  # autodiscovers every app's admin module
        for model in list(admin.site._registry):
            if model._meta.app_label in SECRET_APP_LABELS:
                admin.site.unregister(model)
