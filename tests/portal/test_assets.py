"""The portal's front-end packages: installed from npm (package-lock.json) by `make assets`, copied with
their licences into the static folder the app serves, and collected by the production storage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.staticfiles import finders
from django.core.management import call_command
from django.test import override_settings

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "src" / "lapor" / "portal" / "static" / "portal" / "vendor"
SERVED = (
    "htmx.min.js",
    "leaflet.js",
    "leaflet.css",
    "images/marker-icon.png",
    "images/marker-icon-2x.png",
    "images/marker-shadow.png",
    "basemap.json",
)
LICENCES = {
    "htmx.org": "htmx.org.LICENSE.txt",
    "leaflet": "leaflet.LICENSE.txt",
    "world-atlas": "world-atlas.LICENSE.txt",
}


@pytest.fixture(scope="module")
def vendor() -> Path:
    if not (VENDOR / "VERSIONS.txt").exists():
        pytest.fail(f"{VENDOR.relative_to(ROOT)} is missing: `make assets` (part of `make install`) writes it.")
    return VENDOR


def test_the_served_files_are_there_with_their_licences(vendor: Path) -> None:
    for name in SERVED:
        assert (vendor / name).stat().st_size > 0, name
    for package, licence in LICENCES.items():
        text = (vendor / licence).read_text(encoding="utf-8")
        assert text == (ROOT / "node_modules" / package / "LICENSE").read_text(encoding="utf-8")


def test_the_copied_versions_are_the_locked_ones(vendor: Path) -> None:
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    copied = dict(line.split(" ")[:2] for line in (vendor / "VERSIONS.txt").read_text(encoding="utf-8").splitlines())
    assert copied == {package: lock["packages"][f"node_modules/{package}"]["version"] for package in LICENCES}
    assert copied["htmx.org"].startswith("2.")
    assert copied["leaflet"].startswith("1.9.")


def test_the_app_finds_them_and_never_serves_axe(vendor: Path) -> None:
    for name in SERVED:
        assert finders.find(f"portal/vendor/{name}") is not None, name
    served = [path for finder in finders.get_finders() for path, _storage in finder.list([])]
    assert not [path for path in served if "axe" in Path(path).name.lower()]


def test_production_storage_collects_them_compressed_and_fingerprinted(vendor: Path, tmp_path: Path) -> None:
    """collectstatic with the production storage rewrites the references inside Leaflet's CSS (its
    images) and JS (its source map): a reference to a file that was not copied would stop it."""
    storages = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
    }
    with override_settings(STATIC_ROOT=tmp_path, STORAGES=storages):
        call_command("collectstatic", interactive=False, verbosity=0)
    manifest = json.loads((tmp_path / "staticfiles.json").read_text(encoding="utf-8"))["paths"]
    css = (tmp_path / manifest["portal/vendor/leaflet.css"]).read_text(encoding="utf-8")
    assert Path(manifest["portal/vendor/images/marker-icon.png"]).name in css
    for name in ("htmx.min.js", "leaflet.js", "leaflet.css"):
        assert (tmp_path / f"{manifest[f'portal/vendor/{name}']}.gz").exists(), name
