/* The review queue from the keyboard (annotation/templates/annotation/review_queue.html).
 *
 * j / ArrowDown, k / ArrowUp move between items; 1-9 choose the label of the current item's
 * override (or relabel) menu; a approves the proposed label; o submits the chosen label; d and r
 * dismiss a flag or remove a flagged item; x selects the item for bulk approval; ? shows the help.
 * Every action is an ordinary form post (the page works without this script); after it, the page
 * comes back at the same position (the forms carry ``pos``), so the next item is under the cursor.
 * No inline script or handler: the page runs under a strict Content-Security-Policy.
 */
(function () {
  "use strict";
  var queue = document.querySelector("[data-review-queue]");
  if (!queue) return;
  var cards = Array.prototype.slice.call(queue.querySelectorAll(".review-card"));
  var help = document.getElementById("review-help");
  var current = -1;

  function focusCard(index) {
    if (!cards.length) return;
    index = Math.max(0, Math.min(cards.length - 1, index));
    if (current >= 0 && cards[current]) cards[current].classList.remove("current");
    current = index;
    var card = cards[current];
    card.classList.add("current");
    card.focus({ preventScroll: true });
    card.scrollIntoView({ block: "nearest" });
  }

  function toggleHelp() {
    if (!help) return;
    help.hidden = !help.hidden;
  }

  function submit(card, action) {
    var button = card.querySelector('[data-action="' + action + '"]');
    if (!button) return false;
    if (action === "override") {
      var select = card.querySelector("[data-label-select]");
      if (select && !select.value) { select.focus(); return true; }
    }
    button.form.requestSubmit ? button.form.requestSubmit(button) : button.form.submit();
    return true;
  }

  function updateBulkCount() {
    var out = document.querySelector("[data-bulk-count]");
    if (!out) return;
    var n = document.querySelectorAll("[data-bulk-select]:checked").length;
    out.textContent = n ? String(n) + " ✓" : "";
  }

  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("[data-bulk-select]")) updateBulkCount();
  });
  Array.prototype.forEach.call(document.querySelectorAll("[data-review-help]"), function (button) {
    button.addEventListener("click", toggleHelp);
  });
  cards.forEach(function (card, index) {
    card.addEventListener("focusin", function () {
      if (current !== index) {
        if (current >= 0 && cards[current]) cards[current].classList.remove("current");
        current = index;
        card.classList.add("current");
      }
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    var target = event.target;
    var typing = target && (target.tagName === "INPUT" && target.type === "text" || target.tagName === "TEXTAREA");
    if (typing) {
      if (event.key === "Escape") target.blur();
      return;
    }
    var key = event.key;
    if (key === "?") { toggleHelp(); event.preventDefault(); return; }
    if (key === "Escape" && help && !help.hidden) { help.hidden = true; return; }
    if (!cards.length) return;
    if (key === "j" || key === "ArrowDown") { focusCard(current + 1); event.preventDefault(); return; }
    if (key === "k" || key === "ArrowUp") { focusCard(current - 1); event.preventDefault(); return; }
    if (current < 0) focusCard(0);
    var card = cards[current];
    if (/^[1-9]$/.test(key)) {
      var select = card.querySelector("[data-label-select]");
      if (select && select.options.length > Number(key)) {
        select.selectedIndex = Number(key);  // option 0 is "choose a label"
        select.dispatchEvent(new Event("change", { bubbles: true }));
      }
      event.preventDefault();
      return;
    }
    var actions = { a: "approve", o: "override", d: "dismiss", r: "remove" };
    if (actions[key]) {
      if (submit(card, actions[key])) event.preventDefault();
      return;
    }
    if (key === "x") {
      var box = card.querySelector("[data-bulk-select]");
      if (box) { box.checked = !box.checked; updateBulkCount(); }
      event.preventDefault();
    }
  });

  var start = parseInt(queue.getAttribute("data-pos") || "0", 10);
  if (cards.length) focusCard(isNaN(start) ? 0 : start);
})();
