/* Draws the console's charts from the JSON specs the pages embed (see annotation/charts.py), with the
 * vendored Chart.js: values on hover, dates on time axes, languages without a model marked as such.
 * No inline script: the page loads this file and the data travel in <script type="application/json">. */
(function () {
  "use strict";
  if (typeof window.Chart === "undefined") { return; }
  var PALETTE = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000"];
  var root = document.documentElement;
  var locale = root.lang || undefined;
  var rtl = root.dir === "rtl";
  var DAY = 86400000;

  var MINUTE = 60000, HOUR = 3600000;
  var STEPS = [1000, 5000, 15000, 30000, MINUTE, 5 * MINUTE, 15 * MINUTE, 30 * MINUTE, HOUR, 3 * HOUR,
               6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 30 * DAY, 91 * DAY, 365 * DAY];

  // The smallest round step (a second to a year) that keeps the axis to about six ticks.
  function timeStep(range) {
    for (var i = 0; i < STEPS.length; i++) { if (range / STEPS[i] <= 6) { return STEPS[i]; } }
    return STEPS[STEPS.length - 1];
  }

  function dateFormat(step, range) {
    if (step < MINUTE) { return { hour: "2-digit", minute: "2-digit", second: "2-digit" }; }
    if (step < DAY) {
      return range > DAY ? { weekday: "short", hour: "2-digit", minute: "2-digit" } : { hour: "2-digit", minute: "2-digit" };
    }
    if (step < 91 * DAY) { return { month: "short", day: "numeric" }; }
    return { year: "numeric", month: "short" };
  }

  // Ticks on round times: midnights for day steps, whole minutes or hours below that.
  function roundTicks(min, max, step) {
    var first;
    if (step >= DAY) {
      var midnight = new Date(min);
      midnight.setHours(0, 0, 0, 0);
      first = midnight.getTime();
    } else {
      var offset = new Date(min).getTimezoneOffset() * MINUTE;
      first = Math.floor((min - offset) / step) * step + offset;
    }
    var ticks = [];
    for (var t = first; t <= max; t += step) { if (t >= min) { ticks.push({ value: t }); } }
    return ticks;
  }

  function formatDate(ms, options) {
    try { return new Intl.DateTimeFormat(locale, options).format(new Date(ms)); }
    catch (e) { return new Date(ms).toISOString().slice(0, 16).replace("T", " "); }
  }

  function formatValue(value, integer) {
    if (value === null || value === undefined) { return "—"; }
    return integer ? String(Math.round(value)) : Number(value).toFixed(3);
  }

  // Bars with no value get their reason ("not trained yet") written where the bar would be.
  var notesPlugin = {
    id: "parityNotes",
    afterDatasetsDraw: function (chart, args, options) {
      var notes = (options && options.notes) || {};
      var labels = chart.data.labels || [];
      if (!labels.length || !Object.keys(notes).length) { return; }
      var ctx = chart.ctx, x = chart.scales.x, y = chart.scales.y;
      ctx.save();
      ctx.font = "italic 12px system-ui, sans-serif";
      ctx.fillStyle = "#4f5a66";
      ctx.textAlign = "center";
      labels.forEach(function (label, i) {
        var note = notes[label];
        if (!note) { return; }
        var px = x.getPixelForValue(i), base = y.getPixelForValue(Math.max(0, y.min));
        ctx.strokeStyle = "#8792a0";
        ctx.setLineDash([4, 3]);
        ctx.strokeRect(px - 18, base - 34, 36, 34);
        ctx.setLineDash([]);
        ctx.fillText(note, px, base - 42);
      });
      ctx.restore();
    }
  };

  function timeConfig(spec, datasets) {
    var xs = [];
    spec.series.forEach(function (s) { s.points.forEach(function (p) { xs.push(p.x); }); });
    var lo = xs.length ? Math.min.apply(null, xs) : 0, hi = xs.length ? Math.max.apply(null, xs) : 0;
    // At least a minute wide, with a margin, so points recorded moments apart sit inside the axes.
    var pad = Math.max((hi - lo) * 0.03, Math.max(0, 60000 - (hi - lo)) / 2);
    var range = hi - lo + 2 * pad;
    var step = timeStep(range);
    var tickFormat = dateFormat(step, range);
    var fullFormat = { year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit" };
    return {
      type: "line",
      data: { datasets: datasets },
      options: {
        scales: {
          x: {
            type: "linear", reverse: rtl, min: lo - pad, max: hi + pad,
            afterBuildTicks: function (scale) { scale.ticks = roundTicks(scale.min, scale.max, step); },
            ticks: {
              autoSkip: true, maxRotation: 0,
              // A tick that reads like the one before it (two ticks in the same minute) is left blank.
              callback: function (value, index, ticks) {
                var text = formatDate(value, tickFormat);
                return index > 0 && formatDate(ticks[index - 1].value, tickFormat) === text ? "" : text;
              },
            },
          },
        },
        plugins: {
          tooltip: {
            callbacks: {
              title: function (items) { return items.length ? formatDate(items[0].parsed.x, fullFormat) : ""; },
            },
          },
        },
      },
    };
  }

  function build(spec) {
    var integer = !!spec.y_integer;
    var datasets = spec.series.map(function (s) {
      var color = PALETTE[s.color % PALETTE.length];
      var data = spec.kind === "bar" ? s.points.map(function (p) { return p.y; })
        : s.points.map(function (p) { return { x: p.x, y: p.y, text: p.text }; });
      return {
        label: s.name, data: data, texts: s.points.map(function (p) { return p.text; }),
        borderColor: color, backgroundColor: s.hollow ? "#ffffff" : color,
        pointBorderColor: color, pointBackgroundColor: s.hollow ? "#ffffff" : color,
        pointRadius: s.hollow ? 5 : 4, pointHoverRadius: 7, borderWidth: 2,
        showLine: s.line, spanGaps: false, maxBarThickness: 64,
      };
    });
    var config;
    if (spec.kind === "bar") {
      config = {
        type: "bar",
        data: { labels: spec.series.length ? spec.series[0].points.map(function (p) { return String(p.x); }) : [],
                datasets: datasets },
        options: { scales: { x: { reverse: rtl } } },
      };
    } else if (spec.x_axis === "time") {
      config = timeConfig(spec, datasets);
    } else {
      config = { type: "line", data: { datasets: datasets }, options: { scales: { x: { type: "category" } } } };
    }
    var options = config.options;
    options.animation = false;
    options.responsive = true;
    options.maintainAspectRatio = false;
    options.interaction = spec.kind === "bar" ? { mode: "index", intersect: false } : { mode: "nearest", intersect: false };
    options.scales.y = {
      min: spec.y_min === null ? undefined : spec.y_min,
      max: spec.y_max === null ? undefined : spec.y_max,
      title: { display: !!spec.y_label, text: spec.y_label },
      ticks: integer ? { precision: 0 } : { includeBounds: false, callback: function (v) { return Number(v).toFixed(1); } },
      position: rtl ? "right" : "left",
    };
    options.plugins = options.plugins || {};
    options.plugins.parityNotes = { notes: spec.notes || {} };
    options.plugins.legend = { display: spec.kind !== "bar", rtl: rtl, position: "bottom" };
    options.plugins.tooltip = options.plugins.tooltip || {};
    options.plugins.tooltip.rtl = rtl;
    var callbacks = options.plugins.tooltip.callbacks || {};
    callbacks.label = function (item) {
      var y = spec.kind === "bar" ? item.raw : item.raw.y;
      return item.dataset.label + ": " + formatValue(y, integer);
    };
    callbacks.afterLabel = function (item) { return item.dataset.texts[item.dataIndex] || ""; };
    options.plugins.tooltip.callbacks = callbacks;
    options.clip = false;  // a point on the axis line stays whole
    config.plugins = [notesPlugin];
    return config;
  }

  window.parityCharts = window.parityCharts || {};
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var source = document.getElementById(canvas.getAttribute("data-chart"));
    if (!source) { return; }
    var spec = JSON.parse(source.textContent);
    window.parityCharts[spec.id] = new window.Chart(canvas, build(spec));
    canvas.setAttribute("data-ready", "1");
  });
})();
