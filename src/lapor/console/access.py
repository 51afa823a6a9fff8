"""Who may enter the console: staff (an active membership in an institution, or the national admin)
who signed in with their password and their second factor.

`staff_required` guards every console view. A visitor who is not signed in is sent to the console's
sign-in page; a signed-in person without staff rights gets the same 404 as a page that does not
exist (the console's existence in their scope is not revealed). A staff member who proved the
password but not yet the second factor is sent to enter a code (or, without a confirmed device, to set
one up): no console page is served before ``request.user.is_verified()``. A staff session ends after
``CONSOLE_SESSION_IDLE_SECONDS`` without a console request and ``CONSOLE_SESSION_MAX_SECONDS`` after
the second factor was proven, whatever happens in between.

Which reports and institutions a staff member may see inside the console is the access layer's
business (`lapor.reports.access`, `lapor.institutions` selectors), never this module's.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _

from lapor.accounts.access import second_factor_proven
from lapor.accounts.signin import has_confirmed_device
from lapor.reports.access import StaffScope, staff_scope

View = Callable[..., HttpResponse]

# Session keys (epoch seconds): when the second factor was proven, and the last console request.
SESSION_SIGNED_IN_AT = "console_signed_in_at"
SESSION_LAST_SEEN = "console_last_seen"
# The last-seen stamp is written at most this often, so that not every request rewrites the session.
LAST_SEEN_RESOLUTION_SECONDS = 30


def scope_of(request: HttpRequest) -> StaffScope:
    """The signed-in staff member's scope, read once per request."""
    cached: StaffScope | None = getattr(request, "_console_scope", None)
    if cached is None:
        # Unverified staff still count as staff here: the guard sends them on to the second factor.
        cached = staff_scope(request.user, require_second_factor=False)
        request._console_scope = cached  # type: ignore[attr-defined]
    return cached


def is_staff_member(request: HttpRequest) -> bool:
    scope = scope_of(request)
    return scope.national or bool(scope.memberships)


def signs_in_here(request: HttpRequest) -> bool:
    """Who may use the console's sign-in and second-factor pages: staff members, and active superusers,
    who sign in here for the Django admin (lapor.admin_site) even without a membership."""
    user = request.user
    return is_staff_member(request) or bool(user.is_authenticated and user.is_active and user.is_superuser)


def home_of(request: HttpRequest) -> str:
    """Where a signed-in person lands without a ``next``: the console, or the admin for a superuser who
    is no staff member (the console's pages would be 404 for them)."""
    return console_home() if is_staff_member(request) else reverse("admin:index")


def is_verified(request: HttpRequest) -> bool:
    """Whether this session proved a second factor (django_otp's OTPMiddleware): the access layer's check."""
    return request.user.is_authenticated and second_factor_proven(request.user)


def now_seconds() -> float:
    """The clock of session expiry; tests replace it to move time."""
    return time.time()


def session_expired(request: HttpRequest, *, now: float | None = None) -> bool:
    """Whether a verified staff session is over: idle too long, or signed in too long ago. A verified
    session without the console's stamps did not come through the console's sign-in: also over."""
    moment = now_seconds() if now is None else now
    signed_in_at = request.session.get(SESSION_SIGNED_IN_AT)
    last_seen = request.session.get(SESSION_LAST_SEEN)
    if not isinstance(signed_in_at, int | float) or not isinstance(last_seen, int | float):
        return True
    return (
        moment - signed_in_at > settings.CONSOLE_SESSION_MAX_SECONDS
        or moment - last_seen > settings.CONSOLE_SESSION_IDLE_SECONDS
    )


def session_stamp_signed_in(request: HttpRequest, *, now: float | None = None) -> None:
    """Starts the clocks of a staff session, once the second factor is proven."""
    moment = now_seconds() if now is None else now
    request.session[SESSION_SIGNED_IN_AT] = moment
    request.session[SESSION_LAST_SEEN] = moment


def session_touch(request: HttpRequest, now: float) -> None:
    """Records a request of a live staff session (for the idle limit)."""
    last_seen = request.session.get(SESSION_LAST_SEEN, 0)
    if now - last_seen >= LAST_SEEN_RESOLUTION_SECONDS:
        request.session[SESSION_LAST_SEEN] = now


def end_expired_session(request: HttpRequest) -> HttpResponse:
    logout(request)
    messages.info(request, _("Your console session has ended. Sign in again to continue."))
    return redirect_to_login(request.get_full_path(), login_url=reverse("console:login"))


def second_factor_step(request: HttpRequest) -> HttpResponse:
    """Where a staff member who proved only the password goes next: a code, or setting up a device."""
    target = "console:verify" if has_confirmed_device(request.user) else "console:enroll"  # type: ignore[arg-type]
    return redirect_to_login(request.get_full_path(), login_url=reverse(target))


def verified_session_gate(request: HttpRequest, *, may_enter: Callable[[HttpRequest], bool]) -> HttpResponse | None:
    """The checks of every page behind the console's sign-in (console and admin alike), in order: signed in,
    allowed here at all (else 404, as for a page that does not exist), second factor proven, session not
    expired. Returns the answer that stops the request, or None when it may go on (the session is touched)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path(), login_url=reverse("console:login"))
    if not may_enter(request):
        raise Http404
    if not is_verified(request):
        return second_factor_step(request)
    now = now_seconds()
    if session_expired(request, now=now):
        return end_expired_session(request)
    session_touch(request, now)
    return None


def staff_required(view: View) -> View:
    """The guard of every console view: signed in, staff, second factor proven, session not expired."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = verified_session_gate(request, may_enter=is_staff_member)
        return refused if refused is not None else view(request, *args, **kwargs)

    return guarded


def own_account_required(view: View) -> View:
    """The guard of the pages about one's own sign-in (devices, recovery codes, sessions): as
    ``staff_required``, but a superuser without a membership, who signs in here for the Django admin,
    may use them too."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refused = verified_session_gate(request, may_enter=signs_in_here)
        return refused if refused is not None else view(request, *args, **kwargs)

    return guarded


def password_step_required(view: View) -> View:
    """For the second-factor pages: a signed-in staff member who has not proven a second factor yet.
    Anonymous visitors go to the sign-in page, others than staff get 404, verified staff the inbox."""

    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url=reverse("console:login"))
        if not signs_in_here(request):
            raise Http404
        if is_verified(request):
            if session_expired(request):
                return end_expired_session(request)
            return redirect(home_of(request))
        return view(request, *args, **kwargs)

    return guarded


def console_home() -> str:
    """The inbox once it exists, else the security page (the console's first page either way)."""
    from django.urls import NoReverseMatch

    try:
        return reverse("console:inbox")
    except NoReverseMatch:
        return reverse("console:security")
