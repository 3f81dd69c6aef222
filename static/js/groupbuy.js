// Group-buy pages: a live countdown and the share button (Web Share API on phones, else copy the link).
(function () {
  function tick() {
    document.querySelectorAll("[data-deadline]").forEach(function (el) {
      var left = Math.max(0, Math.floor((Date.parse(el.dataset.deadline) - Date.now()) / 1000));
      var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
      el.textContent = h + ":" + String(m).padStart(2, "0") + ":" + String(s).padStart(2, "0");
    });
  }
  document.addEventListener("DOMContentLoaded", function () {
    if (document.querySelector("[data-deadline]")) { tick(); setInterval(tick, 1000); }
    document.querySelectorAll("[data-share-url]").forEach(function (button) {
      button.addEventListener("click", function () {
        var url = button.dataset.shareUrl;
        if (navigator.share) {
          navigator.share({ url: url, text: button.dataset.shareText }).catch(function () {});
          return;
        }
        var done = function () { button.textContent = button.dataset.copied; };
        if (navigator.clipboard) { navigator.clipboard.writeText(url).then(done, function () {}); }
        else { var input = document.getElementById("share-url"); input.select(); document.execCommand("copy"); done(); }
      });
    });
  });
})();
