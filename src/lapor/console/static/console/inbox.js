/* Keyboard shortcuts of the console's inbox (progressive: the page works the same without them).
 *
 *   j / k   focus the next / previous report row
 *   Enter   open the focused report
 *   x       select or unselect the focused report (its checkbox for bulk actions)
 *   /       focus the search field
 *   g i     go to the inbox
 *
 * Keys are never taken while the user types in a field, nor with Ctrl, Alt or Meta held, so
 * browser and screen-reader shortcuts keep working.
 */
(function () {
  "use strict";

  var PREFIX_TIMEOUT_MS = 1500;
  var pendingG = false;
  var pendingTimer = null;

  function isTyping(target) {
    if (!target || !target.tagName) return false;
    var tag = target.tagName.toLowerCase();
    if (tag === "textarea" || tag === "select") return true;
    if (tag === "input") {
      var type = (target.getAttribute("type") || "text").toLowerCase();
      return ["checkbox", "radio", "button", "submit", "reset"].indexOf(type) === -1;
    }
    return Boolean(target.isContentEditable);
  }

  function rows() {
    return Array.prototype.slice.call(document.querySelectorAll("[data-inbox-row]"));
  }

  function currentRow() {
    var active = document.activeElement;
    return active && active.closest ? active.closest("[data-inbox-row]") : null;
  }

  function focusRow(row) {
    rows().forEach(function (other) { other.classList.remove("is-current"); });
    row.classList.add("is-current");
    row.focus();
    row.scrollIntoView({ block: "nearest" });
  }

  function move(step) {
    var all = rows();
    if (!all.length) return;
    var index = all.indexOf(currentRow());
    var next = index === -1 ? (step > 0 ? 0 : all.length - 1) : Math.min(Math.max(index + step, 0), all.length - 1);
    focusRow(all[next]);
  }

  function open(row) {
    var link = row.querySelector("[data-inbox-open]");
    var href = (link && link.getAttribute("href")) || row.getAttribute("data-href");
    if (href) window.location.assign(href);
  }

  function toggle(row) {
    var box = row.querySelector("[data-inbox-pick]");
    if (box) box.click();
  }

  function inboxUrl() {
    var holder = document.querySelector("[data-inbox-url]");
    if (holder) return holder.getAttribute("data-inbox-url");
    var link = document.querySelector('a[accesskey="i"]');
    return link ? link.getAttribute("href") : null;
  }

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.altKey || event.metaKey || isTyping(event.target)) return;
    var key = event.key;
    if (pendingG) {
      pendingG = false;
      window.clearTimeout(pendingTimer);
      if (key === "i") {
        var url = inboxUrl();
        if (url) {
          event.preventDefault();
          window.location.assign(url);
        }
        return;
      }
    }
    var row = currentRow();
    if (key === "j" || key === "k") {
      event.preventDefault();
      move(key === "j" ? 1 : -1);
    } else if (key === "Enter" && row && document.activeElement === row) {
      // On the row itself; on its link or checkbox the browser does what it always does.
      event.preventDefault();
      open(row);
    } else if (key === "x" && row) {
      event.preventDefault();
      toggle(row);
    } else if (key === "/") {
      var search = document.querySelector("[data-inbox-search]");
      if (search) {
        event.preventDefault();
        search.focus();
        search.select();
      }
    } else if (key === "g") {
      pendingG = true;
      pendingTimer = window.setTimeout(function () { pendingG = false; }, PREFIX_TIMEOUT_MS);
    }
  });

  document.addEventListener("focusin", function (event) {
    var row = event.target && event.target.closest ? event.target.closest("[data-inbox-row]") : null;
    if (row) {
      rows().forEach(function (other) { other.classList.toggle("is-current", other === row); });
    }
  });
})();
