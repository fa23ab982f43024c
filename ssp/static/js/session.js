/* Idle sign-out on shared desk computers. The server signs a session out after
   IDLE_TIMEOUT_MINUTES without a request; this script tells the server the page is still in
   use while someone types, warns a minute before the end, and leaves for the sign-in page
   when time is up (the server has signed the session out by then). */
(function () {
  "use strict";
  var body = document.body;
  var idle = parseInt(body.dataset.idleSeconds || "0", 10);
  if (!idle) return;
  var keepaliveUrl = body.dataset.keepaliveUrl;
  var signInUrl = body.dataset.signInUrl;
  var token = document.querySelector("meta[name=csrf-token]").content;
  var warning = document.getElementById("idle-warning");
  var countdown = document.getElementById("idle-countdown");
  var lastServerContact = Date.now();
  var lastActivity = Date.now();
  var WARN = Math.min(60, Math.floor(idle / 3));

  function keepalive() {
    lastServerContact = Date.now();
    return fetch(keepaliveUrl, {
      method: "POST", credentials: "same-origin",
      headers: { "X-CSRFToken": token, "Accept": "application/json" }
    }).then(function (response) {
      if (response.status === 401) window.location.href = signInUrl;
    }).catch(function () { /* offline for a moment: the next tick tries again */ });
  }

  ["keydown", "pointerdown", "input"].forEach(function (name) {
    document.addEventListener(name, function () { lastActivity = Date.now(); }, true);
  });
  document.getElementById("idle-stay").addEventListener("click", function () {
    lastActivity = Date.now();
    warning.hidden = true;
    keepalive();
  });

  setInterval(function () {
    var now = Date.now();
    // Someone is typing in a long form: tell the server, at most once a minute.
    if (lastActivity > lastServerContact && now - lastServerContact > 60000) keepalive();
    var left = Math.round((idle * 1000 - (now - lastServerContact)) / 1000);
    if (left <= 0) {
      window.location.href = signInUrl;
    } else if (left <= WARN) {
      countdown.textContent = String(left);
      if (warning.hidden) {
        warning.hidden = false;
        document.getElementById("idle-stay").focus();
      }
    } else if (!warning.hidden) {
      warning.hidden = true;
    }
  }, 1000);
})();
