// Live progress of a running sync: poll the history's rows and swap them in until every run
// has finished. No build step, no framework.
(function () {
  "use strict";
  function poll(table) {
    var url = table.getAttribute("data-poll-url");
    var every = parseInt(table.getAttribute("data-poll-ms"), 10) || 1000;
    var note = document.getElementById("live-note");
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (answer) { return answer.ok ? answer.json() : null; })
        .then(function (data) {
          if (!data) { window.setTimeout(tick, every * 3); return; }
          table.tBodies[0].innerHTML = data.rows;
          table.setAttribute("data-running", data.running ? "true" : "false");
          if (note) { note.hidden = !data.running; }
          if (data.running) { window.setTimeout(tick, every); }
        })
        .catch(function () { window.setTimeout(tick, every * 3); });
    }
    window.setTimeout(tick, every);
  }
  document.addEventListener("DOMContentLoaded", function () {
    var table = document.getElementById("runs");
    if (table && table.getAttribute("data-running") === "true") { poll(table); }
  });
})();
