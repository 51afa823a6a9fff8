"""Signing staff in to the console: password, then the mandatory second factor (an authenticator app's
code, or one recovery code), or setting the authenticator up when the account has none yet; signing
out; and the page where staff see their recent sign-ins, their devices, get new recovery codes and end
their other sessions.

The rules (lockout, what is recorded, who counts as staff) live in ``lapor.accounts.signin``; the guard
of every other console page is ``lapor.console.access.staff_required``.
"""

from __future__ import annotations

import base64
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import segno
from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.sessions.backends.base import SessionBase
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from lapor.accounts.models import LoginRecord, User
from lapor.accounts.signin import (
    AttemptContext,
    SignInError,
    SignInErrorCode,
    devices_of,
    has_confirmed_device,
    login_record_bind_session,
    login_records_recent,
    password_sign_in,
    recovery_codes_regenerate,
    second_factor_sign_in,
    sessions_end_others,
    totp_enrollment_confirm,
    totp_enrollment_start,
)
from lapor.console.access import (
    SESSION_SIGNED_IN_AT,
    home_of,
    is_verified,
    now_seconds,
    own_account_required,
    password_step_required,
    session_expired,
    session_stamp_signed_in,
    signs_in_here,
)
from lapor.core.ratelimit import client_ip, rate_limit

BACKEND = "lapor.accounts.backends.EmailOrPhoneBackend"
# When the password was proven on the console's sign-in page (epoch seconds); the second factor must
# follow within PASSWORD_STEP_SECONDS, else the password is asked again.
SESSION_PASSWORD_AT = "console_password_at"  # noqa: S105 - a session key, not a password
PASSWORD_STEP_SECONDS = 15 * 60
QR_SCALE = 4
SECRET_GROUP = 4


class LoginForm(forms.Form):
    login = forms.CharField(
        label=gettext_lazy("E-mail address or phone number"),
        max_length=254,
        error_messages={"required": gettext_lazy("Enter the e-mail address or phone number of your staff account.")},
        widget=forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}),
    )
    password = forms.CharField(
        label=gettext_lazy("Password"),
        strip=False,
        error_messages={"required": gettext_lazy("Enter your password.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class CodeForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code"),
        max_length=32,
        help_text=gettext_lazy("The 6 digits your authenticator app shows now, or one of your recovery codes."),
        error_messages={"required": gettext_lazy("Enter the code from your authenticator app.")},
        widget=forms.TextInput(
            attrs={"autocomplete": "one-time-code", "autocapitalize": "none", "spellcheck": "false"}
        ),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class EnrollForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Code from the app"),
        max_length=16,
        help_text=gettext_lazy("The 6 digits the app shows for Lapor once you added it."),
        error_messages={"required": gettext_lazy("Enter the code your authenticator app shows.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class RecoveryCodesForm(forms.Form):
    code = forms.CharField(
        label=gettext_lazy("Current code"),
        max_length=32,
        help_text=gettext_lazy("To make new recovery codes, enter the code your authenticator app shows now."),
        error_messages={"required": gettext_lazy("Enter the code from your authenticator app.")},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autocapitalize": "none"}),
    )


# --- helpers ---------------------------------------------------------------------------------------------


def _context(request: HttpRequest) -> AttemptContext:
    return AttemptContext.of(
        address=client_ip(request),
        user_agent=request.META.get("HTTP_USER_AGENT", ""),
        session_key=request.session.session_key or "",
    )


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=False):
        return value
    return ""


def _next_of(request: HttpRequest) -> str:
    return _safe_next(request, request.POST.get("next") or request.GET.get("next"))


def _with_next(url: str, next_url: str) -> str:
    return f"{url}?{urlencode({'next': next_url})}" if next_url else url


def _locked_message(error: SignInError) -> str:
    if error.locked_until is None:
        return str(error.message)
    local = timezone.localtime(error.locked_until)
    return _(
        "Too many failed attempts: signing in to this account is locked until %(time)s %(zone)s. "
        "Try again then, or ask a coordinator of your institution to lift the lock."
    ) % {"time": date_format(local, "H:i"), "zone": local.tzname() or ""}


def _error_message(error: SignInError) -> str:
    if error.code is SignInErrorCode.LOCKED:
        return _locked_message(error)
    return str(error.message)


def _password_step_done(request: HttpRequest) -> bool:
    proven_at = request.session.get(SESSION_PASSWORD_AT)
    return isinstance(proven_at, int | float) and now_seconds() - proven_at <= PASSWORD_STEP_SECONDS


def _finish_sign_in(request: HttpRequest, device: Any, record: LoginRecord) -> None:
    """The second factor is proven: mark the session verified, give it a new key (what was fixed before
    is worth nothing now), start its clocks, and remember it so that it can be ended from elsewhere."""
    otp_login(request, device)
    request.session.cycle_key()
    request.session.pop(SESSION_PASSWORD_AT, None)
    session_stamp_signed_in(request)
    request.session.save()
    login_record_bind_session(record=record, session_key=request.session.session_key or "")


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


# --- pages -----------------------------------------------------------------------------------------------


@never_cache
@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    next_url = _next_of(request)
    signed_in = request.user.is_authenticated and signs_in_here(request) and is_verified(request)
    if signed_in and not session_expired(request):
        return HttpResponseRedirect(next_url or home_of(request))
    form = LoginForm(request.POST or None, initial={"next": next_url})
    if request.method == "POST" and form.is_valid():
        # A ceiling per client address against floods; the lock of each account is the records' business.
        rate_limit(request, "console_login")
        try:
            user = password_sign_in(
                identifier=form.cleaned_data["login"], password=form.cleaned_data["password"], context=_context(request)
            )
        except SignInError as error:
            form.add_error(None, _error_message(error))
        else:
            # login() gives the session a new key; the session is signed in, NOT verified: every console
            # page sends it on to the second factor.
            auth_login(request, user, backend=BACKEND)
            request.session[SESSION_PASSWORD_AT] = now_seconds()
            target = "console:verify" if has_confirmed_device(user) else "console:enroll"
            return HttpResponseRedirect(_with_next(reverse(target), next_url))
    return render(request, "console/auth/login.html", {"form": form})


@never_cache
@require_http_methods(["GET", "POST"])
@password_step_required
def verify(request: HttpRequest) -> HttpResponse:
    next_url = _next_of(request)
    if not _password_step_done(request):
        return HttpResponseRedirect(_with_next(reverse("console:login"), next_url))
    user = _user(request)
    if not has_confirmed_device(user):
        return HttpResponseRedirect(_with_next(reverse("console:enroll"), next_url))
    form = CodeForm(request.POST or None, initial={"next": next_url})
    if request.method == "POST" and form.is_valid():
        rate_limit(request, "console_otp")
        try:
            device, record = second_factor_sign_in(user=user, code=form.cleaned_data["code"], context=_context(request))
        except SignInError as error:
            form.add_error("code", _error_message(error))
        else:
            _finish_sign_in(request, device, record)
            if record.method == LoginRecord.Method.RECOVERY:
                remaining = device.token_set.count()
                messages.warning(
                    request,
                    _(
                        "You signed in with a recovery code; it no longer works. %(count)s codes are left: "
                        "make new ones on the security page if you are running out."
                    )
                    % {"count": remaining},
                )
            return HttpResponseRedirect(next_url or home_of(request))
    return render(request, "console/auth/verify.html", {"form": form})


def _secret_text(device: TOTPDevice) -> str:
    secret = base64.b32encode(device.bin_key).decode().rstrip("=")
    return " ".join(secret[index : index + SECRET_GROUP] for index in range(0, len(secret), SECRET_GROUP))


def _qr_svg(device: TOTPDevice) -> str:
    # Rendered here, inline: the secret never leaves the server for a QR service.
    svg = segno.make(device.config_url, error="m").svg_inline(
        scale=QR_SCALE, title=_("QR code to add Lapor to your authenticator app"), svgclass="qr-code"
    )
    return mark_safe(svg)  # noqa: S308 - segno's own SVG of a URL it encoded, no user markup


@never_cache
@require_http_methods(["GET", "POST"])
@password_step_required
def enroll(request: HttpRequest) -> HttpResponse:
    next_url = _next_of(request)
    if not _password_step_done(request):
        return HttpResponseRedirect(_with_next(reverse("console:login"), next_url))
    user = _user(request)
    if has_confirmed_device(user):
        # Replacing a working authenticator needs it first: sign in, then (later) the security page.
        return HttpResponseRedirect(_with_next(reverse("console:verify"), next_url))
    device = totp_enrollment_start(user=user)
    form = EnrollForm(request.POST or None, initial={"next": next_url})
    if request.method == "POST" and form.is_valid():
        rate_limit(request, "console_otp")
        try:
            confirmed, codes, record = totp_enrollment_confirm(
                user=user, code=form.cleaned_data["code"], context=_context(request)
            )
        except SignInError as error:
            form.add_error("code", _error_message(error))
        else:
            _finish_sign_in(request, confirmed, record)
            # Shown in this response only: they are stored as hashes and cannot be shown again.
            return render(
                request,
                "console/auth/recovery_codes.html",
                {"codes": codes, "continue_url": next_url or home_of(request), "first_time": True},
            )
    return render(
        request,
        "console/auth/enroll.html",
        {"form": form, "qr_svg": _qr_svg(device), "secret": _secret_text(device)},
    )


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.success(request, _("You have signed out of the console."))
    return redirect("console:login")


def _security_page(request: HttpRequest, *, form: RecoveryCodesForm | None = None, status: int = 200) -> HttpResponse:
    user = _user(request)
    return render(
        request,
        "console/auth/security.html",
        {
            "records": login_records_recent(user),
            "devices": devices_of(user),
            "form": form or RecoveryCodesForm(),
            "session_ends_at": _session_end(request),
        },
        status=status,
    )


def _session_end(request: HttpRequest) -> datetime | None:
    signed_in_at = request.session.get(SESSION_SIGNED_IN_AT)
    if not isinstance(signed_in_at, int | float):
        return None
    return datetime.fromtimestamp(signed_in_at + settings.CONSOLE_SESSION_MAX_SECONDS, tz=UTC)


@never_cache
@require_http_methods(["GET"])
@own_account_required
def security(request: HttpRequest) -> HttpResponse:
    return _security_page(request)


@never_cache
@require_POST
@own_account_required
def security_recovery_codes(request: HttpRequest) -> HttpResponse:
    form = RecoveryCodesForm(request.POST)
    if not form.is_valid():
        return _security_page(request, form=form, status=400)
    rate_limit(request, "console_otp")
    try:
        codes = recovery_codes_regenerate(
            user=_user(request), code=form.cleaned_data["code"], context=_context(request)
        )
    except SignInError as error:
        if error.code is SignInErrorCode.LOCKED:
            # Locked while signed in: the session ends too, so that the lock means what it says.
            message = _error_message(error)
            auth_logout(request)
            messages.error(request, message)
            return redirect("console:login")
        form.add_error("code", _error_message(error))
        return _security_page(request, form=form, status=400)
    return render(
        request,
        "console/auth/recovery_codes.html",
        {"codes": codes, "continue_url": reverse("console:security"), "first_time": False},
    )


@require_POST
@own_account_required
def security_sessions_end(request: HttpRequest) -> HttpResponse:
    session: SessionBase = request.session
    ended = sessions_end_others(
        user=_user(request), keep_session_key=session.session_key or "", session_store=type(session)
    )
    messages.success(request, _("Your other sessions have been signed out (%(count)s).") % {"count": ended})
    return redirect("console:security")


urlpatterns: list[URLPattern] = [
    path("masuk/", login, name="login"),
    path("masuk/kode/", verify, name="verify"),
    path("masuk/pasang/", enroll, name="enroll"),
    path("keluar/", logout, name="logout"),
    path("keamanan/", security, name="security"),
    path("keamanan/kode-pemulihan/", security_recovery_codes, name="security_recovery_codes"),
    path("keamanan/akhiri-sesi/", security_sessions_end, name="security_sessions_end"),
]
