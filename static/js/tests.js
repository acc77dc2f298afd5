// AgentScope — the Tests pages. Everything works without this file (the editor's buttons post to the
// server); it makes adding and removing checks instant, closes the editor dialog on Cancel, lets a
// history row be clicked anywhere, and lets htmx show the message of a refused "Run now" (409).
(() => {
  "use strict";
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  // Rows are numbered for people ("Check 3"); the server reads them in order, so only labels change.
  function renumber(editor) {
    $$("[data-check-row]", editor).forEach((row, index) => {
      $$("[data-check-name]", row).forEach((name) => { name.textContent = `Check ${index + 1}`; });
      const remove = $("[data-check-remove]", row);
      if (remove) {
        remove.value = `remove_check:${index}`;
        remove.setAttribute("aria-label", `Remove check ${index + 1}`);
      }
    });
  }

  function addCheck(editor) {
    const template = $("template[data-check-template]", editor);
    const rows = $("[data-check-rows]", editor);
    if (!template || !rows) return false;
    const row = template.content.firstElementChild.cloneNode(true);
    rows.append(row);
    renumber(editor);
    const kind = $("select[name='check_kind']", row);
    if (kind) kind.focus();
    return true;
  }

  function removeCheck(button) {
    const editor = button.closest("[data-test-editor]");
    const row = button.closest("[data-check-row]");
    if (!editor || !row) return false;
    const next = row.nextElementSibling || row.previousElementSibling;
    row.remove();
    renumber(editor);
    const focus = next ? $("select[name='check_kind']", next) : $("[data-check-add]", editor);
    if (focus) focus.focus();
    return true;
  }

  document.addEventListener("click", (event) => {
    const target = event.target;
    const add = target.closest("[data-check-add]");
    if (add && addCheck(add.closest("[data-test-editor]"))) event.preventDefault();

    const remove = target.closest("[data-check-remove]");
    if (remove && removeCheck(remove)) event.preventDefault();

    // Cancel / close in the dialog closes it; on the editor's own page it is a link back.
    const cancel = target.closest("[data-editor-cancel]");
    const dialog = cancel && cancel.closest("dialog");
    if (dialog) {
      event.preventDefault();
      dialog.close();
    }

    // A history row opens its result wherever it is clicked (its first link has the href and hx-get).
    const row = target.closest("tr[data-row-link]");
    if (row && !target.closest("a, button, input, select, summary")) {
      const anchor = $("[data-row-anchor]", row);
      if (anchor) anchor.click();
    }
  });

  // htmx leaves 4xx answers unswapped; "Run now" answers 409 (no run to judge) with a message to show.
  document.addEventListener("htmx:beforeSwap", (event) => {
    const source = event.detail.requestConfig && event.detail.requestConfig.elt;
    if (event.detail.xhr.status >= 400 && event.detail.xhr.status < 500 && source && source.closest("[data-swap-errors]")) {
      event.detail.shouldSwap = true;
      event.detail.isError = false;
    }
  });

  // When the server sends the editor back with errors, bring the first one into view.
  document.addEventListener("htmx:load", (event) => {
    const editor = event.detail.elt;
    if (!editor || !editor.matches || !editor.matches("[data-test-editor]")) return;
    const problem = $(".test-editor-summary, .callout-error, [aria-invalid='true'], .field-errors", editor);
    if (problem) window.agentscope.reveal(problem);
  });
})();
