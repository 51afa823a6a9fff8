/* The public map (portal:feed_map): one circle per district, from the data the page carries in
   #feed-map-data; the list below the map shows the same reports without JavaScript. Nothing is
   fetched but the tiles of the server the deployment configured (MAP_TILE_URL), if any; without
   one, the coastlines and borders shipped with the app (vendor/basemap.json, from Natural Earth),
   loaded after the page. */
(function () {
  "use strict";
  var element = document.getElementById("feed-map");
  var source = document.getElementById("feed-map-data");
  if (!element || !source || !window.L) { return; }
  var data = JSON.parse(source.textContent);
  element.hidden = false;
  var map = L.map(element, { scrollWheelZoom: false });
  map.attributionControl.setPrefix(false);
  map.attributionControl.addAttribution(data.attribution);
  if (data.tile_url) {
    L.tileLayer(data.tile_url, { maxZoom: 18, attribution: data.tile_attribution || "" }).addTo(map);
  } else if (element.dataset.basemap) {
    element.classList.add("map-offline");
    map.attributionControl.addAttribution(element.dataset.basemapAttribution);
    fetch(element.dataset.basemap, { credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (shapes) {
        if (!shapes) { return; }
        L.geoJSON(shapes, {
          interactive: false,
          style: { color: "#5c5c5c", weight: 1, fillColor: "#f3efe6", fillOpacity: 1 }
        }).addTo(map).bringToBack();
      });
  }

  function popup(marker) {
    // Built from text nodes: titles are what citizens wrote, never markup.
    var box = document.createElement("div");
    var heading = document.createElement("strong");
    heading.textContent = marker.name + " (" + marker.reports.length + ")";
    box.appendChild(heading);
    var list = document.createElement("ul");
    marker.reports.forEach(function (report) {
      var item = document.createElement("li");
      var link = document.createElement("a");
      link.href = report.url;
      link.textContent = report.title;
      item.appendChild(link);
      list.appendChild(item);
    });
    box.appendChild(list);
    return box;
  }

  var points = [];
  data.markers.forEach(function (marker) {
    var point = [marker.lat, marker.lng];
    points.push(point);
    L.circleMarker(point, {
      radius: 8 + Math.min(marker.reports.length, 12),
      color: "#7a0f15",
      weight: 2,
      fillColor: "#a3161d",
      fillOpacity: 0.6
    }).bindPopup(popup(marker)).addTo(map);
  });
  if (points.length) {
    // The shipped outlines (1:50m) say nothing closer than a province: without tiles, stop where the
    // coast and the neighbouring islands still show where the circles are.
    map.fitBounds(points, { maxZoom: data.tile_url ? 12 : 7, padding: [24, 24] });
  } else {
    map.setView([-2.5, 118], 4);  // Indonesia
  }
}());
