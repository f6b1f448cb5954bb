/* Batch lookups on the lookup page ([data-lookup-batch]): up to data-batch-max numbers, pasted
   or read from a file in this browser, checked and hashed with the region's key (RegistryHashing,
   hashing.js, the same code as the single lookup), then only the hashes are posted to the batch
   lookup API (data-batch-url) with the session's CSRF token. Invalid lines are listed with their
   line number and reason and are not sent. The results are a sortable table and a CSV file
   made here (cells that a spreadsheet would run as a formula are quoted with a leading ').

   Labels come from the page (json_script "lookup-batch-labels"), refusal messages from the
   single lookup's ("registry-hashing-messages"), both in the reader's language. */
(function () {
  "use strict";

  var H = window.RegistryHashing;

  function readJson(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : {};
  }

  function format(template, values) {
    return String(template).replace(/%\((\w+)\)s/g, function (all, name) {
      return values && values[name] !== undefined ? String(values[name]) : all;
    });
  }

  // A cell a spreadsheet would read as a formula (=, +, -, @, tab, carriage return) gets a
  // leading apostrophe; then RFC 4180 quoting.
  function csvCell(value) {
    var text = value === null || value === undefined ? "" : String(value);
    if (/^[=+\-@\t\r]/.test(text)) { text = "'" + text; }
    return /[",\r\n]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function enhance(section) {
    var labels = readJson("lookup-batch-labels");
    var messages = readJson("registry-hashing-messages");
    var form = section.querySelector("[data-batch-form]");
    var notice = section.querySelector("[data-batch-notice]");
    var keyUrl = section.getAttribute("data-hash-key-url");
    var batchUrl = section.getAttribute("data-batch-url");
    var max = Number(section.getAttribute("data-batch-max")) || 1000;
    if (!form || !keyUrl || !H || !H.hasherAvailable()) {
      if (notice && keyUrl && H && !H.hasherAvailable()) { notice.textContent = messages.no_webcrypto || notice.textContent; }
      return;
    }
    form.hidden = false;
    notice.hidden = true;

    var numbers = form.querySelector("[data-batch-numbers]");
    var fileInput = form.querySelector("[data-batch-file]");
    var submit = form.querySelector("[data-batch-submit]");
    var progress = form.querySelector("[data-batch-progress]");
    var bar = form.querySelector("[data-batch-bar]");
    var progressText = form.querySelector("[data-batch-progress-text]");
    var errorBox = section.querySelector("[data-batch-error]");
    var invalidBox = section.querySelector("[data-batch-invalid]");
    var resultsBox = section.querySelector("[data-batch-results]");
    var table = section.querySelector("[data-batch-table]");
    var rows = [];
    var sortKey = "line";
    var sortAscending = true;
    var hasherPromise = null;

    var COLUMNS = ["line", "id_type", "number", "status", "score", "black_members", "white_members",
      "reasons", "flags", "own_entry", "consensus_updated_at", "subject_hash"];
    var NUMERIC = { line: true, score: true, black_members: true, white_members: true };
    var STATUS_ORDER = { BLACK: 0, WATCH: 1, WHITE: 2, CLEAR: 3 };

    function text(key, values) { return format((labels.text || {})[key] || key, values); }

    function refusal(error, idType) {
      if (error.rule === "birth_date" && error.details && error.details.future) {
        return messages["RIC.birth_date_future"] || error.message;
      }
      var key = messages[idType + "." + error.rule] ? idType + "." + error.rule : error.rule;
      return messages[key] ? format(messages[key], error.details) : error.message;
    }

    function hasher() {
      if (!hasherPromise) {
        hasherPromise = window
          .fetch(keyUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
          .then(function (response) {
            if (!response.ok) { throw new Error(messages[response.status === 403 ? "key_forbidden" : "key_failed"]); }
            return response.json();
          })
          .then(H.hasherFromKey);
        hasherPromise.catch(function () { hasherPromise = null; });
      }
      return hasherPromise;
    }

    function chosenType() {
      var checked = form.querySelector("input[name=batch_id_type]:checked");
      return checked ? checked.value : "RIC";
    }

    // Lines of the text: blank lines are skipped but keep their line numbers; "TYPE,number"
    // names the line's own ID type; a header line "id_type,number" is skipped.
    function parse(content) {
      var items = [];
      content.split(/\r\n|\n|\r/).forEach(function (line, index) {
        var value = line.replace(/^\uFEFF/, "");
        if (!value.trim()) { return; }
        var idType = chosenType();
        var comma = value.indexOf(",");
        if (comma >= 0) {
          var first = value.slice(0, comma).trim().toUpperCase();
          var rest = value.slice(comma + 1).trim();
          if (first === "ID_TYPE") { return; }
          if (H.ID_TYPES.indexOf(first) >= 0) { idType = first; value = rest; }
        }
        items.push({ line: index + 1, idType: idType, raw: value.trim() });
      });
      return items;
    }

    function showError(message) {
      errorBox.textContent = message;
      errorBox.hidden = !message;
    }

    function setProgress(done, total, message) {
      progress.hidden = false;
      bar.max = Math.max(total, 1);
      bar.value = done;
      progressText.textContent = message;
    }

    function showInvalid(invalid) {
      var list = invalidBox.querySelector("[data-batch-invalid-list]");
      list.textContent = "";
      invalid.forEach(function (item) {
        var li = document.createElement("li");
        li.setAttribute("data-batch-invalid-line", String(item.line));
        li.textContent = text("line", { line: item.line }) + " (" + item.raw + "): " + item.reason;
        list.appendChild(li);
      });
      invalidBox.querySelector("[data-batch-invalid-title]").textContent = text("invalid_title", { count: invalid.length });
      invalidBox.hidden = invalid.length === 0;
    }

    function reasonsText(reasons) {
      var parts = [];
      Object.keys(reasons || {}).forEach(function (code) {
        if (reasons[code]) { parts.push((labels.reasons[code] || code) + " × " + reasons[code]); }
      });
      return parts.join("; ");
    }

    function flagsText(result) {
      var flags = [];
      if (result.conflict) { flags.push(text("conflict")); }
      if (result.disputed) { flags.push(text("disputed")); }
      return flags.join(", ");
    }

    function ownEntryText(own) {
      if (!own) { return ""; }
      return [labels.lists[own.list] || own.list, labels.reasons[own.reason] || own.reason, own.event_date,
        labels.entry_states[own.state] || own.state].join(" · ");
    }

    function localTime(iso) {
      if (!iso) { return ""; }
      var date = new Date(iso);
      if (isNaN(date.getTime())) { return iso; }
      // Asia/Shanghai, written YYYY-MM-DD HH:MM:SS, whatever the browser's own zone.
      var shanghai = new Date(date.getTime() + 8 * 3600 * 1000).toISOString();
      return shanghai.slice(0, 10) + " " + shanghai.slice(11, 19);
    }

    function rowOf(item, result) {
      return {
        line: item.line,
        id_type: item.idType,
        number: item.raw,
        status: result.status,
        score: result.black_score,
        black_members: result.black_members,
        white_members: result.white_members,
        reasons: reasonsText(result.reasons),
        flags: flagsText(result),
        own_entry: ownEntryText(result.own_entry),
        consensus_updated_at: localTime(result.consensus_updated_at),
        subject_hash: result.subject_hash,
      };
    }

    function compare(a, b) {
      var x = a[sortKey];
      var y = b[sortKey];
      var order;
      if (sortKey === "status") { order = STATUS_ORDER[x] - STATUS_ORDER[y]; }
      else if (NUMERIC[sortKey]) { order = x - y; }
      else { order = String(x).localeCompare(String(y)); }
      return (sortAscending ? order : -order) || a.line - b.line;
    }

    function statusCell(cell, status) {
      var look = labels.statuses[status] || { css: "status-clear", symbol: "", label: status };
      var badge = document.createElement("span");
      badge.className = "status-badge status-badge-small " + look.css;
      var symbol = document.createElement("span");
      symbol.setAttribute("aria-hidden", "true");
      symbol.textContent = look.symbol + " ";
      badge.appendChild(symbol);
      badge.appendChild(document.createTextNode(look.label));
      cell.appendChild(badge);
      cell.setAttribute("data-status", status);
    }

    function render() {
      var head = table.tHead;
      var body = table.tBodies[0];
      head.textContent = "";
      body.textContent = "";
      var headRow = head.insertRow();
      COLUMNS.forEach(function (key) {
        var th = document.createElement("th");
        th.scope = "col";
        var button = document.createElement("button");
        button.type = "button";
        button.className = "sort-button";
        button.setAttribute("data-sort", key);
        button.title = text("sort");
        button.textContent = labels.columns[key] + (key === sortKey ? (sortAscending ? " ▲" : " ▼") : "");
        th.setAttribute("aria-sort", key === sortKey ? (sortAscending ? "ascending" : "descending") : "none");
        th.appendChild(button);
        headRow.appendChild(th);
      });
      rows.slice().sort(compare).forEach(function (row) {
        var tr = body.insertRow();
        tr.setAttribute("data-batch-row", String(row.line));
        COLUMNS.forEach(function (key) {
          var cell = tr.insertCell();
          if (key === "status") { statusCell(cell, row.status); return; }
          if (NUMERIC[key]) { cell.className = "num"; }
          if (key === "number" || key === "subject_hash") { cell.className = "mono" + (key === "subject_hash" ? " hash-full" : ""); }
          cell.textContent = key === "id_type" ? labels.id_types[row.id_type] || row.id_type : row[key];
        });
      });
      resultsBox.hidden = rows.length === 0;
    }

    table.addEventListener("click", function (event) {
      var button = event.target.closest("[data-sort]");
      if (!button) { return; }
      var key = button.getAttribute("data-sort");
      sortAscending = key === sortKey ? !sortAscending : true;
      sortKey = key;
      render();
      var again = table.querySelector('[data-sort="' + key + '"]');
      if (again) { again.focus(); }
    });

    section.querySelector("[data-batch-download]").addEventListener("click", function () {
      var lines = [COLUMNS.map(function (key) { return csvCell(labels.columns[key]); }).join(",")];
      rows.slice().sort(compare).forEach(function (row) {
        lines.push(COLUMNS.map(function (key) {
          var value = key === "status" ? row.status : row[key];
          return csvCell(value);
        }).join(","));
      });
      // A byte-order mark so that spreadsheet programs read the Chinese labels as UTF-8.
      var blob = new Blob(["\uFEFF" + lines.join("\r\n") + "\r\n"], { type: "text/csv;charset=utf-8" });
      var link = document.createElement("a");
      link.href = URL.createObjectURL(blob);
      link.download = "lookups.csv";
      document.body.appendChild(link);
      link.click();
      window.setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 0);
    });

    fileInput.addEventListener("change", function () {
      var file = fileInput.files && fileInput.files[0];
      if (!file) { return; }
      var reader = new FileReader();
      reader.onload = function () { numbers.value = String(reader.result); };
      reader.onerror = function () { showError(text("file_failed")); };
      reader.readAsText(file);
    });

    function hashAll(subjectHasher, items) {
      var valid = [];
      var invalid = [];
      var index = 0;
      function next() {
        if (index >= items.length) { return Promise.resolve({ valid: valid, invalid: invalid }); }
        var item = items[index];
        index += 1;
        return subjectHasher.hash(item.idType, item.raw).then(
          function (hashed) { item.hash = hashed.subjectHash; valid.push(item); },
          function (error) {
            if (!(error instanceof H.InvalidIdentifier)) { throw error; }
            item.reason = refusal(error, item.idType);
            invalid.push(item);
          }
        ).then(function () {
          if (index % 20 === 0 || index === items.length) {
            setProgress(index, items.length, text("hashing", { done: index, total: items.length }));
          }
          return next();
        });
      }
      return next();
    }

    function post(valid, keyId) {
      var token = form.querySelector("input[name=csrfmiddlewaretoken]").value;
      var body = {
        purpose: form.querySelector("[data-batch-purpose]").value,
        consent_reference: form.querySelector("[data-batch-consent]").value.trim(),
        key_id: keyId,
        subjects: valid.map(function (item) { return { id_type: item.idType, subject_hash: item.hash }; }),
      };
      return window.fetch(batchUrl, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
        body: JSON.stringify(body),
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (answer) {
          if (!response.ok) {
            var error = answer.error || answer;
            var details = [];
            Object.keys(error.details || {}).forEach(function (field) {
              details.push([].concat(error.details[field]).join(" "));
            });
            throw new Error(text("failed", { message: [error.message || response.status].concat(details).join(" ") }));
          }
          return answer;
        });
      });
    }

    function finish() {
      submit.disabled = false;
      form.removeAttribute("aria-busy");
    }

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      showError("");
      var items = parse(numbers.value);
      if (!items.length) { showError(text("nothing")); numbers.focus(); return; }
      if (items.length > max) { showError(text("too_many", { max: max, count: items.length })); numbers.focus(); return; }
      submit.disabled = true;
      form.setAttribute("aria-busy", "true");
      rows = [];
      render();
      setProgress(0, items.length, text("hashing", { done: 0, total: items.length }));
      var keyId = null;
      hasher()
        .then(function (subjectHasher) {
          keyId = subjectHasher.keyId;
          return hashAll(subjectHasher, items);
        })
        .then(function (split) {
          showInvalid(split.invalid);
          if (!split.valid.length) { return null; }
          setProgress(items.length, items.length, text("sending", { total: split.valid.length }));
          return post(split.valid, keyId).then(function (answer) {
            rows = answer.results.map(function (result, i) { return rowOf(split.valid[i], result); });
            sortKey = "line";
            sortAscending = true;
            render();
            setProgress(items.length, items.length, text("done", { total: rows.length, invalid: split.invalid.length }));
          });
        })
        .catch(function (error) { showError(error.message || String(error)); progress.hidden = true; })
        .then(finish);
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("[data-lookup-batch]"), enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
