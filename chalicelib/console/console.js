// The compliance console: the public API only, with the officer's key (kept in sessionStorage only).
// No framework, no build step: one script, the page's own markup, a string catalogue per language.
"use strict";

const state = { lang: "en", strings: {}, cursor: null, query: null, zones: {}, events: [] };
const $ = (selector) => document.querySelector(selector);

function t(key, values = {}) {
  const text = state.strings[key] || key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in values ? String(values[name]) : `{${name}}`));
}

async function setLanguage(lang) {
  const answer = await fetch(`console/${lang}.json`);
  state.strings = await answer.json();
  state.lang = lang;
  document.documentElement.lang = lang === "zh" ? "zh-Hans" : "en";
  document.title = t("title");
  document.querySelectorAll("[data-i18n]").forEach((node) => { node.textContent = t(node.dataset.i18n); });
  sessionStorage.setItem("console.lang", lang);
  $("#language").value = lang;
}

function say(text, ok = false) {
  const status = $("#status");
  status.textContent = text;
  status.classList.toggle("ok", ok);
}

class ProblemError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || String(status));
    this.status = status;
    this.problem = problem;
  }
}

async function api(method, path, body) {
  const key = sessionStorage.getItem("console.key");
  if (!key) throw new ProblemError(401, { title: "", detail: t("key.missing") });
  const headers = { Authorization: `Bearer ${key}` };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  let answer;
  try {
    answer = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  } catch (error) {
    throw new ProblemError(0, { title: "", detail: t("error.network") });
  }
  const payload = await answer.json().catch(() => ({}));
  if (!answer.ok) throw new ProblemError(answer.status, payload);
  return payload;
}

function report(error) {
  if (!(error instanceof ProblemError)) { say(String(error)); return; }
  if (error.status === 401 || error.status === 403) { say(t("key.rejected", { detail: error.message })); return; }
  const fields = (error.problem.errors || []).map((e) => `${e.field}: ${e.message}`).join("; ");
  say(t("error.problem", { title: error.problem.title || error.status, detail: fields || error.message }));
}

async function busy(work) {
  say(t("busy"), true);
  try {
    await work();
    if ($("#status").textContent === t("busy")) say("");
  } catch (error) {
    report(error);
  }
}

function mask(address) {
  if (!address) return "";
  if (address.includes("@")) {
    const [user, domain] = address.split("@");
    return `${user.slice(0, 1)}•••@${domain}`;
  }
  return address.length > 8 ? `${address.slice(0, 5)}•••${address.slice(-4)}` : "•••";
}

function localTime(at, zones) {
  if (!zones || !zones.length) return "";
  return zones.map((zone) => {
    const text = new Intl.DateTimeFormat(state.lang === "zh" ? "zh-CN" : "en-GB", {
      timeZone: zone, year: "numeric", month: "2-digit", day: "2-digit", hour: "2-digit", minute: "2-digit",
    }).format(new Date(at));
    return `${text} (${zone})`;
  }).join("; ");
}

// Event types with a label of their own; the others are shown as recorded (officers search by them).
const LABELLED = new Set(["dispute_opened", "dispute_resolved"]);

function typeOf(type) {
  return LABELLED.has(type) ? t(`type.${type}`) : type;
}

function decisionOf(event) {
  const data = event.data || {};
  return data.outcome || typeOf(event.type);
}

function flagsOf(data) {
  const flags = [];
  if (data.placed_without_valid_permit) flags.push(t("flag.withoutPermit", { until: data.valid_until }));
  if (data.error_code === "NoCallOutcomeReported") flags.push(t("flag.noOutcome", { due: data.outcome_due }));
  return flags;
}

function disputeOf(event) {
  const data = event.data || {};
  if (event.type === "dispute_opened") return [t("dispute.opened", { id: data.dispute_id, account: data.account_id, matched: data.matched })];
  if (event.type === "dispute_resolved") return [t("dispute.resolved", { id: data.dispute_id, reason: data.reason })];
  return [];
}

function reasonsOf(event) {
  const data = event.data || {};
  return [...flagsOf(data), ...disputeOf(event), ...(data.reasons || []).map((r) => `${r.rule}: ${r.message} [${r.citation}]`)];
}

function remember(events) {
  for (const event of events) {
    const zones = ((event.data || {}).inputs || {}).zones;
    if (zones) state.zones[event.contact_id] = zones;
    if ((event.data || {}).to) state.zones[`to:${event.contact_id}`] = event.data.to;
  }
}

function row(event) {
  const tr = document.createElement("tr");
  tr.tabIndex = 0;
  const cells = [
    event.at.replace("+00:00", "Z"),
    localTime(event.at, state.zones[event.contact_id]),
    event.debtor_id,
    event.channel || "",
    typeOf(event.type),
    mask(state.zones[`to:${event.contact_id}`]),
    decisionOf(event),
    reasonsOf(event).join("\n"),
  ];
  for (const text of cells) {
    const td = document.createElement("td");
    td.textContent = text;
    tr.appendChild(td);
  }
  const open = () => showEvent(event);
  tr.addEventListener("click", open);
  tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); } });
  return tr;
}

function showEvent(event) {
  $("#event").hidden = false;
  $("#event-title").textContent = t("event.title", { seq: event.seq, debtor: event.debtor_id });
  $("#event-hash").textContent = event.hash;
  $("#event-prev").textContent = event.prev_hash;
  const data = { ...event.data };
  if (data.to) data.to = mask(data.to);
  $("#event-data").textContent = JSON.stringify({ type: event.type, contact_id: event.contact_id, at: event.at, data }, null, 2);
  $("#event-title").focus();
}

function searchPath(query, cursor) {
  const params = new URLSearchParams();
  // An address is searched alone: every contact to it, across debtors (the other filters do not combine).
  const used = query.address ? { address: query.address } : query;
  for (const [name, value] of Object.entries(used)) if (value) params.set(name, value);
  params.set("limit", "25");
  params.set("order", "desc");
  if (cursor) params.set("cursor", cursor);
  return `v1/audit/events?${params}`;
}

async function search(more) {
  if (!more) {
    const form = new FormData($("#search-form"));
    state.query = Object.fromEntries(form.entries());
    state.events = [];
    $("#events tbody").replaceChildren();
  }
  const page = await api("GET", searchPath(state.query, more ? state.cursor : null));
  remember(page.events);
  state.events.push(...page.events);
  const body = $("#events tbody");
  page.events.forEach((event) => body.appendChild(row(event)));
  state.cursor = page.cursor;
  $("#more").hidden = !page.cursor;
  $("#results-count").textContent = resultsText(state.events.length, page.cursor);
  if (!more) $("#results").focus();
}

// A page may hold no events and still a cursor: the read budget ran out before anything matched
// (docs/decisions/0026). That is "nothing yet, read on", never "no events".
function resultsText(count, cursor) {
  if (count) return t("search.count", { count });
  return cursor ? t("search.none_yet") : t("search.none");
}

async function allEvents(debtor) {
  const events = [];
  let cursor = null;
  do {
    const page = await api("GET", `${searchPath({ debtor_id: debtor }, cursor).replace("limit=25", "limit=1000").replace("order=desc", "order=asc")}`);
    events.push(...page.events);
    cursor = page.cursor;
  } while (cursor && events.length < 20000);
  return events;
}

const OUTCOME_OF = { sent: "sent", permitted: "sent", scheduled: "deferred", blocked: "blocked", refused: "blocked" };
const COLOURS = { sent: "#1e6b2e", deferred: "#b36b00", blocked: "#a00000" };
const HITS = /quiet|hours|frequency|per-week|per-month|per-day|calls|contacts/;

// A day as YYYY-MM-DD in ``zone`` (the debtor's local days) or in UTC.
function dayIn(at, zone) {
  return new Intl.DateTimeFormat("en-CA", { timeZone: zone || "UTC", year: "numeric", month: "2-digit", day: "2-digit" }).format(new Date(at));
}

function chart(events, zone = "UTC") {
  const days = new Map();
  for (const event of events) {
    const kind = OUTCOME_OF[event.type];
    const day = dayIn(event.at, zone);
    if (!days.has(day)) days.set(day, { sms: {}, email: {}, voice: {}, hit: false });
    const entry = days.get(day);
    if (kind && event.channel) entry[event.channel][kind] = (entry[event.channel][kind] || 0) + 1;
    if (event.type === "decided" && reasonsOf(event).some((r) => HITS.test(r.split(":")[0]))) entry.hit = true;
  }
  const ordered = [...days.entries()].sort(([a], [b]) => a.localeCompare(b));
  const max = Math.max(1, ...ordered.map(([, d]) => ["sms", "email", "voice"]
    .reduce((sum, c) => sum + Object.values(d[c]).reduce((a, b) => a + b, 0), 0)));
  const width = Math.max(320, ordered.length * 66 + 40), height = 220, base = 180;
  const svg = [`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" role="img" aria-labelledby="chart-title chart-desc">`,
    `<title id="chart-title">${t("timeline.legend")}</title><desc id="chart-desc">${t("timeline.caption")}</desc>`,
    `<line x1="24" y1="${base}" x2="${width - 6}" y2="${base}" stroke="#6b6b6b"/>`,
    `<text x="4" y="${base - 150 + 4}" font-size="10">${max}</text><text x="4" y="${base}" font-size="10">0</text>`];
  ordered.forEach(([day, d], i) => {
    const x = 30 + i * 66;
    ["sms", "email", "voice"].forEach((channel, j) => {
      let y = base;
      for (const kind of ["sent", "deferred", "blocked"]) {
        const n = d[channel][kind] || 0;
        if (!n) continue;
        const h = (n / max) * 150;
        y -= h;
        svg.push(`<rect class="bar ${kind}" data-day="${day}" data-channel="${channel}" data-kind="${kind}" x="${x + j * 18}" y="${y}" width="16" height="${h}" fill="${COLOURS[kind]}"><title>${day} ${channel} ${t(`timeline.${kind}`)}: ${n}</title></rect>`);
      }
      svg.push(`<text x="${x + j * 18 + 8}" y="${base + 12}" font-size="9" text-anchor="middle">${channel[0]}</text>`);
    });
    svg.push(`<text x="${x + 26}" y="${base + 26}" font-size="10" text-anchor="middle">${day.slice(5)}</text>`);
    if (d.hit) svg.push(`<text class="hit" x="${x + 26}" y="16" font-size="14" text-anchor="middle" fill="#7a0000">▲<title>${t("timeline.hit")}</title></text>`);
  });
  svg.push(`<text class="axis" x="${width / 2}" y="${height - 4}" font-size="10" text-anchor="middle">${t("timeline.axis", { zone })}</text>`);
  svg.push("</svg>");
  const legend = ["sent", "deferred", "blocked"].map((k) => `<span class="legend-swatch" style="background:${COLOURS[k]}"></span>${t(`timeline.${k}`)}`).join("");
  $("#chart").innerHTML = svg.join("") + `<p>${legend}</p>`;
}

// A STOP or an unsubscribe binds an address, not a person: the API is also asked about every address
// this debtor's events name, so one suppressed long ago (and blocked since) is still shown.
const MAX_ADDRESSES = 50;

function addressesOf(events) {
  const seen = new Map();
  for (const event of events) {
    const to = (event.data || {}).to;
    if (typeof to === "string" && to && !seen.has(to.toLowerCase())) seen.set(to.toLowerCase(), to);
  }
  return [...seen.values()].slice(0, MAX_ADDRESSES);
}

async function timeline() {
  const debtor = $("#timeline-debtor").value.trim();
  const events = await allEvents(debtor);
  $("#timeline").hidden = false;
  state.timeline = events;
  chartZones(events);
  if (events.length) chart(events, $("#chart-days").value); else $("#chart").textContent = t("timeline.empty");
  const addresses = addressesOf(events);
  const query = addresses.length ? `?${new URLSearchParams({ addresses: addresses.join(",") })}` : "";
  const answer = await api("GET", `v1/debtors/${encodeURIComponent(debtor)}/preferences${query}`);
  const now = consentNow(answer.preferences || {}, answer.address_suppressions || []);
  $("#consent").replaceChildren(...(now.length ? now : [t("consent.none")]).map(listItem));
  const changes = events.filter((e) => /preferences|opt|cease|attorney|dispute|unsubscribed/.test(e.type));
  $("#consent-history").replaceChildren(...changes.map((e) => listItem(changeOf(e))));
}

// The chart's days: UTC, or the local days of each zone the debtor's decisions were made in.
function chartZones(events) {
  const zones = new Set(events.flatMap((e) => (e.type === "decided" && e.data && e.data.inputs && e.data.inputs.zones) || []));
  const options = ["UTC", ...[...zones].sort()].map((zone) => {
    const option = document.createElement("option");
    option.value = zone;
    option.textContent = zone === "UTC" ? "UTC" : t("timeline.localDays", { zone });
    return option;
  });
  $("#chart-days").replaceChildren(...options);
}

function changeOf(event) {
  const data = event.data || {};
  const parts = [event.at, typeOf(event.type), data.source, data.actor, data.reason].filter(Boolean);
  return parts.join(" · ");
}

function since(at) {
  if (!at) return t("consent.undated");
  const when = new Date(at);
  return Number.isNaN(when.getTime()) ? at : `${when.toISOString().slice(0, 16).replace("T", " ")} UTC`;
}

function accountOf(item) {
  return !item.account_id || item.account_id === "*" ? t("consent.everyAccount") : item.account_id;
}

function channelOf(channel) {
  return t(`channel.${channel}`);
}

function optOutOf(optOut) {
  const values = { channel: channelOf(optOut.channel), address: mask(optOut.address || ""), since: since(optOut.at) };
  return optOut.address ? t("consent.optOut", values) : t("consent.prohibitedMedium", values);
}

function suppressionOf(found) {
  const source = ["sms-reply", "email-unsubscribe", "ses-bounce", "ses-complaint", "delivery-failures"].includes(found.source) ? found.source : "other";
  return t(`suppressed.${source}`, {
    channel: channelOf(found.channel),
    address: mask(found.address || ""),
    since: since(found.at),
    scope: t(`scope.${found.scope === "shared" ? "shared" : "tenant"}`),
  });
}

function consentNow(prefs, suppressions) {
  const now = [];
  for (const dispute of prefs.disputes || []) {
    now.push(t("consent.dispute", { id: dispute.dispute_id, account: dispute.account_id, since: dispute.opened_at }));
  }
  for (const cease of prefs.cease || []) now.push(t("consent.cease", { account: accountOf(cease), since: since(cease.at) }));
  for (const attorney of prefs.attorney || []) {
    now.push(t("consent.attorney", { account: accountOf(attorney), since: since(attorney.at) }));
  }
  for (const optOut of prefs.opt_outs || []) now.push(optOutOf(optOut));
  for (const found of suppressions) now.push(suppressionOf(found));
  for (const item of prefs.inconvenient_times || []) {
    const days = (item.days || []).map((day) => t(`day.${day}`)).join(", ") || t("consent.everyDay");
    now.push(t("consent.inconvenient", { start: item.start, end: item.end, days }));
  }
  for (const consent of prefs.consents || []) {
    now.push(t("consent.consent", { channel: channelOf(consent.channel), account: accountOf(consent), start: since(consent.start), until: since(consent.until) }));
  }
  return now;
}

function listItem(text) {
  const li = document.createElement("li");
  li.textContent = text;
  return li;
}

async function verify() {
  const debtor = $("#timeline-debtor").value.trim();
  const result = await api("GET", `v1/audit/verify?debtor_id=${encodeURIComponent(debtor)}`);
  $("#timeline").hidden = false;
  const out = $("#verify-result");
  if (result.ok) {
    out.className = "ok";
    out.textContent = t("verify.ok", { checked: result.checked, anchors: result.anchors_checked || 0 });
  } else {
    out.className = "broken";
    const seq = result.broken_at ?? "?";
    out.textContent = t("verify.broken", { seq, problem: result.problem || JSON.stringify(result) });
  }
}

async function exportHistory() {
  const form = new FormData($("#export-form"));
  const formats = form.getAll("formats");
  const job = await api("POST", "v1/exports", { debtor_id: form.get("debtor_id"), formats });
  const status = $("#export-status");
  let view = job;
  for (let i = 0; i < 600 && !["done", "failed", "expired"].includes(view.status); i++) {
    status.textContent = t("export.status", { id: job.export_id, status: view.status });
    await new Promise((resolve) => setTimeout(resolve, 1000));
    view = await api("GET", `v1/exports/${job.export_id}`);
    const p = view.progress || {};
    if (view.status === "running") status.textContent += ` · ${t("export.progress", { events: p.events || 0, chains: p.chains || 0, total: p.chains_total ?? "?" })}`;
  }
  status.textContent = t("export.status", { id: job.export_id, status: view.status });
  const files = (view.files || []).map((file) => {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.textContent = t("export.download", { name: file.name });
    button.addEventListener("click", () => busy(() => download(file)));
    li.appendChild(button);
    li.append(` ${file.bytes ?? ""} B · sha256 ${file.sha256 || ""}`);
    return li;
  });
  $("#export-files").replaceChildren(...files);
}

async function download(file) {
  // The link is presigned for the bundle's bucket; the file is fetched and handed over as a local blob,
  // so it is saved under its own name whatever the bucket's host.
  const answer = await fetch(file.url);
  if (!answer.ok) throw new ProblemError(answer.status, { title: "", detail: file.name });
  const link = document.createElement("a");
  link.href = URL.createObjectURL(await answer.blob());
  link.download = file.name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  say(t("export.downloaded", { name: file.name }), true);
}

async function whatIf() {
  const form = Object.fromEntries(new FormData($("#whatif-form")).entries());
  const body = { debtor_id: form.debtor_id, account_id: form.account_id, channel: form.channel, to: form.to.trim() };
  const location = {};
  if (form.country) location.country = form.country.toUpperCase();
  if (form.subdivision) location.subdivision = form.subdivision.toUpperCase();
  if (form.postal_code.trim()) location.postal_code = form.postal_code.trim();
  if (form.timezone.trim()) location.timezone = form.timezone.trim();
  if (Object.keys(location).length) body.location = location;
  if (form.channel !== "voice") body.message = { body: form.message || "A reminder about your account. Reply STOP to opt out." };
  body.at = new Date(form.at).toISOString();
  const decision = await api("POST", "v1/contacts/evaluate", body);
  $("#whatif-outcome").textContent = t("whatif.result", { outcome: decision.outcome });
  $("#whatif-not-before").textContent = decision.not_before ? t("whatif.not_before", { when: decision.not_before }) : "";
  $("#whatif-zones").textContent = t("whatif.zones", { zones: (decision.zones || []).join(", ") });
  $("#whatif-reasons").replaceChildren(...decision.reasons.map((r) => listItem(`${r.rule}: ${r.message} [${r.citation}]`)));
}

function on(selector, event, work) {
  $(selector).addEventListener(event, (e) => { e.preventDefault(); busy(work); });
}

document.addEventListener("DOMContentLoaded", async () => {
  await setLanguage(sessionStorage.getItem("console.lang") || (navigator.language.startsWith("zh") ? "zh" : "en"));
  $("#language").addEventListener("change", (e) => setLanguage(e.target.value));
  $("#key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    sessionStorage.setItem("console.key", $("#api-key").value.trim());
    $("#api-key").value = "";
    say(t("key.saved"), true);
  });
  $("#forget-key").addEventListener("click", () => { sessionStorage.removeItem("console.key"); say(""); });
  on("#search-form", "submit", () => search(false));
  on("#more", "click", () => search(true));
  $("#event-close").addEventListener("click", () => { $("#event").hidden = true; });
  on("#timeline-form", "submit", timeline);
  $("#chart-days").addEventListener("change", (e) => { if (state.timeline && state.timeline.length) chart(state.timeline, e.target.value); });
  on("#verify", "click", verify);
  on("#export-form", "submit", exportHistory);
  on("#whatif-form", "submit", whatIf);
});
