"""The HTTP benchmark's virtual browser answers the portal as a browser does: the authenticator code the
console accepts, the proof-of-work the portal accepts, and the form fields it sends back."""

from __future__ import annotations

import hashlib
import importlib.util
import sys
import time
from pathlib import Path
from types import ModuleType

import pytest
from django.core import signing
from django_otp.oath import TOTP

from lapor.portal.abuse import POW_SIGNING_SALT, leading_zero_bits

HTTP_BENCH = Path(__file__).resolve().parents[2] / "bench" / "web.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    # Loaded from its file: bench/ is no package on the path.
    spec = importlib.util.spec_from_file_location("bench_http_under_test", HTTP_BENCH)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_totp_code_is_the_one_django_otp_expects(bench: ModuleType) -> None:
    key = "3132333435363738393031323334353637383930"
    now = time.time()
    expected = TOTP(bytes.fromhex(key), step=30, t0=0, digits=6)
    expected.time = now
    assert bench.totp(key, at=now) == f"{expected.token():06d}"


def test_the_proof_of_work_is_solved_as_the_portal_checks_it(bench: ModuleType) -> None:
    challenge = signing.dumps({"r": "salt", "d": 10, "t": int(time.time()), "f": "post"}, salt=POW_SIGNING_SALT)
    page = f'<input type="hidden" name="pow_challenge" value="{challenge}" data-pow-difficulty="10">'
    solved, nonce = bench.solve_pow(page)
    assert solved == challenge
    assert leading_zero_bits(hashlib.sha256((challenge + nonce).encode()).digest()) >= 10


def test_hidden_fields_and_options_are_read_back_unescaped(bench: ModuleType) -> None:
    page = (
        '<form><input type="hidden" name="title" value="Jalan &amp; trotoar">'
        '<input type="text" name="typed" value="no">'
        '<select name="village" id="v"><option value="">Pilih…</option>'
        '<option value="36.74.01.1001">A</option><option value="36.74.01.1002" selected>B</option></select></form>'
    )
    assert bench.form_inputs(page) == {"title": "Jalan & trotoar"}
    assert bench.select_options(page, "village") == ["36.74.01.1001", "36.74.01.1002"]
