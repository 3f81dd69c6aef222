// Site behaviour that needs script; every action also works as a plain form post without it.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="csrf-token"]');
  // htmx calls carry the CSRF token, as the API and HTML views require for unsafe methods.
  document.addEventListener("htmx:configRequest", function (event) {
    if (meta) { event.detail.headers["X-CSRFToken"] = meta.content; }
  });
  // Keep the current query string when switching language.
  document.querySelectorAll(".lang-switch a[data-lang]").forEach(function (link) {
    var params = new URLSearchParams(window.location.search);
    params.set("lang", link.dataset.lang);
    link.href = window.location.pathname + "?" + params.toString();
  });
})();
