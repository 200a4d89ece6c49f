// A debtor's standing (GET /v1/debtors/{id}/status), shown above the timeline on the debtor page.
"use strict";

function standingRows(contact) {
  const rows = [];
  const kind = `${contact.channel} · ${contact.account_id} · ${mask(contact.to)}`;
  const decision = contact.decision;
  const rules = decision.reasons.map((r) => r.rule).join(", ");
  rows.push(decision.allowed_now ? t("standing.allowed", { kind }) : t("standing.blocked", { kind, rules, when: decision.next_allowed_at || t("standing.never") }));
  for (const budget of contact.budgets) {
    rows.push(t("standing.budget", { rule: budget.rule, used: budget.used, limit: budget.limit, days: budget.window.days, period: budget.window.period, frees: budget.next_free_at || t("standing.never") }));
  }
  for (const lockout of contact.lockouts) rows.push(t("standing.lockout", { rule: lockout.rule, until: lockout.until || t("standing.never") }));
  for (const w of contact.windows) {
    rows.push(t("standing.window", { zone: w.zone, now: w.local_now.slice(11, 16), today: w.today.join(", ") || "—", later: w.later_today.join(", ") || "—", open: w.open_now ? t("standing.open") : t("standing.closed") }));
  }
  return rows;
}

async function standing() {
  const debtor = $("#timeline-debtor").value.trim();
  const section = $("#standing");
  section.hidden = false;
  $("#standing-state").textContent = t("standing.loading");
  let answer;
  try {
    answer = await api("GET", `v1/debtors/${encodeURIComponent(debtor)}/status`);
  } catch (error) {
    $("#standing-state").textContent = error.status === 404 ? t("standing.empty") : t("standing.error");
    $("#standing-list").replaceChildren();
    if (error.status !== 404) throw error;
    return;
  }
  $("#standing-state").textContent = t("standing.at", { at: answer.at });
  const rows = answer.contacts.flatMap(standingRows);
  for (const d of answer.deferred) rows.push(t("standing.deferred", { contact: d.contact_id, channel: d.channel, when: d.not_before }));
  $("#standing-list").replaceChildren(...rows.map(listItem));
}

document.addEventListener("DOMContentLoaded", () => {
  $("#timeline-form").addEventListener("submit", () => busy(standing));
});
