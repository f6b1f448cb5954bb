/* Progressive enhancement of the operator's pages: every page works without this file.

   A recompute's progress page marks its card with data-recompute-status="<status address>".
   This script asks that address every two seconds and updates the progress bar, the counts and
   the state in place; when the job has finished it reloads the page once, which then shows the
   final times. Without JavaScript the page refreshes itself (a <noscript> meta refresh). */
(function () {
  "use strict";

  var POLL_MS = 2000;
  var RETRY_MS = 10000;
  var MAX_FAILURES = 5;
  var LOOK = {
    QUEUED: ["badge-muted", "○ "],
    RUNNING: ["badge-warn", "▶ "],
    SUCCEEDED: ["badge-ok", "● "],
    FAILED: ["badge-danger", "■ "]
  };

  function follow(card) {
    var url = card.getAttribute("data-recompute-status");
    var failures = 0;

    function field(name) {
      return card.querySelector('[data-job-field="' + name + '"]');
    }

    function setText(name, value) {
      var element = field(name);
      if (element) { element.textContent = String(value); }
    }

    function showState(status) {
      var badge = card.querySelector("[data-job-state]");
      var look = LOOK[status.state];
      if (!badge || !look) { return; }
      badge.className = "badge " + look[0];
      var symbol = badge.querySelector("[aria-hidden]");
      if (symbol) { symbol.textContent = look[1]; }
      if (badge.lastChild && badge.lastChild.nodeType === 3) {
        badge.lastChild.nodeValue = status.state_label;
      } else {
        badge.appendChild(document.createTextNode(status.state_label));
      }
    }

    function show(status) {
      var bar = field("progress");
      if (bar) {
        bar.max = Math.max(status.chunks_total, 1);
        bar.value = status.chunks_done;
        bar.textContent = status.percent + "%";
      }
      setText("progress_text", status.progress_text);
      setText("subjects", status.subjects);
      setText("changed", status.changed);
      showState(status);
    }

    function poll() {
      window.fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) { throw new Error(String(response.status)); }
          return response.json();
        })
        .then(function (status) {
          failures = 0;
          show(status);
          if (status.finished) {
            window.location.reload();
          } else {
            window.setTimeout(poll, POLL_MS);
          }
        })
        .catch(function () {
          // Signed out, offline or refused: try a few more times, slowly, then leave the reload link.
          failures += 1;
          if (failures < MAX_FAILURES) { window.setTimeout(poll, RETRY_MS); }
        });
    }

    window.setTimeout(poll, POLL_MS);
  }

  function start() {
    if (!window.fetch) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("[data-recompute-status]"), follow);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
