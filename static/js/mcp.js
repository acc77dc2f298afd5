// AgentScope — the MCP inspector. Everything works without this file (rows and cards are links, the
// dialogs are pages of their own); it lets a whole log row be clicked, drops empty filters from the
// URL it pushes, and closes a dialog in place, putting back the URL of the tab under it.
(() => {
  "use strict";

  document.addEventListener("htmx:configRequest", (event) => {
    if (!event.detail.elt.matches?.("form[data-drop-empty]")) return;
    const params = event.detail.parameters;
    for (const key of Object.keys(params)) {
      if (params[key] === "") delete params[key];
    }
  });

  document.addEventListener("click", (event) => {
    const close = event.target.closest("[data-dialog-close]");
    const dialog = close?.closest("dialog[open]");
    if (close && dialog) {
      event.preventDefault();
      dialog.close();
      return;
    }
    const row = event.target.closest("tr.mcp-clickable");
    if (row && !event.target.closest("a, button, input, select")) {
      row.querySelector(".row-link")?.click();
    }
  });

  // A dialog opened from its deep link (/mcp/tools/<id>) leaves the URL of the tab it sits on when closed.
  document.addEventListener("close", (event) => {
    const dialog = event.target;
    // app.js closes a dialog rendered open before it shows it as a modal: that close is no leaving.
    if (!(dialog instanceof HTMLDialogElement) || !dialog.matches("[data-mcp-dialog]") || dialog.open) return;
    if (location.pathname.replace(/\/$/, "") === dialog.dataset.deepLink) {
      history.replaceState(history.state, "", dialog.dataset.returnUrl);
    }
    dialog.remove();
  }, true);
})();
