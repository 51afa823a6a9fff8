"""Lapor's production settings (lapor.settings, configured by bench/web.py through the environment as
a deployment would be) with one change for the HTTP benchmark: the proof-of-work may be posted as soon
as it is solved. In production a challenge younger than a second is "too fast" (no person sends a form
sooner), so a virtual citizen would have to idle a second per filing; the load generator solves each
challenge as pow.js does, and the server checks the solution and records its single use as always."""

import os

from lapor.settings import *  # noqa: F403

POW_MIN_AGE_SECONDS = 0
# Each process names its PostgreSQL sessions ("lapor-web", "lapor-worker"), so that the benchmark counts
# the backends' CPU to the process they serve.
DATABASES["default"].setdefault("OPTIONS", {})["application_name"] = os.environ.get("LAPOR_BENCH_ROLE", "lapor")  # noqa: F405
