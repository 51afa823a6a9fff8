"""Who may enter the console: staff (an active membership in an institution, or the national admin)
who signed in with their password and their second factor.

`staff_required` guards every console view. A visitor who is not signed in is sent to the console's
sign-in page; a signed-in person without staff rights gets the same 404 as a page that does not
exist (the console's existence in their scope is not revealed). Which reports and institutions a
staff member may see inside the console is the access layer's business (`lapor.reports.access`,
`lapor.institutions` selectors), never this module's.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import reverse

from lapor.reports.access import StaffScope, staff_scope

View = Callable[..., HttpResponse]


def scope_of(request: HttpRequest) -> StaffScope:
    """The signed-in staff member's scope, read once per request."""
    cached: StaffScope | None = getattr(request, "_console_scope", None)
    if cached is None:
        cached = staff_scope(request.user)
        request._console_scope = cached  # type: ignore[attr-defined]
    return cached


def is_staff_member(request: HttpRequest) -> bool:
    scope = scope_of(request)
    return scope.national or bool(scope.memberships)


def staff_required(view: View) -> View:
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url=reverse("console:login"))
        if not is_staff_member(request):
            raise Http404
        return view(request, *args, **kwargs)

    return guarded
