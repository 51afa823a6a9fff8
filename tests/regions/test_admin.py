"""The Region admin: searchable and filterable, editable only in name and active flag."""

from __future__ import annotations

import pytest

from lapor.regions.models import Region
from lapor.regions.selectors import region_search

pytestmark = pytest.mark.django_db

CHANGELIST = "/admin/regions/region/"


def test_changelist_searches_and_filters(admin_client, small_regions):
    response = admin_client.get(CHANGELIST, {"q": "36.74"})
    assert response.status_code == 200
    shown = {region.code for region in response.context["cl"].result_list}
    assert shown == {
        "36.74",
        "36.74.01",
        "36.74.03",
        "36.74.01.1001",
        "36.74.03.1001",
        "36.74.03.1002",
        "36.74.03.2001",
    }

    response = admin_client.get(CHANGELIST, {"q": "tangerang", "level__exact": "2"})
    assert {region.code for region in response.context["cl"].result_list} == {"36.03", "36.71", "36.74"}

    response = admin_client.get(CHANGELIST, {"province": "91", "kind__exact": "desa"})
    assert {region.code for region in response.context["cl"].result_list} == {"91.03.01.2001", "91.03.01.3007"}
    assert b"Papua" in response.content

    response = admin_client.get(CHANGELIST, {"is_active__exact": "0"})
    assert list(response.context["cl"].result_list) == []


def test_only_name_and_active_flag_are_editable(admin_client, small_regions):
    url = f"{CHANGELIST}36.03/change/"
    response = admin_client.get(url)
    assert response.status_code == 200
    assert set(response.context["adminform"].form.fields) == {"name", "is_active"}

    response = admin_client.post(url, {"name": "Kota Tangerang Raya", "level": "4", "code": "99"})

    assert response.status_code == 302
    region = Region.objects.get(code="36.03")
    assert (region.name, region.kind, region.level, region.is_active) == ("Kota Tangerang Raya", "kota", 2, False)
    assert region_search("tangerang raya", include_inactive=True) == [region]
    assert not Region.objects.filter(code="99").exists()


def test_regions_cannot_be_added_or_deleted_here(admin_client, small_regions):
    assert admin_client.get(f"{CHANGELIST}add/").status_code == 403
    assert admin_client.get(f"{CHANGELIST}36.03/delete/").status_code == 403
