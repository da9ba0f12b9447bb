// The UI's own script (the CSP forbids inline script). It does three things:
// * shows the confidence slider's value while it moves;
// * keeps each list's scroll position: across htmx panel swaps nothing is reloaded, and across full page loads
//   (a saved form, a reload) the position is kept in sessionStorage per list and filter (data-keep-scroll);
//   a message opened from a search result (data-focus) is scrolled into view instead;
// * marks the clicked row as selected when only the detail panel is swapped.
(function () {
  "use strict";
  var PREFIX = "ti-scroll:";

  function keepers() { return document.querySelectorAll("[data-keep-scroll]"); }

  function save() {
    keepers().forEach(function (el) {
      try { sessionStorage.setItem(PREFIX + el.getAttribute("data-keep-scroll"), String(el.scrollTop)); } catch (e) {}
    });
  }

  function restore() {
    keepers().forEach(function (el) {
      var focus = el.querySelector("[data-focus]");
      if (focus) {
        focus.scrollIntoView({block: "center"});
        return;
      }
      var saved = null;
      try { saved = sessionStorage.getItem(PREFIX + el.getAttribute("data-keep-scroll")); } catch (e) {}
      if (saved !== null) { el.scrollTop = parseInt(saved, 10) || 0; }
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var slider = document.getElementById("filter-conf");
    var out = document.getElementById("conf-out");
    if (slider && out) {
      slider.addEventListener("input", function () { out.textContent = slider.value; });
    }
    restore();
    keepers().forEach(function (el) {
      el.addEventListener("scroll", function () {
        try { sessionStorage.setItem(PREFIX + el.getAttribute("data-keep-scroll"), String(el.scrollTop)); } catch (e) {}
      }, {passive: true});
    });
    document.addEventListener("click", function (ev) {
      var link = ev.target.closest ? ev.target.closest("[data-select]") : null;
      if (!link) { return; }
      var row = link.closest("li, tr");
      if (!row || !row.parentNode) { return; }
      Array.prototype.forEach.call(row.parentNode.children, function (r) { r.classList.remove("sel"); });
      row.classList.add("sel");
    });
  });
  window.addEventListener("pagehide", save);
})();
