"""The filing form's option lists are kept by the process (lapor.portal.options) and follow every
change of categories and regions: at once in the process that made it, within the reference cache's
lifetime in the others."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse

from lapor.core import reference
from lapor.institutions.models import Category
from lapor.institutions.services import categories_load, category_create, category_move, category_update
from lapor.regions.models import Region
from lapor.regions.services import region_update
from tests.portal.test_filing import DISTRICT, FILE_URL, details
from tests.regions.conftest import Dataset, dataset, load, source_dir  # noqa: F401 (fixtures)
from tests.reports.conftest import VILLAGE, World

pytestmark = pytest.mark.django_db


@pytest.fixture
def client() -> Client:
    return Client()


@pytest.fixture
def world(world: World) -> World:
    """The world, as after its setup committed: the test's own transaction stays open, and while a
    transaction that wrote reference data is open nothing is kept (lapor.core.reference)."""
    reference.reset()
    return world


def without_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def form_html(client: Client, prefix: str = "", **query: str) -> str:
    response = client.get(prefix + FILE_URL, query)
    assert response.status_code == 200
    return response.content.decode()


def test_the_form_reads_its_lists_once(world: World, client: Client, django_assert_num_queries):
    with django_assert_num_queries(2):  # the categories and the provinces
        first = form_html(client)
    with django_assert_num_queries(0):
        assert without_tokens(form_html(client)) == without_tokens(first)


def settled(client: Client) -> str:
    """The form once the last write's transaction has ended (a test's own never does, and until it
    does nothing is kept), read so that its lists are kept again."""
    reference.reset()
    form_html(client)
    return form_html(client)


@pytest.mark.usefixtures("indonesian_default")
def test_a_new_category_shows_at_once(world: World, client: Client):
    assert "Sampah liar" not in settled(client)
    parent = category_create(code="lingkungan-x", parent=None, name="Lingkungan X", name_en="Environment X")
    assert '<option value="lingkungan-x">— Lingkungan X</option>' in form_html(client)
    settled(client)
    category_create(code="sampah-x", parent=parent, name="Sampah liar", name_en="Illegal dumping")
    assert '<option value="sampah-x">— — Sampah liar</option>' in form_html(client)


@pytest.mark.usefixtures("indonesian_default")
def test_categories_follow_renames_moves_and_withdrawals(world: World, client: Client):
    first = category_create(code="satu-x", parent=None, name="Satu")
    second = category_create(code="dua-x", parent=None, name="Dua")
    category_create(code="tiga-x", parent=second, name="Tiga")
    assert '<option value="dua-x">— Dua</option>' in settled(client)
    category_update(category=second, name="Dua baru")
    assert '<option value="dua-x">— Dua baru</option>' in form_html(client)
    settled(client)
    # A move rewrites the subtree's paths and depths with one bulk update, which sends no signal.
    category_move(category=Category.objects.get(code="dua-x"), new_parent=first)
    html = form_html(client)
    assert '<option value="dua-x">— — Dua baru</option>' in html
    assert '<option value="tiga-x">— — — Tiga</option>' in html
    settled(client)
    category_update(category=Category.objects.get(code="satu-x"), is_active=False)
    html = form_html(client)
    assert 'value="satu-x"' not in html
    assert 'value="tiga-x"' not in html


@pytest.mark.usefixtures("indonesian_default")
def test_a_loaded_category_file_shows_at_once(world: World, client: Client, tmp_path: Path):
    settled(client)
    categories_file = tmp_path / "categories.json"
    categories_file.write_text(
        '{"categories": [{"code": "berkas-x", "name": "Dari berkas", "name_en": "From the file"}]}', encoding="utf-8"
    )
    categories_load(path=categories_file)
    assert '<option value="berkas-x">— Dari berkas</option>' in form_html(client)


@pytest.mark.usefixtures("indonesian_default")
def test_category_names_are_kept_per_language(world: World, client: Client):
    category_create(code="jalan-x", parent=None, name="Jalan rusak", name_en="Damaged roads")
    assert '<option value="jalan-x">— Jalan rusak</option>' in form_html(client)
    assert '<option value="jalan-x">— Damaged roads</option>' in form_html(client, "/en")
    assert '<option value="jalan-x">— Jalan rusak</option>' in form_html(client)


def test_a_renamed_or_withdrawn_region_shows_at_once(world: World, client: Client):
    options = reverse("portal:region_options")
    assert f'<option value="{VILLAGE}" selected>Ciater</option>' in form_html(client, desa=VILLAGE)
    assert f'<option value="{VILLAGE}">Ciater</option>' in client.get(options, {"induk": DISTRICT}).content.decode()
    region_update(code=VILLAGE, name="Ciater Baru", is_active=True)
    assert f'<option value="{VILLAGE}" selected>Ciater Baru</option>' in form_html(client, desa=VILLAGE)
    assert (
        f'<option value="{VILLAGE}">Ciater Baru</option>' in client.get(options, {"induk": DISTRICT}).content.decode()
    )
    settled(client)
    client.get(options, {"induk": DISTRICT})
    region_update(code=VILLAGE, name="Ciater Baru", is_active=False)
    assert f'value="{VILLAGE}"' not in client.get(options, {"induk": DISTRICT}).content.decode()


def test_a_region_load_shows_at_once(client: Client, source_dir: Path, dataset: Dataset):  # noqa: F811
    load(source_dir, dataset)
    reference.reset()
    options = reverse("portal:region_options")
    assert "Serpong Utara" not in client.get(options, {"induk": "36.74"}).content.decode()
    assert "Serpong Utara" not in client.get(options, {"induk": "36.74"}).content.decode()
    # The load writes in bulk (no signals).
    dataset["districts.csv"].append(("36.74.02", "36.74", "Serpong Utara"))
    dataset["districts.csv"][3] = ("36.74.01", "36.74", "Serpong Lama")
    load(source_dir, dataset)
    html = client.get(options, {"induk": "36.74"}).content.decode()
    assert '<option value="36.74.02">Serpong Utara</option>' in html
    assert '<option value="36.74.01">Serpong Lama</option>' in html
    assert (
        "Serpong Lama" in client.post(FILE_URL, {**details(), "show": "regions", "regency": "36.74"}).content.decode()
    )


def test_another_process_sees_a_change_when_its_entry_expires(
    world: World, client: Client, settings, monkeypatch: pytest.MonkeyPatch
):
    settings.REFERENCE_CACHE_SECONDS = 60
    now = [1000.0]
    monkeypatch.setattr(reference, "monotonic_now", lambda: now[0])
    assert "Banten Baru" not in form_html(client)
    # As another process writes: this one gets no signal.
    Region.objects.filter(code="36").update(name="Banten Baru")
    now[0] += 59
    assert "Banten Baru" not in form_html(client)
    now[0] += 2
    assert '<option value="36">Banten Baru</option>' in form_html(client)


def test_codes_without_regions_below_are_not_kept(world: World, client: Client):
    options = reverse("portal:region_options")
    for code in ("99", "99.99", "99.99.99", VILLAGE):
        assert client.get(options, {"induk": code}).content.decode().count("<option") == 1
        form_html(client, desa=f"{code}.1001" if code.count(".") == 2 else "")
    kept = {key for key in reference._entries if isinstance(key, tuple) and str(key[0]).startswith("filing-")}
    assert kept
    assert not any(key[1] in ("99", "99.99", "99.99.99", VILLAGE) for key in kept)
