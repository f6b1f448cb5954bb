/* Progressive enhancement only: every page works without this file. */
(function () {
  "use strict";

  // Buttons and links with data-confirm ask before going on (the server asks again where it matters).
  document.addEventListener("click", function (event) {
    var trigger = event.target.closest("[data-confirm]");
    if (trigger && !window.confirm(trigger.getAttribute("data-confirm"))) {
      event.preventDefault();
    }
  });

  // A copy button next to a read-only value (the new API key): shown only when the browser can copy.
  function enableCopyButtons() {
    var buttons = document.querySelectorAll("[data-copy-target]");
    Array.prototype.forEach.call(buttons, function (button) {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      if (!target) { return; }
      button.hidden = false;
      var label = button.textContent;
      button.addEventListener("click", function () {
        target.focus();
        target.select();
        var status = document.getElementById(button.getAttribute("data-copy-status") || "");
        var done = function () {
          var copied = button.getAttribute("data-copied-text") || label;
          button.textContent = copied;
          if (status) { status.textContent = copied; }
          window.setTimeout(function () {
            button.textContent = label;
            if (status) { status.textContent = ""; }
          }, 2500);
        };
        if (navigator.clipboard && window.isSecureContext) {
          navigator.clipboard.writeText(target.value).then(done, function () {
            if (document.execCommand("copy")) { done(); }
          });
        } else if (document.execCommand("copy")) {
          done();
        }
      });
    });
    // Selecting the whole key on focus makes a manual copy one keystroke.
    Array.prototype.forEach.call(document.querySelectorAll("input.key-value"), function (input) {
      input.addEventListener("focus", function () { input.select(); });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", enableCopyButtons);
  } else {
    enableCopyButtons();
  }
})();
