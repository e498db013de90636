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
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    say((document.documentElement.lang === "en" ? "Could not complete the action (" : "操作未能完成（") + xhr.status + (document.documentElement.lang === "en" ? ")." : "）。"));
  });
  document.addEventListener("htmx:sendError", function () {
    say(document.documentElement.lang === "en" ? "No connection. Please try again." : "网络连接失败，请重试。");
  });
  // Confirmation for destructive buttons: <button data-confirm="...">.
  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var text = (button && button.getAttribute("data-confirm")) || event.target.getAttribute("data-confirm");
    if (text && !window.confirm(text)) event.preventDefault();
  }, true);
  // Print buttons: <button data-print>.
  document.addEventListener("click", function (event) {
    var el = event.target.closest("[data-print]");
    if (el) { event.preventDefault(); window.print(); }
  });
})();
