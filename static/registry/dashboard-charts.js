/* The dashboard's charts: each <canvas data-chart="ID"> is drawn by Chart.js (served from
   static/vendor/chartjs) from the json_script of that ID:
   {labels, datasets: [{label, data, color | colors}], kind?, stacked?, horizontal?}.
   The same numbers are in a table under each chart, so nothing is lost without this script. */
(function () {
  "use strict";

  function draw(canvas) {
    if (canvas.hasAttribute("data-drawn") || !window.Chart) { return; }
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    var kind = spec.kind || "bar";
    canvas.setAttribute("data-drawn", "");
    var reduceMotion = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    var round = kind === "doughnut";
    new window.Chart(canvas, {
      type: kind,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (set) {
          return {
            label: set.label,
            data: set.data,
            backgroundColor: set.colors || set.color,
            borderColor: set.colors || set.color,
            borderWidth: round ? 1 : 0,
          };
        }),
      },
      options: {
        animation: reduceMotion ? false : { duration: 300 },
        maintainAspectRatio: false,
        indexAxis: spec.horizontal ? "y" : "x",
        plugins: { legend: { position: "bottom" } },
        scales: round ? {} : {
          x: { stacked: Boolean(spec.stacked), beginAtZero: true, ticks: { precision: 0 } },
          y: { stacked: Boolean(spec.stacked), beginAtZero: true, ticks: { precision: 0 } },
        },
      },
    });
  }

  function start() {
    Array.prototype.forEach.call(document.querySelectorAll("canvas[data-chart]"), draw);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
