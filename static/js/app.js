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
// Copy buttons (share and invite links): copy the target field's value and say so on the button.
(function () {
  "use strict";
  document.addEventListener("click", function (event) {
    var button = event.target.closest && event.target.closest("[data-copy]");
    if (!button) { return; }
    var field = document.querySelector(button.dataset.copy);
    if (!field) { return; }
    field.select();
    var done = function () { button.textContent = button.dataset.copied || button.textContent; };
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(field.value).then(done, function () { document.execCommand("copy"); done(); });
    } else { document.execCommand("copy"); done(); }
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
// The note editor: photos first, previewed before publishing, reordered and removed in place (the file input
// keeps the chosen order, so the form posts the photos as shown), and a product pin placed by tapping a photo
// (it writes "across,down,photo" into the product's pin field, which stays the no-script way to pin).
(function () {
  "use strict";
  var editor = document.querySelector(".photo-editor");
  if (!editor) { return; }
  var input = editor.querySelector('input[type=file][name=images]');
  var tray = document.getElementById("photo-tray");
  var hint = document.getElementById("photo-pin-hint");
  if (!input || !tray || typeof DataTransfer === "undefined") { return; }
  var files = [];
  var pinning = null;  // the pin input being placed

  function keptExisting() {
    return Array.prototype.filter.call(editor.querySelectorAll("[data-existing-image]"), function (item) {
      var box = item.querySelector("input[name=remove_image]");
      return !(box && box.checked);
    });
  }
  function syncInput() {
    var transfer = new DataTransfer();
    files.forEach(function (file) { transfer.items.add(file); });
    input.files = transfer.files;
  }
  function button(label, text, onClick) {
    var made = document.createElement("button");
    made.type = "button"; made.className = "btn btn-small photo-tray-btn"; made.textContent = text;
    made.setAttribute("aria-label", label); made.addEventListener("click", onClick);
    return made;
  }
  function render() {
    tray.innerHTML = "";
    tray.hidden = files.length === 0;
    var offset = keptExisting().length;
    files.forEach(function (file, index) {
      var item = document.createElement("li");
      item.className = "photo-tray-item";
      var image = document.createElement("img");
      image.src = URL.createObjectURL(file); image.alt = file.name; image.dataset.photoIndex = offset + index + 1;
      item.appendChild(image);
      if (offset + index === 0) {
        var cover = document.createElement("span"); cover.className = "photo-cover"; cover.textContent = tray.dataset.cover;
        item.appendChild(cover);
      }
      var tools = document.createElement("div"); tools.className = "photo-tools";
      var left = button(tray.dataset.left, "←", function () { move(index, -1); });
      left.disabled = index === 0;
      var right = button(tray.dataset.right, "→", function () { move(index, 1); });
      right.disabled = index === files.length - 1;
      tools.appendChild(left); tools.appendChild(right);
      tools.appendChild(button(tray.dataset.remove, "✕", function () { files.splice(index, 1); syncInput(); render(); }));
      item.appendChild(tools);
      tray.appendChild(item);
    });
  }
  function move(index, step) {
    var target = index + step;
    if (target < 0 || target >= files.length) { return; }
    var moved = files.splice(index, 1)[0];
    files.splice(target, 0, moved);
    syncInput(); render();
  }
  input.addEventListener("change", function () {
    files = files.concat(Array.prototype.slice.call(input.files)).slice(0, 9);
    syncInput(); render();
  });
  editor.addEventListener("change", function (event) {
    if (event.target.name === "remove_image") { render(); }
  });
  // Tap to pin: a product row's "Pin on photo", then a tap on a photo (a new one or one already on the note).
  function showPinButtons() {
    editor.querySelectorAll(".pin-place").forEach(function (made) { made.hidden = false; });
  }
  showPinButtons();
  document.addEventListener("htmx:afterSwap", showPinButtons);
  editor.addEventListener("click", function (event) {
    var place = event.target.closest(".pin-place");
    if (place) {
      var field = editor.querySelector('input[name="' + place.dataset.pinInput + '"]');
      pinning = pinning === field ? null : field;
      editor.classList.toggle("is-pinning", !!pinning);
      if (hint) { hint.hidden = !pinning; }
      return;
    }
    var photo = event.target.closest(".photo-tray img, [data-existing-image] img");
    if (!pinning || !photo) { return; }
    event.preventDefault();
    var box = photo.getBoundingClientRect();
    var across = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    var down = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
    var number = photo.dataset.photoIndex;
    if (!number) { number = keptExisting().indexOf(photo.closest("[data-existing-image]")) + 1; }
    pinning.value = across.toFixed(2) + "," + down.toFixed(2) + (number > 1 ? "," + number : "");
    pinning.dispatchEvent(new Event("change", { bubbles: true }));
    pinning = null;
    editor.classList.remove("is-pinning");
    if (hint) { hint.hidden = true; }
  });
})();
