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
  // Forms that ask first (delete a note).
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset && form.dataset.confirm && !window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  });
  // A posted comment clears its box; a refused one shows why next to it (htmx does not swap 4xx bodies).
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.detail.elt;
    if (!form || !form.matches || !form.matches("form[data-reset-on-success]")) { return; }
    var error = form.querySelector(".comment-error");
    if (event.detail.successful) {
      form.reset();
      if (error) { error.textContent = ""; }
      var details = form.closest("details");
      if (details) { details.open = false; }
    } else if (error) {
      var holder = document.createElement("div");
      holder.innerHTML = event.detail.xhr.responseText;
      error.textContent = holder.textContent.trim() || error.dataset.fallback || "";
    }
  });
  document.addEventListener("focusin", function (event) {
    if (event.target.matches && event.target.matches("[data-select-on-focus]")) { event.target.select(); }
  });
})();
// Product pins on a note's photos: placed from their data attributes (the CSP forbids inline styles).
(function () {
  "use strict";
  document.querySelectorAll(".product-pin[data-pin-x]").forEach(function (pin) {
    var x = parseFloat(pin.dataset.pinX), y = parseFloat(pin.dataset.pinY);
    if (isNaN(x) || isNaN(y)) { return; }
    pin.style.left = (x * 100) + "%";
    pin.style.top = (y * 100) + "%";
    pin.hidden = false;
  });
})();
// The reader's time zone, for pages to show times in it until they pick one in Settings.
(function () {
  "use strict";
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("tm_tz=" + zone) === -1) {
      document.cookie = "tm_tz=" + zone + "; path=/; max-age=31536000; SameSite=Lax";
    }
  } catch (error) { /* an old browser: the site default applies */ }
})();
