// The ticket workspace: saved replies into the reply box, and the keyboard shortcuts
// r (reply), n (note), j (next ticket), ? (help). Keys typed into a field are left alone.
"use strict";
document.addEventListener("DOMContentLoaded", () => {
  const root = document.getElementById("cx-workspace");
  if (!root) return;
  const reply = document.querySelector("#cx-reply-form textarea");
  const noteBox = document.getElementById("cx-note-box");
  const help = document.getElementById("cx-shortcuts");
  const data = document.getElementById("cx-saved-replies");
  const picker = document.getElementById("cx-saved-reply");

  if (picker && data && reply) {
    const texts = new Map(JSON.parse(data.textContent).map((r) => [r.id, r.text]));
    picker.addEventListener("change", () => {
      const text = texts.get(picker.value);
      if (text === undefined) return;
      // Added at the cursor, so a greeting typed first is kept.
      const at = reply.selectionStart ?? reply.value.length;
      reply.value = reply.value.slice(0, at) + text + reply.value.slice(reply.selectionEnd ?? at);
      picker.value = "";
      reply.focus();
      reply.setSelectionRange(at + text.length, at + text.length);
    });
  }

  const toggleHelp = () => { help.hidden = !help.hidden; };
  document.querySelectorAll("[data-cx-help]").forEach((b) => b.addEventListener("click", toggleHelp));

  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.closest("input, textarea, select, [contenteditable]")) return;
    if (event.key === "Escape" && !help.hidden) { help.hidden = true; return; }
    switch (event.key) {
      case "r":
        if (!reply) return;
        reply.focus();
        break;
      case "n":
        if (!noteBox) return;
        noteBox.open = true;
        noteBox.querySelector("textarea").focus();
        break;
      case "j":
        if (!root.dataset.nextUrl) return;
        window.location.assign(root.dataset.nextUrl);
        break;
      case "?":
        toggleHelp();
        break;
      default:
        return;
    }
    event.preventDefault();
  });
});
