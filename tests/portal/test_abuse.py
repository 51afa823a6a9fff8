"""Abuse resistance in the portal: the honeypot, the proof-of-work (server and pow.js), the stricter limit
for posts without a solution, and the 429 page that says when to try again."""

from __future__ import annotations

import base64
import json
import math
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, QueryDict
from django.template.loader import render_to_string
from django.test import RequestFactory, override_settings
from django.urls import clear_url_caches, path
from django.utils import translation

from lapor import urls as lapor_urls
from lapor.core.ratelimit import RateLimited
from lapor.portal import abuse
from lapor.portal.abuse import PowStatus, pow_check, pow_context, pow_verified

T0 = datetime(2026, 11, 25, 10, 3, 20, tzinfo=UTC)  # 17:03:20 WIB
POW_JS = Path(abuse.__file__).resolve().parent / "static" / "portal" / "pow.js"
STRICT = {"probe": {"guest": ("10/10m",)}, "probe_unverified": {"guest": ("2/10m",)}}

factory = RequestFactory()


def probe(request: HttpRequest) -> HttpResponse:
    """A form view wired the way the portal's are: limit, proof-of-work, stricter limit without it."""
    verified = abuse.guard(request, "probe")
    return HttpResponse("verified" if verified else "accepted")


def limited(request: HttpRequest) -> HttpResponse:
    raise RateLimited(request.GET.get("scope", "submit"), int(request.GET.get("after", "90")))


def broken(request: HttpRequest) -> HttpResponse:
    raise ValueError("not ours")


# This module is its own URLconf (pytest.mark.urls): the probes plus the real site for base.html's links.
urlpatterns = [
    path("probe/", probe),
    path("limited/", limited),
    path("broken/", broken),
    *lapor_urls.urlpatterns,
]
pytestmark = pytest.mark.urls(__name__)


def posted(data: dict[str, str]) -> HttpRequest:
    request = factory.post("/", data, REMOTE_ADDR="203.0.113.7")
    return request


def solved(context: dict[str, object], *, nonce: str | None = None) -> dict[str, str]:
    challenge = str(context["challenge"])
    return {"pow_challenge": challenge, "pow_nonce": nonce if nonce is not None else abuse.solve_challenge(challenge)}


def check(data: dict[str, str], *, now: datetime, form: str = abuse.DEFAULT_FORM) -> PowStatus:
    return pow_check(posted(data), form=form, now=now)


# --- honeypot ------------------------------------------------------------------------------------------


def test_honeypot_is_tripped_only_when_filled():
    name = abuse.honeypot_field_name
    assert abuse.honeypot_tripped({name: "http://cheap-pills.example"}) is True
    assert abuse.honeypot_tripped(QueryDict(f"{name}=x&title=Jalan+rusak")) is True
    assert abuse.honeypot_tripped({name: ""}) is False
    assert abuse.honeypot_tripped({name: "   "}) is False
    assert abuse.honeypot_tripped(QueryDict("title=Jalan+rusak")) is False


def test_fields_snippet_hides_the_honeypot_from_people_and_assistive_technology():
    html = render_to_string("portal/abuse/fields.html", request=factory.get("/"))
    container = re.search(r'<div class="honeypot" aria-hidden="true">(.*?)</div>', html, re.S)
    assert container is not None
    field = re.search(r"<input [^>]*name=\"website\"[^>]*>", container.group(1))
    assert field is not None
    assert 'tabindex="-1"' in field.group(0)
    assert 'autocomplete="off"' in field.group(0)
    assert 'value=""' in field.group(0)
    assert "<label>" in container.group(1)  # labelled, in case a tool reaches it anyway
    assert 'src="/static/portal/pow.js"' in html
    assert "defer" in html


# --- proof-of-work -------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_a_valid_solution_is_verified_once_and_refused_when_reused():
    context = pow_context(factory.get("/"), now=T0)
    data = solved(context)
    assert check(data, now=T0 + timedelta(seconds=30)) is PowStatus.VALID
    assert check(data, now=T0 + timedelta(seconds=40)) is PowStatus.REUSED


@pytest.mark.django_db
def test_the_check_is_remembered_for_the_request():
    request = posted(abuse.solved_pow_fields())
    assert pow_verified(request) is True
    assert pow_verified(request) is True  # the same request, not a reuse


@pytest.mark.django_db
def test_a_wrong_nonce_is_refused():
    context = pow_context(factory.get("/"), now=T0)
    challenge = str(context["challenge"])
    wrong = next(str(n) for n in range(1000) if not abuse._solves(challenge, str(n), int(context["difficulty"])))
    assert check(solved(context, nonce=wrong), now=T0 + timedelta(seconds=30)) is PowStatus.WRONG_NONCE
    assert check(solved(context, nonce="12ab"), now=T0 + timedelta(seconds=30)) is PowStatus.WRONG_NONCE
    assert check(solved(context, nonce="9" * 40), now=T0 + timedelta(seconds=30)) is PowStatus.WRONG_NONCE


@pytest.mark.django_db
def test_a_tampered_challenge_is_refused():
    context = pow_context(factory.get("/"), now=T0)
    # signing.dumps gives "<payload>:<timestamp>:<signature>".
    payload_part, signature = str(context["challenge"]).split(":", 1)
    payload = json.loads(base64.urlsafe_b64decode(payload_part + "=" * (-len(payload_part) % 4)))
    assert payload["d"] == abuse.DEFAULT_POW_DIFFICULTY
    payload["d"] = 1  # an easier puzzle, keeping the signature
    easier = base64.urlsafe_b64encode(json.dumps(payload, separators=(",", ":")).encode()).decode().rstrip("=")
    forged = f"{easier}:{signature}"
    nonce = next(str(n) for n in range(1000) if abuse._solves(forged, str(n), 1))
    assert check({"pow_challenge": forged, "pow_nonce": nonce}, now=T0 + timedelta(seconds=30)) is (
        PowStatus.BAD_SIGNATURE
    )
    other_signature = str(pow_context(factory.get("/"), now=T0)["challenge"]).split(":", 1)[1]
    data = solved(context)
    data["pow_challenge"] = f"{payload_part}:{other_signature}"
    assert check(data, now=T0 + timedelta(seconds=30)) is PowStatus.BAD_SIGNATURE


@pytest.mark.django_db
def test_a_challenge_signed_for_another_purpose_is_refused():
    unrelated = signing.dumps({"r": "x", "d": 1, "t": int(T0.timestamp()), "f": "post"}, salt="something-else")
    nonce = next(str(n) for n in range(1000) if abuse._solves(unrelated, str(n), 1))
    assert check({"pow_challenge": unrelated, "pow_nonce": nonce}, now=T0 + timedelta(seconds=30)) is (
        PowStatus.BAD_SIGNATURE
    )


@pytest.mark.django_db
def test_age_limits():
    context = pow_context(factory.get("/"), now=T0)
    data = solved(context)
    assert check(data, now=T0 + timedelta(milliseconds=500)) is PowStatus.TOO_FAST
    assert check(data, now=T0 + timedelta(hours=2, seconds=1)) is PowStatus.EXPIRED
    # Neither refusal used the challenge up.
    assert check(data, now=T0 + timedelta(hours=2)) is PowStatus.VALID


@pytest.mark.django_db
def test_a_challenge_is_bound_to_its_form():
    context = pow_context(factory.get("/"), form="comment", now=T0)
    data = solved(context)
    assert check(data, now=T0 + timedelta(seconds=30)) is PowStatus.WRONG_FORM
    assert check(data, now=T0 + timedelta(seconds=30), form="comment") is PowStatus.VALID


@pytest.mark.django_db
def test_missing_or_unsolved():
    assert check({}, now=T0) is PowStatus.MISSING
    context = pow_context(factory.get("/"), now=T0)
    assert check({"pow_challenge": str(context["challenge"]), "pow_nonce": ""}, now=T0) is PowStatus.UNSOLVED
    assert check({"pow_challenge": "garbage", "pow_nonce": "1"}, now=T0) is PowStatus.BAD_SIGNATURE


@pytest.mark.django_db
def test_the_snippet_renders_a_challenge_that_verifies_for_its_form():
    html = render_to_string("portal/abuse/fields.html", {"abuse_form": "support"}, request=factory.get("/"))
    challenge = re.search(r'name="pow_challenge" value="([^"]+)" data-pow-difficulty="(\d+)"', html)
    assert challenge is not None
    assert int(challenge.group(2)) == abuse.DEFAULT_POW_DIFFICULTY
    assert 'name="pow_nonce" value=""' in html
    data = {"pow_challenge": challenge.group(1), "pow_nonce": abuse.solve_challenge(challenge.group(1))}
    later = datetime.now(tz=UTC) + timedelta(seconds=5)
    assert check(data, now=later) is PowStatus.WRONG_FORM
    assert check(data, now=later, form="support") is PowStatus.VALID


def test_the_snippet_uses_the_challenge_a_view_put_in_the_context():
    context = pow_context(factory.get("/"), now=T0)
    html = render_to_string("portal/abuse/fields.html", {"pow": context}, request=factory.get("/"))
    assert f'value="{context["challenge"]}"' in html
    # Not when the template asks for another form: that form gets its own challenge.
    html = render_to_string(
        "portal/abuse/fields.html", {"pow": context, "abuse_form": "comment"}, request=factory.get("/")
    )
    assert f'value="{context["challenge"]}"' not in html
    assert 'name="pow_challenge" value="' in html


@pytest.mark.django_db
@override_settings(RATE_LIMITS=STRICT)
def test_posts_without_a_solution_are_accepted_within_a_stricter_limit(client):
    assert client.post("/probe/", {"title": "a"}).content == b"accepted"
    assert client.post("/probe/", {"title": "a"}).content == b"accepted"
    response = client.post("/probe/", {"title": "a"})
    assert response.status_code == 429
    # With solutions the scope's own, larger limit applies.
    for _ in range(7):
        response = client.post("/probe/", {"title": "a", **abuse.solved_pow_fields()})
        assert response.status_code == 200
        assert response.content == b"verified"
    assert client.post("/probe/", {"title": "a", **abuse.solved_pow_fields()}).status_code == 429


@pytest.mark.skipif(shutil.which("node") is None, reason="node is not installed (needed by `make assets` too)")
@pytest.mark.django_db
def test_pow_js_finds_a_nonce_the_server_accepts():
    """Runs static/portal/pow.js in Node (which has the same WebCrypto API) against a minimal page."""
    context = pow_context(factory.get("/"), now=datetime.now(tz=UTC) - timedelta(seconds=5))
    harness = """
const fs = require("fs");
const nonceInput = { value: "" };
const attributes = { "data-pow-difficulty": process.argv[3] };
const challengeInput = {
  value: process.argv[2],
  getAttribute: (name) => attributes[name] ?? null,
  setAttribute: (name, value) => { attributes[name] = value; },
  form: { querySelector: (selector) => (selector === 'input[name="pow_nonce"]' ? nonceInput : null) },
};
globalThis.window = globalThis;
globalThis.document = {
  readyState: "complete",
  querySelectorAll: () => [challengeInput],
  addEventListener: () => {},
};
eval(fs.readFileSync(process.argv[1], "utf8"));
const started = Date.now();
const poll = setInterval(() => {
  if (nonceInput.value || Date.now() - started > 30000) {
    clearInterval(poll);
    process.stdout.write(JSON.stringify({ nonce: nonceInput.value, state: attributes["data-pow-state"] }));
  }
}, 20);
"""
    completed = subprocess.run(
        ["node", "-e", harness, str(POW_JS), str(context["challenge"]), str(context["difficulty"])],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    result = json.loads(completed.stdout)
    assert result["state"] == "solved"
    # pow.js tries nonces in order, so it finds the same smallest nonce as the server's solver.
    assert result["nonce"] == abuse.solve_challenge(str(context["challenge"]))
    assert pow_verified(posted({"pow_challenge": str(context["challenge"]), "pow_nonce": result["nonce"]}))


# --- the 429 response ----------------------------------------------------------------------------------


def test_the_middleware_is_installed():
    assert "lapor.portal.abuse.RateLimitMiddleware" in settings.MIDDLEWARE


@pytest.mark.django_db
def test_429_page_says_when_to_try_again(client):
    response = client.get("/limited/", {"scope": "submit", "after": "290"})
    assert response.status_code == 429
    assert response["Retry-After"] == "290"
    assert response["Cache-Control"] == "no-store"
    assert [template.name for template in response.templates][:2] == ["portal/errors/429.html", "portal/base.html"]
    page = response.content.decode()
    assert "<h1>Please wait a moment</h1>" in page
    assert "You have sent many reports in a short time." in page
    assert "Please try again in 5 minutes." in page
    assert 'role="alert"' in page
    assert "Back button" in page


@pytest.mark.django_db
@override_settings(RATE_LIMITS=STRICT)
def test_a_limit_reached_through_a_view_gives_the_429_page(client):
    for _ in range(2):
        client.post("/probe/")
    response = client.post("/probe/")
    assert response.status_code == 429
    retry_after = int(response["Retry-After"])
    assert 1 <= retry_after <= 600
    minutes = math.ceil(retry_after / 60)
    expected = "Please try again in a minute." if retry_after <= 60 else f"Please try again in {minutes} minutes."
    assert expected in response.content.decode()
    assert "There have been too many requests in a short time." in response.content.decode()


@pytest.mark.django_db
def test_htmx_requests_get_a_short_fragment(client):
    response = client.post("/limited/?scope=comment&after=30", headers={"HX-Request": "true"})
    assert response.status_code == 429
    assert response["Retry-After"] == "30"
    body = response.content.decode()
    assert "<html" not in body
    assert body.startswith('<p class="notice notice-error" role="alert">')
    assert "You have posted many comments in a short time. Please try again in a minute." in body


@pytest.mark.django_db
def test_json_clients_get_json(client):
    response = client.get("/limited/?scope=login&after=700", headers={"Accept": "application/json"})
    assert response.status_code == 429
    assert response["Retry-After"] == "700"
    assert response.json() == {
        "error": "rate_limited",
        "scope": "login",
        "retry_after": 700,
        "detail": "There have been too many attempts to log in. Please try again in 12 minutes.",
    }


@pytest.mark.django_db
def test_other_errors_are_left_alone(client):
    client.raise_request_exception = True
    with pytest.raises(ValueError, match="not ours"):
        client.get("/broken/")


@pytest.mark.django_db
def test_the_429_page_follows_the_indonesian_default(client):
    clear_url_caches()
    try:
        with override_settings(LANGUAGE_CODE="id"), translation.override("id"):
            response = client.get("/limited/?scope=otp&after=120")
    finally:
        clear_url_caches()
    assert response.status_code == 429
    assert response["Content-Language"] == "id"
    assert b'<html lang="id">' in response.content


@pytest.mark.parametrize(
    ("seconds", "expected"),
    [
        (1, "Please try again in a minute."),
        (60, "Please try again in a minute."),
        (61, "Please try again in 2 minutes."),
        (3599, "Please try again in 60 minutes."),
        (3 * 3600, "Please try again after 20:03 WIB."),  # 17:03 WIB now
        (10 * 3600, "Please try again after 26 November 2026, 03:03 WIB."),
    ],
)
def test_when_to_try_again_in_plain_words(seconds, expected):
    with override_settings(TIME_ZONE="Asia/Jakarta"):
        assert abuse.rate_limited_when(RateLimited("submit", seconds), now=T0) == expected


def test_the_reason_names_the_action_also_for_the_stricter_scope():
    assert abuse.rate_limited_reason(RateLimited("submit_unverified", 10)) == (
        "You have sent many reports in a short time."
    )
    assert abuse.rate_limited_message(RateLimited("support", 10)) == (
        "You have supported many reports in a short time. Please try again in a minute."
    )
