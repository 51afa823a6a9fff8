"""The ways a notification leaves Lapor, behind one interface.

A channel either delivers a message or raises `DeliveryError`, which says whether trying again later
could help (``temporary``: a server down, a timeout, a full mailbox) or not (an address that does not
exist, a request the gateway refuses). The delivery service turns that into a retry with backoff or
into giving up; channels know nothing of retries.

- E-mail goes through Django's configured mail backend (SMTP in production).
- SMS goes through the backend named by the ``SMS_BACKEND`` setting: ``console`` (printed, for
  development), ``file`` (JSON lines under ``DATA_DIR/sms``) or ``http`` (a JSON POST to the operator's
  gateway at ``SMS_GATEWAY_URL`` with a bearer token).
"""

from __future__ import annotations

import json
import smtplib
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import IO, Any, Protocol

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import EmailMessage, get_connection
from django.utils import timezone

from lapor.notifications.choices import NotificationChannel
from lapor.notifications.models import Notification

DEFAULT_EMAIL_TIMEOUT = 30.0
DEFAULT_SMS_GATEWAY_TIMEOUT = 10.0
SMS_FILE_NAME = "outbox.jsonl"
# 401/403: Lapor's own credentials are wrong, which an admin fixes (the messages then go out);
# 408/425/429: the gateway is slow or busy. Any other 4xx means this message will never be accepted.
TEMPORARY_HTTP_STATUSES = frozenset({401, 403, 408, 425, 429})
HTTP_SERVER_ERROR = 500
SMTP_PERMANENT_FAILURE = 500
# Longest gateway answer kept in last_error: enough to diagnose, not enough to fill the table.
ERROR_EXCERPT = 200


class DeliveryError(Exception):
    def __init__(self, message: str, *, temporary: bool) -> None:
        super().__init__(message)
        self.message = message
        self.temporary = temporary


class Channel(Protocol):
    def send(self, notification: Notification) -> None:
        """Deliver the message or raise DeliveryError."""


class EmailChannel:
    def send(self, notification: Notification) -> None:
        # Without a timeout an SMTP server that accepts the connection and then stalls would hold
        # the worker forever; EMAIL_TIMEOUT, when set, is Django's own name for it.
        timeout = getattr(settings, "EMAIL_TIMEOUT", None) or DEFAULT_EMAIL_TIMEOUT
        message = EmailMessage(
            subject=notification.subject,
            body=notification.body,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[notification.address],
            # RFC 3834: tells vacation responders and mailing lists not to answer an automatic message.
            headers={"Auto-Submitted": "auto-generated", "X-Lapor-Notification": str(notification.pk)},
            connection=get_connection(timeout=timeout),
        )
        try:
            message.send()
        except smtplib.SMTPRecipientsRefused as error:
            codes = [code for code, _reply in error.recipients.values()]
            permanent = bool(codes) and all(code >= SMTP_PERMANENT_FAILURE for code in codes)
            replies = _smtp_replies(error.recipients)
            raise DeliveryError(f"recipient refused: {replies}", temporary=not permanent) from error
        except smtplib.SMTPAuthenticationError as error:
            # Lapor's own credentials are wrong: an admin fixes them and the messages go out then.
            raise DeliveryError(f"SMTP authentication failed ({error.smtp_code})", temporary=True) from error
        except smtplib.SMTPResponseException as error:
            reply = _decode(error.smtp_error)
            raise DeliveryError(
                f"SMTP server answered {error.smtp_code} {reply}", temporary=error.smtp_code < SMTP_PERMANENT_FAILURE
            ) from error
        except (smtplib.SMTPException, OSError) as error:
            raise DeliveryError(f"SMTP server unreachable: {error!r}", temporary=True) from error
        except ValueError as error:
            raise DeliveryError(f"message refused by the mail library: {error}", temporary=False) from error


def _decode(reply: bytes | str) -> str:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    return text[:ERROR_EXCERPT]


def _smtp_replies(recipients: dict[str, tuple[int, bytes]]) -> str:
    return "; ".join(f"{code} {_decode(reply)}" for code, reply in recipients.values())


class SmsBackend(Protocol):
    def send_sms(self, *, to: str, message: str, reference: str) -> None:
        """Hand one text message to the operator or raise DeliveryError. ``reference`` identifies
        the notification, so that a gateway can recognise a retry of a message it already took."""


class ConsoleSmsBackend:
    def __init__(self, stream: IO[str] | None = None) -> None:
        self.stream = stream

    def send_sms(self, *, to: str, message: str, reference: str) -> None:
        stream = self.stream or sys.stdout
        stream.write(f"SMS to {to} ({reference}):\n{message}\n{'-' * 40}\n")
        stream.flush()


class FileSmsBackend:
    def __init__(self, directory: Path) -> None:
        self.directory = directory

    @property
    def path(self) -> Path:
        return self.directory / SMS_FILE_NAME

    def send_sms(self, *, to: str, message: str, reference: str) -> None:
        line = json.dumps(
            {"to": to, "message": message, "reference": reference, "at": timezone.now().isoformat()},
            ensure_ascii=False,
        )
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            # One write of one line in append mode, so that two workers' lines never interleave.
            with self.path.open("a", encoding="utf-8") as outbox:
                outbox.write(line + "\n")
        except OSError as error:
            raise DeliveryError(f"cannot write {self.path}: {error}", temporary=True) from error


class _RefuseRedirects(urllib.request.HTTPRedirectHandler):
    """A gateway that redirects is misconfigured; following would resend the token to another place
    and turn the POST into a GET that drops the message."""

    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


class HttpSmsBackend:
    """POSTs ``{"to": ..., "message": ...}`` as JSON to the operator's gateway with a bearer token.

    Server errors, timeouts and unreachable gateways are temporary, and so are the 4xx answers in
    TEMPORARY_HTTP_STATUSES; any other 4xx (or a redirect) gives the message up.
    """

    def __init__(self, *, url: str, token: str, timeout: float = DEFAULT_SMS_GATEWAY_TIMEOUT) -> None:
        if not url.startswith(("https://", "http://")):
            raise ImproperlyConfigured("SMS_GATEWAY_URL must be an http:// or https:// URL.")
        self.url = url
        self.token = token
        self.timeout = timeout
        self._opener = urllib.request.build_opener(_RefuseRedirects)

    def send_sms(self, *, to: str, message: str, reference: str) -> None:
        headers = {"Content-Type": "application/json", "Accept": "application/json", "Idempotency-Key": reference}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked in __init__)
            self.url,
            data=json.dumps({"to": to, "message": message}).encode(),
            headers=headers,
            method="POST",
        )
        try:
            with self._opener.open(request, timeout=self.timeout) as response:
                response.read()
        except urllib.error.HTTPError as error:
            answer = _decode(error.read() or b"")
            temporary = error.code >= HTTP_SERVER_ERROR or error.code in TEMPORARY_HTTP_STATUSES
            raise DeliveryError(f"SMS gateway answered HTTP {error.code}: {answer}", temporary=temporary) from error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DeliveryError(f"SMS gateway unreachable: {reason!r}", temporary=True) from error


def sms_backend_from_settings() -> SmsBackend:
    name = getattr(settings, "SMS_BACKEND", "console")
    if name == "console":
        return ConsoleSmsBackend()
    if name == "file":
        return FileSmsBackend(Path(settings.DATA_DIR) / "sms")
    if name == "http":
        url = getattr(settings, "SMS_GATEWAY_URL", "")
        if not url:
            raise ImproperlyConfigured("SMS_BACKEND is 'http' but SMS_GATEWAY_URL is not set.")
        return HttpSmsBackend(
            url=url,
            token=getattr(settings, "SMS_GATEWAY_TOKEN", ""),
            timeout=float(getattr(settings, "SMS_GATEWAY_TIMEOUT", DEFAULT_SMS_GATEWAY_TIMEOUT)),
        )
    raise ImproperlyConfigured(f"Unknown SMS_BACKEND {name!r}: use 'console', 'file' or 'http'.")


class SmsChannel:
    def __init__(self, backend: SmsBackend | None = None) -> None:
        self.backend = backend or sms_backend_from_settings()

    def send(self, notification: Notification) -> None:
        self.backend.send_sms(
            to=notification.address, message=notification.body, reference=f"lapor-notification-{notification.pk}"
        )


def channel_for(name: str) -> Channel:
    """The channel that delivers notifications of ``name``, built from the current settings."""
    if name == NotificationChannel.EMAIL:
        return EmailChannel()
    if name == NotificationChannel.SMS:
        return SmsChannel()
    raise ImproperlyConfigured(f"No channel delivers {name!r} notifications.")
