// Policy impact: a range of decisions replayed under a proposed pack (POST /v1/policy-impact), then its report.
// Uses console.js's helpers ($, t, api, on, listItem), which load first.
"use strict";

window.consolePages = window.consolePages || [];
window.consolePages.push({ id: "impact", label: "nav.impact", sections: ["impact-form", "impact"] });

async function policyImpact() {
  const form = Object.fromEntries(new FormData($("#impact-form")).entries());
  const body = { from: form.from, to: form.to, mode: form.mode, packs: { [form.pack_id.trim()]: form.pack } };
  const job = await api("POST", "v1/policy-impact", body);
  const status = $("#impact-status");
  let view = job;
  for (let i = 0; i < 600 && !["done", "failed"].includes(view.status); i++) {
    status.textContent = t("impact.status", { id: job.impact_id, status: view.status });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    view = await api("GET", `v1/policy-impact/${job.impact_id}`);
  }
  status.textContent = t("impact.status", { id: job.impact_id, status: view.status }) + (view.error ? ` · ${view.error}` : "");
  if (view.report) showImpact(view.report);
}

function impactRow(cells, tag = "td") {
  const tr = document.createElement("tr");
  cells.forEach((text) => { const cell = document.createElement(tag); cell.textContent = String(text); tr.appendChild(cell); });
  return tr;
}

function impactChange(c) {
  const moved = c.not_before_moved_seconds == null ? "" : ` · ${t("impact.moved", { hours: (c.not_before_moved_seconds / 3600).toFixed(1) })}`;
  return listItem(`${c.contact_id} · ${c.at} · ${c.jurisdiction}: ${c.current.outcome} → ${c.proposed.outcome} (${c.rules.join(", ")})${moved}`);
}

function impactMode(mode) {
  const key = `impact.mode.${mode}`;
  return key === t(key) ? mode : t(key); // a report of a mode this console does not name shows it as it is
}

// A list with nothing in it says so, rather than leaving its heading over a blank.
function orNone(items) {
  return items.length ? items : [listItem(t("impact.none"))];
}

function showImpact(report) {
  $("#impact-summary").textContent = t("impact.summary", {
    mode: impactMode(report.mode), decisions: report.decisions, changed: report.changed.count, skipped: report.not_replayable.count,
  });
  $("#impact-summary").dataset.mode = report.mode;
  $("#impact-history").hidden = !report.history;
  const history = report.history || { current: {}, proposed: {} };
  $("#impact-history").textContent = t("impact.history", {
    current_left: history.current.left, current_entered: history.current.entered,
    proposed_left: history.proposed.left, proposed_entered: history.proposed.entered,
  });
  const head = impactRow(["", t("impact.current"), t("impact.proposed")], "th");
  const rows = ["allow", "defer", "deny"].map((o) => impactRow([o, report.totals.current[o], report.totals.proposed[o]]));
  $("#impact-totals").replaceChildren(head, ...rows);
  $("#impact-changes").replaceChildren(...orNone(report.changed.contacts.map(impactChange)));
  $("#impact-moved").replaceChildren(...orNone(report.deferrals_moved.contacts.map(impactChange)));
  $("#impact-rules").replaceChildren(...orNone(Object.entries(report.by_rule).map(([rule, g]) => listItem(`${rule}: ${g.count}`))));
  $("#impact-dead").replaceChildren(...orNone(report.dead_rules.map((rule) => listItem(rule))));
  $("#impact-json").textContent = JSON.stringify(report, null, 1);
  $("#impact-report").hidden = false;
}

document.addEventListener("DOMContentLoaded", () => on("#impact-form", "submit", policyImpact));
