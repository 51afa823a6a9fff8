"""Citizen accounts: register, sign in (with a password or a one-time code), sign out, set a new
password, "my reports", preferences, and claiming the reports filed as a guest.

Registration creates the account only once the code sent to its e-mail address or phone number
comes back (`portal:verify`), not as an inactive account beforehand. Until then the name, the
address and the *hashed* password wait in the session. So nobody can hold an address they never
proved: an inactive account made with someone else's address would keep its owner from registering,
and would need a sweep to be removed. An account made this way has a verified contact from the start,
which is what claiming guest reports asks for.

One page, `portal:verify`, takes every code (register, sign in, new password, claim, contact change):
what the code is for waits in the session (``PENDING_SESSION_KEY``), with where to go afterwards.

No page tells whether an account exists: registering with a taken address, asking for a sign-in code or
a new password for an unknown address all lead to the same "we sent a code" page (the owner of a taken
address gets a notice instead of a code); a wrong password and an unknown account get the same error.
Only someone who reads the address learns more.

Abuse: every post that sends a code counts against the "otp" limits of the address the code goes to;
each password check counts against "login" (lapor.core.ratelimit), before the password is checked.
Public forms also carry the honeypot and the proof-of-work (lapor.portal.abuse). Guessing a code is
bounded by the code itself: five wrong tries kill it, and every new code counts against "otp".
"""

from __future__ import annotations

import dataclasses
from datetime import timedelta
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, password_validation
from django.contrib.auth import login as auth_login
from django.contrib.auth import logout as auth_logout
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import URLPattern, path, reverse
from django.utils import timezone, translation
from django.utils.dateparse import parse_datetime
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_http_methods, require_POST

from lapor.accounts.choices import OneTimeCodePurpose, PreferredChannel
from lapor.accounts.errors import AccountError, AccountErrorCode
from lapor.accounts.models import User
from lapor.accounts.selectors import invitations_pending
from lapor.accounts.services import (
    Registration,
    contact_field,
    contact_normalize,
    membership_accept,
    membership_decline,
    user_code_send,
    user_code_verify,
    user_contact_code_send,
    user_contact_verify,
    user_password_set,
    user_preferences_set,
    user_registration_finish,
    user_registration_resend,
    user_registration_start,
)
from lapor.core.ratelimit import rate_limit
from lapor.portal import abuse, links
from lapor.reports.access import visible_reports
from lapor.reports.errors import ReportError
from lapor.reports.models import ReportClock
from lapor.reports.serializers import reporter_report_summary
from lapor.reports.services import report_claim_by_contact, report_claim_candidates

PENDING_SESSION_KEY = "portal_account_pending"
RESET_SESSION_KEY = "portal_password_reset"
# How long a started flow waits for its code, and a proven reset for its new password.
PENDING_LIFETIME = timedelta(hours=1)
RESET_WINDOW = timedelta(minutes=10)
MY_REPORTS_PAGE = 20
CLAIM_PREVIEW = 50
BACKEND = "lapor.accounts.backends.EmailOrPhoneBackend"
SIGNED_IN = "portal:login"

BAD_CREDENTIALS = _("The e-mail address, phone number or password is not right.")
PASSWORD_SET = _("Your new password is set. Other devices signed in to your account are signed out.")


# --- forms -----------------------------------------------------------------------------------------


class ContactField(forms.CharField):
    """An e-mail address or an Indonesian phone number, cleaned to the form accounts store it in."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("label", _("E-mail address or phone number"))
        kwargs.setdefault("max_length", 254)
        kwargs.setdefault(
            "widget",
            forms.TextInput(attrs={"autocomplete": "username", "autocapitalize": "none", "spellcheck": "false"}),
        )
        super().__init__(**kwargs)

    def clean(self, value: Any) -> str:
        text = super().clean(value)
        try:
            return contact_normalize(text)
        except AccountError as error:
            if error.code == AccountErrorCode.EMAIL_INVALID:
                raise ValidationError(
                    _("Enter an e-mail address (name@example.id) or an Indonesian phone number (0812 3456 7890)."),
                    code=str(error.code),
                ) from error
            raise ValidationError(error.message, code=str(error.code)) from error


def _password_field(label: Any, *, autocomplete: str, help_text: Any = "") -> forms.CharField:
    return forms.CharField(
        label=label,
        strip=False,
        help_text=help_text,
        widget=forms.PasswordInput(attrs={"autocomplete": autocomplete}),
    )


class LoginForm(forms.Form):
    login = ContactField()
    password = forms.CharField(
        label=_("Password"),
        strip=False,
        error_messages={"required": _("Enter your password, or ask for a code instead.")},
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
    )
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args: Any, wants_code: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "Send me a code instead" needs only the address.
        self.fields["password"].required = not wants_code


class RegisterForm(forms.Form):
    full_name = forms.CharField(
        label=_("Full name"), max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    contact = ContactField(
        help_text=_("We send a code to it to check that it is yours. You sign in with it."),
    )
    password1 = _password_field(
        _("Password"),
        autocomplete="new-password",
        help_text=_("At least 10 characters; not only digits, and not like your name or address."),
    )
    password2 = _password_field(_("Password again"), autocomplete="new-password")
    next = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _check_new_passwords(self, candidate=_candidate(cleaned.get("full_name", ""), cleaned.get("contact")))
        return cleaned


class NewPasswordForm(forms.Form):
    password1 = _password_field(
        _("New password"),
        autocomplete="new-password",
        help_text=_("At least 10 characters; not only digits, and not like your name or address."),
    )
    password2 = _password_field(_("New password again"), autocomplete="new-password")

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean() or {}
        _check_new_passwords(self, candidate=self.user)
        return cleaned


def _candidate(full_name: str, contact: str | None) -> User:
    """The account a new password will belong to, for the validators that compare it with the name."""
    user = User(full_name=full_name)
    if contact:
        setattr(user, contact_field(contact), contact)
    return user


def _check_new_passwords(form: forms.Form, *, candidate: User) -> None:
    first, second = form.cleaned_data.get("password1"), form.cleaned_data.get("password2")
    if first:
        try:
            password_validation.validate_password(first, candidate)
        except ValidationError as error:
            form.add_error("password1", error)
    if first and second is not None and first != second and "password2" not in form.errors:
        form.add_error("password2", _("The two passwords differ. Type the same password twice."))


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("Code"),
        max_length=12,
        help_text=_("The 6 digits in the message we sent."),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code", "pattern": "[0-9 ]*", "size": 8}
        ),
    )

    def clean_code(self) -> str:
        digits = "".join(character for character in self.cleaned_data["code"] if character.isdigit())
        if len(digits) != 6 or len(digits) != len(self.cleaned_data["code"].replace(" ", "")):  # noqa: PLR2004
            raise ValidationError(_("Enter the 6 digits of the code."), code="code_format")
        return digits


class ContactForm(forms.Form):
    contact = ContactField()


class NewContactForm(forms.Form):
    contact = ContactField(
        label=_("New e-mail address or phone number"),
        widget=forms.TextInput(attrs={"autocomplete": "off", "autocapitalize": "none", "spellcheck": "false"}),
    )


class PreferencesForm(forms.Form):
    preferred_language = forms.ChoiceField(
        label=_("Language of our messages"), widget=forms.RadioSelect, choices=[("id", "Bahasa Indonesia")]
    )
    preferred_channel = forms.ChoiceField(
        label=_("How we send you news of your reports"),
        widget=forms.RadioSelect,
        choices=PreferredChannel.choices,
        required=False,
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault(
            "initial", {"preferred_language": user.preferred_language, "preferred_channel": user.preferred_channel}
        )
        super().__init__(*args, **kwargs)
        language_field = self.fields["preferred_language"]
        assert isinstance(language_field, forms.ChoiceField)
        language_field.choices = [(code, _language_name(code)) for code, _name in settings.LANGUAGES]
        if not (user.email and user.phone):
            # With one contact there is nothing to choose: messages go where they can.
            del self.fields["preferred_channel"]


def _language_name(code: str) -> str:
    return str(translation.get_language_info(code)["name_local"])


# --- helpers ---------------------------------------------------------------------------------------


def _status(*forms_or_status: forms.Form | int) -> int:
    """400 when a form was sent back with errors (as the console answers), else the status given or 200."""
    status = 200
    for item in forms_or_status:
        if isinstance(item, int):
            status = max(status, item)
        elif item.is_bound and item.errors:
            status = 400
    return status


def _user(request: HttpRequest) -> User:
    user = request.user
    assert isinstance(user, User)
    return user


def _safe_next(request: HttpRequest, value: str | None) -> str:
    if value and url_has_allowed_host_and_scheme(value, allowed_hosts={request.get_host()}, require_https=False):
        return value
    return ""


def _signed_in(request: HttpRequest, user: User, next_url: str) -> HttpResponse:
    request.session.pop(PENDING_SESSION_KEY, None)
    # login() gives the session a new key, so that one fixed before signing in is worth nothing.
    auth_login(request, user, backend=BACKEND)
    return HttpResponseRedirect(next_url or reverse("portal:my_reports"))


@dataclasses.dataclass
class Pending:
    """A flow waiting for the code sent to ``address`` (kept in the session as a dict)."""

    purpose: str
    address: str
    started_at: str
    next: str = ""
    user_id: int | None = None
    registration: dict[str, str] | None = None


def _start(
    request: HttpRequest,
    *,
    purpose: OneTimeCodePurpose,
    address: str,
    next_url: str = "",
    user: User | None = None,
    registration: Registration | None = None,
) -> HttpResponse:
    pending = Pending(
        purpose=purpose,
        address=address,
        started_at=timezone.now().isoformat(),
        next=next_url,
        user_id=user.pk if user is not None else None,
        registration=dataclasses.asdict(registration) if registration is not None else None,
    )
    request.session[PENDING_SESSION_KEY] = dataclasses.asdict(pending)
    return redirect("portal:verify")


def _pending(request: HttpRequest) -> Pending | None:
    """The flow waiting for a code, if it is still fresh and still this visitor's."""
    stored = request.session.get(PENDING_SESSION_KEY)
    try:
        pending = Pending(**stored) if isinstance(stored, dict) else None
    except TypeError:
        pending = None
    if pending is not None:
        started = parse_datetime(pending.started_at)
        fresh = started is not None and timezone.now() - started < PENDING_LIFETIME
        owner_present = pending.user_id is None or pending.user_id == request.user.pk
        if fresh and owner_present and pending.purpose in OneTimeCodePurpose.values:
            return pending
    request.session.pop(PENDING_SESSION_KEY, None)
    return None


def _language() -> str:
    return translation.get_language() or "id"


# --- signing in and out ------------------------------------------------------------------------------


@sensitive_post_parameters("password")
@require_http_methods(["GET", "POST"])
def login(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    if request.method == "GET" and request.user.is_authenticated:
        return HttpResponseRedirect(next_url or reverse("portal:my_reports"))
    wants_code = "send_code" in request.POST
    form = LoginForm(request.POST or None, initial={"next": next_url}, wants_code=wants_code)
    status = 200
    if request.method == "POST":
        if abuse.honeypot_tripped(request.POST):
            form.add_error(None, abuse.HONEYPOT_MESSAGE)
            status = 400
        elif form.is_valid():
            address = form.cleaned_data["login"]
            if wants_code:
                abuse.guard(request, "otp", user=address, form="login")
                user_code_send(address=address, purpose=OneTimeCodePurpose.LOGIN, language=_language())
                return _start(request, purpose=OneTimeCodePurpose.LOGIN, address=address, next_url=next_url)
            # Counted before the password is checked: failed guesses are what the limit is for.
            abuse.guard(request, "login", user=address, form="login")
            user = authenticate(request, username=address, password=form.cleaned_data["password"])
            if isinstance(user, User):
                return _signed_in(request, user, next_url)
            # The same words whether the account exists, is deactivated, or the password is wrong.
            form.add_error(None, BAD_CREDENTIALS)
    return render(request, "portal/accounts/login.html", {"form": form}, status=_status(form, status))


@require_POST
def logout(request: HttpRequest) -> HttpResponse:
    auth_logout(request)
    messages.success(request, _("You have signed out."))
    # The private links opened in this browser go with the session, as they did when the session kept them.
    return links.forget(redirect("portal:home"))


# --- registering -----------------------------------------------------------------------------------

# Where each service error about a registration is shown on the form.
REGISTER_FIELDS = {"full_name": "full_name", "email": "contact", "phone": "contact", "password": "password1"}


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest) -> HttpResponse:
    next_url = _safe_next(request, request.POST.get("next") or request.GET.get("next"))
    form = RegisterForm(request.POST or None, initial={"next": next_url})
    status = 200
    if request.method == "POST":
        if abuse.honeypot_tripped(request.POST):
            form.add_error(None, abuse.HONEYPOT_MESSAGE)
            status = 400
        elif form.is_valid():
            address = form.cleaned_data["contact"]
            abuse.guard(request, "otp", user=address, form="register")
            try:
                registration = user_registration_start(
                    full_name=form.cleaned_data["full_name"],
                    address=address,
                    password=form.cleaned_data["password1"],
                    language=_language(),
                )
            except AccountError as error:
                form.add_error(REGISTER_FIELDS.get(error.field or ""), error.message)
            else:
                return _start(
                    request,
                    purpose=OneTimeCodePurpose.REGISTER,
                    address=registration.address,
                    next_url=next_url,
                    registration=registration,
                )
    return render(request, "portal/accounts/register.html", {"form": form}, status=_status(form, status))


# --- the code ----------------------------------------------------------------------------------------


def _send_again(request: HttpRequest, pending: Pending) -> None:
    purpose = OneTimeCodePurpose(pending.purpose)
    if purpose == OneTimeCodePurpose.REGISTER and pending.registration is not None:
        user_registration_resend(registration=Registration(**pending.registration))
    elif purpose in (OneTimeCodePurpose.LOGIN, OneTimeCodePurpose.PASSWORD_RESET):
        user_code_send(address=pending.address, purpose=purpose, language=_language())
    elif request.user.is_authenticated:
        user_contact_code_send(user=_user(request), address=pending.address, purpose=purpose, language=_language())


def _finish(request: HttpRequest, pending: Pending, code: str) -> HttpResponse:
    """Use the code for what it was sent for; AccountError when the code (or what follows) fails."""
    purpose = OneTimeCodePurpose(pending.purpose)
    if purpose == OneTimeCodePurpose.REGISTER:
        if pending.registration is None:
            raise AccountError(AccountErrorCode.CODE_WRONG)
        user = user_registration_finish(registration=Registration(**pending.registration), code=code)
        messages.success(request, _("Welcome to Lapor. Your account is ready."))
        return _signed_in(request, user, pending.next)
    if purpose == OneTimeCodePurpose.LOGIN:
        user = user_code_verify(address=pending.address, purpose=purpose, code=code)
        return _signed_in(request, user, pending.next)
    if purpose == OneTimeCodePurpose.PASSWORD_RESET:
        user = user_code_verify(address=pending.address, purpose=purpose, code=code)
        request.session.pop(PENDING_SESSION_KEY, None)
        request.session[RESET_SESSION_KEY] = {"user_id": user.pk, "until": (timezone.now() + RESET_WINDOW).isoformat()}
        return redirect("portal:password_reset")
    user_contact_verify(user=_user(request), address=pending.address, purpose=purpose, code=code)
    request.session.pop(PENDING_SESSION_KEY, None)
    if purpose == OneTimeCodePurpose.CLAIM:
        messages.success(request, _("Thank you: %(address)s is verified.") % {"address": pending.address})
        return redirect("portal:claim")
    messages.success(request, _("%(address)s is now on your account.") % {"address": pending.address})
    return redirect("portal:preferences")


CODE_ERRORS = frozenset(
    {AccountErrorCode.CODE_WRONG, AccountErrorCode.CODE_EXPIRED, AccountErrorCode.CODE_TOO_MANY_ATTEMPTS}
)
# Where to start again with another address, or when the code was right but its purpose cannot be done.
RESTART = {
    OneTimeCodePurpose.REGISTER: "portal:register",
    OneTimeCodePurpose.LOGIN: "portal:login",
    OneTimeCodePurpose.PASSWORD_RESET: "portal:password_reset",
    OneTimeCodePurpose.CLAIM: "portal:claim",
    OneTimeCodePurpose.CONTACT_CHANGE: "portal:preferences",
}


@sensitive_post_parameters("code")
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    pending = _pending(request)
    if pending is None:
        messages.info(request, _("There is no code to enter now. Sign in, register or ask for a new code."))
        return redirect("portal:login")
    if request.method == "POST" and "resend" in request.POST:
        rate_limit(request, "otp", user=pending.address)
        _send_again(request, pending)
        messages.info(request, _("We sent a new code. Only the newest code works."))
        return redirect("portal:verify")
    form = CodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            return _finish(request, pending, form.cleaned_data["code"])
        except AccountError as error:
            if error.code not in CODE_ERRORS:
                # The code was right, but the address was taken meanwhile, or left the account.
                request.session.pop(PENDING_SESSION_KEY, None)
                messages.error(request, error.message)
                purpose = OneTimeCodePurpose(pending.purpose)
                # Someone registered the address first: its owner (the reader) signs in.
                return redirect("portal:login" if purpose == OneTimeCodePurpose.REGISTER else RESTART[purpose])
            form.add_error("code", error.message)
    context = {
        "form": form,
        "address": pending.address,
        "purpose": OneTimeCodePurpose(pending.purpose),
        "by_sms": contact_field(pending.address) == "phone",
        "restart_url": reverse(RESTART[OneTimeCodePurpose(pending.purpose)]),
    }
    return render(request, "portal/accounts/verify.html", context, status=_status(form))


# --- a new password ------------------------------------------------------------------------------------


def _reset_user(request: HttpRequest) -> User | None:
    """The account whose code was proven for a new password in this session, while the window lasts."""
    grant = request.session.get(RESET_SESSION_KEY)
    if not isinstance(grant, dict):
        return None
    until = parse_datetime(str(grant.get("until", "")))
    user_id = grant.get("user_id")
    user = User.objects.filter(pk=user_id, is_active=True).first() if isinstance(user_id, int) else None
    if until is None or until <= timezone.now() or user is None:
        request.session.pop(RESET_SESSION_KEY, None)
        messages.error(request, _("That took too long. Ask for a new code."))
        return None
    return user


@sensitive_post_parameters("password1", "password2")
@require_http_methods(["GET", "POST"])
def password_reset(request: HttpRequest) -> HttpResponse:
    user = _reset_user(request)
    if user is not None:
        new_password = NewPasswordForm(user, request.POST or None)
        if request.method == "POST" and new_password.is_valid():
            try:
                user_password_set(user=user, password=new_password.cleaned_data["password1"])
            except AccountError as error:
                new_password.add_error("password1", error.message)
            else:
                request.session.pop(RESET_SESSION_KEY, None)
                messages.success(request, PASSWORD_SET)
                return _signed_in(request, user, "")
        return render(
            request, "portal/accounts/set_password.html", {"form": new_password}, status=_status(new_password)
        )
    form = ContactForm(request.POST or None)
    status = 200
    if request.method == "POST":
        if abuse.honeypot_tripped(request.POST):
            form.add_error(None, abuse.HONEYPOT_MESSAGE)
            status = 400
        elif form.is_valid():
            address = form.cleaned_data["contact"]
            abuse.guard(request, "otp", user=address, form="password_reset")
            user_code_send(address=address, purpose=OneTimeCodePurpose.PASSWORD_RESET, language=_language())
            return _start(request, purpose=OneTimeCodePurpose.PASSWORD_RESET, address=address)
    return render(request, "portal/accounts/password_reset.html", {"form": form}, status=_status(form, status))


# --- the signed-in reporter ------------------------------------------------------------------------------


@login_required(login_url=SIGNED_IN)
@require_http_methods(["GET"])
def my_reports(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    reports = (
        visible_reports(user)
        .filter(reporter=user)
        .select_related("owner")
        .prefetch_related(Prefetch("clocks", queryset=ReportClock.objects.filter(stopped_at__isnull=True)))
        .order_by("-pk")
    )
    before = request.GET.get("sebelum", "")
    if before.isdigit():
        reports = reports.filter(pk__lt=int(before))
    page = list(reports[: MY_REPORTS_PAGE + 1])
    more = len(page) > MY_REPORTS_PAGE
    page = page[:MY_REPORTS_PAGE]
    context = {
        "reports": [reporter_report_summary(report) for report in page],
        "next_page": f"?sebelum={page[-1].pk}" if more else "",
        "first_page": bool(before),
    }
    return render(request, "portal/accounts/my_reports.html", context)


@login_required(login_url=SIGNED_IN)
@require_http_methods(["GET", "POST"])
def preferences(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    action = request.POST.get("action", "")
    settings_form = PreferencesForm(user, request.POST if action == "preferences" else None)
    contact_form = NewContactForm(request.POST if action == "contact" else None)
    if action == "preferences" and settings_form.is_valid():
        try:
            user_preferences_set(
                user=user,
                preferred_language=settings_form.cleaned_data["preferred_language"],
                preferred_channel=settings_form.cleaned_data.get("preferred_channel") or "",
            )
        except AccountError as error:
            settings_form.add_error(error.field if error.field in settings_form.fields else None, error.message)
        else:
            messages.success(request, _("Your preferences are saved."))
            return redirect("portal:preferences")
    if action == "contact" and contact_form.is_valid():
        address = contact_form.cleaned_data["contact"]
        rate_limit(request, "otp", user=address)
        user_contact_code_send(
            user=user, address=address, purpose=OneTimeCodePurpose.CONTACT_CHANGE, language=_language()
        )
        return _start(request, purpose=OneTimeCodePurpose.CONTACT_CHANGE, address=address, user=user)
    context = {"settings_form": settings_form, "contact_form": contact_form, "contacts": _contacts(user)}
    return render(request, "portal/accounts/preferences.html", context, status=_status(settings_form, contact_form))


@login_required(login_url=SIGNED_IN)
@require_http_methods(["GET", "POST"])
def invitations(request: HttpRequest) -> HttpResponse:
    """The staff roles an institution invited this account to: nothing is given before its owner accepts.
    Signed in with a password is enough here: answering an invitation acts for nobody but oneself."""
    user = _user(request)
    if request.method == "POST":
        raw = request.POST.get("membership", "")
        decision = request.POST.get("decision", "")
        if not raw.isdigit() or decision not in ("accept", "decline"):
            messages.error(request, _("Choose an invitation and whether you accept it."))
            return render(
                request, "portal/accounts/invitations.html", {"invitations": invitations_pending(user)}, status=400
            )
        try:
            if decision == "accept":
                membership = membership_accept(user=user, membership_id=int(raw))
            else:
                membership = membership_decline(user=user, membership_id=int(raw))
        except AccountError as error:
            messages.error(request, error.message)
        else:
            names = {"role": membership.get_role_display(), "institution": membership.institution.name}
            if decision == "accept":
                messages.success(
                    request,
                    _("You are now %(role)s of %(institution)s. Sign in to the console to start.") % names,
                )
            else:
                messages.success(request, _("You declined the role of %(role)s of %(institution)s.") % names)
        return redirect("portal:invitations")
    return render(request, "portal/accounts/invitations.html", {"invitations": invitations_pending(user)})


def _contacts(user: User) -> list[dict[str, Any]]:
    rows = [
        ("email", _("E-mail address"), user.email, user.email_is_verified),
        ("phone", _("Phone number"), user.phone, user.phone_is_verified),
    ]
    return [
        {"kind": kind, "label": label, "address": address, "verified": verified}
        for kind, label, address, verified in rows
        if address
    ]


@login_required(login_url=SIGNED_IN)
@require_http_methods(["GET", "POST"])
def claim(request: HttpRequest) -> HttpResponse:
    user = _user(request)
    action = request.POST.get("action", "")
    if action == "claim":
        try:
            claimed = report_claim_by_contact(user=user)
        except ReportError as error:
            messages.error(request, str(error.message))
            return redirect("portal:claim")
        if claimed:
            messages.success(
                request,
                ngettext(
                    "%(count)d report is now in your account.",
                    "%(count)d reports are now in your account.",
                    len(claimed),
                )
                % {"count": len(claimed)},
            )
            return redirect("portal:my_reports")
        messages.info(request, _("No report filed as a guest with your verified contacts is waiting."))
        return redirect("portal:claim")
    if action in ("verify_email", "verify_phone"):
        address = user.email if action == "verify_email" else user.phone
        if address:
            rate_limit(request, "otp", user=address)
            user_contact_code_send(user=user, address=address, purpose=OneTimeCodePurpose.CLAIM, language=_language())
            return _start(request, purpose=OneTimeCodePurpose.CLAIM, address=address, user=user)
        messages.error(request, AccountError(AccountErrorCode.CONTACT_NOT_OWN).message)
        return redirect("portal:claim")
    candidates = (
        report_claim_candidates(user=user)
        .select_related("owner")
        .prefetch_related(Prefetch("clocks", queryset=ReportClock.objects.filter(stopped_at__isnull=True)))
        .order_by("-pk")
    )
    preview = list(candidates[: CLAIM_PREVIEW + 1])
    context = {
        "contacts": _contacts(user),
        "reports": [reporter_report_summary(report) for report in preview[:CLAIM_PREVIEW]],
        "more": len(preview) > CLAIM_PREVIEW,
    }
    return render(request, "portal/accounts/claim.html", context)


urlpatterns: list[URLPattern] = [
    path("akun/masuk/", login, name="login"),
    path("akun/keluar/", logout, name="logout"),
    path("akun/daftar/", register, name="register"),
    path("akun/kode/", verify, name="verify"),
    path("akun/lupa-kata-sandi/", password_reset, name="password_reset"),
    path("akun/laporan-saya/", my_reports, name="my_reports"),
    path("akun/pengaturan/", preferences, name="preferences"),
    path("akun/klaim-laporan/", claim, name="claim"),
    path("akun/undangan/", invitations, name="invitations"),
]
