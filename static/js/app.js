// compound_app: the only script besides htmx. No inline handlers anywhere (CSP).
(function () {
  "use strict";
  var token = function () {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  };
  // htmx requests carry the CSRF token in a header, like forms carry it in a field.
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["X-CSRFToken"] = token();
  });
  // An htmx request that fails (403, 404, 500, network) says so instead of doing nothing.
  var say = function (text) {
    var area = document.getElementById("flash");
    if (!area) return;
    var p = document.createElement("p");
    p.className = "flash flash-error";
    p.setAttribute("role", "alert");
    p.textContent = text;
    area.replaceChildren(p);
  };
  // The words come from the page (translated on the server), never from this file.
  document.addEventListener("htmx:responseError", function (event) {
    say(document.body.dataset.errorText.replace("{status}", event.detail.xhr.status));
  });
  document.addEventListener("htmx:sendError", function () {
    say(document.body.dataset.offlineText);
  });
  // Confirmation for destructive buttons: <button data-confirm="...">.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var text = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (text && !window.confirm(text)) event.preventDefault();
  }, true);
  // A double tap on a plain (non-htmx) form posts once: its buttons rest until the next page.
  // Disabled after the browser has collected the form, so the pressed button still counts.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    // getAttribute: a field named "method" (the payment form has one) shadows form.method.
    if (event.defaultPrevented || (form.getAttribute("method") || "").toLowerCase() !== "post" || form.hasAttribute("hx-post")) return;
    setTimeout(function () {
      form.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
    }, 0);
  });
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) document.querySelectorAll("button[type=submit]:disabled").forEach(function (b) { b.disabled = false; });
  });
  // htmx forms: their submit buttons rest while the request runs.
  document.addEventListener("htmx:beforeRequest", function (event) {
    event.detail.elt.querySelectorAll && event.detail.elt.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = true; });
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    event.detail.elt.querySelectorAll && event.detail.elt.querySelectorAll("button[type=submit]").forEach(function (b) { b.disabled = false; });
  });
  // Print buttons: <button data-print>.
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-print]");
    if (el) { event.preventDefault(); window.print(); }
  });
})();
