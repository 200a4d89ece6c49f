// The dashboard: a day's report (GET /v1/reports/daily) and a chart of the days before it, by status.
"use strict";

const DAY_STATUSES = ["sent", "scheduled", "blocked", "refused", "failed", "unknown"];
const DAY_COLOURS = { sent: "#1e6b2e", scheduled: "#0b4f8a", blocked: "#7a0000", refused: "#8a4b00", failed: "#5b2a86", unknown: "#4d4d4d" };

function facetList(counts) {
  const entries = Object.entries(counts || {});
  if (!entries.length) return [listItem(t("dashboard.none"))];
  return entries.map(([name, n]) => listItem(`${name}: ${n}`));
}

function svgNode(name, attributes, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", name);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, String(value));
  if (text !== undefined) node.textContent = text;
  return node;
}

// Stacked bars a day, the x axis dated (UTC days, as the report counts them), the y axis counted.
function dayChart(days) {
  const width = 720, height = 240, left = 48, bottom = 48, top = 12;
  const totals = days.map((d) => DAY_STATUSES.reduce((sum, s) => sum + (d[s] || 0), 0));
  const most = Math.max(1, ...totals);
  const step = (width - left) / days.length;
  const scale = (height - top - bottom) / most;
  const svg = svgNode("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-labelledby": "dashboard-chart-title" });
  svg.appendChild(svgNode("title", { id: "dashboard-chart-title" }, t("dashboard.chart", { days: days.length })));
  svg.appendChild(svgNode("line", { x1: left, y1: height - bottom, x2: width, y2: height - bottom, stroke: "#1a1a1a" }));
  svg.appendChild(svgNode("line", { x1: left, y1: top, x2: left, y2: height - bottom, stroke: "#1a1a1a" }));
  svg.appendChild(svgNode("text", { x: left - 6, y: top + 10, "text-anchor": "end", "font-size": 11 }, String(most)));
  svg.appendChild(svgNode("text", { x: left - 6, y: height - bottom, "text-anchor": "end", "font-size": 11 }, "0"));
  days.forEach((day, i) => {
    let y = height - bottom;
    for (const status of DAY_STATUSES) {
      const h = (day[status] || 0) * scale;
      if (h > 0) {
        const bar = svgNode("rect", { x: left + i * step + 2, y: y - h, width: Math.max(1, step - 4), height: h, fill: DAY_COLOURS[status] });
        bar.appendChild(svgNode("title", {}, `${day.date} ${status}: ${day[status]}`));
        svg.appendChild(bar);
        y -= h;
      }
    }
    const x = left + i * step + step / 2;
    const label = svgNode("text", { x, y: height - bottom + 14, "text-anchor": "end", "font-size": 10, transform: `rotate(-45 ${x} ${height - bottom + 14})` }, day.date.slice(5));
    svg.appendChild(label);
  });
  svg.appendChild(svgNode("text", { x: width / 2, y: height - 4, "text-anchor": "middle", "font-size": 11 }, t("dashboard.axis")));
  const legend = document.createElement("p");
  for (const status of DAY_STATUSES) {
    const swatch = document.createElement("span");
    swatch.className = "legend-swatch";
    swatch.style.background = DAY_COLOURS[status];
    legend.append(swatch, status);
  }
  return [svg, legend];
}

async function dashboard() {
  const day = document.getElementById("dashboard-date").value;
  const section = document.getElementById("dashboard");
  section.hidden = false;
  document.getElementById("dashboard-state").textContent = t("dashboard.loading");
  const answer = await api("GET", `v1/reports/daily${day ? `?date=${encodeURIComponent(day)}` : ""}`).catch((error) => {
    document.getElementById("dashboard-state").textContent = t("dashboard.error");
    throw error;
  });
  const totals = answer.totals;
  document.getElementById("dashboard-state").textContent = totals.events ? t("dashboard.day", { date: answer.date, events: totals.events }) : t("dashboard.empty", { date: answer.date });
  document.getElementById("dashboard-status").replaceChildren(...facetList(totals.by_status));
  document.getElementById("dashboard-channel").replaceChildren(...facetList(totals.by_channel));
  document.getElementById("dashboard-jurisdiction").replaceChildren(...facetList(totals.by_jurisdiction));
  document.getElementById("dashboard-rules").replaceChildren(...facetList(Object.fromEntries(answer.top_rules.map((r) => [r.rule, r.hits]))));
  const watched = answer.failed_and_unknown;
  document.getElementById("dashboard-failed").replaceChildren(...facetList({ ...Object.fromEntries(Object.entries(watched.failed).map(([c, n]) => [`failed ${c}`, n])), ...Object.fromEntries(Object.entries(watched.unknown).map(([c, n]) => [`unknown ${c}`, n])) }));
  const deferred = answer.deferred;
  const oldest = deferred.oldest_due_now ? t("dashboard.oldest", deferred.oldest_due_now) : t("dashboard.none");
  document.getElementById("dashboard-deferred").replaceChildren(listItem(t("dashboard.backlog", deferred)), listItem(oldest));
  const check = answer.last_invariant_check;
  const anchor = answer.last_anchor;
  document.getElementById("dashboard-checks").replaceChildren(
    listItem(check ? t("dashboard.check", { at: check.at, result: check.ok ? "ok" : JSON.stringify(check.violations) }) : t("dashboard.nocheck")),
    listItem(anchor ? t("dashboard.anchor", anchor) : t("dashboard.noanchor")),
  );
  document.getElementById("dashboard-chart").replaceChildren(...dayChart(answer.days));
}

document.addEventListener("DOMContentLoaded", () => {
  on("#dashboard-form", "submit", dashboard);
});
