"""Rate limits per client address and per account, shared by every web process.

The contract the faces use::

    rate_limit(request, "submit", user=request.user)   # raises RateLimited when over a limit

Each scope ("submit", "comment", "support", "login", "otp" and their stricter ``<scope>_unverified``
twins, see lapor.portal.abuse) has rules for up to three subjects:

- ``account``: per account, when one is known: the signed-in user, a ``User`` passed as ``user``, or an
  identifier string passed as ``user`` (the e-mail address or phone number typed into a login or
  one-time-code form; pass it normalised, e.g. through ``normalize_phone``, so that "0812…" and
  "+62812…" share one counter).
- ``guest``: per client address, counting only callers who are not signed in (an identifier typed
  into a login form proves nothing: such a caller is still a guest).
- ``ip``: per client address, counting every caller: a ceiling against floods.

Why per account first and the addresses generous: most Indonesians reach the internet through mobile
carriers' carrier-grade NAT, where one public IPv4 address is shared by hundreds or thousands of
phones, and a kelurahan office or a school shares one Wi-Fi address. A per-address limit tight enough
to stop one abuser would lock out a whole kampung, so per-address limits are set for a crowd and the
tight limits sit on accounts, which need a verified contact to create. IPv6 callers are counted per
/64 prefix, because one subscriber receives a whole /64 and could otherwise rotate addresses freely.

Windows are fixed and aligned to the epoch (a day runs from 07:00 WIB): simple to explain ("try again
at 14:20") at the price of allowing up to twice a limit across a window's edge. Every call counts,
including refused ones; the counter of a window never outlives it, so a refused caller is never locked
out for longer than the window. Call ``rate_limit`` where an attempt really costs something: for
"submit", "comment" and "support" once the form is valid, right before the service call (a citizen
correcting a form error is not counted); for "login" before checking the password (failed guesses are
exactly what must be counted); for "otp" before sending the code.

A trade-off for "login": a per-identifier limit lets anyone who knows an address keep its owner from
logging in with a password for the window. The one-time-code path ("otp", counted per address where the
code goes and per client address) stays open for the owner.

Counters live in the database by default (``RateLimitCounter``, one row per window, incremented with
a single ``INSERT … ON CONFLICT DO UPDATE … RETURNING``, atomic on PostgreSQL and SQLite alike), so any
number of web processes share them with nothing more to run. ``RATE_LIMIT_STORE = "cache"`` uses the
Django cache named by ``RATE_LIMIT_CACHE`` instead, for deployments with a shared cache (Redis,
memcached): never a per-process cache, whose counters each process would keep to itself. The worker's
sweep ``sweep_expired`` deletes counters whose window has ended.

Addresses and identifiers are stored only as keyed hashes (personal data, UU 27/2022).

Settings: ``RATE_LIMITS`` (overrides ``DEFAULT_RATE_LIMITS`` scope by scope), ``TRUSTED_PROXY_COUNT``,
``RATE_LIMIT_STORE``, ``RATE_LIMIT_CACHE``, ``RATE_LIMITS_ENABLED`` (tests may turn the limits off).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import wraps
from typing import Any, Literal, Protocol

from django.conf import settings
from django.core.cache import caches
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from lapor.core.crypto import blind_index
from lapor.core.models import RateLimitCounter

logger = logging.getLogger(__name__)

Subject = Literal["account", "guest", "ip"]
SUBJECTS: tuple[Subject, ...] = ("account", "guest", "ip")

# Rules read "<count>/<period>": "5/10m" is five per ten minutes; units s, m, h, d.
DEFAULT_RATE_LIMITS: dict[str, dict[str, tuple[str, ...]]] = {
    # A report is a real piece of work; LAPOR! receives about 540 a day for the whole country.
    "submit": {"account": ("10/1d",), "guest": ("10/10m", "60/1d"), "ip": ("30/10m", "300/1d")},
    # Posted without a solved proof-of-work (JavaScript off, or a script): accepted, within these.
    "submit_unverified": {"guest": ("5/10m", "20/1d")},
    "comment": {"account": ("10/10m", "50/1d"), "guest": ("10/10m", "60/1d"), "ip": ("60/10m", "600/1d")},
    "comment_unverified": {"guest": ("5/10m", "20/1d")},
    # "Dukung" is one click per report and account; the limit stops scripted sweeps over the feed.
    "support": {"account": ("30/10m", "200/1d"), "guest": ("30/10m",), "ip": ("120/10m", "1000/1d")},
    "support_unverified": {"guest": ("10/10m", "50/1d")},
    # Counted before the password is checked: guesses against one identifier, and floods from one address.
    "login": {"account": ("5/15m", "30/1d"), "ip": ("30/15m", "300/1d")},
    "login_unverified": {"guest": ("15/15m",)},
    # Every code sent costs an SMS or an e-mail: per address the code goes to, and per client address.
    "otp": {"account": ("5/1h", "10/1d"), "ip": ("30/1h", "200/1d")},
    "otp_unverified": {"guest": ("10/1h", "50/1d")},
    # The operator console's sign-in: ceilings per client address against floods (an office shares one
    # address). Each account's lock after repeated failures comes from its login records
    # (lapor.accounts.signin), which say until when.
    "console_login": {"ip": ("60/15m", "600/1d")},
    "console_otp": {"account": ("30/15m",), "ip": ("60/15m", "600/1d")},
    # Looking a report up by tracking ID or private link (lapor.core.ids): finding one unpublished report
    # among a million by guessing takes ~500,000 tries, over a year and a half at these ceilings.
    "track": {"ip": ("60/10m", "1000/1d")},
}

_RULE = re.compile(r"^\s*(?P<count>[1-9]\d*)\s*/\s*(?P<length>[1-9]\d*)?\s*(?P<unit>s|m|h|d)\s*$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
IPV6_PREFIX_LENGTH = 64
KEY_PURPOSE = "rate-limit"
UNKNOWN_ADDRESS = "unknown"


class RateLimited(Exception):  # noqa: N818 - reads as what happened, like Http404
    """The caller is over a limit of ``scope``; ``retry_after`` seconds until the last exceeded window ends."""

    def __init__(self, scope: str, retry_after: int, *, subject: str = "") -> None:
        super().__init__(f"Rate limit of {scope!r} reached ({subject or 'any'}); retry after {retry_after} s.")
        self.scope = scope
        self.retry_after = retry_after
        self.subject = subject


@dataclasses.dataclass(frozen=True)
class Rule:
    subject: Subject
    limit: int
    seconds: int

    @classmethod
    def parse(cls, subject: str, text: str) -> Rule:
        if subject not in SUBJECTS:
            raise ImproperlyConfigured(f"RATE_LIMITS: unknown subject {subject!r}; use one of {', '.join(SUBJECTS)}.")
        match = _RULE.match(text)
        if match is None:
            raise ImproperlyConfigured(f"RATE_LIMITS: {text!r} is not a rule like '5/10m' (units s, m, h, d).")
        length = int(match["length"] or 1)
        return cls(subject=subject, limit=int(match["count"]), seconds=length * _UNIT_SECONDS[match["unit"]])


def limits_for(scope: str) -> list[Rule]:
    """The rules of ``scope``: settings.RATE_LIMITS[scope] when given, else the default. Unknown scopes raise."""
    configured: Mapping[str, Mapping[str, Sequence[str]]] = getattr(settings, "RATE_LIMITS", {}) or {}
    table = configured.get(scope, DEFAULT_RATE_LIMITS.get(scope))
    if table is None:
        raise ImproperlyConfigured(f"No rate limits for scope {scope!r}: add it to RATE_LIMITS.")
    return [Rule.parse(subject, text) for subject, texts in table.items() for text in texts]


def has_scope(scope: str) -> bool:
    return scope in (getattr(settings, "RATE_LIMITS", {}) or {}) or scope in DEFAULT_RATE_LIMITS


# --- who is calling ------------------------------------------------------------------------------------


def client_ip(request: HttpRequest) -> str:
    """The caller's address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT = n the n-th entry from the right of
    X-Forwarded-For (each trusted proxy appends the address it received the request from; anything to
    the left of that entry may be forged by the client)."""
    remote = request.META.get("REMOTE_ADDR", "") or ""
    proxies = int(getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0)
    if proxies > 0:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
        if forwarded:
            # Fewer entries than proxies means a shorter chain than configured: the leftmost is the client.
            remote = forwarded[-proxies] if len(forwarded) >= proxies else forwarded[0]
    return _canonical_address(remote)


def _canonical_address(raw: str) -> str:
    """An address as counted: IPv4 as is, IPv4-mapped IPv6 as IPv4, other IPv6 as its /64 network."""
    candidate = raw.strip()
    if candidate.startswith("[") and "]" in candidate:  # "[2001:db8::1]:443"
        candidate = candidate[1 : candidate.index("]")]
    elif candidate.count(":") == 1:  # "203.0.113.7:5678"
        candidate = candidate.split(":", 1)[0]
    try:
        address = ipaddress.ip_address(candidate)
    except ValueError:
        return UNKNOWN_ADDRESS
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            return str(address.ipv4_mapped)
        return str(ipaddress.IPv6Network(f"{address}/{IPV6_PREFIX_LENGTH}", strict=False))
    return str(address)


def _signed_in_key(user: object) -> str | None:
    if user is not None and getattr(user, "is_authenticated", False) and getattr(user, "pk", None) is not None:
        return f"user:{user.pk}"  # type: ignore[attr-defined]
    return None


def _account_identity(request: HttpRequest, user: object) -> tuple[str | None, bool]:
    """The account to count (a user, or an identifier typed into a form) and whether the caller is signed
    in. A typed identifier proves nothing about the caller, who stays a guest for the ``guest`` rules."""
    signed_in = _signed_in_key(getattr(request, "user", None)) is not None
    if isinstance(user, str):
        identifier = user.strip().casefold()
        return (f"identifier:{identifier}" if identifier else None), signed_in
    if user is None:
        return _signed_in_key(getattr(request, "user", None)), signed_in
    key = _signed_in_key(user)
    return key, signed_in or key is not None


# --- counting ------------------------------------------------------------------------------------------


class CounterStore(Protocol):
    def increment(self, key: str, expires_at: datetime) -> int: ...

    def increment_many(self, counters: Mapping[str, datetime]) -> dict[str, int]: ...

    def sweep(self, now: datetime) -> int: ...


class DatabaseStore:
    """One row per (scope, subject, window); an upsert adds one and returns the new count in one statement."""

    def increment(self, key: str, expires_at: datetime) -> int:
        return self.increment_many({key: expires_at})[key]

    def increment_many(self, counters: Mapping[str, datetime]) -> dict[str, int]:
        """Adds one to each counter, all in one statement (one round trip for every rule of a scope)."""
        if not counters:
            return {}
        table = connection.ops.quote_name(RateLimitCounter._meta.db_table)
        key_column = connection.ops.quote_name("key")
        count_column = connection.ops.quote_name("count")
        expires_column = connection.ops.quote_name("expires_at")
        # Both PostgreSQL (9.5+) and SQLite (3.35+) take this form; each conflicting row is locked for
        # the update, so concurrent increments of one key serialise and none is lost. The keys go in
        # sorted, so that two requests counting the same keys lock them in the same order (no deadlock).
        keys = sorted(counters)
        rows = ", ".join(["(%s, 1, %s)"] * len(keys))
        statement = (
            f"INSERT INTO {table} ({key_column}, {count_column}, {expires_column}) VALUES {rows} "  # noqa: S608
            f"ON CONFLICT ({key_column}) DO UPDATE SET {count_column} = {table}.{count_column} + 1 "
            f"RETURNING {key_column}, {count_column}"
        )
        parameters: list[Any] = []
        for key in keys:
            parameters += [key, connection.ops.adapt_datetimefield_value(counters[key])]
        with connection.cursor() as cursor:
            cursor.execute(statement, parameters)
            counted = {str(key): int(count) for key, count in cursor.fetchall()}
        return counted

    def sweep(self, now: datetime, *, batch_size: int = 5000) -> int:
        deleted = 0
        while True:
            # In batches, so that a sweep after a flood never holds a long lock on the table.
            ids = list(RateLimitCounter.objects.filter(expires_at__lte=now).values_list("id", flat=True)[:batch_size])
            if not ids:
                return deleted
            deleted += RateLimitCounter.objects.filter(id__in=ids).delete()[0]


class CacheStore:
    """Counters in a shared Django cache (Redis, memcached), whose ``incr`` is atomic; entries expire by themselves."""

    def __init__(self, alias: str) -> None:
        self.alias = alias

    def increment(self, key: str, expires_at: datetime) -> int:
        cache = caches[self.alias]
        timeout = max(1, math.ceil((expires_at - timezone.now()).total_seconds()))
        cache_key = f"lapor:rl:{key}"
        for _attempt in range(3):
            cache.add(cache_key, 0, timeout)
            try:
                return int(cache.incr(cache_key))
            except ValueError:  # expired between add and incr: add again
                continue
        raise RuntimeError(f"The cache {self.alias!r} does not keep rate-limit counters.")

    def increment_many(self, counters: Mapping[str, datetime]) -> dict[str, int]:
        return {key: self.increment(key, expires_at) for key, expires_at in counters.items()}

    def sweep(self, now: datetime) -> int:
        return 0


def store() -> CounterStore:
    kind = getattr(settings, "RATE_LIMIT_STORE", "database")
    if kind == "database":
        return DatabaseStore()
    if kind == "cache":
        return CacheStore(getattr(settings, "RATE_LIMIT_CACHE", "default"))
    raise ImproperlyConfigured(f"RATE_LIMIT_STORE must be 'database' or 'cache'; got {kind!r}.")


def window_bounds(now: datetime, seconds: int) -> tuple[int, datetime]:
    """The index of the fixed window containing ``now`` and the moment it ends."""
    epoch_seconds = int(now.timestamp())
    index = epoch_seconds // seconds
    return index, datetime.fromtimestamp((index + 1) * seconds, tz=UTC)


def hit(key: str, *, seconds: int, now: datetime | None = None) -> tuple[int, int]:
    """Counts one hit of ``key`` in its current window of ``seconds``; returns (count, seconds left)."""
    moment = now or timezone.now()
    index, ends_at = window_bounds(moment, seconds)
    count = store().increment(f"{key}:{seconds}:{index}", ends_at)
    return count, max(1, math.ceil((ends_at - moment).total_seconds()))


def _counter_key(scope: str, subject: Subject, identity: str) -> str:
    # 32 hex characters of a keyed hash: unique enough, and the address or e-mail is not stored.
    return f"{scope}:{subject}:{blind_index(identity, purpose=KEY_PURPOSE)[:32]}"


def rate_limit(request: HttpRequest, scope: str, *, user: object = None, now: datetime | None = None) -> None:
    """Counts this call against every rule of ``scope`` that applies to the caller; raises ``RateLimited``
    when any is exceeded, with the wait until the last exceeded window ends.

    ``user``: a ``User`` (the account to count), an identifier string (login, one-time codes), or None
    for the signed-in user if any. ``now`` is for tests.
    """
    if not getattr(settings, "RATE_LIMITS_ENABLED", True):
        return
    rules = limits_for(scope)
    moment = now or timezone.now()
    account, signed_in = _account_identity(request, user)
    address = client_ip(request)
    # Every counter of the scope in one round trip: (rule, its key, seconds left in its window).
    windows: list[tuple[Rule, str, int]] = []
    counters: dict[str, datetime] = {}
    for rule in rules:
        if rule.subject == "account":
            if account is None:
                continue
            identity = account
        elif rule.subject == "guest":
            if signed_in:
                continue
            identity = f"address:{address}"
        else:
            identity = f"address:{address}"
        index, ends_at = window_bounds(moment, rule.seconds)
        key = f"{_counter_key(scope, rule.subject, identity)}:{rule.seconds}:{index}"
        counters[key] = ends_at
        windows.append((rule, key, max(1, math.ceil((ends_at - moment).total_seconds()))))
    counts = store().increment_many(counters)
    exceeded: list[tuple[int, Subject]] = []
    for rule, key, seconds_left in windows:
        if counts[key] > rule.limit:
            exceeded.append((seconds_left, rule.subject))
    if exceeded:
        retry_after, subject = max(exceeded)
        logger.info("Rate limit of %s reached by %s; retry after %s s", scope, subject, retry_after)
        raise RateLimited(scope, retry_after, subject=subject)


def sweep_expired(*, now: datetime | None = None) -> int:
    """Deletes counters whose window has ended (run by every `lapor worker`); returns how many."""
    return store().sweep(now or timezone.now())


def limit_view(
    scope: str, *, methods: Iterable[str] = ("POST",)
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """A view decorator: ``rate_limit(request, scope)`` for the given methods before the view runs."""
    counted = {method.upper() for method in methods}

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method in counted:
                rate_limit(request, scope)
            return view(request, *args, **kwargs)

        return wrapped

    return decorate
