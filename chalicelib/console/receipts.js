// Receipts on the debtor timeline: what the providers said became of each message (its `delivery` events,
// newest first), read from the audit trail with the officer's key. Uses console.js's helpers.
"use strict";

const RECEIPTS_SHOWN = 50;

function receiptOf(event) {
  const delivery = (event.data || {}).delivery || {};
  return t("receipts.item", {
    at: since(delivery.at),
    channel: channelOf(event.channel),
    status: t(`receipts.${delivery.status}`),
    contact: event.contact_id,
    code: delivery.provider_code || "-",
  });
}

async function receipts() {
  const debtor = $("#timeline-debtor").value.trim();
  if (!debtor) return;
  const query = new URLSearchParams({ debtor_id: debtor, type: "delivery", order: "desc", limit: String(RECEIPTS_SHOWN) });
  const page = await api("GET", `v1/audit/events?${query}`);
  const items = page.events.map((event) => listItem(receiptOf(event)));
  $("#receipts").replaceChildren(...(items.length ? items : [listItem(t("receipts.none"))]));
}

document.addEventListener("DOMContentLoaded", () => on("#timeline-form", "submit", receipts));
