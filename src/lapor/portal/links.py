"""The private links this browser has opened or filed, remembered in an encrypted cookie.

The reporter's page (/lacak/<id>/pelapor/) has no secret in its URL: the browser that opened the
private link, or filed the report, keeps the secret. It lives in the cookie ``lapor_links`` (the newest
few links, by tracking ID): HttpOnly, SameSite=Lax, Secure where the session cookie is, kept as long as
a session, and encrypted with FIELD_ENCRYPTION_KEYS (Fernet), so that whoever holds it can neither read
the secrets in it nor forge one, and a copy stops working after SESSION_COOKIE_AGE.

Why a cookie and not the session: a guest who files a report would otherwise cost a session row,
written when filing and read on every visit to the page, for nothing but this. Links that an earlier
version kept in the session are still read from it. Signing out forgets them, as it did the session's.
"""

from __future__ import annotations

import json

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from lapor.core.crypto import decrypt_text, encrypt_text

COOKIE = "lapor_links"
KEPT = 20
# Where sessions written by earlier versions kept the links.
SESSION_KEY = "reporter_links"


def _from_cookie(request: HttpRequest) -> dict[str, str]:
    cached: dict[str, str] | None = getattr(request, "_lapor_links", None)
    if cached is not None:
        return cached
    links: dict[str, str] = {}
    token = request.COOKIES.get(COOKIE, "")
    if token:
        try:
            stored = json.loads(decrypt_text(token, ttl=settings.SESSION_COOKIE_AGE))
        except ValueError:  # forged, expired, or encrypted with a key no longer configured: forgotten
            stored = {}
        if isinstance(stored, dict):
            links = {key: value for key, value in stored.items() if isinstance(key, str) and isinstance(value, str)}
    request._lapor_links = links  # type: ignore[attr-defined]
    return links


def secret_for(request: HttpRequest, tracking_id: str) -> str | None:
    """The secret of ``tracking_id``'s private link, if this browser has it."""
    secret = _from_cookie(request).get(tracking_id)
    if secret is None and settings.SESSION_COOKIE_NAME in request.COOKIES:
        kept = request.session.get(SESSION_KEY)
        found = kept.get(tracking_id) if isinstance(kept, dict) else None
        secret = found if isinstance(found, str) else None
    return secret


def remember(request: HttpRequest, response: HttpResponse, tracking_id: str, secret: str) -> HttpResponse:
    """Sets the cookie on ``response`` with this link as the newest; returns ``response``."""
    links = {key: value for key, value in _from_cookie(request).items() if key != tracking_id}
    links[tracking_id] = secret
    kept = dict(list(links.items())[-KEPT:])
    request._lapor_links = kept  # type: ignore[attr-defined]
    response.set_cookie(
        COOKIE,
        encrypt_text(json.dumps(kept, separators=(",", ":"))),
        max_age=settings.SESSION_COOKIE_AGE,
        secure=settings.SESSION_COOKIE_SECURE,
        httponly=True,
        samesite="Lax",
    )
    return response


def forget(response: HttpResponse) -> HttpResponse:
    response.delete_cookie(COOKIE, samesite="Lax")
    return response
