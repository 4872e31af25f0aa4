// Dates in the reader's timezone and locale: <time datetime="ISO" data-local-time> is
// rewritten with the browser's formatting (the server writes UTC, which stays the fallback),
// and a form field marked data-browser-timezone gets the browser's timezone name, so the
// server reads the form's dates as the reader's days.
(function () {
  "use strict";
  var format = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "medium" });
  function localize(scope) {
    scope.querySelectorAll("time[data-local-time][datetime]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when.getTime())) {
        el.title = el.textContent;
        el.textContent = format.format(when);
      }
    });
  }
  localize(document);
  // Regions swapped by live_status.js come back in UTC: localize them again.
  new MutationObserver(function (changes) {
    changes.forEach(function (change) {
      change.addedNodes.forEach(function (node) { if (node.querySelectorAll) localize(node); });
    });
  }).observe(document.body, { childList: true, subtree: true });
  var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  document.querySelectorAll("input[data-browser-timezone]").forEach(function (input) {
    if (!input.value && zone) input.value = zone;
  });
})();
