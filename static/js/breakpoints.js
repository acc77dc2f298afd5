// Breakpoints: the editor's condition inputs follow its type at once, example expressions fill the
// box, toggles flip before the server answers, and JSON boxes say whether they parse. Everything
// also works without this file: the server renders the right inputs and checks the JSON.
(() => {
  "use strict";
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  function showGroup(select) {
    const form = select.form;
    $$("[data-condition-group]", form).forEach((group) => {
      group.hidden = group.dataset.conditionGroup !== select.value;
    });
    const result = $("#bp-test-result", form);
    if (result) result.replaceChildren(); // a result for another condition would mislead
  }

  function checkJson(box) {
    const status = $("[data-json-status]", box.closest(".field"));
    if (!status) return;
    const text = box.value.trim();
    status.className = "bp-json-status";
    if (!text) {
      status.textContent = "";
      return;
    }
    try {
      JSON.parse(text);
      status.textContent = "Valid JSON";
      status.classList.add("is-valid");
    } catch (error) {
      status.textContent = `Not valid JSON yet: ${error.message}`;
      status.classList.add("is-invalid");
    }
  }

  document.addEventListener("change", (event) => {
    if (event.target.matches("select[data-bp-type]")) showGroup(event.target);
  });

  document.addEventListener("input", (event) => {
    if (event.target.matches("[data-json-box]")) checkJson(event.target);
  });

  document.addEventListener("click", (event) => {
    const example = event.target.closest("[data-bp-example]");
    if (example) {
      const box = $('textarea[name="expression"]', example.form);
      box.value = example.dataset.bpExample;
      box.focus();
      box.dispatchEvent(new Event("input", { bubbles: true }));
    }
    const close = event.target.closest("[data-bp-close]");
    const dialog = close && close.closest("dialog");
    if (dialog && dialog.matches(":modal")) {
      event.preventDefault();
      dialog.close();
    }
  });

  // The switch flips as it is pressed; the row the server sends back confirms it (or puts it back).
  const toggleSwitch = (event) => {
    const form = event.detail.elt;
    return form.matches?.(".bp-toggle") ? $(".switch", form) : null;
  };
  const flip = (button) => button.setAttribute("aria-checked", String(button.getAttribute("aria-checked") !== "true"));
  document.addEventListener("htmx:beforeRequest", (event) => {
    const button = toggleSwitch(event);
    if (button) flip(button);
  });
  document.addEventListener("htmx:afterRequest", (event) => {
    const button = toggleSwitch(event);
    if (button && !event.detail.successful) {
      flip(button);
      window.agentscope?.toast("error", "Couldn't change the breakpoint. Reload the page and try again.");
    }
  });

  // A test result appears below the fold of a long editor: bring it into view.
  document.addEventListener("htmx:afterSwap", (event) => {
    if (event.detail.target.id === "bp-test-result") window.agentscope.reveal(event.detail.target);
  });

  // Ctrl/Cmd+Enter in the editor's expression box saves, as in most code editors.
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    const form = event.target.closest?.("form[data-bp-editor]");
    if (form) {
      event.preventDefault();
      form.requestSubmit();
    }
  });
})();
