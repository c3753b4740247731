/* Parity annotation workspace: keyboard shortcuts, time per item, submit without a page load,
 * the next item shown as soon as the server answers, undo of the last submit.
 * Item text is only ever set with textContent: it is data, never markup. */
(function () {
  "use strict";
  var root = document.getElementById("workspace");
  var dataEl = document.getElementById("assignment-data");
  if (!root || !dataEl) return;

  var current = JSON.parse(dataEl.textContent);
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

  function post(url, body) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: {"Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf},
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (json) {
        if (!response.ok) { throw new Error(json.error || ("HTTP " + response.status)); }
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
      if (!bar) return;
      var pct = progress[key + "_percent"] || 0;
      bar.setAttribute("aria-valuenow", String(pct));
      bar.firstElementChild.style.width = pct + "%";
    });
    root.querySelectorAll("[data-progress]").forEach(function (el) {
      var value = progress[el.getAttribute("data-progress")];
      if (value !== undefined) el.textContent = String(value);
    });
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
    textEl.setAttribute("lang", next.language.code);
    textEl.setAttribute("dir", next.language.direction);
    document.getElementById("item-language").textContent = next.language.name + " (" + next.language.tag + ")";
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
    history.replaceState(null, "", next.urls.page);
    shownAt = performance.now();
  }

  function handle(promise, doneMessage) {
    setBusy(true);
    return promise.then(function (json) {
      setBusy(false);
      updateProgress(json.progress);
      updateUndo(json.undo);
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

  function submitLabel(value) {
    if (busy) return;
    var spent = Math.max(0, Math.round(performance.now() - shownAt));
    handle(post(current.urls.submit, {label: value, idempotency_key: current.idempotency_key, time_spent_ms: spent}),
      function (json) { return json.submitted ? "\u2713 " + json.submitted.label : ""; });
  }

  function skip() {
    if (busy) return;
    if (current.editing) { window.location.assign(root.getAttribute("data-workspace-url")); return; }
    handle(post(current.urls.skip, {reason: ""}), function () { return ""; });
  }

  function undo() {
    if (busy || undoBar.hidden || !undoForm.action) return;
    handle(post(undoForm.action, {}), function () { return ""; });
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
    handle(post(current.urls.flag, {reason: form.reason.value, comment: form.comment.value}), function () {
      form.comment.value = "";
      return form.getAttribute("data-done") || "\u2691";
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (document.querySelector("dialog[open]")) return;
    var tag = (event.target.tagName || "").toLowerCase();
    if (tag === "input" || tag === "textarea" || tag === "select") return;
    var key = event.key;
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
  textEl.setAttribute("tabindex", "-1");
  if (current.editing) document.getElementById("flag-btn").disabled = true;
})();
