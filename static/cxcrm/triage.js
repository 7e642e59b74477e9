// The triage queue (feedback.admin.triage): "select all" for the bulk actions, and a filter
// applied as soon as it is picked. Without JavaScript the page works with its buttons.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.getElementById("action-toggle");
  if (toggle) {
    toggle.addEventListener("change", () => {
      for (const box of document.querySelectorAll("#result_list .action-select")) {
        box.checked = toggle.checked;
      }
    });
  }
  const filters = document.getElementById("cx-triage-filters");
  if (filters) {
    for (const select of filters.querySelectorAll("select")) {
      select.addEventListener("change", () => filters.submit());
    }
  }
});
