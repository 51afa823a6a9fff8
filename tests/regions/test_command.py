"""`lapor regions load|search|show` through call_command."""

from __future__ import annotations

from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.utils import translation

from tests.regions.conftest import SMALL_COUNTS, write_dataset

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    # The assertions read English output; Indonesian is the default language.
    with translation.override("en"):
        yield


def run(*args: str) -> str:
    output = StringIO()
    call_command("regions", *args, stdout=output, no_color=True)
    return output.getvalue()


def test_load_reports_what_it_did_then_skips(source_dir, dataset):
    write_dataset(source_dir, dataset)

    first = run("load", "--source", str(source_dir))
    assert f"{sum(SMALL_COUNTS.values())} rows written" in first
    assert "Village" in first
    assert "11 created" in first

    second = run("load", "--source", str(source_dir))
    assert "up to date" in second
    assert "--force" in second

    forced = run("load", "--source", str(source_dir), "--force")
    assert "nothing changed" in forced
    assert "11 unchanged" in forced


def test_load_with_bad_data_is_a_command_error(source_dir, dataset):
    dataset["villages.csv"].append(("36.74.09.1001", "36.74.09", "Nowhere"))
    write_dataset(source_dir, dataset)

    with pytest.raises(CommandError, match=r"villages.csv:13: the parent 36.74.09"):
        run("load", "--source", str(source_dir))


def test_search_prints_code_name_kind_and_place(small_regions):
    output = run("search", "tangerang", "sel")

    lines = output.splitlines()
    assert lines[0].split()[0] == "36.74"
    assert "Kota Tangerang Selatan" in lines[0]
    assert "Banten" in lines[0]
    assert "Balaraja, Kabupaten Tangerang, Banten" in lines[1]

    assert run("search", "pondok", "--level", "village", "--limit", "1").splitlines()[0].startswith("36.74.03.1001")
    assert run("search", "tangerang", "--within", "36.03").splitlines()[0].startswith("36.03.01.2004")
    assert "No region matches" in run("search", "zzz")


def test_show_prints_ancestors_zone_and_children(small_regions):
    output = run("show", "36.74")

    assert "Kota Tangerang Selatan (36.74)" in output
    assert "Banten (36)" in output
    assert "Asia/Jakarta (WIB)" in output
    assert output.rstrip().endswith("2")

    village = run("show", "91.03.01.3007")
    assert "Papua (91) > Kabupaten Jayapura (91.03) > Sentani (91.03.01)" in village
    assert "WIT" in village


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("show", "36.7"), "is not a region code"),
        (("show", "36.99"), "No region has the code 36.99"),
        (("search", "tangerang", "--within", "3"), "is not a region code"),
    ],
)
def test_bad_codes_are_command_errors(small_regions, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)


def test_an_action_is_required():
    with pytest.raises(CommandError, match="load,search,show"):
        run()
