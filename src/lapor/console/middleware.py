"""A proven second factor lasts as long as the console's session, wherever the session is used.

The console's guard ends a staff session that has been idle too long or signed in too long ago, but only
when the session next reaches the console. The portal and the admin accept the same session, and the
portal lets a verified staff member act in the institution's name (comments, hiding comments). Without
this middleware, a session that the console would have ended still spoke for the institution in the
portal. So the limits are applied on every request of a verified session: a live one is touched (any
request counts as activity), an expired one is signed out before any view runs.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth import logout
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from lapor.console import access


class StaffSessionExpiryMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if access.is_verified(request):
            now = access.now_seconds()
            if access.session_expired(request, now=now):
                logout(request)
                messages.info(request, _("Your console session has ended. Sign in again to continue."))
            else:
                access.session_touch(request, now)
        return self.get_response(request)
