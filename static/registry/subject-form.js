/* Forms with a raw identity number (marked data-subject-form): the number is checked and
   hashed here, in the browser, with the region's key (RegistryHashing, hashing.js), and only
   the hash is submitted. The number's input has no name, so it is never sent.

   Without this script (or without WebCrypto, which needs HTTPS) the page keeps its subject
   hash field and says why the number cannot be used. */
(function () {
  "use strict";

  var H = window.RegistryHashing;
  var messagesElement = document.getElementById("registry-hashing-messages");
  var messages = messagesElement ? JSON.parse(messagesElement.textContent) : {};
  var hasherPromise = null;

  function text(key, values) {
    var template = messages[key] || key;
    return template.replace(/%\((\w+)\)s/g, function (all, name) {
      return values && values[name] !== undefined ? String(values[name]) : all;
    });
  }

  function refusalText(error, idType) {
    if (error.rule === "birth_date" && error.details && error.details.future) {
      return text("RIC.birth_date_future");
    }
    var key = messages[idType + "." + error.rule] ? idType + "." + error.rule : error.rule;
    return messages[key] ? text(key, error.details) : error.message;
  }

  function KeyProblem(code) {
    this.code = code;
  }

  // One key fetch per page and only when a number is really hashed: each fetch is an audit event.
  function hasher(url) {
    if (!hasherPromise) {
      hasherPromise = window
        .fetch(url, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (response.status === 401 || response.status === 403) { throw new KeyProblem("key_forbidden"); }
          if (!response.ok) { throw new KeyProblem("key_failed"); }
          return response.json();
        })
        .then(H.hasherFromKey);
      hasherPromise.catch(function () { hasherPromise = null; });
    }
    return hasherPromise;
  }

  // The hash field becomes the second way in, under a summary that opens it.
  function fold(block) {
    var details = document.createElement("details");
    var summary = document.createElement("summary");
    details.className = "hash-entry";
    details.open = block.hasAttribute("data-keep-open");
    summary.textContent = text("hash_instead");
    block.parentNode.insertBefore(details, block);
    details.appendChild(summary);
    details.appendChild(block);
    return details;
  }

  function enhance(form) {
    var block = form.querySelector("[data-raw-block]");
    var raw = form.querySelector("[data-raw-number]");
    var status = form.querySelector("[data-raw-status]");
    var notice = form.querySelector("[data-hashing-notice]");
    var hashInput = form.querySelector("[data-subject-hash]");
    var keyIdInput = form.querySelector("[data-key-id]");
    var hashBlock = form.querySelector("[data-hash-block]");
    var details = null;
    var submit = form.querySelector("[data-submit]");
    var keyUrl = form.getAttribute("data-hash-key-url");
    if (!block || !raw || !hashInput || !keyUrl) { return; }
    if (!H || !H.hasherAvailable()) {
      if (notice) { notice.textContent = text("no_webcrypto"); }
      return;
    }
    block.hidden = false;
    if (notice) { notice.hidden = true; }
    if (hashBlock) { details = fold(hashBlock); }

    function idType() {
      var field = form.elements.namedItem("id_type");
      return field ? field.value : "";
    }

    function show(kind, message) {
      status.textContent = message || "";
      status.className = "raw-status" + (kind ? " is-" + kind : "");
      if (kind === "invalid") { raw.setAttribute("aria-invalid", "true"); } else { raw.removeAttribute("aria-invalid"); }
    }

    // Says "valid" as soon as the number is; says what is wrong once the person leaves the field.
    function check(strict) {
      var value = raw.value;
      if (!value.trim()) { show("", ""); return null; }
      if (!idType()) {
        if (strict) { show("invalid", text("id_type")); }
        return null;
      }
      try {
        var canonical = H.canonicalise(idType(), value);
        show("valid", "✓ " + text("valid", { canonical: canonical }));
        return canonical;
      } catch (error) {
        if (!(error instanceof H.InvalidIdentifier)) { throw error; }
        if (strict || status.classList.contains("is-invalid")) { show("invalid", "✕ " + refusalText(error, idType())); }
        else { show("", ""); }
        return null;
      }
    }

    raw.addEventListener("input", function () { check(false); });
    raw.addEventListener("change", function () { check(true); });
    form.addEventListener("change", function (event) {
      if (event.target && event.target.name === "id_type" && raw.value.trim()) { check(true); }
    });

    form.addEventListener("submit", function (event) {
      if (!raw.value.trim()) {
        if (hashInput.required && !hashInput.value.trim()) {
          event.preventDefault();
          show("invalid", "✕ " + text("empty"));
          raw.focus();
          return;
        }
        // A hash typed directly was made with the region's current key.
        if (keyIdInput) { keyIdInput.value = ""; }
        return;
      }
      event.preventDefault();
      if (check(true) === null) {
        (idType() ? raw : form.querySelector("[name=id_type]") || raw).focus();
        return;
      }
      if (submit) { submit.disabled = true; }
      form.setAttribute("aria-busy", "true");
      show("busy", text("hashing"));
      var type = idType();
      hasher(keyUrl)
        .then(function (subjectHasher) {
          return subjectHasher.hash(type, raw.value).then(function (hashed) {
            hashInput.value = hashed.subjectHash;
            if (keyIdInput) { keyIdInput.value = subjectHasher.keyId; }
            raw.value = "";
            form.submit();
          });
        })
        .catch(function (problem) {
          if (submit) { submit.disabled = false; }
          form.removeAttribute("aria-busy");
          if (problem instanceof H.InvalidIdentifier) {
            show("invalid", "✕ " + refusalText(problem, type));
          } else {
            show("invalid", "✕ " + text(problem instanceof KeyProblem ? problem.code : "key_failed"));
            if (details) { details.open = true; }
          }
          raw.focus();
        });
    });

    // A page restored from the back-forward cache must not show a number typed earlier.
    window.addEventListener("pageshow", function () {
      raw.value = "";
      show("", "");
      if (submit) { submit.disabled = false; }
      form.removeAttribute("aria-busy");
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-subject-form]"), enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
