"""The offline basemap: world-atlas TopoJSON (Natural Earth) turned into the GeoJSON the portal's maps
draw when no tile server is configured (`make assets` writes vendor/basemap.json)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

from lapor.portal.basemap import basemap, decode_arcs, main, stitch

ROOT = Path(__file__).resolve().parents[2]
VENDOR = ROOT / "src" / "lapor" / "portal" / "static" / "portal" / "vendor"
WORLD_ATLAS = ROOT / "node_modules" / "world-atlas" / "countries-50m.json"

# Two squares sharing an edge, quantized (scale 1, shifted to Java's longitude), and one far away.
TOPOLOGY = {
    "type": "Topology",
    "transform": {"scale": [1, 1], "translate": [100, -8]},
    "arcs": [
        [[0, 0], [0, 2]],  # 0: the shared edge, going north
        [[0, 2], [-2, 0], [0, -2], [2, 0]],  # 1: the west square's other three sides
        [[0, 0], [2, 0], [0, 2], [-2, 0]],  # 2: the east square's other three sides
        [[-60, 50], [1, 0], [0, 1], [-1, 0], [0, -1]],  # 3: a ring far north-west of the region
    ],
    "objects": {
        "countries": {
            "type": "GeometryCollection",
            "geometries": [
                {"type": "Polygon", "arcs": [[0, 1]], "properties": {"name": "West"}},
                {"type": "Polygon", "arcs": [[2, -1]], "properties": {"name": "East"}},
                {"type": "MultiPolygon", "arcs": [[[3]]], "properties": {"name": "Far"}},
            ],
        }
    },
}


def test_arcs_are_decoded_from_deltas_and_the_transform():
    arcs = decode_arcs(TOPOLOGY)
    assert arcs[0] == [(100, -8), (100, -6)]
    assert arcs[1] == [(100, -6), (98, -6), (98, -8), (100, -8)]


def test_rings_are_stitched_with_reversed_arcs_and_no_repeated_joints():
    arcs = decode_arcs(TOPOLOGY)
    assert stitch([2, -1], arcs) == [(100, -8), (102, -8), (102, -6), (100, -6), (100, -8)]


def test_only_polygons_touching_the_region_are_kept_one_named_feature_each():
    collection = basemap(TOPOLOGY)
    assert collection["type"] == "FeatureCollection"
    assert [feature["properties"]["name"] for feature in collection["features"]] == ["West", "East"]
    west = collection["features"][0]["geometry"]
    assert west == {
        "type": "MultiPolygon",
        "coordinates": [[[[100, -8], [100, -6], [98, -6], [98, -8], [100, -8]]]],
    }


def test_the_command_writes_compact_geojson(tmp_path):
    source, target = tmp_path / "atlas.json", tmp_path / "basemap.json"
    source.write_text(json.dumps(TOPOLOGY), encoding="utf-8")
    assert main([str(source), str(target)]) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == basemap(TOPOLOGY)
    assert main([str(source)]) == 2


def test_the_shipped_basemap_has_indonesia_and_stays_small():
    if not (VENDOR / "VERSIONS.txt").exists() or not WORLD_ATLAS.exists():
        pytest.fail("`make assets` (part of `make install`) writes the basemap from the world-atlas npm package.")
    shipped = (VENDOR / "basemap.json").read_bytes()
    names = {feature["properties"]["name"] for feature in json.loads(shipped)["features"]}
    assert {"Indonesia", "Malaysia", "Timor-Leste", "Papua New Guinea"} <= names
    indonesia = next(f for f in json.loads(shipped)["features"] if f["properties"]["name"] == "Indonesia")
    assert len(indonesia["geometry"]["coordinates"]) > 100  # the islands, not one blob
    assert len(gzip.compress(shipped)) < 100 * 1024  # loaded after the page, and light on a phone
