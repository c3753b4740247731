/* Calibration answered like work: 1-9 (or a click) picks a label, the answer is sent with fetch and
 * the next gold item replaces the text without a page load; after the last one the result page opens.
 * Without JavaScript the form posts and the server redirects to the next item (same view).
 * Item text is set with textContent only. */
(function () {
  "use strict";
  var form = document.getElementById("calibration-form");
  if (!form || !window.fetch) return;
  var text = document.querySelector('[data-test="item-text"]');
  var position = document.querySelector('[data-test="cal-position"]');
  var bar = document.querySelector('[data-test="cal-bar"]');
  var status = document.getElementById("cal-status");
  var busy = false;

  function answer(label) {
    if (busy) return;
    busy = true;
    var body = new URLSearchParams(new FormData(form));
    body.set("label", label);
    fetch(form.action || window.location.href, {
      method: "POST", credentials: "same-origin", body: body,
      headers: {"Accept": "application/json", "X-CSRFToken": form.csrfmiddlewaretoken.value}
    }).then(function (response) {
      return response.json().then(function (json) { return {ok: response.ok, json: json}; });
    }).then(function (reply) {
      var json = reply.json;
      if (json.redirect) { window.location.assign(json.redirect); return; }
      if (!reply.ok) { throw new Error(json.error || "error"); }
      form.item.value = String(json.item.id);
      text.textContent = json.item.text;
      position.textContent = json.position + " / " + json.total;
      bar.setAttribute("aria-valuenow", String(json.percent));
      bar.firstElementChild.style.width = json.percent + "%";
      status.textContent = "";
      busy = false;
      text.focus({preventScroll: true});
    }).catch(function (err) {
      busy = false;
      status.textContent = err.message;
    });
  }

  form.addEventListener("submit", function (event) {
    var button = event.submitter;
    if (!button || !button.value) return;  // let the browser post it
    event.preventDefault();
    answer(button.value);
  });
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey || !/^[1-9]$/.test(event.key)) return;
    var button = form.querySelector('button[data-key="' + event.key + '"]');
    if (button) { event.preventDefault(); answer(button.value); }
  });
  text.setAttribute("tabindex", "-1");
  form.setAttribute("data-ready", "true");  // keys are handled from here on (browser tests wait for it)
})();
