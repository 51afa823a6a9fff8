"""Rate limits: per client address and per account, fixed windows that roll over, shared counters that
stay exact under concurrent writers, and the sweep that removes ended windows."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections
from django.http import HttpResponse
from django.test import RequestFactory, override_settings

from lapor.accounts.models import User
from lapor.config import ConfigError, load_config
from lapor.core import ratelimit
from lapor.core.management.commands.worker import sweeps_from_settings
from lapor.core.models import RateLimitCounter
from lapor.core.ratelimit import RateLimited, Rule, client_ip, limit_view, rate_limit, sweep_expired

# 10:03:20 UTC: 200 s into a ten-minute window, 36,200 s into the (UTC) day.
T0 = datetime(2026, 11, 25, 10, 3, 20, tzinfo=UTC)
PROBE = {"probe": {"guest": ("3/10m",)}}

factory = RequestFactory()


def request_from(address: str = "203.0.113.7", user: User | None = None, *, forwarded: str | None = None):
    request = factory.post("/", REMOTE_ADDR=address)
    if forwarded is not None:
        request.META["HTTP_X_FORWARDED_FOR"] = forwarded
    if user is not None:
        request.user = user
    return request


def attempts(request, scope: str, times: int, *, now: datetime = T0, user: object = None) -> list[int | None]:
    """retry_after of each attempt, or None where it was allowed."""
    outcomes: list[int | None] = []
    for _ in range(times):
        try:
            rate_limit(request, scope, user=user, now=now)
        except RateLimited as error:
            outcomes.append(error.retry_after)
        else:
            outcomes.append(None)
    return outcomes


@pytest.fixture
def alice(db):
    return User.objects.create_user("alice@example.id", "correct horse battery")


@pytest.fixture
def budi(db):
    return User.objects.create_user("budi@example.id", "correct horse battery")


# --- rules and configuration ---------------------------------------------------------------------------


def test_rules_read_count_and_period():
    assert Rule.parse("ip", "5/10m") == Rule("ip", 5, 600)
    assert Rule.parse("account", "20/d") == Rule("account", 20, 86400)
    assert Rule.parse("guest", " 3 / 2h ") == Rule("guest", 3, 7200)
    assert Rule.parse("ip", "1/30s") == Rule("ip", 1, 30)


@pytest.mark.parametrize(
    ("subject", "text"), [("ip", "5 per minute"), ("ip", "0/1m"), ("ip", "5/1w"), ("nobody", "5/1m")]
)
def test_malformed_rules_stop_with_a_message(subject, text):
    with pytest.raises(ImproperlyConfigured, match="RATE_LIMITS"):
        Rule.parse(subject, text)


@pytest.mark.django_db
def test_unknown_scope_is_a_programming_error():
    with pytest.raises(ImproperlyConfigured, match="no-such-scope"):
        rate_limit(request_from(), "no-such-scope", now=T0)


def test_every_promised_scope_has_defaults_and_they_parse():
    for scope in ("submit", "comment", "support", "login", "otp"):
        assert ratelimit.limits_for(scope)
        assert ratelimit.limits_for(f"{scope}_unverified")


def test_settings_override_a_scope_and_keep_the_others():
    with override_settings(RATE_LIMITS={"comment": {"ip": ("1/1m",)}}):
        assert ratelimit.limits_for("comment") == [Rule("ip", 1, 60)]
        assert Rule("account", 10, 86400) in ratelimit.limits_for("submit")


def test_trusted_proxy_count_is_read_from_the_environment():
    base = Path("/srv/lapor")
    assert load_config({"DEBUG": "1"}, base_dir=base).trusted_proxy_count == 0
    assert load_config({"DEBUG": "1", "TRUSTED_PROXY_COUNT": "2"}, base_dir=base).trusted_proxy_count == 2
    with pytest.raises(ConfigError, match="TRUSTED_PROXY_COUNT"):
        load_config({"DEBUG": "1", "TRUSTED_PROXY_COUNT": "9"}, base_dir=base)
    with pytest.raises(ConfigError, match="TRUSTED_PROXY_COUNT"):
        load_config({"DEBUG": "1", "TRUSTED_PROXY_COUNT": "one"}, base_dir=base)


# --- who is calling ------------------------------------------------------------------------------------


def test_client_address_is_remote_addr_and_forwarded_headers_are_ignored_by_default():
    request = request_from("203.0.113.7", forwarded="198.51.100.1")
    assert client_ip(request) == "203.0.113.7"


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (1, "198.51.100.1", "198.51.100.1"),
        # The client wrote the first entry itself; only the entry our proxy appended is trusted.
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.2", "198.51.100.1"),
        # A shorter chain than configured: the leftmost entry is the best there is.
        (2, "198.51.100.1", "198.51.100.1"),
        (1, "", "10.0.0.2"),
    ],
)
def test_client_address_behind_trusted_proxies(proxies, forwarded, expected):
    request = request_from("10.0.0.2", forwarded=forwarded)
    with override_settings(TRUSTED_PROXY_COUNT=proxies):
        assert client_ip(request) == expected


def test_ipv6_callers_are_counted_per_64_prefix():
    one = client_ip(request_from("2001:db8:1:2:aaaa::1"))
    other_device_same_subscriber = client_ip(request_from("2001:db8:1:2:bbbb::9"))
    next_subscriber = client_ip(request_from("2001:db8:1:3::1"))
    assert one == other_device_same_subscriber == "2001:db8:1:2::/64"
    assert next_subscriber != one
    assert client_ip(request_from("::ffff:203.0.113.7")) == "203.0.113.7"
    assert client_ip(request_from("not an address")) == "unknown"


# --- limits per address and per account ----------------------------------------------------------------


@pytest.mark.django_db
@override_settings(RATE_LIMITS=PROBE)
def test_guest_limit_per_address():
    outcomes = attempts(request_from("203.0.113.7"), "probe", 5)
    assert outcomes[:3] == [None, None, None]
    assert outcomes[3:] == [400, 400]  # the window ends at 10:10:00, 400 s after 10:03:20
    # Someone else, elsewhere, is not affected.
    assert attempts(request_from("198.51.100.1"), "probe", 1) == [None]


@pytest.mark.django_db
@override_settings(RATE_LIMITS={"probe": {"account": ("2/1h",), "guest": ("1/1h",)}})
def test_account_limit_follows_the_account_across_addresses_and_spares_others_on_the_same_address(alice, budi):
    assert attempts(request_from("203.0.113.7", alice), "probe", 1) == [None]
    assert attempts(request_from("198.51.100.1", alice), "probe", 1) == [None]
    with pytest.raises(RateLimited) as raised:
        rate_limit(request_from("192.0.2.55", alice), "probe", now=T0)
    assert raised.value.scope == "probe"
    assert raised.value.subject == "account"
    assert raised.value.retry_after == 3600 - 200
    # Budi shares Alice's first address (carrier-grade NAT): his own account is what counts.
    assert attempts(request_from("203.0.113.7", budi), "probe", 2) == [None, None]
    # The guest rule is for callers without an account: a guest on that address still has their one.
    assert attempts(request_from("203.0.113.7"), "probe", 2) == [None, 3400]


@pytest.mark.django_db
@override_settings(RATE_LIMITS={"probe": {"account": ("1/1h",)}})
def test_user_argument_names_the_account_to_count(alice, budi):
    request = request_from("203.0.113.7", alice)
    assert attempts(request, "probe", 1, user=budi) == [None]
    assert attempts(request, "probe", 1, user=budi) == [3400]
    assert attempts(request, "probe", 1) == [None]  # Alice, the signed-in user, is counted by default


@pytest.mark.django_db
def test_login_counts_per_typed_identifier_whatever_the_address():
    # Five guesses per identifier in 15 minutes, from any addresses, whatever the case typed.
    for number, typed in enumerate(
        ["Siti@Example.id", "siti@example.id ", "SITI@EXAMPLE.ID", "siti@example.id", "siti@example.id"]
    ):
        rate_limit(request_from(f"198.51.100.{number}"), "login", user=typed, now=T0)
    with pytest.raises(RateLimited) as raised:
        rate_limit(request_from("198.51.100.99"), "login", user="siti@example.id", now=T0)
    assert raised.value.subject == "account"
    assert raised.value.retry_after == 900 - 200
    # Another identifier from the same address is still allowed.
    rate_limit(request_from("198.51.100.99"), "login", user="budi@example.id", now=T0)


@pytest.mark.django_db
@override_settings(RATE_LIMITS={"probe": {"account": ("5/1h",), "guest": ("2/1h",)}})
def test_a_typed_identifier_leaves_the_caller_a_guest(alice):
    # A script cycling through identifiers is still one guest address.
    outcomes = [attempts(request_from("203.0.113.7"), "probe", 1, user=f"warga{n}@example.id")[0] for n in range(3)]
    assert outcomes == [None, None, 3400]
    # A signed-in person asking for a code to a new address is not a guest.
    assert attempts(request_from("203.0.113.7", alice), "probe", 3, user="new@example.id") == [None, None, None]


@pytest.mark.django_db
def test_defaults_let_a_crowd_behind_one_address_file_reports(db):
    """Carrier-grade NAT: 25 signed-in people and 10 guests behind one address file within ten minutes."""
    shared = "114.124.0.1"
    people = [User.objects.create_user(f"warga{number}@example.id", "x") for number in range(25)]
    for person in people:
        rate_limit(request_from(shared, person), "submit", now=T0)
    for _guest in range(5):
        rate_limit(request_from(shared), "submit", now=T0)
    # A signed-in person is held back by their own account's limit, not by the crowd.
    for _report in range(9):
        rate_limit(request_from(shared, people[0]), "submit", now=T0 + timedelta(hours=1))
    with pytest.raises(RateLimited) as raised:
        rate_limit(request_from(shared, people[0]), "submit", now=T0 + timedelta(hours=1))
    assert raised.value.subject == "account"


@pytest.mark.django_db
@override_settings(RATE_LIMITS={"probe": {"ip": ("2/10m", "3/1d")}})
def test_the_wait_is_until_the_last_exceeded_window_ends():
    request = request_from()
    assert attempts(request, "probe", 3) == [None, None, 400]  # only the ten-minute rule is exceeded
    later = T0 + timedelta(minutes=10)
    assert attempts(request, "probe", 1, now=later) == [86400 - 36200 - 600]  # the daily one too now


@pytest.mark.django_db
@override_settings(RATE_LIMITS=PROBE)
def test_windows_roll_over():
    request = request_from()
    assert attempts(request, "probe", 4) == [None, None, None, 400]
    just_before = T0 + timedelta(seconds=399)
    assert attempts(request, "probe", 1, now=just_before) == [1]
    next_window = T0 + timedelta(seconds=400)
    assert attempts(request, "probe", 4, now=next_window) == [None, None, None, 600]


@pytest.mark.django_db
@override_settings(RATE_LIMITS=PROBE, RATE_LIMITS_ENABLED=False)
def test_limits_can_be_turned_off_for_tests():
    assert attempts(request_from(), "probe", 10) == [None] * 10
    assert not RateLimitCounter.objects.exists()


@pytest.mark.django_db
@override_settings(RATE_LIMITS=PROBE)
def test_counters_store_neither_addresses_nor_identifiers():
    rate_limit(request_from("203.0.113.7"), "probe", now=T0)
    rate_limit(request_from("203.0.113.7"), "login", user="siti@example.id", now=T0)
    keys = " ".join(RateLimitCounter.objects.values_list("key", flat=True))
    assert "203.0.113" not in keys
    assert "siti" not in keys
    assert "probe:guest:" in keys


@pytest.mark.django_db
@override_settings(RATE_LIMITS=PROBE)
def test_view_decorator_counts_posts_only():
    @limit_view("probe")
    def view(request):
        return HttpResponse("ok")

    for _ in range(5):
        assert view(factory.get("/", REMOTE_ADDR="203.0.113.7")).status_code == 200
    for _ in range(3):
        assert view(factory.post("/", REMOTE_ADDR="203.0.113.7")).status_code == 200
    with pytest.raises(RateLimited):
        view(factory.post("/", REMOTE_ADDR="203.0.113.7"))


@override_settings(
    RATE_LIMITS=PROBE,
    RATE_LIMIT_STORE="cache",
    RATE_LIMIT_CACHE="ratelimit-test",
    CACHES={
        "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "default-test"},
        "ratelimit-test": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "rl-test"},
    },
)
def test_cache_store_counts_the_same_way():
    from django.core.cache import caches

    caches["ratelimit-test"].clear()
    request = request_from("192.0.2.200")
    # Real time here: the cache's own expiry runs on the clock.
    outcomes = attempts(request, "probe", 4, now=datetime.now(tz=UTC))
    assert outcomes[:3] == [None, None, None]
    assert outcomes[3] is not None
    assert 1 <= outcomes[3] <= 600


# --- cleanup -------------------------------------------------------------------------------------------


@pytest.mark.django_db
@override_settings(RATE_LIMITS={"probe": {"guest": ("3/10m", "5/1d")}})
def test_sweep_removes_ended_windows_and_keeps_running_ones():
    rate_limit(request_from(), "probe", now=T0)
    assert RateLimitCounter.objects.count() == 2
    assert sweep_expired(now=T0 + timedelta(seconds=399)) == 0
    assert sweep_expired(now=T0 + timedelta(seconds=400)) == 1  # the ten-minute window has ended
    assert RateLimitCounter.objects.count() == 1
    assert sweep_expired(now=T0 + timedelta(days=1)) == 1
    assert not RateLimitCounter.objects.exists()


@pytest.mark.django_db
def test_the_worker_sweeps_rate_limit_counters():
    assert "lapor.core.ratelimit.sweep_expired" in settings.WORKER_SWEEPS
    RateLimitCounter.objects.create(key="old", count=3, expires_at=T0)
    (sweep,) = [sweep for sweep in sweeps_from_settings() if sweep is sweep_expired]
    sweep()
    assert not RateLimitCounter.objects.filter(key="old").exists()


# --- concurrency (PostgreSQL) --------------------------------------------------------------------------


def _in_threads(count: int, work) -> list[BaseException]:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(number: int) -> None:
        try:
            barrier.wait()
            work(number)
        except BaseException as error:
            errors.append(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(number,)) for number in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return errors


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_concurrent_increments_are_never_lost():
    returned: list[int] = []
    lock = threading.Lock()
    expires = T0 + timedelta(minutes=10)

    def work(_number: int) -> None:
        for _ in range(50):
            count = ratelimit.DatabaseStore().increment("race", expires)
            with lock:
                returned.append(count)

    assert _in_threads(2, work) == []
    assert RateLimitCounter.objects.get(key="race").count == 100
    # Each increment saw a distinct count: no two writers read the same value.
    assert sorted(returned) == list(range(1, 101))


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@override_settings(RATE_LIMITS={"probe": {"guest": ("7/10m",)}})
def test_two_processes_worth_of_threads_let_exactly_the_limit_through():
    allowed: list[int] = []
    lock = threading.Lock()

    def work(number: int) -> None:
        for _ in range(10):
            try:
                rate_limit(request_from("203.0.113.7"), "probe", now=T0)
            except RateLimited:
                continue
            with lock:
                allowed.append(number)

    assert _in_threads(2, work) == []
    assert len(allowed) == 7


@pytest.mark.django_db
@override_settings(RATE_LIMITS={"probe": {"guest": ("3/10m", "5/1d"), "ip": ("4/10m", "6/1d")}})
def test_every_rule_of_a_scope_is_counted_in_one_statement(django_assert_num_queries):
    request = request_from("203.0.113.7")
    with django_assert_num_queries(1):
        rate_limit(request, "probe", now=T0)
    # Four counters, one per rule, each at one.
    assert sorted(RateLimitCounter.objects.values_list("count", flat=True)) == [1, 1, 1, 1]
    # Each rule still decides on its own count: the guest's ten-minute rule is the first to refuse.
    assert attempts(request, "probe", 3) == [None, None, 400]
    assert sorted(RateLimitCounter.objects.values_list("count", flat=True)) == [4, 4, 4, 4]


@pytest.mark.django_db
@override_settings(RATE_LIMITS={"probe": {"guest": ("2/10m", "3/10m")}})
def test_two_rules_over_one_window_count_each_call_once():
    # The same subject and window: one counter, counted once per call, held to the stricter rule.
    assert attempts(request_from("203.0.113.7"), "probe", 3) == [None, None, 400]
    assert list(RateLimitCounter.objects.values_list("count", flat=True)) == [3]
