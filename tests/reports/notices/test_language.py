"""The report labels that notifications show (statuses, archive reasons, clocks) read in Indonesian.

Whether every catalog is complete and compiled is checked for all apps by tests/test_translations.py.
"""

from __future__ import annotations

import pytest
from django.utils import translation

from lapor.reports.choices import ArchiveReason, Clock, Status


@pytest.mark.parametrize("label", [*Status, *ArchiveReason, *Clock], ids=str)
def test_report_labels_shown_in_notifications_read_in_indonesian(label):
    with translation.override("en"):
        english = str(label.label)
    with translation.override("id"):
        indonesian = str(label.label)
    assert indonesian != english
