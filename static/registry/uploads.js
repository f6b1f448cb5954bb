/* Progressive enhancement of the uploads pages: every page works without this file.

   An upload still moving is marked data-upload-status="<status address>" (a row of the list,
   the progress card of an upload's page). This script asks that address every two seconds and
   updates, inside it, the state badge, the <progress> bar and the counts (the elements marked
   data-upload-field="<name of a field of the status>"), and hides the cancel button
   (data-upload-cancellable) once the upload can no longer be cancelled. When it stops moving (it
   finished, or waits for a confirmation), it stops asking; an upload's own page
   (data-upload-reload) then reloads once to show the final times, errors and buttons. Without
   JavaScript that page refreshes itself (a <noscript> meta refresh).

   The send form's file input carries data-max-bytes: a file over the region's limit is refused
   here before it is sent (the server refuses it anyway). */
(function () {
  "use strict";

  var POLL_MS = 2000;
  var RETRY_MS = 10000;
  var MAX_FAILURES = 5;
  var COUNTS = ["created", "updated", "unchanged", "withdrawn", "invalid"];

  function follow(container) {
    var url = container.getAttribute("data-upload-status");
    var reload = container.hasAttribute("data-upload-reload");
    // An upload's own page shows its state in the heading too.
    var scope = reload ? document : container;
    var failures = 0;

    function each(selector, action) {
      Array.prototype.forEach.call(scope.querySelectorAll(selector), action);
    }

    function setText(name, value) {
      each('[data-upload-field="' + name + '"]', function (element) {
        element.textContent = value === null || value === undefined ? "" : String(value);
      });
    }

    function show(status) {
      each("[data-upload-state]", function (badge) {
        badge.className = "badge " + status.badge;
        var symbol = badge.querySelector("[data-upload-symbol]");
        if (symbol) { symbol.textContent = status.symbol + " "; }
      });
      setText("state_label", status.state_label);
      each('progress[data-upload-field="bar"]', function (bar) {
        bar.max = Math.max(status.bar_max, 1);
        if (status.bar_value === null) {
          bar.removeAttribute("value"); // waiting: an indeterminate bar
          bar.textContent = "";
        } else {
          bar.value = status.bar_value;
          bar.textContent = status.percent + "%";
        }
      });
      setText("progress_text", status.progress_text);
      COUNTS.forEach(function (name) { setText(name, status[name]); });
      // The cancel button of a queued upload goes once a worker has taken it.
      each("[data-upload-cancellable]", function (section) { section.hidden = !status.cancellable; });
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
          if (status.live) {
            window.setTimeout(poll, POLL_MS);
          } else if (reload) {
            window.location.reload();
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

  function checkSize(input) {
    var limit = Number(input.getAttribute("data-max-bytes"));
    var message = input.getAttribute("data-too-large") || "";
    if (!limit || !input.setCustomValidity) { return; }
    input.addEventListener("change", function () {
      var file = input.files && input.files[0];
      input.setCustomValidity(file && file.size > limit ? message : "");
    });
    var form = input.form;
    if (form) {
      form.addEventListener("submit", function (event) {
        if (!input.checkValidity()) {
          event.preventDefault();
          input.reportValidity();
        }
      });
    }
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("input[data-max-bytes]"), checkSize);
    if (!window.fetch) { return; }
    Array.prototype.forEach.call(document.querySelectorAll("[data-upload-status]"), follow);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
