/* Sortable leaderboard tables, no dependencies.
 *
 * Any <table class="sortable"> becomes sortable by clicking (or pressing Enter on) a
 * column header. A cell's sort key is its `data-sort` attribute when present (the
 * generator writes raw numbers there, so "0.91 [0.88, 0.93]" sorts as 0.91), else its
 * text. Cells with an empty key (skipped or failed methods) always sort last.
 */
(function () {
  "use strict";

  function key(cell) {
    if (!cell) return "";
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    return raw.trim();
  }

  function compare(a, b, dir) {
    if (a === "" && b === "") return 0;
    if (a === "") return 1; // empty keys last, whatever the direction
    if (b === "") return -1;
    var x = parseFloat(a), y = parseFloat(b);
    var numeric = !isNaN(x) && !isNaN(y) && isFinite(a) && isFinite(b);
    var c = numeric ? x - y : a.localeCompare(b, undefined, { numeric: true });
    return dir === "ascending" ? c : -c;
  }

  function sortBy(table, th, index) {
    var dir = th.getAttribute("aria-sort") === "descending" ? "ascending" : "descending";
    if (!th.hasAttribute("aria-sort") && th.getAttribute("data-default-dir") === "ascending") {
      dir = "ascending";
    }
    var headers = table.querySelectorAll("thead th");
    for (var i = 0; i < headers.length; i++) headers[i].removeAttribute("aria-sort");
    th.setAttribute("aria-sort", dir);
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      return compare(key(r1.cells[index]), key(r2.cells[index]), dir);
    });
    rows.forEach(function (r) { body.appendChild(r); });
  }

  function init(table) {
    var headers = table.querySelectorAll("thead th");
    headers.forEach(function (th, index) {
      if (th.classList.contains("no-sort")) return;
      th.setAttribute("tabindex", "0");
      th.setAttribute("role", "button");
      th.title = (th.title ? th.title + " - " : "") + "click to sort";
      th.addEventListener("click", function () { sortBy(table, th, index); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, th, index); }
      });
    });
  }

  // a table wider than its box gets a visible cue (bench.css: .bench-scrolls)
  function markScrolling() {
    document.querySelectorAll(".bench-table-wrap").forEach(function (w) {
      w.classList.toggle("bench-scrolls", w.scrollWidth > w.clientWidth + 1);
    });
  }

  // a leaderboard whose first column is the rank ("#"): the method column beside it
  // stays in view too (bench.css: .bench-sticky2), offset by the rank column's width
  function stickMethodColumn() {
    document.querySelectorAll(".bench-table-wrap table.bench-table").forEach(function (t) {
      var first = t.querySelector("thead th");
      if (!first || first.textContent.trim() !== "#") return;
      var left = first.getBoundingClientRect().width + "px";
      t.querySelectorAll("tr").forEach(function (tr) {
        var c = tr.children[1];
        if (c) { c.classList.add("bench-sticky2"); c.style.left = left; }
      });
    });
  }

  function ready() {
    document.querySelectorAll("table.sortable").forEach(init);
    stickMethodColumn();
    markScrolling();
    window.addEventListener("resize", markScrolling);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }
})();
