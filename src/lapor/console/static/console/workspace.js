// The report workspace without a page load where a page load is not needed; every form works without it.
(function () {
  "use strict";

  // A follow-up template fills the follow-up box at once (without script: the "Use" button reloads).
  document.querySelectorAll("select[data-fills]").forEach(function (select) {
    var form = select.form;
    var button = form && form.querySelector("button[type=submit]");
    if (button) { button.hidden = true; }
    select.addEventListener("change", function () {
      var target = document.getElementById(select.getAttribute("data-fills"));
      var option = select.options[select.selectedIndex];
      var text = option && option.getAttribute("data-text");
      if (!target || !text) { return; }
      if (target.value.trim() && !window.confirm(select.getAttribute("data-confirm") || "Replace the text?")) { return; }
      target.value = text;
      target.focus();
    });
  });

  // A suggestion and a typed code exclude each other: choosing one clears the other.
  document.querySelectorAll("form").forEach(function (form) {
    form.querySelectorAll("input[name$='-other_institution'], input[name$='-other_into']").forEach(function (typed) {
      var radios = form.querySelectorAll("input[type=radio][name='" + typed.name.replace("other_", "") + "']");
      typed.addEventListener("input", function () {
        if (typed.value.trim()) { radios.forEach(function (radio) { radio.checked = false; }); }
      });
      radios.forEach(function (radio) {
        radio.addEventListener("change", function () { if (radio.checked) { typed.value = ""; } });
      });
    });
  });
}());

// A form sent back with errors: its summary takes the focus, so that the errors are read out first.
(function () {
  "use strict";
  var summary = document.getElementById("form-errors");
  if (summary) { summary.focus(); }
}());

// Keyboard shortcuts for the common moves: each focuses the first field of its panel (listed on the
// page). Keys are never taken while typing in a field, nor with Ctrl, Alt or Meta held.
(function () {
  "use strict";
  var panels = { f: "follow_up", d: "dispatch", w: "forward", r: "return", n: "note" };
  var pendingG = false;
  function typing(target) {
    var tag = target && target.tagName ? target.tagName.toLowerCase() : "";
    if (tag === "textarea" || tag === "select") { return true; }
    if (tag === "input") {
      return ["checkbox", "radio", "button", "submit", "reset"].indexOf((target.type || "text").toLowerCase()) === -1;
    }
    return Boolean(target && target.isContentEditable);
  }
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.altKey || event.metaKey || typing(event.target)) { return; }
    if (pendingG && event.key === "i") {
      var any = document.querySelector("[data-inbox-url]");
      if (any) { window.location.href = any.getAttribute("data-inbox-url"); }
      return;
    }
    pendingG = event.key === "g";
    var panel = panels[event.key] && document.getElementById(panels[event.key]);
    if (!panel) { return; }
    var field = panel.querySelector("textarea, input:not([type=hidden]), select");
    if (field) {
      event.preventDefault();
      panel.scrollIntoView();
      field.focus();
    }
  });
})();

// Institutions by name in the dispatch form: typing part of a name lists the matches (from the
// report's own endpoint, within what the viewer may choose) as buttons below the field; choosing one
// fills in "Name (code)". Without script the form takes the name as typed and says when it is unclear.
(function () {
  "use strict";
  if (!window.fetch) { return; }
  document.querySelectorAll("input[data-institution-search]").forEach(function (input) {
    var holder = input.closest("[data-institution-search-url]");
    if (!holder) { return; }
    var many = input.getAttribute("data-institution-search") === "many";
    var url = holder.getAttribute("data-institution-search-url");
    var list = document.createElement("ul");
    list.className = "institution-results";
    list.id = input.id + "-results";
    list.setAttribute("aria-label", holder.getAttribute("data-results-label") || "");
    var status = document.createElement("p");
    status.className = "visually-hidden";
    status.setAttribute("role", "status");
    input.insertAdjacentElement("afterend", list);
    list.insertAdjacentElement("afterend", status);
    input.setAttribute("aria-controls", list.id);
    var timer = null;
    var latest = 0;
    var choosing = false;

    function parts() { return input.value.split(/[,;]/).map(function (part) { return part.trim(); }); }
    function typed() { return many ? parts().pop() : input.value.trim(); }
    function clear() { list.innerHTML = ""; }
    function choose(label) {
      if (many) {
        var kept = parts().slice(0, -1).filter(Boolean);
        kept.push(label);
        input.value = kept.join(", ") + ", ";
      } else {
        input.value = label;
      }
      clear();
      status.textContent = "";
      choosing = true;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      choosing = false;
      input.focus();
    }
    function show(results) {
      clear();
      results.forEach(function (result) {
        var item = document.createElement("li");
        var button = document.createElement("button");
        button.type = "button";
        button.className = "link-button";
        button.textContent = result.label;
        button.addEventListener("click", function () { choose(result.label); });
        item.appendChild(button);
        list.appendChild(item);
      });
      var counted = holder.getAttribute("data-results-count") || "{n}";
      status.textContent = results.length
        ? counted.replace("{n}", String(results.length))
        : holder.getAttribute("data-results-none") || "";
    }
    input.addEventListener("input", function () {
      if (choosing) { return; }
      window.clearTimeout(timer);
      var query = typed();
      if (query.length < 2) { clear(); return; }
      timer = window.setTimeout(function () {
        var request = ++latest;
        var address = url + "?q=" + encodeURIComponent(query) + (many ? "" : "&untuk=tujuan");
        window.fetch(address, { credentials: "same-origin", headers: { Accept: "application/json" } })
          .then(function (response) { return response.ok ? response.json() : { results: [] }; })
          .then(function (data) { if (request === latest) { show(data.results || []); } })
          .catch(function () { clear(); });
      }, 200);
    });
  });
}());
