// The console's pages and their navigation. A page is {id, label, sections}: the i18n key of its name and
// the ids of the page's forms and sections. A page of another file adds itself to `consolePages` (before
// DOMContentLoaded, as every script here is deferred); the navigation lists them in that order.
"use strict";

window.consolePages = window.consolePages || [];
window.consolePages.unshift(
  { id: "dashboard", label: "nav.dashboard", sections: ["dashboard-form", "dashboard"] },
  { id: "search", label: "nav.search", sections: ["search-form", "results", "event"] },
  { id: "debtor", label: "nav.debtor", sections: ["timeline-form", "standing", "timeline"] },
  { id: "exports", label: "nav.exports", sections: ["export-form", "export"] },
  { id: "what-if", label: "nav.whatif", sections: ["whatif-form", "whatif"] },
);

function showPage(id) {
  const pages = window.consolePages;
  const current = pages.find((page) => page.id === id) || pages[0];
  for (const page of pages) {
    for (const section of page.sections) {
      const node = document.getElementById(section);
      if (node) node.classList.toggle("off-page", page !== current);
    }
  }
  document.querySelectorAll("#pages a").forEach((link) => {
    if (link.dataset.page === current.id) link.setAttribute("aria-current", "page");
    else link.removeAttribute("aria-current");
  });
  document.dispatchEvent(new CustomEvent("console:page", { detail: current.id }));
}

document.addEventListener("DOMContentLoaded", () => {
  const list = document.createElement("ul");
  for (const page of window.consolePages) {
    const link = document.createElement("a");
    link.href = `#${page.id}`;
    link.dataset.page = page.id;
    link.dataset.i18n = page.label;
    link.textContent = page.id;
    const item = document.createElement("li");
    item.appendChild(link);
    list.appendChild(item);
  }
  document.getElementById("pages").replaceChildren(list);
  window.addEventListener("hashchange", () => showPage(location.hash.slice(1)));
  showPage(location.hash.slice(1));
});
