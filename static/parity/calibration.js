// Calibration page: number keys 1–9 pick a label (kept out of the page so the CSP can forbid inline script).
document.addEventListener("keydown", function (e) {
  if (e.ctrlKey || e.metaKey || e.altKey || !/^[1-9]$/.test(e.key)) return;
  var b = document.querySelector('#calibration-form button[data-key="' + e.key + '"]');
  if (b) { e.preventDefault(); b.click(); }
});
