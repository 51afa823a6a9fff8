"""The portal's offline basemap: the coastlines and borders of Indonesia and its neighbours as GeoJSON.

Without a tile server (MAP_TILE_URL empty, the default) the public map and the point picker on the
filing form would be circles and a pin on a grey box. `make assets` runs this script on the
`world-atlas` npm package (Natural Earth 1:50m, public domain; the package is ISC), keeps the countries
whose polygons touch the region below, rounds coordinates to about 100 m and writes one small GeoJSON
file into the portal's vendor folder, served like every other static file: nothing is fetched from
anyone else at run time.

    python src/lapor/portal/basemap.py node_modules/world-atlas/countries-50m.json OUT.geojson

Standard library only: it runs before the virtual environment exists.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

# West, south, east, north: from Sumatra's neighbours to Papua, Mindanao to Timor and north Australia.
REGION = (90.0, -15.0, 145.0, 10.0)
# Decimal places kept: 3 is about 100 m, finer than a 1:50m source draws anyway.
PRECISION = 3

Point = tuple[float, float]
Ring = list[Point]


def decode_arcs(topology: dict[str, Any]) -> list[list[Point]]:
    """Every arc of a TopoJSON topology as absolute longitude/latitude points (quantized arcs are
    delta-encoded and scaled by the topology's transform)."""
    transform = topology.get("transform")
    arcs: list[list[Point]] = []
    for arc in topology["arcs"]:
        if transform is None:
            arcs.append([(float(x), float(y)) for x, y, *_rest in arc])
            continue
        (scale_x, scale_y), (shift_x, shift_y) = transform["scale"], transform["translate"]
        x = y = 0
        points = []
        for dx, dy, *_rest in arc:
            x, y = x + dx, y + dy
            points.append((x * scale_x + shift_x, y * scale_y + shift_y))
        arcs.append(points)
    return arcs


def stitch(indices: Iterable[int], arcs: Sequence[list[Point]]) -> Ring:
    """One ring from its arcs; a negative index ~i is arc i reversed. Consecutive arcs share a point."""
    ring: Ring = []
    for index in indices:
        points = arcs[index] if index >= 0 else arcs[~index][::-1]
        ring.extend(points[1:] if ring else points)
    return ring


def _round(ring: Ring, precision: int) -> Ring:
    kept: Ring = []
    for longitude, latitude in ring:
        point = (round(longitude, precision), round(latitude, precision))
        if not kept or kept[-1] != point:
            kept.append(point)
    return kept


def _touches(ring: Ring, region: tuple[float, float, float, float]) -> bool:
    west, south, east, north = region
    longitudes = [point[0] for point in ring]
    latitudes = [point[1] for point in ring]
    return min(longitudes) <= east and max(longitudes) >= west and min(latitudes) <= north and max(latitudes) >= south


def basemap(
    topology: dict[str, Any],
    *,
    region: tuple[float, float, float, float] = REGION,
    precision: int = PRECISION,
    layer: str = "countries",
) -> dict[str, Any]:
    """A GeoJSON FeatureCollection of the polygons of ``layer`` whose outer ring touches ``region``,
    one MultiPolygon feature per country, named."""
    arcs = decode_arcs(topology)
    features = []
    for geometry in topology["objects"][layer]["geometries"]:
        if geometry.get("type") == "Polygon":
            polygons = [geometry["arcs"]]
        elif geometry.get("type") == "MultiPolygon":
            polygons = geometry["arcs"]
        else:
            continue
        kept = []
        for polygon in polygons:
            rings = [_round(stitch(indices, arcs), precision) for indices in polygon]
            rings = [ring for ring in rings if len(ring) >= 4]  # noqa: PLR2004 (a closed ring: 3 corners and back)
            if rings and _touches(rings[0], region):
                kept.append([[list(point) for point in ring] for ring in rings])
        if kept:
            features.append(
                {
                    "type": "Feature",
                    "properties": {"name": (geometry.get("properties") or {}).get("name", "")},
                    "geometry": {"type": "MultiPolygon", "coordinates": kept},
                }
            )
    return {"type": "FeatureCollection", "features": features}


def main(argv: Sequence[str]) -> int:
    if len(argv) != 2:  # noqa: PLR2004
        sys.stderr.write("usage: basemap.py TOPOJSON OUTPUT\n")
        return 2
    source, target = (Path(argument) for argument in argv)
    collection = basemap(json.loads(source.read_text(encoding="utf-8")))
    target.write_text(json.dumps(collection, separators=(",", ":")), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
