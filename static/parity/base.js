// Every page: choosing an interface language submits its form (no inline handlers: the CSP forbids them).
document.addEventListener("change", function (e) {
  if (e.target && e.target.matches && e.target.matches("select[data-autosubmit]")) e.target.form.submit();
});
