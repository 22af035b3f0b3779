// The officer app's service worker: it keeps the app's own files (never data) so the app opens on a phone with
// a poor signal, and nothing else. API answers (alerts, their images, the session) are personal data: they are
// never cached, and always go to the network. No push service is used: alerts arrive over the app's own live
// stream, which catches up after a dropped connection. Nothing here talks to another site.

const CACHE = "openlfr-officer-v1";
const SHELL = [
  "/console/officer.html", "/console/officer.js", "/console/api.js", "/console/dom.js", "/console/ui.js",
  "/console/style.css", "/console/manifest.webmanifest", "/console/icon-192.png", "/console/icon-512.png",
];

self.addEventListener("install", (/** @type {any} */ event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)));
});

self.addEventListener("activate", (/** @type {any} */ event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(names.filter((name) => name !== CACHE).map((name) => caches.delete(name)))));
});

self.addEventListener("fetch", (/** @type {any} */ event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !SHELL.includes(url.pathname)) return;
  // The network first (an upgrade reaches the officer at once); the kept copy when there is no network.
  event.respondWith(fetch(event.request).then((response) => {
    const copy = response.clone();
    if (response.ok) caches.open(CACHE).then((cache) => cache.put(event.request, copy));
    return response;
  }).catch(() => caches.match(event.request).then((kept) => kept || Response.error())));
});
