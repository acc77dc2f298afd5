// AgentScope runs pages: filter forms that keep URLs short, and the run debugger's timeline
// (selection, j/k and arrow keys, collapsible nesting, waterfall scale) and inspector tabs.
// Loading, paging and live updates are htmx; without this file every link still works.
(() => {
  "use strict";
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));
  const TAB_KEY = "agentscope.inspector-tab";

  // ---- forms marked data-drop-empty leave empty fields out, so the URL they push stays shareable
  document.addEventListener("htmx:configRequest", (event) => {
    if (!event.detail.elt.matches?.("form[data-drop-empty]")) return;
    const params = event.detail.parameters;
    for (const key of Object.keys(params)) {
      if (params[key] === "") delete params[key];
    }
  });

  // ---- the timeline
  const rows = () => $$("#timeline-rows > .tl-row");
  const collapsed = new Set();
  // The step asked for and not yet in the inspector. Redraws that land meanwhile (a poll, rows swapped
  // out of band) mark it rather than the step the inspector still shows, so a quick j j j isn't undone.
  let pending = null;

  function reveal(row, center) {
    const box = $("#tl-scroll");
    if (!box || !row) return;
    const top = row.offsetTop;
    const bottom = top + row.offsetHeight;
    if (center) box.scrollTop = top - box.clientHeight / 2 + row.offsetHeight / 2;
    else if (top < box.scrollTop) box.scrollTop = top;
    else if (bottom > box.scrollTop + box.clientHeight) box.scrollTop = bottom - box.clientHeight;
  }

  function mark(row) {
    for (const other of $$("#timeline-rows > .is-selected")) {
      other.classList.remove("is-selected");
      $(".tl-link", other)?.removeAttribute("aria-current");
    }
    if (!row) return;
    row.classList.add("is-selected");
    $(".tl-link", row).setAttribute("aria-current", "step");
  }

  function rowFor(index) {
    return index === "" ? $("#timeline-rows > .tl-root") : document.getElementById(`step-${index}`);
  }

  function select(row) {
    if (!row) return;
    mark(row);
    reveal(row, false);
    $(".tl-link", row).click(); // htmx loads it into the inspector (the link's hx-get)
  }

  function move(by) {
    const list = rows().filter((row) => !row.hidden);
    const current = list.findIndex((row) => row.classList.contains("is-selected"));
    const next = list[current === -1 ? 0 : current + by];
    if (next) return select(next);
    const more = by > 0 ? $("#tl-after a[hx-get]") : $("#tl-before a[hx-get]");
    if (more) more.click();
  }

  // Nesting: a row hides while any ancestor loaded on the page is collapsed.
  function applyFold() {
    const byId = new Map(rows().filter((row) => row.dataset.id).map((row) => [row.dataset.id, row]));
    for (const row of rows()) {
      let parent = row.dataset.parent;
      let hidden = false;
      for (let hops = 0; parent && hops < 256 && !hidden; hops += 1) {
        hidden = collapsed.has(parent);
        parent = byId.get(parent)?.dataset.parent;
      }
      row.hidden = hidden;
      const caret = $(".tl-caret", row);
      if (caret) {
        const open = !collapsed.has(row.dataset.id);
        caret.setAttribute("aria-expanded", String(open));
        caret.setAttribute("aria-label", open ? "Collapse the steps inside" : "Expand the steps inside");
      }
    }
  }

  // Waterfall bars are drawn in milliseconds: the axis says how long the run is (it grows while live).
  function rescale() {
    const total = $("#tl-axis")?.dataset.totalMs;
    if (!total) return;
    for (const svg of $$("#timeline-rows .tl-bar svg:not([data-fixed])")) svg.setAttribute("viewBox", `0 0 ${total} 1`);
  }

  // The debugger fills the window below the run's header, whatever the header's height.
  function fit() {
    const split = $(".run-split");
    if (split) split.style.setProperty("--split-top", `${split.getBoundingClientRect().top + window.scrollY}px`);
  }

  // ---- the inspector
  function showTab(inspector, key, remember) {
    const tab = $(`[data-tab="${key}"]`, inspector);
    if (!tab) return;
    for (const other of $$("[data-tab]", inspector)) {
      other.setAttribute("aria-selected", String(other === tab));
      other.tabIndex = other === tab ? 0 : -1;
    }
    for (const panel of $$("[data-panel]", inspector)) panel.classList.toggle("is-active", panel.dataset.panel === key);
    if (remember) sessionStorage.setItem(TAB_KEY, key);
  }

  // An error shows first; otherwise the tab chosen last, if this step has something in it.
  function shownRow() {
    const inspector = $("#inspector");
    if (pending === null && !inspector) return null;
    return rowFor(pending ?? inspector.dataset.step);
  }

  function setUpInspector(inspector) {
    if (pending === inspector.dataset.step) pending = null;
    mark(shownRow());
    const error = $('[data-tab="error"]:not(.is-empty)', inspector);
    const preferred = $(`[data-tab="${sessionStorage.getItem(TAB_KEY)}"]:not(.is-empty)`, inspector);
    if (!error && preferred) showTab(inspector, preferred.dataset.tab, false);
  }

  let queued = false;
  function refreshTimeline() {
    queued = false;
    rescale();
    applyFold();
    const row = shownRow();
    if (row) mark(row);
  }

  // htmx:load fires once per swapped element (a page of rows is 200): redraw once per frame.
  function setUp(root) {
    if (root.id === "inspector") return setUpInspector(root);
    if (!$("#timeline-rows")) return;
    if (root !== document.body && root.id !== "timeline") {
      if (!queued) requestAnimationFrame(refreshTimeline);
      queued = true;
      return;
    }
    refreshTimeline();
    reveal($("#timeline-rows > .is-selected"), true);
    const inspector = $("#inspector");
    if (inspector && root === document.body) setUpInspector(inspector);
  }

  // A step's link opened in a new tab (ctrl/⌘-click) is the browser's to follow, to the page (its
  // href): htmx, which loads the step here from the link's hx-get, never hears of that click.
  document.addEventListener(
    "click",
    (event) => {
      if ((event.ctrlKey || event.metaKey) && event.target.closest?.("#timeline-rows .tl-link")) event.stopPropagation();
    },
    true,
  );

  document.addEventListener("click", (event) => {
    const target = event.target;
    const link = target.closest("#timeline-rows .tl-link");
    if (link && !event.ctrlKey && !event.metaKey && !event.shiftKey) {
      pending = link.closest(".tl-row").dataset.index;
      mark(link.closest(".tl-row"));
    }

    const caret = target.closest("[data-tl-toggle]");
    if (caret) {
      const id = caret.closest(".tl-row").dataset.id;
      if (!collapsed.delete(id)) collapsed.add(id);
      applyFold();
    }

    const fold = target.closest("[data-tl-fold]");
    if (fold) {
      collapsed.clear();
      if (fold.dataset.tlFold === "collapse") {
        for (const row of rows()) if ($(".tl-caret", row)) collapsed.add(row.dataset.id);
      }
      applyFold();
    }

    const nav = target.closest("[data-step-nav]");
    if (nav) move(nav.dataset.stepNav === "next" ? 1 : -1);

    const jump = target.closest("[data-step-link]");
    const row = jump && rowFor(jump.dataset.stepLink);
    if (row && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      row.hidden = false;
      select(row);
    }

    const tab = target.closest("[data-tab]");
    if (tab) showTab(tab.closest("#inspector"), tab.dataset.tab, true);
  });

  document.addEventListener("keydown", (event) => {
    if (!$("#timeline-rows") || event.defaultPrevented || event.metaKey || event.ctrlKey || event.altKey) return;
    if (event.target.closest("input, textarea, select, [contenteditable], dialog[open]")) return;
    const tab = event.target.closest('[role="tab"]');
    if (tab && (event.key === "ArrowLeft" || event.key === "ArrowRight")) {
      const tabs = $$('[role="tab"]', tab.parentElement);
      const next = tabs[(tabs.indexOf(tab) + (event.key === "ArrowRight" ? 1 : tabs.length - 1)) % tabs.length];
      showTab(tab.closest("#inspector"), next.dataset.tab, true);
      return next.focus();
    }
    const by = { j: 1, ArrowDown: 1, k: -1, ArrowUp: -1 }[event.key];
    if (!by) return;
    event.preventDefault();
    move(by);
  });

  // A step that failed to load gives the selection back to the step still shown.
  function giveUp(event) {
    if (!event.detail.elt.closest?.("#timeline-rows")) return;
    pending = null;
    mark(shownRow());
  }
  document.addEventListener("htmx:responseError", giveUp);
  document.addEventListener("htmx:sendError", giveUp);
  document.addEventListener("htmx:load", (event) => setUp(event.detail.elt));
  document.addEventListener("htmx:afterSettle", fit);
  window.addEventListener("resize", fit);
  document.addEventListener("DOMContentLoaded", fit);
  document.addEventListener("htmx:historyRestore", () => {
    pending = null;
    setUp(document.body);
  });
  document.addEventListener("DOMContentLoaded", () => setUp(document.body));
})();

// ---- replay and compare: the Replay dialog loads the chosen step's input; the runs list compares two
(() => {
  const pretty = (value) => JSON.stringify(value === undefined ? null : value, null, 2);

  async function loadStepInput(select) {
    const form = select.closest("[data-replay-form]");
    const textarea = form && form.querySelector('[name="step_input"]');
    if (!textarea) return;
    const index = Number(select.value);
    const url = `${form.dataset.stepsUrl}?after=${index - 1}&page_size=1`;
    textarea.disabled = true;
    try {
      const answer = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
      const body = await answer.json();
      const step = (body.results || [])[0];
      textarea.value = step && step.step_index === index ? pretty(step.input) : "null";
    } catch (error) {
      textarea.value = "";
    } finally {
      textarea.disabled = false;
    }
  }

  // JSON textareas say when they don't parse, before the form is sent.
  function checkJson(textarea) {
    let message = "";
    if (textarea.value.trim()) {
      try { JSON.parse(textarea.value); } catch (error) { message = `Not valid JSON: ${error.message}`; }
    }
    textarea.setCustomValidity(message);
    textarea.setAttribute("aria-invalid", message ? "true" : "false");
  }

  function updateCompare() {
    const form = document.querySelector("[data-compare-form]");
    if (!form) return;
    const picked = document.querySelectorAll("[data-compare-pick]:checked");
    form.querySelector("[data-compare-submit]").disabled = picked.length !== 2;
    const hint = form.querySelector("[data-compare-hint]");
    hint.textContent = picked.length === 2 ? "Two runs picked." : picked.length > 2
      ? "Pick only two runs." : "Tick two runs to compare them step by step.";
  }

  document.addEventListener("change", (event) => {
    const target = event.target;
    if (target.matches("[data-replay-form] [name=from_step]")) loadStepInput(target);
    if (target.matches("[data-compare-pick]")) updateCompare();
  });
  document.addEventListener("input", (event) => {
    if (event.target.matches("textarea[data-json]")) checkJson(event.target);
  });
  document.addEventListener("htmx:load", updateCompare);
})();
