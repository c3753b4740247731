/* Parity annotation workspace: keyboard shortcuts, time per item, submit without a page load,
 * undo of the last submit.
 *
 * Prefetch: the server leases a small window of items ahead (WORKSPACE_PREFETCH) and sends them with
 * the page and with every answer, so a label key shows the next item at once while the save runs in
 * the background. Saves go out one at a time, in order (a key pressed while a save is in flight is
 * queued, never dropped); a failed save brings its item back with the server's message. The leases
 * still held are given back when the page closes (pagehide beacon).
 *
 * Guideline republished while working: a save refused for that (HTTP 409 with ``guideline``) opens an
 * inline panel with the new version and what changed since the one acknowledged. The refused saves
 * are kept (their items stay leased); "Acknowledge and save" acknowledges and sends the same labels
 * again, in order, so no keypress is lost; "Acknowledge and choose again" brings the items back.
 *
 * A timer shows the time spent on the item on screen (the same time the save records).
 *
 * Item text is only ever set with textContent: it is data, never markup. */
(function () {
  "use strict";
  var root = document.getElementById("workspace");
  var dataEl = document.getElementById("assignment-data");
  if (!root || !dataEl) return;

  var current = JSON.parse(dataEl.textContent);
  var queueEl = document.getElementById("assignment-queue");
  var ahead = queueEl ? JSON.parse(queueEl.textContent) : [];  // leased items not shown yet
  var pending = {};   // ids of items whose save is queued or in flight
  var actions = [];   // saves waiting for the one in flight
  var saving = false;
  var waiting = false;  // no item on screen: the window ran dry, the next arrives with the answer
  var keyAt = null;
  var shownAt = performance.now();
  var busy = false;
  var labelForm = document.getElementById("label-form");
  var csrf = labelForm.querySelector("input[name=csrfmiddlewaretoken]").value;
  var textEl = document.getElementById("item-text");
  var statusEl = document.getElementById("ws-status");
  var undoBar = document.getElementById("undo-bar");
  var undoForm = document.getElementById("undo-form");
  var undoLabel = document.getElementById("undo-label");
  var flagDialog = document.getElementById("flag-dialog");
  var helpDialog = document.getElementById("help-dialog");
  var gcPanel = document.getElementById("guideline-changed");
  var goalForm = document.getElementById("goal-form");
  var suggestionEl = document.getElementById("suggestion");
  var timerEl = document.getElementById("item-timer");
  var refused = [];   // saves refused because the guideline changed, waiting for the acknowledgement
  var gcVersion = null;

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok) {
          var error = new Error(json.error || ("HTTP " + response.status));
          error.status = response.status;
          error.body = json;
          throw error;
        }
        return json;
      });
    });
  }

  function say(message) { statusEl.textContent = message || ""; }

  function setBusy(value) {
    busy = value;
    root.setAttribute("aria-busy", value ? "true" : "false");
    root.querySelectorAll("button").forEach(function (b) { b.disabled = value; });
  }

  function updateProgress(progress) {
    if (!progress) return;
    ["session", "queue"].forEach(function (key) {
      var bar = root.querySelector("[data-bar=" + key + "]");
      if (!bar || progress[key + "_percent"] === undefined) return;
      var pct = progress[key + "_percent"] || 0;
      bar.setAttribute("aria-valuenow", String(pct));
      bar.firstElementChild.style.width = pct + "%";
    });
    root.querySelectorAll("[data-progress]").forEach(function (el) {
      var value = progress[el.getAttribute("data-progress")];
      if (value !== undefined) el.textContent = String(value);
    });
    if (goalForm && progress.session_goal_reached !== undefined) goalForm.hidden = !progress.session_goal_reached;
  }

  function updateUndo(undo) {
    if (undo) {
      undoForm.action = undo.url;
      undoLabel.textContent = undo.label;
      undoBar.hidden = false;
    } else {
      undoBar.hidden = true;
      undoForm.action = "";
    }
  }

  function show(next) {
    current = next;
    textEl.textContent = next.text;
    textEl.setAttribute("lang", next.language.lang || next.language.code);
    textEl.setAttribute("dir", next.language.direction);
    document.getElementById("item-language").textContent = next.language.name;
    labelForm.action = next.urls.submit;
    labelForm.querySelector("input[name=idempotency_key]").value = next.idempotency_key;
    document.getElementById("skip-form").action = next.urls.skip;
    document.getElementById("flag-form").action = next.urls.flag;
    var editing = next.editing;
    var note = document.getElementById("editing-note");
    note.hidden = !editing;
    document.getElementById("editing-label").textContent = editing ? editing.label : "";
    labelForm.querySelectorAll("button[name=label]").forEach(function (b) {
      b.setAttribute("aria-pressed", editing && b.value === editing.label ? "true" : "false");
    });
    document.getElementById("flag-btn").disabled = !!editing;
    if (suggestionEl) {  // the champion's guess, only where the project shows suggestions
      var s = next.suggestion;
      suggestionEl.hidden = !s;
      suggestionEl.querySelector("[data-s=label]").textContent = s ? s.label : "";
      suggestionEl.querySelector("[data-s=confidence]").textContent = s ? Math.round(100 * s.confidence) + "%" : "";
    }
    history.replaceState(null, "", next.urls.page);
    shownAt = performance.now();
    if (timerEl) timerEl.textContent = "0:00";
    if (keyAt !== null) {  // keypress to next item on screen, read by the browser tests
      var started = keyAt;
      keyAt = null;
      requestAnimationFrame(function () {
        root.setAttribute("data-last-swap-ms", String(Math.round((performance.now() - started) * 10) / 10));
      });
    }
  }

  function mergeQueue(queue) {
    // The server's window in its order, minus the item on screen and items being saved; items already
    // held keep their idempotency key.
    if (!queue) return;
    var known = {};
    ahead.forEach(function (item) { known[item.id] = item; });
    ahead = queue.filter(function (item) {
      return item.id !== (current && current.id) && !pending[item.id];
    }).map(function (item) { return known[item.id] || item; });
  }

  function advance() {
    // Show the next prefetched item now; false when none is left (the answer will bring one).
    var next = ahead.shift();
    if (!next) { waiting = true; setBusy(true); say(root.getAttribute("data-loading") || "\u2026"); return false; }
    if (next.project !== root.getAttribute("data-project")) { window.location.assign(next.urls.page); return true; }
    waiting = false;
    show(next);
    textEl.focus({preventScroll: true});
    return true;
  }

  function pump() {
    if (saving || !actions.length) return;
    var action = actions.shift();
    saving = true;
    post(action.url, action.body).then(function (json) {
      saving = false;
      action.done(json);
      pump();
    }).catch(function (err) {
      saving = false;
      action.fail(err);
      pump();
    });
  }

  function afterAnswer(json) {
    updateProgress(json.progress);
    updateUndo(json.undo);
    mergeQueue(json.queue);
    if (waiting && !saving && !actions.length) {
      setBusy(false);
      if (!json.next) { window.location.assign(json.workspace_url); return; }
      say("");
      advance();
    }
  }

  function queueSave(item, url, body, message) {
    pending[item.id] = true;
    actions.push({
      url: url, body: body,
      done: function (json) { delete pending[item.id]; afterAnswer(json); if (!waiting) say(message(json)); },
      fail: function (err) {
        if (err.body && err.body.guideline) {
          // Refused for the republished guideline: kept (still pending) until the acknowledgement.
          // The item it was for comes back on screen (the one shown goes back to the front of the window).
          refused.push({item: item, url: url, body: body, message: message});
          if (refused.length === 1 && (!current || current.id !== item.id)) {
            if (current && !waiting && !pending[current.id]) ahead.unshift(current);
            waiting = false;
            show(item);
          }
          showGuideline(err.body.guideline);
          return;
        }
        // Not saved: the item comes back next (later saves go on: they are other items).
        delete pending[item.id];
        ahead.unshift(item);
        say(err.message);
        if (waiting) { setBusy(false); advance(); say(err.message); }
      }
    });
  }

  function optimistic(item, url, body, message) {
    // Queue the save of ``item`` and move on to the next prefetched item without waiting.
    queueSave(item, url, body, message);
    advance();
    pump();
  }

  function fill(template, values) {
    return (template || "").replace(/%\((\w+)\)s/g, function (all, name) {
      return values[name] === undefined || values[name] === null ? "" : String(values[name]);
    });
  }

  function showGuideline(guideline) {
    if (!gcPanel) return;
    gcVersion = guideline;
    gcPanel.querySelector("[data-gc=label]").textContent = "v" + guideline.label;
    var summary = guideline.previous
      ? fill(gcPanel.getAttribute("data-summary"), guideline)
      : gcPanel.getAttribute("data-first") || "";
    gcPanel.querySelector("[data-gc=summary]").textContent = summary;
    var list = gcPanel.querySelector("[data-gc=changes]");
    list.textContent = "";
    guideline.changes.forEach(function (line) {
      var el = document.createElement(line.kind === "add" ? "ins" : "del");
      el.textContent = (line.kind === "add" ? "+ " : "- ") + line.text;
      list.appendChild(el);
    });
    list.hidden = !guideline.changes.length;
    gcPanel.querySelector("[data-gc=html]").innerHTML = guideline.html;  // sanitised by the server's renderer
    var labels = refused.map(function (r) { return r.body.label; }).filter(Boolean);
    gcPanel.querySelector("[data-gc=kept]").textContent =
      labels.length ? fill(gcPanel.getAttribute("data-kept"), {labels: labels.join(", ")}) : "";
    if (gcPanel.hidden) {
      gcPanel.hidden = false;
      setBusy(false);
      gcPanel.querySelector("[data-gc-ack]").focus();
    }
    say("");
  }

  function acknowledge(resend) {
    if (!gcVersion) return;
    gcPanel.querySelectorAll("button").forEach(function (b) { b.disabled = true; });
    var form = new URLSearchParams();
    form.append("version", String(gcVersion.id));
    fetch(gcVersion.acknowledge_url, {
      method: "POST", credentials: "same-origin", body: form,
      headers: {"Accept": "application/json", "X-CSRFToken": csrf}
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok) { var e = new Error(json.error || ("HTTP " + response.status)); e.body = json; throw e; }
        return json;
      });
    }).then(function () {
      gcPanel.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      gcPanel.hidden = true;
      var badge = document.querySelector("#guide-h .badge");
      if (badge) badge.textContent = "v" + gcVersion.label;
      var body = document.querySelector(".guideline-panel .guideline-body");
      if (body) body.innerHTML = gcVersion.html;
      gcVersion = null;
      var again = refused;
      refused = [];
      if (resend) {  // the labels pressed go out again, in order; the next item comes on screen
        again.forEach(function (r) { queueSave(r.item, r.url, r.body, r.message); });
        advance();
        pump();
      } else {  // the item on screen (the first refused) is answered again; the other refused ones follow
        again.forEach(function (r) { delete pending[r.item.id]; });
        again.slice(1).reverse().forEach(function (r) { ahead.unshift(r.item); });
        setBusy(false);
      }
      say("");
      if (!waiting) textEl.focus({preventScroll: true});
    }).catch(function (err) {
      gcPanel.querySelectorAll("button").forEach(function (b) { b.disabled = false; });
      say(err.message);
      if (err.body && err.body.current) window.location.reload();  // republished again: start afresh
    });
  }

  function handle(promise, doneMessage) {
    setBusy(true);
    return promise.then(function (json) {
      setBusy(false);
      updateProgress(json.progress);
      updateUndo(json.undo);
      mergeQueue(json.queue);
      if (!json.next) { window.location.assign(json.workspace_url); return; }
      if (json.next.project !== root.getAttribute("data-project")) { window.location.assign(json.next.urls.page); return; }
      show(json.next);
      say(doneMessage(json));
      textEl.focus({preventScroll: true});
    }).catch(function (err) {
      setBusy(false);
      say(err.message);
    });
  }

  function blocked() { return busy || waiting || (gcPanel && !gcPanel.hidden); }

  function submitLabel(value) {
    if (blocked()) return;
    var spent = Math.max(0, Math.round(performance.now() - shownAt));
    var body = {label: value, idempotency_key: current.idempotency_key, time_spent_ms: spent,
                suggestion_version: current.suggestion ? current.suggestion.version : null};
    if (current.editing) {  // a correction (after undo): its answer decides what comes next
      handle(post(current.urls.submit, body), function (json) {
        return json.submitted ? "\u2713 " + json.submitted.label : "";
      });
      return;
    }
    optimistic(current, current.urls.submit, body, function (json) {
      return json.submitted ? "\u2713 " + json.submitted.label : "";
    });
  }

  function skip() {
    if (blocked()) return;
    if (current.editing) { window.location.assign(root.getAttribute("data-workspace-url")); return; }
    optimistic(current, current.urls.skip, {reason: ""}, function () { return ""; });
  }

  function undo() {
    if (blocked() || undoBar.hidden || !undoForm.action) return;
    if (saving || actions.length) { say(root.getAttribute("data-saving") || "\u2026"); return; }
    var shown = current;
    handle(post(undoForm.action, {}), function () {
      if (shown && !shown.editing && shown.id !== current.id) ahead.unshift(shown);  // comes back after
      return "";
    });
  }

  labelForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var button = event.submitter || document.activeElement;
    if (button && button.value) submitLabel(button.value);
  });
  document.getElementById("skip-form").addEventListener("submit", function (event) { event.preventDefault(); skip(); });
  undoForm.addEventListener("submit", function (event) { event.preventDefault(); undo(); });
  document.getElementById("flag-btn").addEventListener("click", function () { flagDialog.showModal(); });
  document.getElementById("help-btn").addEventListener("click", function () { helpDialog.showModal(); });
  document.querySelectorAll("dialog [data-close]").forEach(function (button) {
    button.addEventListener("click", function () { button.closest("dialog").close(); });
  });
  document.getElementById("flag-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var form = event.target;
    flagDialog.close();
    var body = {reason: form.reason.value, comment: form.comment.value};
    form.comment.value = "";
    optimistic(current, current.urls.flag, body, function () { return form.getAttribute("data-done") || "\u2691"; });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector("dialog[open]")) return;
    if (gcPanel && !gcPanel.hidden) return;  // the panel's buttons take the keys
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    var key = event.key;
    if (/^[1-9sS]$/.test(key)) keyAt = performance.now();
    if (/^[1-9]$/.test(key)) {
      var button = labelForm.querySelector('button[data-key="' + key + '"]');
      if (button) { event.preventDefault(); submitLabel(button.value); }
    } else if (key === "s" || key === "S") {
      event.preventDefault(); skip();
    } else if (key === "f" || key === "F") {
      event.preventDefault(); if (!current.editing) flagDialog.showModal();
    } else if (key === "u" || key === "U") {
      event.preventDefault(); undo();
    } else if (key === "?") {
      event.preventDefault(); helpDialog.showModal();
    }
  });
  window.addEventListener("pagehide", function () {
    // Give back what was leased ahead and never answered; items being saved are left alone.
    var ids = ahead.map(function (item) { return item.id; });
    if (current && !current.editing && !pending[current.id]) ids.push(current.id);
    if (!ids.length || !navigator.sendBeacon) return;
    var form = new FormData();
    form.append("csrfmiddlewaretoken", csrf);
    ids.forEach(function (id) { form.append("ids", id); });
    navigator.sendBeacon(root.getAttribute("data-release-url"), form);
  });
  if (goalForm) {
    goalForm.addEventListener("submit", function (event) {
      // A new goal without leaving the item: the counters move, nothing else changes.
      event.preventDefault();
      post(goalForm.action, {}).then(function (json) {
        var session = {session_done: json.session_done, session_target: json.session_target,
                       session_goal_reached: false,
                       session_percent: Math.min(100, Math.round(100 * json.session_done / json.session_target))};
        updateProgress(session);
        textEl.focus({preventScroll: true});
      }).catch(function (err) { say(err.message); });
    });
  }
  if (gcPanel) {
    gcPanel.querySelector("[data-gc-ack]").addEventListener("click", function () { acknowledge(true); });
    gcPanel.querySelector("[data-gc-again]").addEventListener("click", function () { acknowledge(false); });
  }
  function tick() {
    if (!timerEl) return;
    var seconds = Math.floor((performance.now() - shownAt) / 1000);
    var text = Math.floor(seconds / 60) + ":" + ("0" + (seconds % 60)).slice(-2);
    if (timerEl.textContent !== text) timerEl.textContent = text;
  }
  if (timerEl) { tick(); setInterval(tick, 250); }
  textEl.setAttribute("tabindex", "-1");
  if (current.editing) document.getElementById("flag-btn").disabled = true;
})();
