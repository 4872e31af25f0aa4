// Live run statuses without a reload: every element with data-run-id and data-status whose
// status is not final is polled through the JSON endpoint named by
// <body>/<main> data-run-status-url (or the element's closest [data-run-status-url]).
// Badges inside [data-run-badge] get the new status; regions marked data-live-region are
// fetched again from this page's URL and swapped when any status changes (a run page's
// actions and output, say). Polling stops when every shown run is final.
(function () {
  "use strict";

  var root = document.querySelector("[data-run-status-url]");
  if (!root) return;
  var url = root.getAttribute("data-run-status-url");
  var interval = parseInt(root.getAttribute("data-poll-ms") || "2000", 10);
  var FINAL = ["success", "failed", "blocked"];

  function unfinished() {
    var ids = [];
    document.querySelectorAll("[data-run-id][data-status]").forEach(function (el) {
      if (FINAL.indexOf(el.getAttribute("data-status")) === -1) {
        var id = el.getAttribute("data-run-id");
        if (ids.indexOf(id) === -1) ids.push(id);
      }
    });
    return ids;
  }

  function setBadge(el, run) {
    el.setAttribute("data-status", run.status);
    el.querySelectorAll("[data-run-badge]").forEach(function (badge) {
      badge.className = "badge badge-" + run.tone;
      badge.textContent = badge.hasAttribute("data-label") ? run.label : run.status;
    });
  }

  function swapRegions() {
    var regions = document.querySelectorAll("[data-live-region][id]");
    if (!regions.length) return Promise.resolve();
    return fetch(window.location.href, { credentials: "same-origin" })
      .then(function (response) { return response.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        regions.forEach(function (region) {
          var next = fresh.getElementById(region.id);
          if (next) region.replaceWith(document.importNode(next, true));
        });
      });
  }

  function poll() {
    var ids = unfinished();
    if (!ids.length) return;
    fetch(url + "?ids=" + encodeURIComponent(ids.join(",")), {
      credentials: "same-origin",
      headers: { Accept: "application/json" },
    })
      .then(function (response) { return response.ok ? response.json() : { runs: {} }; })
      .then(function (data) {
        var changed = false;
        ids.forEach(function (id) {
          var run = data.runs[id];
          if (!run) return;
          document.querySelectorAll('[data-run-id="' + id + '"]').forEach(function (el) {
            if (el.getAttribute("data-status") !== run.status) {
              changed = true;
              setBadge(el, run);
            }
          });
        });
        return changed ? swapRegions() : null;
      })
      .catch(function () { /* a missed poll is retried on the next tick */ })
      .then(function () {
        if (unfinished().length) window.setTimeout(poll, interval);
      });
  }

  if (unfinished().length) window.setTimeout(poll, interval);
})();
