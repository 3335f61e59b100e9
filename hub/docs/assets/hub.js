/* hub docs: the little script the pages use. Everything works without it; it only filters tables as one types,
   highlights the row a link points at, and, on pages `hub serve` serves, refreshes the "In progress" panel from
   live.json (same origin). No library, no other host. */
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

  /* The runs in progress, live: poll live.json while served over HTTP; a static site (file:, or a host without
     live.json) keeps the state it was built with. Values are set as text, never parsed as HTML. */
  var panel = document.getElementById("live");
  if (panel && /^https?:$/.test(location.protocol)) {
    var list = document.getElementById("live-runs"), note = document.getElementById("live-note");
    var base = panel.getAttribute("data-live").replace(/live\.json$/, "");
    var el = function (tag, cls, text) {
      var n = document.createElement(tag);
      if (cls) { n.className = cls; }
      if (text !== undefined) { n.textContent = text; }
      return n;
    };
    var show = function (data) {
      if (data.pages_ready && panel.getAttribute("data-reload-when-ready")) { location.reload(); return; }
      var items = data.running.map(function (r) {
        var li = el("li", "running");
        li.appendChild(el("span", "badge running", "running"));
        li.appendChild(document.createTextNode(" "));
        li.appendChild(el("strong", "", r.command));
        li.appendChild(document.createTextNode(" "));
        var a = el("a", "", r.run_id);
        a.href = base + r.href;
        li.appendChild(a);
        li.appendChild(document.createTextNode(", started "));
        var t = el("time", "", r.started_text);
        t.setAttribute("datetime", r.started_at);
        li.appendChild(t);
        li.appendChild(document.createTextNode(", " + r.steps_done + " step(s) done."));
        if (r.doing) { li.appendChild(document.createTextNode(" ")); li.appendChild(el("span", "doing", "now at " + r.doing)); }
        return li;
      });
      if (!items.length) { items = [el("li", "idle", "Nothing is running.")]; }
      list.replaceChildren.apply(list, items);
      note.textContent = "live, as of " + data.as_of_text;
      panel.setAttribute("data-live-state", "live");
      var card = document.querySelector("li.card.running strong");
      if (card) { card.textContent = String(data.running.length); }
    };
    var poll = function () {
      fetch(base + "live.json", { cache: "no-store", credentials: "same-origin" }).then(function (res) {
        if (!res.ok) { throw new Error(String(res.status)); }
        return res.json();
      }).then(function (data) { show(data); setTimeout(poll, 2000); }, function () {
        panel.setAttribute("data-live-state", "static");   /* not served by hub serve: keep the built state */
      });
    };
    poll();
  }
})();
