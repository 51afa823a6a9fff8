from __future__ import annotations

import zoneinfo
from collections.abc import Callable, Iterable
from urllib.parse import urlsplit

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _


class TimezoneMiddleware:
    """Shows times in the signed-in user's zone (WIB, WITA or WIT); the site default otherwise."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        zone_name = getattr(getattr(request, "user", None), "time_zone", "") or ""
        if zone_name:
            timezone.activate(zoneinfo.ZoneInfo(zone_name))
        else:
            timezone.deactivate()
        return self.get_response(request)


def tile_origin(tile_url: str) -> str:
    """The origin of a map tile server's URL template ("" when the tiles come from this site or none)."""
    if not tile_url.startswith(("http://", "https://")):
        return ""
    parts = urlsplit(tile_url.replace("{s}", "a"))
    if "{s}" in tile_url:  # Leaflet's subdomains: a., b., c.
        return f"{parts.scheme}://*.{parts.netloc.split('.', 1)[1]}"
    return f"{parts.scheme}://{parts.netloc}"


def content_security_policy(*, tile_url: str) -> str:
    """What a page may load and run: only this site's own files (no inline script, no third party) and
    the configured map tiles; no plug-ins, no framing, forms posting only here."""
    images = " ".join(part for part in ("'self'", "data:", tile_origin(tile_url)) if part)
    directives = {
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": images,
        "connect-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'self'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
    }
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def _matches(view_name: str, patterns: Iterable[str]) -> bool:
    return any(
        view_name == pattern or (pattern.endswith(":*") and view_name.startswith(pattern[:-1])) for pattern in patterns
    )


class SecurityHeadersMiddleware:
    """Headers every response needs and Django's SecurityMiddleware does not set:

    - ``Content-Security-Policy`` (see ``content_security_policy``), unless the view set its own;
    - ``Cache-Control: private, no-store`` on the pages named in ``settings.PRIVATE_VIEWS`` (URL names,
      ``namespace:*`` for a whole namespace): pages with personal data or a reporter's report must not
      stay in a shared computer's browser cache or any proxy's.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = content_security_policy(tile_url=settings.MAP_TILE_URL)
        match = getattr(request, "resolver_match", None)
        if match is not None and _matches(match.view_name, getattr(settings, "PRIVATE_VIEWS", ())):
            response["Cache-Control"] = "private, no-store"
            response.headers.pop("Expires", None)
        return response


NUL = "\x00"


class RejectNullCharactersMiddleware:
    """Answers 400 to a request whose parameters contain a NUL character.

    No person types one, PostgreSQL refuses to store or compare text containing it (a 500 wherever a raw
    parameter reaches a query), and Django's form fields would refuse it one by one anyway: refusing it
    here, once, with a clear message, keeps every view from having to remember."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if _has_nul(request.GET) or (request.method == "POST" and _has_nul(request.POST)):
            return HttpResponseBadRequest(
                _("The request contains a character that is not allowed (NUL). Remove it and try again."),
                content_type="text/plain; charset=utf-8",
            )
        return self.get_response(request)


def _has_nul(data: QueryDict) -> bool:
    return any(NUL in key or any(NUL in value for value in values) for key, values in data.lists())
