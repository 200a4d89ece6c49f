// The console's templates page: drafts awaiting approval, a preview with its content findings, approve and
// retire. The public template routes only, with the officer's key (console.js: api, busy, say, t, $).
"use strict";

window.consolePages = window.consolePages || [];
window.consolePages.push({ id: "templates", label: "nav.templates", sections: ["templates"] });

const templatesState = { template: null, version: null };

// A value to preview each variable type with, until the officer types another.
const SAMPLES = {
  amount: "120.00",
  date: new Date().toISOString().slice(0, 10),
  creditor: "Acme Bank",
  agency: "North Recovery",
  payment_link: "https://pay.example.com/a-1",
  phone: "+14045550100",
  integer: "30",
  string: "",
};

function cell(text) {
  const td = document.createElement("td");
  td.textContent = text;
  return td;
}

function versionRow(template, version) {
  const tr = document.createElement("tr");
  tr.tabIndex = 0;
  tr.dataset.template = template.template_id;
  tr.dataset.version = String(version.version);
  tr.dataset.status = version.status;
  tr.append(
    cell(template.name),
    cell(template.channel),
    cell(`v${version.version}`),
    cell(version.locale),
    cell(t(`templates.status.${version.status}`)),
    cell(version.created_by),
    cell(version.created_at.replace("+00:00", "Z")),
  );
  const open = () => busy(() => openVersion(template.template_id, version.version));
  tr.addEventListener("click", open);
  tr.addEventListener("keydown", (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); open(); } });
  return tr;
}

async function loadTemplates() {
  const answer = await api("GET", "v1/templates");
  const rows = [];
  for (const template of answer.templates) {
    for (const version of template.versions) rows.push([template, version]);
  }
  // Drafts first: they are what awaits an officer.
  rows.sort(([, a], [, b]) => (a.status === "draft" ? 0 : 1) - (b.status === "draft" ? 0 : 1));
  const drafts = rows.filter(([, v]) => v.status === "draft").length;
  $("#templates-count").textContent = t("templates.count", { drafts, versions: rows.length });
  $("#templates-list tbody").replaceChildren(...rows.map(([template, version]) => versionRow(template, version)));
}

function variableInput(name, type) {
  const label = document.createElement("label");
  const span = document.createElement("span");
  span.textContent = `${name} (${type})`;
  const input = document.createElement("input");
  input.name = name;
  input.dataset.type = type;
  input.value = SAMPLES[type] ?? "";
  label.append(span, input);
  return label;
}

async function openVersion(templateId, number) {
  const template = await api("GET", `v1/templates/${encodeURIComponent(templateId)}`);
  const version = template.versions.find((v) => v.version === number);
  templatesState.template = template;
  templatesState.version = version;
  $("#template-title").textContent = t("templates.opened", { name: template.name, version: number, locale: version.locale });
  $("#template-status").textContent = t(`templates.status.${version.status}`);
  $("#template-author").textContent = version.created_by;
  $("#template-subject").textContent = version.subject || "";
  $("#template-text").textContent = version.text;
  $("#template-variables").replaceChildren(...Object.entries(version.variables).map(([n, type]) => variableInput(n, type)));
  $("#template-approve").disabled = version.status !== "draft";
  $("#template-retire").disabled = version.status === "retired";
  $("#template-preview-text").textContent = "";
  $("#template-segments").textContent = "";
  $("#template-findings").replaceChildren();
  $("#template").hidden = false;
  $("#template-title").focus();
}

function variableValues() {
  const values = {};
  for (const input of document.querySelectorAll("#template-variables input")) {
    const type = input.dataset.type;
    values[input.name] = type === "integer" && input.value.trim() !== "" ? Number(input.value) : input.value;
  }
  return values;
}

function showFindings(findings) {
  const items = findings.map((f) => listItem(t("templates.finding", { rule: f.rule, citation: f.citation, span: f.span })));
  if (!items.length) items.push(listItem(t("templates.no_findings")));
  $("#template-findings").replaceChildren(...items);
  $("#template-findings").classList.toggle("broken", findings.length > 0);
}

async function previewVersion() {
  const { template, version } = templatesState;
  const path = `v1/templates/${encodeURIComponent(template.template_id)}/versions/${version.version}/preview`;
  const answer = await api("POST", path, { variables: variableValues() });
  $("#template-preview-text").textContent = answer.text;
  $("#template-segments").textContent = answer.segments
    ? t("templates.segments", { segments: answer.segments, encoding: answer.encoding })
    : "";
  showFindings(answer.findings);
}

async function moveVersion(step) {
  const { template, version } = templatesState;
  const path = `v1/templates/${encodeURIComponent(template.template_id)}/versions/${version.version}/${step}`;
  try {
    const answer = await api("POST", path);
    say(t(`templates.${step}d`, { version: answer.version, status: t(`templates.status.${answer.status}`) }), true);
  } catch (error) {
    if (error instanceof ProblemError && error.status === 422) showFindings(error.problem.errors || []);
    throw error;
  }
  await loadTemplates();
  await openVersion(template.template_id, version.version);
}

document.addEventListener("DOMContentLoaded", () => {
  on("#templates-load", "click", loadTemplates);
  on("#template-preview", "click", previewVersion);
  on("#template-approve", "click", () => moveVersion("approve"));
  on("#template-retire", "click", () => moveVersion("retire"));
});
