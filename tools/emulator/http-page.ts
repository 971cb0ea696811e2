/**
 * The emulator's status page: plain HTML and a little JavaScript, no framework and no external assets, so it
 * works offline and under a strict Content-Security-Policy. It reads only `/api/noauth/emulator/devices`, which
 * carries no credentials, and refreshes on every Server-Sent Event (with a slow poll as a fallback).
 */

export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>ThingsBoard emulator</title>
<style>
  body { font: 14px/1.4 system-ui, sans-serif; margin: 1.5rem; color: #1d2733; }
  h1 { font-size: 1.3rem; margin: 0 0 .25rem; }
  #status { color: #5b6673; margin-bottom: 1rem; }
  table { border-collapse: collapse; width: 100%; }
  th, td { text-align: left; padding: .4rem .6rem; border-bottom: 1px solid #dde3ea; vertical-align: top; }
  th { background: #f3f6f9; font-weight: 600; }
  .online { color: #0a7d32; font-weight: 600; }
  .offline { color: #8a939c; }
  .kv { font-family: ui-monospace, monospace; white-space: nowrap; }
  .ts { color: #8a939c; font-size: .85em; }
  #empty { color: #5b6673; }
</style>
</head>
<body>
<h1>ThingsBoard emulator</h1>
<div id="status">Loading…</div>
<table id="devices" hidden>
  <thead><tr><th>Device</th><th>Profile</th><th>Provision state</th><th>Connection</th><th>Last telemetry</th></tr></thead>
  <tbody></tbody>
</table>
<p id="empty" hidden>No devices yet. Provision one, or create it over the REST API.</p>
<script src="/emulator-page.js"></script>
</body>
</html>
`;

export const PAGE_SCRIPT = `"use strict";
(function () {
  var statusLine = document.getElementById("status");
  var table = document.getElementById("devices");
  var body = table.querySelector("tbody");
  var empty = document.getElementById("empty");
  var live = false;
  var pending = null;

  function cell(row, text, className) {
    var td = document.createElement("td");
    td.textContent = text;
    if (className) td.className = className;
    row.appendChild(td);
    return td;
  }

  function formatValue(v) {
    return typeof v === "string" ? v : JSON.stringify(v);
  }

  function render(snapshot) {
    body.textContent = "";
    snapshot.devices.forEach(function (d) {
      var row = document.createElement("tr");
      row.setAttribute("data-device", d.name);
      cell(row, d.name);
      cell(row, d.profile);
      cell(row, d.provisionState || "\\u2014");
      cell(row, d.online ? "online" : "offline", d.online ? "online" : "offline");
      var td = cell(row, "");
      var keys = Object.keys(d.telemetry);
      if (keys.length === 0) td.textContent = "\\u2014";
      keys.forEach(function (k) {
        var line = document.createElement("div");
        line.className = "kv";
        line.textContent = k + " = " + formatValue(d.telemetry[k].value) + " ";
        var ts = document.createElement("span");
        ts.className = "ts";
        ts.textContent = new Date(d.telemetry[k].ts).toLocaleTimeString();
        line.appendChild(ts);
        td.appendChild(line);
      });
      body.appendChild(row);
    });
    table.hidden = snapshot.devices.length === 0;
    empty.hidden = snapshot.devices.length !== 0;
    statusLine.textContent = snapshot.devices.length + " device(s) \\u00b7 updated " +
      new Date().toLocaleTimeString() + (live ? " \\u00b7 live" : " \\u00b7 polling");
  }

  function refresh() {
    pending = null;
    fetch("/api/noauth/emulator/devices", { cache: "no-store" })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(render)
      .catch(function (e) { statusLine.textContent = "Cannot reach the emulator: " + e.message; });
  }

  // Bursts of events (a device sending fast) collapse into one refresh.
  function soon() {
    if (pending === null) pending = setTimeout(refresh, 150);
  }

  // ?live=0 polls only: headless snapshots (virtual time never settles while an event stream is open).
  if (window.EventSource && !/[?&]live=0(&|$)/.test(location.search)) {
    var events = new EventSource("/api/noauth/emulator/events");
    events.onopen = function () { live = true; soon(); };
    events.onmessage = soon;
    events.onerror = function () { live = false; };
  }
  setInterval(refresh, 5000);
  refresh();
})();
`;
