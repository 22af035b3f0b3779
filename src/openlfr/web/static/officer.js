// The officer on the street: a phone page with each alert's camera image and watchlist image side by side, who
// the subject is and why they are sought, and the decision and outcome controls. Alerts arrive over the alert
// stream (Server-Sent Events); after a dropped connection the stream is opened again from the last alert seen
// (Last-Event-ID, or ?after= for a new stream), so nothing raised meanwhile is missed. Every open alert can be
// reached: the first page loads at sign-in and "Load more" pages on by key (before_seq), which skips nothing
// when alerts are decided or raised between pages; the true number of open alerts is shown above the list.
// Installable (PWA): the app's own manifest and service worker, no third-party push service.

import { ApiError, api, session } from "./api.js";
import { $, el, refreshTimes, timeEl, words } from "./dom.js";
import { ask, can, flash, user } from "./ui.js";

const RECONNECT_MS = 1000;
const PAGE = 50;

/**
 * @typedef {{ total: number | null, nextBefore: number | null, loading: boolean, counting: boolean,
 *   recount: boolean }} Paging
 * total: the server's number of open alerts; nextBefore: where the next page starts (null: all loaded).
 * @type {{ lastSeq: number, stream: EventSource | null, retry: number | null, options: any,
 *   alerts: Map<string, any>, open: Set<string>, generation: number, paging: Paging }}
 */
const state = {
  lastSeq: 0, stream: null, retry: null, options: null, alerts: new Map(), open: new Set(), generation: 0,
  paging: { total: null, nextBefore: null, loading: false, counting: false, recount: false },
};

/** @param {string} text */
function linkState(text) {
  $("#link-state").textContent = text;
}

// ---- session -------------------------------------------------------------------------------------------

function showLogin(message = "") {
  closeStream();
  user.me = null;
  $("#officer-login").hidden = false;
  $("#officer-alerts").hidden = true;
  $("#officer-logout").hidden = true;
  $("#officer-login-error").textContent = message;
  linkState("Signed out");
}

/** @param {any} me */
async function start(me) {
  user.me = me;
  session.csrf = me.csrf_token;
  $("#officer-login").hidden = true;
  $("#officer-alerts").hidden = false;
  $("#officer-logout").hidden = false;
  const generation = ++state.generation;
  state.alerts.clear();
  $("#officer-list").replaceChildren();
  state.options = await api("GET", "/api/alerts/options");
  state.open = new Set(state.options.open_statuses);
  // The newest page of open alerts first, then everything raised from now on, from the stream (from the last
  // alert there was before the page was read: one raised in between comes twice and is shown once).
  state.lastSeq = Math.max(state.lastSeq, state.options.last_seq);
  state.paging = { total: null, nextBefore: null, loading: false, counting: false, recount: false };
  await loadPage(generation, null);
  if (generation !== state.generation) return;
  openStream();
}

// ---- paging through the open alerts --------------------------------------------------------------------

/** @param {number | null} before @param {number} limit */
function openQuery(before, limit) {
  const query = new URLSearchParams({ limit: String(limit) });
  for (const status of state.open) query.append("status", status);
  if (before !== null) query.set("before_seq", String(before));
  return `/api/alerts?${query}`;
}

/**
 * Read one page of open alerts, older than ``before`` (null: the newest).
 * @param {number} generation the sign-in the page is for (a page read for an earlier one is dropped)
 * @param {number | null} before
 */
async function loadPage(generation, before) {
  state.paging.loading = true;
  showPaging();
  try {
    const page = await api("GET", openQuery(before, PAGE));
    if (generation !== state.generation) return;
    for (const alert of page.items) upsert(alert);
    state.paging.total = page.total;
    state.paging.nextBefore = page.next_before_seq;
  } finally {
    if (generation === state.generation) { state.paging.loading = false; showPaging(); }
  }
}

async function loadMore() {
  const { nextBefore, loading } = state.paging;
  if (nextBefore === null || loading) return;
  try {
    await loadPage(state.generation, nextBefore);
  } catch (error) { flash(/** @type {Error} */ (error).message); }
}

/** Ask the server how many alerts are open now (after a new alert, a decision, a reconnection); one question
 * at a time, and one more if something changed while it was asked. */
async function recount() {
  if (state.paging.counting) { state.paging.recount = true; return; }
  const generation = state.generation;
  state.paging.counting = true;
  try {
    do {
      state.paging.recount = false;
      const page = await api("GET", openQuery(null, 1));
      if (generation !== state.generation) return;
      state.paging.total = page.total;
      showPaging();
    } while (state.paging.recount);
  } catch { /* offline: the count is asked again on reconnection */ } finally {
    if (generation === state.generation) state.paging.counting = false;
  }
}

/** "Showing N of M open alerts" and the Load more button while there are more pages. */
function showPaging() {
  const { nextBefore, loading } = state.paging;
  const shown = [...state.alerts.values()].filter((a) => state.open.has(a.status)).length;
  // A card the stream just brought may be on screen a moment before the recount that includes it returns.
  const total = state.paging.total === null ? null : Math.max(state.paging.total, shown);
  const count = $("#officer-count");
  if (total === null) count.textContent = "";
  else if (nextBefore === null && shown >= total) count.textContent = `${total} open ${total === 1 ? "alert" : "alerts"}`;
  else count.textContent = `Showing ${shown} of ${total} open alerts`;
  const more = /** @type {HTMLButtonElement} */ ($("#officer-more"));
  more.hidden = nextBefore === null;
  more.disabled = loading;
  more.textContent = loading ? "Loading…" : `Load ${PAGE} more`;
}

/** @param {SubmitEvent} event */
async function login(event) {
  event.preventDefault();
  const form = /** @type {any} */ (event.target);
  try {
    const me = await api("POST", "/api/auth/login", { username: form.username.value, password: form.password.value });
    form.password.value = "";
    await start(me);
  } catch (error) {
    $("#officer-login-error").textContent = /** @type {Error} */ (error).message;
  }
}

async function logout() {
  try { await api("POST", "/api/auth/logout"); } catch { /* already gone */ }
  state.generation += 1;
  state.alerts.clear();
  $("#officer-list").replaceChildren();
  showLogin("Signed out.");
}

// ---- the live stream, with catch-up --------------------------------------------------------------------

function closeStream() {
  if (state.stream) { state.stream.close(); state.stream = null; }
  if (state.retry !== null) { clearTimeout(state.retry); state.retry = null; }
}

function openStream() {
  closeStream();
  // ?after= the last alert seen: a new stream sends everything stored since (the catch-up). While this
  // EventSource reconnects by itself, the browser sends Last-Event-ID, which the server resumes from.
  const stream = new EventSource(`/api/alerts/stream?after=${state.lastSeq}`);
  state.stream = stream;
  stream.addEventListener("open", () => { linkState("Live"); recount(); });
  stream.addEventListener("alert", (/** @type {MessageEvent} */ event) => {
    const alert = JSON.parse(event.data);
    state.lastSeq = Math.max(state.lastSeq, alert.seq);
    upsert(alert, true);
    recount();
  });
  stream.addEventListener("end", () => { closeStream(); showLogin("Your session has ended: sign in again."); });
  stream.addEventListener("error", () => {
    if (state.stream !== stream) return;
    linkState("Reconnecting…");
    // A refused or failed stream is not retried by the browser: open a new one from the last alert seen.
    if (stream.readyState === EventSource.CLOSED) state.retry = window.setTimeout(reconnect, RECONNECT_MS);
  });
}

async function reconnect() {
  state.retry = null;
  try {
    await api("GET", "/api/auth/session");
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) return; // showLogin already ran
    state.retry = window.setTimeout(reconnect, RECONNECT_MS); // no network yet
    return;
  }
  openStream();
}

// ---- alert cards ---------------------------------------------------------------------------------------

/**
 * Add or refresh an alert's card. Cards are in seq order, newest at the top, whichever way an alert came (a
 * page, the stream, a catch-up after a reconnection); an update keeps its place.
 * @param {any} alert
 * @param {boolean} [fresh] it just arrived: announce it
 */
function upsert(alert, fresh = false) {
  const known = state.alerts.get(alert.id);
  if (known && known.version > alert.version) return;
  state.alerts.set(alert.id, alert);
  const list = $("#officer-list");
  const card = render(alert);
  const existing = list.querySelector(`li[data-id="${alert.id}"]`);
  if (existing) {
    // A card redrawn under the focus (after a decision, an outcome or a colleague's change) would drop it to the
    // page's top: keyboard and screen-reader users keep their place on the card's heading instead.
    const hadFocus = existing.contains(document.activeElement);
    existing.replaceWith(card);
    if (hadFocus) /** @type {HTMLElement} */ (card.querySelector("h2")).focus();
  } else {
    const older = [...list.children].find((li) => Number(/** @type {HTMLElement} */ (li).dataset.seq) < alert.seq);
    list.insertBefore(card, older ?? null);
  }
  $("#officer-empty").hidden = list.children.length > 0;
  showPaging();
  if (fresh && !known) {
    flash(`New alert: ${alert.subject ? alert.subject.display_name : "a subject"} on ${alert.source}.`);
    if (navigator.vibrate) navigator.vibrate(200);
  }
}

/** @param {any} alert */
function render(alert) {
  const name = alert.subject ? alert.subject.display_name : "Subject erased";
  const titleId = `alert-${alert.id}-title`;
  const images = el("div", { class: "officer-images" },
    el("figure", {},
      el("img", { src: `/api/alerts/${alert.id}/probe`, alt: `Camera image of the person the alert is about (${alert.source})` }),
      el("figcaption", { text: "Camera" })),
    el("figure", {},
      alert.has_reference
        ? el("img", { src: `/api/alerts/${alert.id}/reference`, alt: `Watchlist image of ${name}` })
        : el("p", { class: "empty", text: "No watchlist image (erased)" }),
      el("figcaption", { text: "Watchlist" })));
  const facts = [["Status", words(alert.status)], ["Camera", alert.source], ["Score", alert.score.toFixed(3)]];
  if (alert.subject) {
    facts.unshift(["Sought as", words(alert.subject.category)], ["Why", alert.subject.reason],
      ["Reference", alert.subject.external_ref]);
  }
  if (alert.outcome) facts.push(["Outcome", words(alert.outcome)]);
  const details = el("dl", { class: "officer-facts" },
    ...facts.flatMap(([k, v]) => [el("dt", { text: k }), el("dd", { text: String(v) })]));
  return el("li", { class: `card officer-alert status-${alert.status}`, "data-id": alert.id, "data-seq": String(alert.seq),
    "aria-labelledby": titleId },
    el("h2", { id: titleId, tabindex: "-1", text: name }), timeEl(alert.decided_at), images, details, controls(alert, name));
}

/**
 * The decision buttons while the alert is open; the outcome buttons once it is confirmed.
 * @param {any} alert
 * @param {string} name
 */
function controls(alert, name) {
  const box = el("div", { class: "actions officer-actions" });
  if (!can("alerts:adjudicate") || !state.options) return box;
  if (state.open.has(alert.status)) {
    for (const decision of state.options.decisions) {
      if (decision === "escalate" && alert.status !== "pending") continue;
      box.append(el("button", { type: "button", class: decision === "confirm" ? "primary" : decision === "reject" ? "danger" : "",
        text: words(decision), "aria-label": `${words(decision)} the alert on ${name}`,
        onclick: () => decide(alert, decision, name) }));
    }
  } else if (alert.status === "confirmed" && !alert.outcome) {
    box.append(el("p", { class: "hint", text: "Record what happened when you engaged:" }));
    for (const outcome of state.options.outcomes) {
      box.append(el("button", { type: "button", text: words(outcome), "aria-label": `Outcome: ${words(outcome)}`,
        onclick: () => record(alert, outcome, name) }));
    }
  }
  return box;
}

/**
 * @param {any} alert
 * @param {string} decision
 * @param {string} name
 */
async function decide(alert, decision, name) {
  const reject = decision === "reject";
  const answer = await ask({
    title: `${words(decision)}: ${name}?`,
    text: decision === "confirm"
      ? "You have compared the images with the person in front of you and they are the same person. This cannot be undone."
      : reject ? "Say why the alert is wrong. This cannot be undone." : "Pass the alert to a supervisor to decide.",
    submit: words(decision), reasons: reject ? state.options.reject_reasons : undefined, note: true, danger: reject,
  });
  if (!answer) return;
  try {
    /** @type {Record<string, any>} */
    const body = { decision, version: alert.version };
    if (reject) body.reason = answer.reason;
    if (answer.note) body.note = answer.note;
    upsert(await api("POST", `/api/alerts/${alert.id}/adjudication`, body));
    flash(`Alert on ${name}: ${words(decision)} recorded.`);
    recount();
  } catch (error) { flash(/** @type {Error} */ (error).message); }
}

/**
 * @param {any} alert
 * @param {string} outcome
 * @param {string} name
 */
async function record(alert, outcome, name) {
  try {
    upsert(await api("POST", `/api/alerts/${alert.id}/outcome`, { outcome, version: alert.version }));
    flash(`Outcome for ${name}: ${words(outcome)}.`);
  } catch (error) { flash(/** @type {Error} */ (error).message); }
}

// ---- start ---------------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", async () => {
  session.onUnauthorised = showLogin;
  $("#officer-login-form").addEventListener("submit", login);
  $("#officer-logout").addEventListener("click", logout);
  $("#officer-more").addEventListener("click", loadMore);
  // Alerts decided elsewhere leave the open count without an event here: it is asked again now and then.
  window.setInterval(() => { refreshTimes(); if (user.me) recount(); }, 30_000);
  if ("serviceWorker" in navigator) navigator.serviceWorker.register("/console/sw.js").catch(() => {});
  try {
    await start(await api("GET", "/api/auth/session"));
  } catch {
    showLogin();
  }
});
