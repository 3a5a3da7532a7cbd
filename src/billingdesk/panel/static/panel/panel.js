/* billingdesk console and panel: keyboard, focus after an action, self-updating panel.
   Plain script, no build step; htmx (vendored beside it) does the requests. */
(function () {
  "use strict";
  var FIELDS = "input:not([type=hidden]):not([disabled]), select:not([disabled]), textarea:not([disabled]), button:not([disabled])";

  function firstField(root) {
    return root.querySelector(FIELDS);
  }

  function openerOf(slot) {
    var row = slot.parentElement;
    return row ? row.querySelector("button[data-action][hx-target='#" + slot.id + "']") : null;
  }

  function closeSlot(slot) {
    var opener = openerOf(slot);
    slot.innerHTML = "";
    if (opener) { opener.focus(); }
  }

  // Opening an action (or its next step) moves focus to its first field.
  document.addEventListener("htmx:afterSwap", function (event) {
    var slot = event.detail.target;
    if (!slot || !slot.classList || !slot.classList.contains("slot")) { return; }
    var field = firstField(slot);
    if (field) { field.focus(); }
    var action = slot.querySelector(".action");
    if (action && action.scrollIntoView) { action.scrollIntoView({block: "nearest"}); }
  });

  document.addEventListener("click", function (event) {
    var close = event.target.closest && event.target.closest("[data-close]");
    if (close) {
      var slot = close.closest(".slot");
      if (slot) { closeSlot(slot); }
    }
  });

  document.addEventListener("keydown", function (event) {
    var target = event.target;
    var slot = target.closest ? target.closest(".slot") : null;
    // Escape closes the open action.
    if (event.key === "Escape" && slot && slot.innerHTML.trim()) {
      event.preventDefault();
      closeSlot(slot);
      return;
    }
    // Enter submits the step from a select or a radio too (inputs do it themselves);
    // in the details box it is a new line unless Ctrl/Cmd is held.
    if (event.key === "Enter" && slot) {
      var form = target.form || (target.closest && target.closest("form"));
      var tag = target.tagName;
      var submits = tag === "SELECT" || (tag === "INPUT" && (target.type === "radio" || target.type === "checkbox"))
        || (tag === "TEXTAREA" && (event.ctrlKey || event.metaKey));
      if (form && submits) {
        event.preventDefault();
        form.requestSubmit();
      }
      return;
    }
    // "/" focuses the search box (outside fields, where it is a character).
    if (event.key === "/" && !event.ctrlKey && !event.metaKey && !event.altKey) {
      var typing = /^(INPUT|SELECT|TEXTAREA)$/.test(target.tagName) || target.isContentEditable;
      var search = document.querySelector("[data-search]");
      if (!typing && search) {
        event.preventDefault();
        search.focus();
        if (search.select) { search.select(); }
      }
    }
  });

  // After an action the page comes back with ?focus=<kind>-<id>: scroll to that row, show
  // the message beside it, and give it the focus (for screen readers and the keyboard).
  function focusChanged() {
    var params = new URLSearchParams(window.location.search);
    var focus = params.get("focus");
    if (!focus) { return; }
    var row = document.getElementById("row-" + focus);
    var messages = document.querySelector(".messages");
    if (row) {
      var details = row.closest("details");
      if (details) { details.open = true; }
      row.classList.add("changed");
      if (messages) { row.insertBefore(messages, row.children[1] || null); }
      row.scrollIntoView({block: "center"});
    }
    if (messages) {
      messages.setAttribute("tabindex", "-1");
      messages.focus({preventScroll: !!row});
    }
    params.delete("focus");
    var query = params.toString();
    window.history.replaceState(null, "", window.location.pathname + (query ? "?" + query : "") + window.location.hash);
  }

  // The panel updates itself: htmx polls [data-freshness]; the server answers 204 while
  // nothing changed, else the new sections, which are swapped in unless an action is open.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var elt = event.detail.elt;
    if (elt && elt.hasAttribute && elt.hasAttribute("data-freshness")) {
      var open = document.querySelector(".slot:not(:empty)");
      if (open || document.hidden) { event.preventDefault(); }
    }
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", focusChanged);
  } else {
    focusChanged();
  }
})();
