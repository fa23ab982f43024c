/* The outreach screen's service worker (served as /outreach/sw.js, scope /outreach/).
   It keeps the screen, its scripts and styles, and the setup (sites, zones, items, the
   public key: no participant data) so the screen opens and works with no network,
   after a reload too. Network first, the cache when there is none; nothing else is
   cached, and no contact ever passes through here in plain text. */
"use strict";
var CACHE = "ssp-outreach-v1";
// The worker reads no page: the server puts this sentence in, in the language of
// whoever loaded the worker (ssp/outreach/views.py service_worker).
var NOT_KEPT = "__NOT_KEPT__";
var SHELL = [
  "/outreach/",
  "/outreach/api/setup",
  "/static/css/app.css",
  "/static/js/codebuilder.js",
  "/static/js/outreach-seal.js",
  "/static/js/outreach.js",
  "/static/js/session.js",
  "/static/favicon.svg",
];

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(CACHE).then(function (cache) { return cache.addAll(SHELL); }).then(function () {
      return self.skipWaiting();
    })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) { return name !== CACHE; }).map(function (name) {
        return caches.delete(name);
      }));
    }).then(function () { return self.clients.claim(); })
  );
});

function kept(url) {
  return SHELL.indexOf(url.pathname) >= 0;
}

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin || !kept(url)) return;
  event.respondWith(
    fetch(request).then(function (response) {
      if (response.ok && !response.redirected) {
        var copy = response.clone();
        caches.open(CACHE).then(function (cache) { cache.put(url.pathname, copy); });
      }
      return response;
    }).catch(function () {
      return caches.match(url.pathname).then(function (hit) {
        return hit || new Response(NOT_KEPT, { status: 503 });
      });
    })
  );
});
