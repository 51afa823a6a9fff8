"""What the notices of report events are checked with: the reports' world, messages written in
Indonesian, and SMS kept in a file."""

from __future__ import annotations

from typing import Any

import pytest

from lapor.notifications.models import Notification


@pytest.fixture(autouse=True)
def _quiet_sms(settings: Any, tmp_path: Any) -> None:
    """Delivery after commit writes SMS to a file instead of the terminal."""
    settings.SMS_BACKEND = "file"
    settings.DATA_DIR = tmp_path


def texts(notification: Notification) -> str:
    return f"{notification.subject}\n{notification.body}"


@pytest.fixture(autouse=True)
def indonesian_by_default(indonesian_default: None) -> None:
    """Messages are written in the product's default language, Indonesian (the suite's settings use
    English source strings for everything else)."""
