/* The entry form (data-reason-filter): offer only the reasons of the chosen list. Without this
   script the reasons stay grouped by list and the server refuses a reason of the other list. */
(function () {
  "use strict";

  function enhance(form) {
    var source = document.getElementById("registry-reasons-by-list");
    var reason = form.elements.namedItem("reason");
    if (!source || !reason || !reason.options) { return; }
    var reasonsByList = JSON.parse(source.textContent);

    function chosenList() {
      var field = form.elements.namedItem("list");
      return field ? field.value : "";
    }

    // On load a reason the server refused stays selected, so that its message still makes sense.
    function limit(keepSelected) {
      var allowed = reasonsByList[chosenList()];
      Array.prototype.forEach.call(reason.options, function (option) {
        var offered = !option.value || !allowed || allowed.indexOf(option.value) >= 0 || (keepSelected && option.selected);
        option.hidden = !offered;
        option.disabled = !offered;
      });
      Array.prototype.forEach.call(reason.querySelectorAll("optgroup"), function (group) {
        var any = Array.prototype.some.call(group.children, function (option) { return !option.hidden; });
        group.hidden = !any;
        group.disabled = !any;
      });
      if (reason.selectedOptions.length && reason.selectedOptions[0].disabled) { reason.value = ""; }
    }

    form.addEventListener("change", function (event) {
      if (event.target && event.target.name === "list") { limit(false); }
    });
    limit(true);
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("form[data-reason-filter]"), enhance);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
