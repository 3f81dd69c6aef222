// Masonry for card grids: cards go, in feed order, into whichever column is shortest.
// Without JavaScript the grid stays a plain CSS grid; infinite-scroll pages are placed as they arrive.
(function () {
  "use strict";
  function columnCount(grid) {
    var value = parseInt(getComputedStyle(grid).getPropertyValue("--columns"), 10);
    return value > 0 ? value : 2;
  }
  function estimatedHeight(card) {
    var img = card.querySelector("img");
    var ratio = img && img.width ? img.getAttribute("height") / img.getAttribute("width") : 0.5;
    return ratio + 0.35; // cover plus title and meta, in column widths
  }
  function place(grid, cards) {
    var columns = grid.querySelectorAll(":scope > .masonry-col");
    cards.forEach(function (card) {
      var shortest = columns[0];
      columns.forEach(function (col) { if (col.dataset.h * 1 < shortest.dataset.h * 1) { shortest = col; } });
      shortest.appendChild(card);
      shortest.dataset.h = shortest.dataset.h * 1 + estimatedHeight(card);
    });
    var more = grid.querySelector(":scope > .feed-more");
    if (more) { grid.appendChild(more); }
  }
  function build(grid) {
    var cards = Array.prototype.slice.call(grid.querySelectorAll(".post-card"));
    grid.querySelectorAll(":scope > .masonry-col").forEach(function (col) { col.remove(); });
    var n = columnCount(grid);
    for (var i = 0; i < n; i++) {
      var col = document.createElement("div");
      col.className = "masonry-col";
      col.dataset.h = "0";
      grid.appendChild(col);
    }
    grid.dataset.columns = String(n);
    grid.classList.add("is-masonry");
    place(grid, cards);
  }
  function init() { document.querySelectorAll(".post-grid[data-masonry]").forEach(build); }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", function () {
    document.querySelectorAll(".post-grid.is-masonry").forEach(function (grid) {
      place(grid, Array.prototype.slice.call(grid.querySelectorAll(":scope > .post-card")));
    });
  });
  var resizeTimer;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      document.querySelectorAll(".post-grid.is-masonry").forEach(function (grid) {
        if (String(columnCount(grid)) !== grid.dataset.columns) { build(grid); }
      });
    }, 150);
  });
})();
