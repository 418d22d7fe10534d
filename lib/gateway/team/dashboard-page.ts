/**
 * The dashboard page itself: plain HTML, CSS and a script with no build
 * step, no external scripts or fonts. It reads the admin API and draws the
 * daily chart as SVG, stacked by member. Every value goes in through
 * textContent, never markup. (Kept in a module so that the compiled gateway
 * folder is all the image needs; the script avoids backticks for that reason.)
 */
export const DASHBOARD_STYLE = String.raw`
[hidden] { display: none !important; }
:root { font: 14px/1.4 system-ui, sans-serif; color: #1d2430; background: #f6f7f9; }
body { margin: 0 auto; padding: 12px; max-width: 1100px; }
h1 { font-size: 20px; margin: 4px 0 12px; } h2 { font-size: 16px; margin: 20px 0 8px; }
form, .controls { display: flex; flex-wrap: wrap; gap: 8px; align-items: center; margin-bottom: 12px; }
input, select, button { font: inherit; padding: 4px 8px; }
.cards { display: grid; grid-template-columns: repeat(auto-fit, minmax(140px, 1fr)); gap: 8px; }
.card { background: #fff; border-radius: 6px; padding: 8px 12px; box-shadow: 0 1px 2px #0002; }
.card b { display: block; font-size: 18px; }
.panel { background: #fff; border-radius: 6px; padding: 8px; box-shadow: 0 1px 2px #0002; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
th, td { text-align: right; padding: 4px 8px; border-bottom: 1px solid #e3e6ea; white-space: nowrap; }
th:first-child, td:first-child, td.text { text-align: left; }
#budgets th, #budgets td { text-align: left; }
.legend { display: flex; flex-wrap: wrap; gap: 10px; margin-top: 6px; }
.legend span::before { content: ""; display: inline-block; width: 10px; height: 10px; margin-right: 4px; background: var(--c); }
.error { color: #b00020; } .muted { color: #6b7280; }
svg text { font-size: 11px; fill: #4b5563; }
`;

export const DASHBOARD_SCRIPT = String.raw`
"use strict";
var COLORS = ["#2563eb", "#d97706", "#059669", "#dc2626", "#7c3aed", "#0891b2", "#db2777", "#65a30d", "#9333ea", "#ea580c"];
var $ = function (id) { return document.getElementById(id); };
var fmt = function (n) { return Math.round(n).toLocaleString("en-US"); };
var dollars = function (n) { return "$" + n.toFixed(2); };
function el(tag, text, cls) { var e = document.createElement(tag); if (text !== undefined) e.textContent = text; if (cls) e.className = cls; return e; }
function svg(tag, attrs) { var e = document.createElementNS("http://www.w3.org/2000/svg", tag); for (var k in attrs) e.setAttribute(k, String(attrs[k])); return e; }
function token() { return sessionStorage.getItem("cctl-admin-token") || ""; }
function dayStr(d) { return d.toISOString().slice(0, 10); }

function api(path) {
  return fetch(path, { headers: { authorization: "Bearer " + token() } }).then(function (r) {
    if (r.status === 401) { sessionStorage.removeItem("cctl-admin-token"); throw new Error("The gateway did not accept this admin token."); }
    if (!r.ok) throw new Error("The gateway answered " + r.status + " for " + path);
    return r.json();
  });
}

function fill(tbody, rows, cells) {
  tbody.replaceChildren();
  rows.forEach(function (row) {
    var tr = el("tr");
    cells(row).forEach(function (c, i) { tr.appendChild(el("td", String(c), i === 0 || (typeof c === "string" && c.charAt(0) !== "$" && isNaN(Number(c.replace(/[,%]/g, "")))) ? "text" : "")); });
    tbody.appendChild(tr);
  });
}

function usageCells(key) {
  return function (r) {
    return [r[key], fmt(r.requests), fmt(r.inputTokens), fmt(r.outputTokens), fmt(r.cacheCreationTokens), fmt(r.cacheReadTokens), fmt(r.totalTokens), dollars(r.cost), (r.requests ? (100 * r.errors / r.requests).toFixed(1) : "0.0") + "%"];
  };
}

function chart(rows, since, days, metric) {
  var box = $("chart"); box.replaceChildren();
  var members = []; var byDay = {};
  rows.forEach(function (r) {
    if (members.indexOf(r.member) < 0) members.push(r.member);
    (byDay[r.day] = byDay[r.day] || {})[r.member] = metric === "cost" ? r.cost : r.totalTokens;
  });
  var dayList = []; var start = new Date(since + "T00:00:00Z");
  for (var i = 0; i < days; i++) dayList.push(dayStr(new Date(start.getTime() + i * 86400000)));
  var max = 0;
  dayList.forEach(function (d) { var s = 0; members.forEach(function (m) { s += (byDay[d] || {})[m] || 0; }); max = Math.max(max, s); });
  var W = 800, H = 260, L = 60, B = 24, T = 8, step = (W - L) / dayList.length, bw = Math.max(1, step * 0.8);
  var root = svg("svg", { viewBox: "0 0 " + W + " " + H, width: "100%", role: "img", "aria-label": "Daily " + metric + " by member" });
  [0, 0.5, 1].forEach(function (f) {
    var y = H - B - f * (H - B - T);
    root.appendChild(svg("line", { x1: L, x2: W, y1: y, y2: y, stroke: "#e3e6ea" }));
    var label = svg("text", { x: L - 6, y: y + 4, "text-anchor": "end" }); label.textContent = metric === "cost" ? dollars(max * f) : fmt(max * f); root.appendChild(label);
  });
  dayList.forEach(function (d, i) {
    var y = H - B;
    members.forEach(function (m, j) {
      var v = (byDay[d] || {})[m] || 0; if (!v || !max) return;
      var h = v / max * (H - B - T); y -= h;
      var rect = svg("rect", { x: L + i * step, y: y, width: bw, height: h, fill: COLORS[j % COLORS.length], "class": "bar" });
      var tip = svg("title", {}); tip.textContent = d + " " + m + ": " + (metric === "cost" ? dollars(v) : fmt(v)); rect.appendChild(tip);
      root.appendChild(rect);
    });
    if (i % Math.ceil(dayList.length / 8) === 0) { var t = svg("text", { x: L + i * step, y: H - 6 }); t.textContent = d.slice(5); root.appendChild(t); }
  });
  box.appendChild(root);
  var legend = el("div", undefined, "legend");
  members.forEach(function (m, j) { var s = el("span", m); s.style.setProperty("--c", COLORS[j % COLORS.length]); legend.appendChild(s); });
  box.appendChild(legend);
}

function load() {
  var days = Number($("range").value); var metric = $("metric").value;
  var since = dayStr(new Date(Date.now() - (days - 1) * 86400000));
  $("status").textContent = "Loading…"; $("status").className = "muted";
  return Promise.all([
    api("/admin/api/usage?by=day,member&since=" + since),
    api("/admin/api/usage?by=member&since=" + since),
    api("/admin/api/usage?by=model&since=" + since),
    api("/admin/api/requests?limit=50"),
    api("/admin/api/members"),
  ]).then(function (res) {
    var total = { requests: 0, errors: 0, tokens: 0, cost: 0 };
    res[1].rows.forEach(function (r) { total.requests += r.requests; total.errors += r.errors; total.tokens += r.totalTokens; total.cost += r.cost; });
    $("requests").textContent = fmt(total.requests); $("tokens").textContent = fmt(total.tokens);
    $("cost").textContent = dollars(total.cost); $("errors").textContent = (total.requests ? (100 * total.errors / total.requests).toFixed(1) : "0.0") + "%";
    chart(res[0].rows, since, days, metric);
    fill($("members").tBodies[0], res[1].rows, usageCells("member"));
    fill($("models").tBodies[0], res[2].rows, usageCells("model"));
    fill($("recent").tBodies[0], res[3].requests, function (r) {
      return [new Date(r.time).toISOString().replace("T", " ").slice(0, 19), r.member, r.project, r.model, String(r.status), fmt(r.durationMs) + " ms", fmt(r.inputTokens + r.outputTokens + r.cacheCreationTokens + r.cacheReadTokens), dollars(r.cost)];
    });
    fill($("budgets").tBodies[0], res[4].members, function (m) {
      var limits = [m.dailyTokens && fmt(m.dailyTokens) + " tokens/day", m.monthlyTokens && fmt(m.monthlyTokens) + " tokens/month",
        m.dailyCost && dollars(m.dailyCost) + "/day", m.monthlyCost && dollars(m.monthlyCost) + "/month"].filter(Boolean).join(", ");
      var s = m.spend || { dayTokens: 0, dayCost: 0, monthTokens: 0, monthCost: 0 };
      return [m.name, m.revokedAt ? "revoked" : "active", limits || "none", fmt(s.dayTokens) + " / " + dollars(s.dayCost), fmt(s.monthTokens) + " / " + dollars(s.monthCost)];
    });
    $("status").textContent = "Updated " + new Date().toLocaleTimeString(); $("status").className = "muted";
    $("main").hidden = false; $("login").hidden = true;
  }).catch(function (e) {
    console.error("cctl dashboard: " + e.message);
    $("status").textContent = e.message; $("status").className = "error";
    if (!token()) { $("main").hidden = true; $("login").hidden = false; }
  });
}

$("login").addEventListener("submit", function (ev) {
  ev.preventDefault(); sessionStorage.setItem("cctl-admin-token", $("token").value.trim()); $("token").value = ""; load();
});
$("range").addEventListener("change", load); $("metric").addEventListener("change", load);
$("refresh").addEventListener("click", load);
// A link may carry the token in its fragment (never sent to the server); it is moved to sessionStorage at once.
if (location.hash.indexOf("#token=") === 0) { sessionStorage.setItem("cctl-admin-token", decodeURIComponent(location.hash.slice(7))); history.replaceState(null, "", location.pathname); }
if (token()) load(); else { $("login").hidden = false; }
`;

const usageHead = (first: string) =>
  `<thead><tr><th>${first}</th><th>Requests</th><th>Input</th><th>Output</th><th>Cache write</th><th>Cache read</th><th>Total tokens</th><th>Est. cost</th><th>Errors</th></tr></thead><tbody></tbody>`;

export function dashboardHtml(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>cctl team gateway</title><style>${DASHBOARD_STYLE}</style></head>
<body>
<h1>cctl team gateway</h1>
<form id="login" hidden><label for="token">Admin token</label><input id="token" type="password" autocomplete="off" required><button>Open</button></form>
<div class="controls"><select id="range"><option value="7">7 days</option><option value="30" selected>30 days</option><option value="90">90 days</option></select>
<select id="metric"><option value="tokens">Tokens</option><option value="cost">Cost</option></select><button id="refresh" type="button">Refresh</button><span id="status" class="muted"></span></div>
<div id="main" hidden>
<div class="cards"><div class="card">Requests<b id="requests"></b></div><div class="card">Tokens<b id="tokens"></b></div><div class="card">Est. cost<b id="cost"></b></div><div class="card">Error rate<b id="errors"></b></div></div>
<h2>Per day, by member</h2><div class="panel" id="chart"></div>
<h2>Usage by member</h2><div class="panel"><table id="members">${usageHead('Member')}</table></div>
<h2>Models</h2><div class="panel"><table id="models">${usageHead('Model')}</table></div>
<h2>Members and budgets</h2><div class="panel"><table id="budgets"><thead><tr><th>Member</th><th>State</th><th>Budget</th><th>Today (tokens / est. cost)</th><th>This month</th></tr></thead><tbody></tbody></table></div>
<h2>Last 50 requests</h2><div class="panel"><table id="recent"><thead><tr><th>Time (UTC)</th><th>Member</th><th>Project</th><th>Model</th><th>Status</th><th>Duration</th><th>Tokens</th><th>Est. cost</th></tr></thead><tbody></tbody></table></div>
</div>
<script>${DASHBOARD_SCRIPT}</script>
</body></html>
`;
}
