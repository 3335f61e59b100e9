/* hub docs: the little script the pages use. Everything works without it; it only filters tables as one types and
   highlights the row a link points at. No library, no network. */
(function () {
  "use strict";
  function filter(input) {
    var table = document.getElementById(input.getAttribute("data-filter"));
    if (!table) { return; }
    var words = input.value.toLowerCase().split(/\s+/).filter(Boolean);
    var rows = table.tBodies[0].rows, shown = 0;
    for (var i = 0; i < rows.length; i++) {
      var text = rows[i].textContent.toLowerCase();
      var hit = words.every(function (w) { return text.indexOf(w) !== -1; });
      rows[i].hidden = !hit;
      if (hit) { shown++; }
    }
    input.setAttribute("aria-description", shown + " of " + rows.length + " rows shown");
  }
  var inputs = document.querySelectorAll("input[data-filter]");
  for (var i = 0; i < inputs.length; i++) {
    inputs[i].addEventListener("input", function (ev) { filter(ev.target); });
    var q = new URLSearchParams(location.search).get("q");
    if (q && inputs[i].value === "") { inputs[i].value = q; filter(inputs[i]); }
  }
  function reveal() {
    if (!location.hash) { return; }
    var row = document.getElementById(decodeURIComponent(location.hash.slice(1)));
    if (row && row.tagName === "TR") {
      row.hidden = false;
      row.setAttribute("tabindex", "-1");
      row.focus({ preventScroll: false });
    }
  }
  window.addEventListener("hashchange", reveal);
  reveal();
})();
