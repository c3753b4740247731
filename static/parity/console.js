/* Console: poll the runs' JSON endpoint while a run is queued or running; update bars in place. */
(function () {
  "use strict";
  var poll = document.getElementById("runs-poll");
  if (!poll) return;
  var url = poll.getAttribute("data-url");
  var knownIds = Array.prototype.map.call(document.querySelectorAll("[data-run]"), function (r) { return r.getAttribute("data-run"); });

  function update(run) {
    var row = document.querySelector('[data-run="' + run.kind + "-" + run.id + '"]');
    if (!row) return false;
    var bar = row.querySelector("[role=progressbar]");
    bar.setAttribute("aria-valuenow", String(run.percent));
    bar.firstElementChild.style.width = run.percent + "%";
    var status = row.querySelector("[data-field=status]");
    status.textContent = run.status_display || run.status;
    status.className = "badge " + run.status;
    row.querySelector("[data-field=message]").textContent = run.message || "";
    return true;
  }

  function tick() {
    fetch(url, {credentials: "same-origin", headers: {"Accept": "application/json"}})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var runsNow = data.training.concat(data.sampling);
        var unknown = runsNow.some(function (run) { return knownIds.indexOf(run.kind + "-" + run.id) < 0; });
        runsNow.forEach(update);
        var wasActive = poll.getAttribute("data-active") === "1";
        if (unknown || (wasActive && !data.active)) { window.location.reload(); return; }
        if (data.active) setTimeout(tick, 2000); else setTimeout(tick, 10000);
      })
      .catch(function () { setTimeout(tick, 10000); });
  }
  setTimeout(tick, poll.getAttribute("data-active") === "1" ? 1000 : 5000);
})();
