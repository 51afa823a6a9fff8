/* Filing a report: narrows the region lists in place, finds institutions as you type, and checks
   files before they are sent. Everything here also works without it (the form reloads instead). */
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var levels = ["province", "regency", "district", "village"];

  function select(level) { return document.getElementById("id_" + level); }

  function load(url, target) {
    return fetch(url, { headers: { "X-Requested-With": "fetch" }, credentials: "same-origin" })
      .then(function (response) { return response.ok ? response.text() : ""; })
      .then(function (html) { if (html) { target.innerHTML = html; } });
  }

  var form = document.getElementById("filing-form");
  if (form) {
    levels.slice(0, 3).forEach(function (level, index) {
      var current = select(level);
      if (!current) { return; }
      current.addEventListener("change", function () {
        var next = select(levels[index + 1]);
        levels.slice(index + 2).forEach(function (lower) {
          var below = select(lower);
          if (below) { below.innerHTML = next.options[0].outerHTML; }
        });
        if (!current.value) { next.innerHTML = next.options[0].outerHTML; return; }
        load(form.dataset.regionsUrl + "?induk=" + encodeURIComponent(current.value), next).then(function () {
          if (levels[index + 1] === "village") { filterVillages(); }
        });
      });
    });

    // The village list narrows as you type.
    var village = select("village");
    var filter = document.createElement("input");
    filter.type = "search";
    filter.id = "village-filter";
    filter.setAttribute("aria-controls", "id_village");
    var label = document.createElement("label");
    label.htmlFor = filter.id;
    label.textContent = form.dataset.filterLabel;
    village.parentNode.insertBefore(label, village);
    village.parentNode.insertBefore(filter, village);
    function filterVillages() {
      var words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
      Array.prototype.forEach.call(village.options, function (option, position) {
        var text = option.text.toLowerCase();
        option.hidden = position > 0 && !words.every(function (word) { return text.indexOf(word) !== -1; });
      });
    }
    filter.addEventListener("input", filterVillages);

    // Institutions found as you type.
    var query = document.getElementById("id_institution_query");
    var target = select("target_institution");
    var timer = null;
    if (query && target) {
      query.addEventListener("input", function () {
        clearTimeout(timer);
        timer = setTimeout(function () {
          if (query.value.trim().length < 2) { return; }
          load(form.dataset.institutionsUrl + "?q=" + encodeURIComponent(query.value.trim()), target);
        }, 300);
      });
    }
  }

  // Files are checked before they travel over a slow link: the server checks them again.
  var files = document.getElementById("id_attachments");
  if (files) {
    var message = document.createElement("p");
    message.className = "field-error";
    message.id = "attachments-check";
    message.setAttribute("aria-live", "polite");
    files.parentNode.appendChild(message);
    files.addEventListener("change", function () {
      var limit = parseInt(files.dataset.maxBytes, 10) || 0;
      var allowed = (files.getAttribute("accept") || "").split(",");
      var total = 0;
      var problem = "";
      Array.prototype.forEach.call(files.files, function (file) {
        total += file.size;
        if (allowed.indexOf(file.type) === -1) { problem = files.dataset.typeMessage.replace("%s", file.name); }
      });
      if (!problem && limit && total > limit) { problem = files.dataset.sizeMessage; }
      message.textContent = problem;
      // The summary above lists the chosen files with the rest of the report.
      var chosen = document.getElementById("summary-files");
      if (chosen) {
        var names = Array.prototype.map.call(files.files, function (file) { return file.name; });
        chosen.textContent = names.length ? names.join(", ") : chosen.dataset.none;
      }
      files.setCustomValidity(problem);
      files.setAttribute("aria-invalid", problem ? "true" : "false");
    });
  }
})();

/* The map point: Leaflet is fetched only when the reporter asks for the map (it is not light). */
(function () {
  "use strict";
  var button = document.getElementById("pick-on-map");
  if (!button) { return; }
  var box = document.getElementById("pick-map");
  var latitude = document.getElementById("id_latitude");
  var longitude = document.getElementById("id_longitude");
  function withLeaflet(done) {
    if (window.L) { done(); return; }
    var css = document.createElement("link");
    css.rel = "stylesheet";
    css.href = button.dataset.leafletCss;
    document.head.appendChild(css);
    var script = document.createElement("script");
    script.src = button.dataset.leafletJs;
    script.onload = done;
    document.head.appendChild(script);
  }
  button.addEventListener("click", function () {
    button.disabled = true;
    withLeaflet(function () {
      box.hidden = false;
      var start = latitude.value && longitude.value ? [parseFloat(latitude.value), parseFloat(longitude.value)] : [-2.5, 118];
      var map = window.L.map(box).setView(start, latitude.value ? 16 : 5);
      if (button.dataset.tiles) {
        window.L.tileLayer(button.dataset.tiles, { attribution: button.dataset.attribution, maxZoom: 19 }).addTo(map);
      } else {
        // No tile server: the coastlines and borders shipped with the app (Natural Earth).
        box.classList.add("map-offline");
        map.attributionControl.addAttribution(button.dataset.basemapAttribution);
        fetch(button.dataset.basemap, { credentials: "same-origin" })
          .then(function (response) { return response.ok ? response.json() : null; })
          .then(function (shapes) {
            if (!shapes) { return; }
            window.L.geoJSON(shapes, {
              interactive: false,
              style: { color: "#5c5c5c", weight: 1, fillColor: "#f3efe6", fillOpacity: 1 }
            }).addTo(map).bringToBack();
          });
      }
      var marker = latitude.value ? window.L.marker(start).addTo(map) : null;
      map.on("click", function (event) {
        latitude.value = event.latlng.lat.toFixed(6);
        longitude.value = event.latlng.lng.toFixed(6);
        if (marker) { marker.setLatLng(event.latlng); } else { marker = window.L.marker(event.latlng).addTo(map); }
      });
    });
  });
})();
