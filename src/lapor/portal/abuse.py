"""Abuse resistance for the portal's forms, without any third party: a honeypot, a proof-of-work, and the
429 page for rate limits (lapor.core.ratelimit).

Policy: every core page works without JavaScript, so nothing here ever refuses a form for lacking
JavaScript. A form carries a signed challenge; ``static/portal/pow.js`` solves it in the background and
fills a hidden field. A post with a valid solution counts against the scope's limits ("submit"); a post
without one (JavaScript off, an old browser, a script) is accepted too, but counts against the stricter
``<scope>_unverified`` limits as well. A filled honeypot field is refused outright: no person sees or
reaches that field.

The proof-of-work: the challenge is ``signing.dumps({"r": random salt, "d": difficulty, "t": issue
time, "f": form name})``; the browser finds a decimal nonce such that SHA-256(challenge + nonce) starts
with ``d`` zero bits. The server checks the signature, the form name, the age (at least
``POW_MIN_AGE_SECONDS``: no person sends a form within a second of receiving it; at most
``POW_MAX_AGE_SECONDS``: long enough to write a report on a phone), the nonce, and that the challenge
was not used before (its salt is recorded until it expires, in the rate-limit counters).

The challenge is bound to the form name, not to the session: anonymous visitors have no session until
one is written, and logging in cycles the session key, so binding to it would fail honest people. A
replayed solution is stopped by the single-use record instead.

Difficulty: 13 bits, 8,192 hashes on average. ``crypto.subtle.digest`` on a short input costs mostly
its asynchronous round trip, so pow.js starts 128 digests at a time. Measured with headless Chromium on
one server core: 0.35 s on average over 12 challenges (about 23,000 digests a second); Node's WebCrypto
runs 65,000 a second there. A low-end Android phone (Cortex-A53 class) is five to eight times slower
than that core, which puts the average at about 1.5–3 s, and a recent phone well under a second. The
work is random: one visitor in twenty needs three times the average, still while they read the form.
The aim is not to stop a determined attacker (native code solves 13 bits in milliseconds): it
makes every automated post from a real browser cost seconds, and it separates posts from pages that ran
our script from bare scripted posts, which the stricter limits then hold back. Rate limits remain the
defence that counts. WebCrypto exists only in secure contexts (HTTPS, or localhost in development): on
plain HTTP every post goes unsolved and meets the stricter limits.

Settings: ``POW_DIFFICULTY`` (bits, default 13), ``POW_MIN_AGE_SECONDS`` (1), ``POW_MAX_AGE_SECONDS`` (7200).

Wiring a form (the view, once the form is valid; the template inside the ``<form>``)::

    if abuse.honeypot_tripped(request.POST):
        form.add_error(None, abuse.HONEYPOT_MESSAGE)
        return render(request, "portal/feed/report.html", {...}, status=400)
    abuse.guard(request, "comment", form="comment")  # RateLimited -> the middleware's 429 page
    comment_create(...)

    {% include "portal/abuse/fields.html" with abuse_form="comment" %}
"""

from __future__ import annotations

import hashlib
import logging
import math
import re
import secrets
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from lapor.core.ratelimit import RateLimited, has_scope, rate_limit, store

logger = logging.getLogger(__name__)

# --- honeypot ------------------------------------------------------------------------------------------

# A name that form-filling bots fill in and browsers do not autofill (autocomplete is off as well).
honeypot_field_name = "website"
HONEYPOT_MESSAGE = gettext_lazy("Your form could not be sent. Please reload the page and try again.")


def honeypot_tripped(data: Mapping[str, Any]) -> bool:
    """Whether the hidden honeypot field came back filled in. A form without the field is not tripped."""
    value = data.get(honeypot_field_name, "")
    return bool(str(value).strip()) if value is not None else False


# --- proof-of-work -------------------------------------------------------------------------------------

POW_CHALLENGE_FIELD = "pow_challenge"
POW_NONCE_FIELD = "pow_nonce"
POW_SIGNING_SALT = "lapor.portal.abuse.pow"
DEFAULT_FORM = "post"
DEFAULT_POW_DIFFICULTY = 13
DEFAULT_POW_MIN_AGE_SECONDS = 1
DEFAULT_POW_MAX_AGE_SECONDS = 2 * 3600
MAX_DIFFICULTY = 32
_NONCE = re.compile(r"^[0-9]{1,20}$")


class PowStatus(StrEnum):
    VALID = "valid"
    MISSING = "missing"  # no challenge posted
    UNSOLVED = "unsolved"  # a challenge but no nonce: JavaScript off or not finished
    BAD_SIGNATURE = "bad_signature"
    MALFORMED = "malformed"
    WRONG_FORM = "wrong_form"
    TOO_FAST = "too_fast"
    EXPIRED = "expired"
    WRONG_NONCE = "wrong_nonce"
    REUSED = "reused"


def _difficulty() -> int:
    return int(getattr(settings, "POW_DIFFICULTY", DEFAULT_POW_DIFFICULTY))


def _min_age() -> int:
    return int(getattr(settings, "POW_MIN_AGE_SECONDS", DEFAULT_POW_MIN_AGE_SECONDS))


def _max_age() -> int:
    return int(getattr(settings, "POW_MAX_AGE_SECONDS", DEFAULT_POW_MAX_AGE_SECONDS))


def _issue(*, form: str, difficulty: int, issued: datetime) -> str:
    payload = {"r": secrets.token_urlsafe(12), "d": difficulty, "t": int(issued.timestamp()), "f": form}
    return signing.dumps(payload, salt=POW_SIGNING_SALT, compress=False)


def pow_context(request: HttpRequest, *, form: str = DEFAULT_FORM, now: datetime | None = None) -> dict[str, Any]:
    """What ``portal/abuse/fields.html`` needs: a fresh signed challenge, its difficulty and the field names."""
    difficulty = _difficulty()
    challenge = _issue(form=form, difficulty=difficulty, issued=now or timezone.now())
    return {
        "challenge": challenge,
        "difficulty": difficulty,
        "challenge_field": POW_CHALLENGE_FIELD,
        "nonce_field": POW_NONCE_FIELD,
        "honeypot_field": honeypot_field_name,
        "form": form,
    }


def leading_zero_bits(digest: bytes) -> int:
    value = int.from_bytes(digest, "big")
    return len(digest) * 8 - value.bit_length()


def _solves(challenge: str, nonce: str, difficulty: int) -> bool:
    return leading_zero_bits(hashlib.sha256((challenge + nonce).encode()).digest()) >= difficulty


def solve_challenge(challenge: str) -> str:
    """The smallest nonce solving ``challenge`` (what pow.js computes); for tests and API clients."""
    payload = signing.loads(challenge, salt=POW_SIGNING_SALT)
    difficulty = int(payload["d"])
    nonce = 0
    while not _solves(challenge, str(nonce), difficulty):
        nonce += 1
    return str(nonce)


def solved_pow_fields(*, form: str = DEFAULT_FORM, age_seconds: int = 5) -> dict[str, str]:
    """POST data with a solved challenge issued ``age_seconds`` ago: what a browser running pow.js sends.
    For tests of views that count unverified posts more strictly."""
    challenge = _issue(form=form, difficulty=_difficulty(), issued=timezone.now() - timedelta(seconds=age_seconds))
    return {POW_CHALLENGE_FIELD: challenge, POW_NONCE_FIELD: solve_challenge(challenge)}


def pow_check(request: HttpRequest, *, form: str = DEFAULT_FORM, now: datetime | None = None) -> PowStatus:
    """Checks the posted solution once per request (a valid challenge is used up by the first check)."""
    cached: PowStatus | None = getattr(request, "_lapor_pow_status", None)
    if cached is not None:
        return cached
    status = _check(request, form=form, now=now)
    request._lapor_pow_status = status  # type: ignore[attr-defined]
    if status is not PowStatus.VALID:
        logger.info("Proof-of-work not verified: %s", status)
    return status


def pow_verified(request: HttpRequest, *, form: str = DEFAULT_FORM, now: datetime | None = None) -> bool:
    """Whether the post carries a valid, fresh, unused solution of a challenge issued for ``form``."""
    return pow_check(request, form=form, now=now) is PowStatus.VALID


def _check(request: HttpRequest, *, form: str, now: datetime | None) -> PowStatus:
    challenge = str(request.POST.get(POW_CHALLENGE_FIELD, "") or "")
    nonce = str(request.POST.get(POW_NONCE_FIELD, "") or "").strip()
    if not challenge:
        return PowStatus.MISSING
    if not nonce:
        return PowStatus.UNSOLVED
    try:
        payload = signing.loads(challenge, salt=POW_SIGNING_SALT)
    except signing.BadSignature:
        return PowStatus.BAD_SIGNATURE
    try:
        salt, difficulty, issued, bound_form = str(payload["r"]), int(payload["d"]), int(payload["t"]), payload["f"]
    except (KeyError, TypeError, ValueError):
        return PowStatus.MALFORMED
    if not 0 < difficulty <= MAX_DIFFICULTY:
        return PowStatus.MALFORMED
    if bound_form != form:
        return PowStatus.WRONG_FORM
    moment = now or timezone.now()
    age = moment.timestamp() - issued
    if age < _min_age():
        return PowStatus.TOO_FAST
    if age > _max_age():
        return PowStatus.EXPIRED
    if not _NONCE.match(nonce) or not _solves(challenge, nonce, difficulty):
        return PowStatus.WRONG_NONCE
    # Recorded until the challenge would have expired anyway (plus a margin for clock skew between processes).
    expires_at = datetime.fromtimestamp(issued + _max_age() + 60, tz=UTC)
    if store().increment(f"pow:{salt}", expires_at) > 1:
        return PowStatus.REUSED
    return PowStatus.VALID


def guard(request: HttpRequest, scope: str, *, user: object = None, form: str = DEFAULT_FORM) -> bool:
    """The usual sequence for a form post: ``rate_limit(scope)``, then the proof-of-work; without a valid
    solution the stricter ``<scope>_unverified`` limits count too. Raises ``RateLimited``; returns whether
    the proof-of-work was verified. Call it once the form is valid, right before the service."""
    rate_limit(request, scope, user=user)
    verified = pow_verified(request, form=form)
    unverified_scope = f"{scope}_unverified"
    if not verified and has_scope(unverified_scope):
        rate_limit(request, unverified_scope, user=user)
    return verified


# --- the 429 response ----------------------------------------------------------------------------------

_REASONS = {
    "submit": gettext_lazy("You have sent many reports in a short time."),
    "comment": gettext_lazy("You have posted many comments in a short time."),
    "support": gettext_lazy("You have supported many reports in a short time."),
    "login": gettext_lazy("There have been too many attempts to log in."),
    "otp": gettext_lazy("Too many codes have been requested."),
}
_GENERIC_REASON = gettext_lazy("There have been too many requests in a short time.")


def rate_limited_reason(error: RateLimited) -> str:
    base = error.scope.removesuffix("_unverified")
    return str(_REASONS.get(base, _GENERIC_REASON))


def rate_limited_when(error: RateLimited, *, now: datetime | None = None) -> str:
    """When to try again, in plain words: in N minutes, or at a clock time in the visitor's zone."""
    seconds = max(1, int(error.retry_after))
    if seconds <= 60:  # noqa: PLR2004
        return _("Please try again in a minute.")
    if seconds < 3600:  # noqa: PLR2004
        minutes = math.ceil(seconds / 60)
        return ngettext(
            "Please try again in %(minutes)d minute.", "Please try again in %(minutes)d minutes.", minutes
        ) % {"minutes": minutes}
    moment = timezone.localtime(now or timezone.now())
    retry_at = timezone.localtime(moment + timedelta(seconds=seconds))
    clock = formats.date_format(retry_at, "H:i T")
    if retry_at.date() == moment.date():
        return _("Please try again after %(time)s.") % {"time": clock}
    return _("Please try again after %(date)s, %(time)s.") % {
        "date": formats.date_format(retry_at, "j F Y"),
        "time": clock,
    }


def rate_limited_message(error: RateLimited) -> str:
    """One sentence pair for a form error or a notice: what happened and when to try again."""
    return f"{rate_limited_reason(error)} {rate_limited_when(error)}"


def _wants_json(request: HttpRequest) -> bool:
    accept = request.headers.get("Accept", "")
    return "/api/" in request.path or ("application/json" in accept and "text/html" not in accept)


def rate_limited_response(request: HttpRequest, error: RateLimited) -> HttpResponse:
    """HTTP 429 with Retry-After: a page for browsers, a short fragment for htmx, JSON for API clients."""
    seconds = max(1, int(error.retry_after))
    reason, when = rate_limited_reason(error), rate_limited_when(error)
    response: HttpResponse
    if _wants_json(request):
        response = JsonResponse(
            {"error": "rate_limited", "scope": error.scope, "retry_after": seconds, "detail": f"{reason} {when}"},
            status=429,
        )
    elif request.headers.get("HX-Request") == "true":
        response = HttpResponse(
            format_html('<p class="notice notice-error" role="alert">{} {}</p>', reason, when), status=429
        )
    else:
        response = render(
            request,
            "portal/errors/429.html",
            {"reason": reason, "when": when, "retry_after": seconds, "scope": error.scope},
            status=429,
        )
    response["Retry-After"] = str(seconds)
    response["Cache-Control"] = "no-store"
    return response


class RateLimitMiddleware:
    """Turns ``RateLimited`` raised by a view into ``rate_limited_response``."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, RateLimited):
            return rate_limited_response(request, exception)
        return None
