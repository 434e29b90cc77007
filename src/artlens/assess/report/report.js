(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("report-data").textContent);
  var grid = document.getElementById("cards");
  var cards = Array.prototype.slice.call(grid.querySelectorAll("article.card"));
  var errorBox = document.getElementById("errors");
  var errorItems = errorBox ? Array.prototype.slice.call(errorBox.querySelectorAll("li[data-path]")) : [];
  var buttons = Array.prototype.slice.call(document.querySelectorAll("button[data-filter]"));
  var search = document.getElementById("search");
  var sortKey = document.getElementById("sort-key");
  var sortDir = document.getElementById("sort-dir");
  var shown = document.getElementById("shown");
  var none = document.getElementById("none");
  var state = { verdict: "all", query: "", key: "", desc: true };
  var lastOrder = "";

  function indexOf(card) { return Number(card.getAttribute("data-i")); }
  function imageOf(card) { return data.images[indexOf(card)]; }

  function scoreOf(card, key) {
    var image = imageOf(card);
    var table = key.charAt(0) === "u" ? image.subscores : image.scores;
    var value = table ? table[key.slice(2)] : null;
    return typeof value === "number" && isFinite(value) ? value : null;
  }

  function matches(path) {
    return !state.query || String(path).toLowerCase().indexOf(state.query) !== -1;
  }

  function compare(a, b) {
    var ia = indexOf(a), ib = indexOf(b);
    if (!state.key) { return ia - ib; }
    var va = scoreOf(a, state.key), vb = scoreOf(b, state.key);
    if (va === null || vb === null) {
      if (va === vb) { return ia - ib; }
      return va === null ? 1 : -1;  // missing values last in both directions
    }
    if (va === vb) { return ia - ib; }
    return state.desc ? vb - va : va - vb;
  }

  function reorder() {
    var order = state.key + "|" + state.desc;
    if (order === lastOrder) { return; }
    lastOrder = order;
    var fragment = document.createDocumentFragment();
    cards.slice().sort(compare).forEach(function (card) { fragment.appendChild(card); });
    grid.appendChild(fragment);
  }

  function apply() {
    reorder();
    var nCards = 0, nErrors = 0;
    var wantCards = state.verdict !== "errors";
    var wantErrors = state.verdict === "all" || state.verdict === "errors";
    cards.forEach(function (card) {
      var image = imageOf(card);
      var ok = wantCards && (state.verdict === "all" || image.verdict === state.verdict) &&
        matches(image.path);
      card.hidden = !ok;
      if (ok) { nCards += 1; }
    });
    errorItems.forEach(function (item) {
      var ok = wantErrors && matches(item.getAttribute("data-path"));
      item.hidden = !ok;
      if (ok) { nErrors += 1; }
    });
    grid.hidden = !wantCards;
    if (errorBox) { errorBox.hidden = nErrors === 0; }
    none.hidden = nCards + nErrors > 0 || (cards.length + errorItems.length) === 0;
    shown.textContent = "Showing " + nCards + " of " + cards.length + " images" +
      (errorItems.length ? ", " + nErrors + " of " + errorItems.length + " errors" : "");
  }

  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      state.verdict = button.getAttribute("data-filter");
      buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
      apply();
    });
  });
  search.addEventListener("input", function () { state.query = search.value.trim().toLowerCase(); apply(); });
  sortKey.addEventListener("change", function () { state.key = sortKey.value; apply(); });
  sortDir.addEventListener("change", function () { state.desc = sortDir.value === "desc"; apply(); });
  document.addEventListener("keydown", function (event) {
    if (event.key === "/" && document.activeElement !== search) { event.preventDefault(); search.focus(); }
  });
  apply();
})();
