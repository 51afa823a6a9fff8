from __future__ import annotations

from collections.abc import Callable

import pytest

from lapor.institutions.choices import InstitutionKind
from lapor.institutions.models import Institution
from lapor.institutions.services import institution_create

MakeInstitution = Callable[..., Institution]


@pytest.fixture
def make_institution(db: None) -> MakeInstitution:
    def make(name: str, parent: Institution | None = None) -> Institution:
        return institution_create(name=name, kind=InstitutionKind.WORK_UNIT, parent=parent)

    return make
