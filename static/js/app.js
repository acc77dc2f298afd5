// AgentScope: the little behaviour pages need beyond htmx. Every page works without it; this adds
// toasts, dialogs, confirmations, copy buttons and the mobile sidebar.
(() => {
  "use strict";
  document.documentElement.classList.add("js");
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  // ---- toasts: Django messages arrive rendered; htmx responses send HX-Trigger {"toast": {...}}
  const LEVELS = ["success", "error", "warning", "info"];

  function dismiss(toast) {
    if (!toast.isConnected || toast.classList.contains("is-leaving")) return;
    toast.classList.add("is-leaving");
    toast.addEventListener("animationend", () => toast.remove(), { once: true });
  }

  function arm(toast) {
    if (toast.dataset.armed) return;
    toast.dataset.armed = "1";
    const wait = toast.classList.contains("toast-error") ? 9000 : 5000;
    let timer = setTimeout(() => dismiss(toast), wait);
    toast.addEventListener("mouseenter", () => clearTimeout(timer));
    toast.addEventListener("mouseleave", () => { timer = setTimeout(() => dismiss(toast), 2500); });
  }

  function showToast(level, message) {
    const template = $("#toast-template");
    if (!template || !message) return;
    const kind = LEVELS.includes(level) ? level : "info";
    const toast = template.content.firstElementChild.cloneNode(true);
    toast.classList.add(`toast-${kind}`);
    $$("[data-level]", toast).forEach((icon) => { if (icon.dataset.level !== kind) icon.remove(); });
    $(".toast-body", toast).textContent = message;
    $("#toasts").append(toast);
    arm(toast);
  }
  // Brings an element (a form's first error, a result) into view: smoothly, unless the person asked
  // their system for less motion.
  function reveal(element, block = "nearest") {
    const smooth = !window.matchMedia("(prefers-reduced-motion: reduce)").matches;
    element.scrollIntoView({ block, behavior: smooth ? "smooth" : "auto" });
  }

  // ---- live durations: [data-since] (epoch ms of a start) counts up every second on the server's
  // clock (the page's data-server-now, set against the browser's once). The run's length, a running
  // step's and a pause's come from different polls; counted from their starts on one clock they agree
  // (a step never reads longer than its run) instead of each freezing at its poll's moment.
  const serverOffset = Number(document.body.dataset.serverNow || Date.now()) - Date.now();

  // Like the `duration` template filter (apps/core/templatetags/ui.py).
  function formatDuration(ms) {
    if (ms < 1) return "<1 ms";
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const seconds = ms / 1000;
    if (seconds < 60) return seconds < 10 ? `${seconds.toFixed(2)} s` : `${seconds.toFixed(1)} s`;
    const minutes = Math.floor(seconds / 60);
    const pad = (n) => String(n).padStart(2, "0");
    if (minutes < 60) return `${minutes}m ${pad(Math.floor(seconds) % 60)}s`;
    return `${Math.floor(minutes / 60)}h ${pad(minutes % 60)}m`;
  }

  function tick() {
    const now = Date.now() + serverOffset;
    for (const element of $$("[data-since]")) {
      element.textContent = formatDuration(Math.max(0, now - Number(element.dataset.since)));
    }
  }
  setInterval(tick, 1000);

  window.agentscope = { toast: showToast, reveal, formatDuration };

  document.body.addEventListener("toast", (event) => showToast(event.detail.level, event.detail.message));

  // ---- dialogs: invoker commands where the browser has them, data-dialog-open elsewhere
  const hasInvokers = "commandForElement" in HTMLButtonElement.prototype;

  function openDialog(dialog) {
    if (!dialog) return;
    if (dialog.open) dialog.close();
    dialog.showModal();
    const focus = $("[autofocus]", dialog);
    if (focus) focus.focus();
  }

  // Elements matching `selector` in `root`, root included (htmx:load hands over each swapped element).
  const within = (root, selector) => [...(root.matches?.(selector) ? [root] : []), ...$$(selector, root)];

  function setUp(root) {
    if (within(root, "[data-since]").length) tick(); // every live duration read at one instant, new ones too
    within(root, ".toast").forEach(arm);
    within(root, "dialog[data-autoshow]").forEach((dialog) => {
      dialog.removeAttribute("data-autoshow");
      openDialog(dialog);
    });
    within(root, "[data-confirm-match]").forEach(syncMatch);
  }

  // ---- type-to-confirm: the submit button stays disabled until the input equals the expected text
  function syncMatch(input) {
    const button = $(input.dataset.confirmButton);
    if (button) button.disabled = input.value.trim() !== input.dataset.confirmMatch;
  }

  // ---- copy buttons: data-copy="text", data-copy-target="#id" (value or text), or a JSON viewer's source
  async function copy(button) {
    let text = button.dataset.copy;
    if (text === undefined && button.dataset.copyTarget) {
      const target = $(button.dataset.copyTarget);
      text = target ? (target.value ?? target.textContent) : "";
    }
    if (text === undefined) {
      const source = $('script[type="application/json"]', button.closest("[data-json-viewer]"));
      text = source ? JSON.stringify(JSON.parse(source.textContent), null, 2) : "";
    }
    try {
      await navigator.clipboard.writeText(text.trim());
      button.classList.add("is-copied");
      const label = $(".copy-label", button);
      const before = label ? label.textContent : null;
      if (label) label.textContent = "Copied";
      setTimeout(() => {
        button.classList.remove("is-copied");
        if (label) label.textContent = before;
      }, 1600);
    } catch {
      showToast("error", "Couldn't copy: select the text and copy it by hand.");
    }
  }

  // ---- folded text (long JSON strings, long messages): <span class="fold">head<span class="fold-rest">…
  function toggleFold(button) {
    const open = button.closest(".fold").classList.toggle("is-open");
    if (!button.dataset.more) button.dataset.more = button.textContent;
    button.textContent = open ? (button.dataset.less || "show less") : button.dataset.more;
    button.setAttribute("aria-expanded", String(open));
  }

  // ---- confirmation: <form data-confirm="message"> asks in #confirm-dialog before it submits
  function confirmSubmit(form, submitter) {
    const dialog = $("#confirm-dialog");
    $("[data-confirm-title]", dialog).textContent = form.dataset.confirmTitle || "Are you sure?";
    $("[data-confirm-message]", dialog).textContent = form.dataset.confirm;
    $("[data-confirm-button]", dialog).textContent = form.dataset.confirmLabel || "Confirm";
    dialog.returnValue = "";
    dialog.addEventListener("close", () => {
      if (dialog.returnValue !== "confirm") return;
      form.dataset.confirmed = "1";
      form.requestSubmit(submitter && submitter.form === form ? submitter : undefined);
    }, { once: true });
    openDialog(dialog);
  }

  // A filter bar's search box asks for results as it is typed in (its "input" trigger): the "change"
  // it fires when it loses focus would ask again, and that answer's pushed URL would cancel the click
  // (on a result) that took the focus away.
  document.addEventListener("change", (event) => {
    if (event.target.matches?.("form[data-drop-empty] input[type=search]")) event.stopPropagation();
  }, true);

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.dataset.confirm) return;
    if (form.dataset.confirmed) {
      delete form.dataset.confirmed;
      return;
    }
    event.preventDefault();
    event.stopImmediatePropagation();
    confirmSubmit(form, event.submitter);
  }, true);

  document.addEventListener("click", (event) => {
    const target = event.target;
    const copyButton = target.closest("[data-copy], [data-copy-target], [data-json-copy]");
    if (copyButton) copy(copyButton);

    const toastClose = target.closest(".toast-close");
    if (toastClose) dismiss(toastClose.closest(".toast"));

    const invoker = target.closest("[commandfor]");
    if (invoker && !hasInvokers) {
      const dialog = document.getElementById(invoker.getAttribute("commandfor"));
      if (invoker.getAttribute("command") === "show-modal") openDialog(dialog);
      if (invoker.getAttribute("command") === "close" && dialog) dialog.close();
    }

    const fold = target.closest("[data-fold-toggle]");
    if (fold) toggleFold(fold);

    const tree = target.closest("[data-json-expand], [data-json-collapse]");
    if (tree) {
      const open = tree.hasAttribute("data-json-expand");
      $$("details", tree.closest("[data-json-viewer]")).forEach((node) => { node.open = open; });
    }

    // closedby="any" where the browser lacks it: a click on the backdrop closes the dialog.
    if (target instanceof HTMLDialogElement && target.getAttribute("closedby") === "any" && !("closedBy" in target)) {
      const box = target.getBoundingClientRect();
      const inside = event.clientX >= box.left && event.clientX <= box.right
        && event.clientY >= box.top && event.clientY <= box.bottom;
      if (!inside) target.close();
    }

    // Menus (<details class="menu">) close when the click lands elsewhere.
    $$("details.menu[open]").forEach((menu) => { if (!menu.contains(target)) menu.open = false; });

    if (target.closest("[data-sidebar-toggle]")) toggleSidebar();
    if (target.closest("[data-sidebar-close]")) toggleSidebar(false);
  });

  document.addEventListener("input", (event) => {
    if (event.target.matches("[data-confirm-match]")) syncMatch(event.target);
  });

  // ---- the project switcher navigates as soon as a project is chosen
  document.addEventListener("change", (event) => {
    if (event.target.matches("select[data-autosubmit]")) event.target.form.requestSubmit();
  });

  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape") return;
    $$("details.menu[open]").forEach((menu) => { menu.open = false; });
    toggleSidebar(false);
  });

  // ---- the sidebar on narrow screens
  function toggleSidebar(force) {
    const open = document.body.classList.toggle("sidebar-open", force);
    const button = $("[data-sidebar-toggle]");
    if (button) button.setAttribute("aria-expanded", String(open));
  }

  document.addEventListener("htmx:load", (event) => setUp(event.detail.elt));
  setUp(document);
})();
