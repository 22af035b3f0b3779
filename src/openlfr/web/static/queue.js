// The alert queue: one card per encounter (repeats of a subject on a camera grouped by the server), true
// totals and "load more", filters, decisions with confirmation and a note, keyboard shortcuts. New alerts never
// move what the officer is looking at: while the pointer or focus is in the queue (or a dialog is open), new
// encounters wait behind an "N new" bar; a repeat of an encounter on screen only updates its card in place.
// A supervisor (retention:manage, as the server sends it) can put the card's alert on legal hold, with a reason.
import { api } from "./api.js";
import { $, el, fmtTime, refreshTimes, timeEl, words } from "./dom.js";
import { ask, can, flash } from "./ui.js";

const PAGE = 20;
// The review vocabulary is the server's (GET /api/alerts/options), never written into the script: the statuses
// that still wait for an officer, and the statuses each decision is taken from.
/** @type {Set<string>} */
let OPEN = new Set();
/** @type {Record<string, string[]>} */
let DECIDABLE_FROM = {};
/** @type {Set<string>} statuses of a reviewed alert, on which an engagement outcome is recorded */
let DECIDED = new Set();

/**
 * @typedef {object} Member
 * @property {string} id
 * @property {number} seq
 * @property {string} status
 * @property {number} version
 * @property {number} score
 * @property {string} decided_at
 */
/**
 * @typedef {object} Encounter
 * @property {string} key
 * @property {string} status
 * @property {number} count
 * @property {number} open alerts still pending or escalated
 * @property {string} first_at
 * @property {string} last_at
 * @property {number} last_seq
 * @property {any} best the alert whose face is shown (GET /api/alerts/{id})
 * @property {Member[]} members the open alerts, newest first (at most 100)
 */

export const queue = {
  /** @type {any} */ options: null,
  /** @type {Map<string, Encounter>} */ encounters: new Map(),
  /** @type {number | null} */ nextBefore: null,
  total: 0,
  alerts: 0,
  /** @type {any[]} */ held: [],
  /** @type {number | null} */ timer: null,
  loads: 0,
  /** the newest alert seq the server had when the queue last loaded: the live stream starts after it */
  lastSeq: 0,
};

// ---- loading -------------------------------------------------------------------------------------------

/** The filter form as query parameters. */
function filterParams() {
  const form = $("#queue-filters");
  const params = new URLSearchParams();
  for (const name of ["status", "source", "subject", "deployment"]) if (form[name].value) params.set(name, form[name].value);
  const minutes = Number(form.since.value);
  if (minutes) params.set("since", new Date(Date.now() - minutes * 60_000).toISOString());
  return params;
}

/**
 * Fill a <select> with "any" plus the given values, keeping the current choice.
 * @param {HTMLSelectElement} select
 * @param {{ value: string, label: string }[]} values
 */
function fillSelect(select, values) {
  const current = select.value;
  select.replaceChildren(el("option", { value: "", text: "any" }),
    ...values.map((v) => el("option", { value: v.value, text: v.label })));
  select.value = values.some((v) => v.value === current) ? current : "";
}

async function loadOptions() {
  const options = await api("GET", "/api/alerts/options");
  queue.options = options;
  OPEN = new Set(options.open_statuses);
  DECIDABLE_FROM = options.decidable_from;
  DECIDED = new Set(options.decided_statuses);
  queue.lastSeq = Math.max(queue.lastSeq, options.last_seq);
  const form = $("#queue-filters");
  // The first time, the queue opens on what needs an officer; after that the officer's choice ("any" too) stays.
  const status = form.status.dataset.initial ?? form.status.value;
  delete form.status.dataset.initial;
  fillSelect(form.status, options.statuses.map((/** @type {string} */ s) => ({ value: s, label: words(s) })));
  form.status.value = status;
  fillSelect(form.source, options.sources.map((/** @type {string} */ s) => ({ value: s, label: s })));
  fillSelect(form.subject, options.subjects.map((/** @type {any} */ s) => ({ value: s.id, label: s.label })));
  const names = await deploymentNames();
  fillSelect(form.deployment, options.deployments.map((/** @type {string} */ d) => ({ value: d, label: names.get(d) || d.slice(0, 8) })));
}

/**
 * Deployment id → name, for the filter (ids only where the caller may not read deployments).
 * @returns {Promise<Map<string, string>>}
 */
async function deploymentNames() {
  if (!can("deployments:read")) return new Map();
  const list = await api("GET", "/api/deployments");
  return new Map(list.map((/** @type {any} */ d) => [d.id, d.name]));
}

/** Load the first page again (after a filter change, on opening the page, or to show what was held). */
export async function loadQueue() {
  const load = ++queue.loads;
  await loadOptions();
  const page = await api("GET", `/api/alerts/encounters?${filterParams()}&limit=${PAGE}`);
  if (load !== queue.loads) return; // a later load (another filter chosen meanwhile) wins
  queue.encounters.clear();
  queue.held = [];
  $("#alert-list").replaceChildren();
  addPage(page);
  showHeld();
  if (queue.timer === null) queue.timer = window.setInterval(refreshTimes, 30_000);
}

async function loadMore() {
  if (queue.nextBefore === null) return;
  const load = queue.loads;
  const page = await api("GET", `/api/alerts/encounters?${filterParams()}&limit=${PAGE}&before_seq=${queue.nextBefore}`);
  if (load !== queue.loads) return;
  const first = addPage(page);
  if (first) first.focus();
}

/**
 * @param {any} page
 * @returns {HTMLElement | null} the first card added
 */
function addPage(page) {
  /** @type {HTMLElement | null} */
  let first = null;
  for (const encounter of page.items) {
    if (queue.encounters.has(encounter.key)) continue;
    queue.encounters.set(encounter.key, encounter);
    const card = renderCard(encounter);
    $("#alert-list").append(card);
    first = first || card;
  }
  queue.total = page.total;
  queue.alerts = page.alerts;
  queue.nextBefore = page.next_before_seq;
  showTotals();
  return first;
}

/**
 * "1 alert", "3 alerts".
 * @param {number} n
 * @param {string} noun
 */
function plural(n, noun) {
  return `${n} ${noun}${n === 1 ? "" : "s"}`;
}

function showTotals() {
  const shown = queue.encounters.size;
  $("#queue-totals").textContent =
    `Showing ${shown} of ${plural(queue.total, "encounter")} (${plural(queue.alerts, "alert")})`;
  $("#load-more").hidden = queue.nextBefore === null;
  $("#alerts-empty").hidden = shown > 0;
}

// ---- live alerts ---------------------------------------------------------------------------------------

/**
 * Whether a live alert passes the filters on screen.
 * @param {any} alert
 */
function wanted(alert) {
  const form = $("#queue-filters");
  if (form.status.value && alert.status !== form.status.value) return false;
  if (form.source.value && alert.source !== form.source.value) return false;
  if (form.subject.value && alert.subject_id !== form.subject.value) return false;
  if (form.deployment.value && alert.deployment_id !== form.deployment.value) return false;
  return true;
}

/**
 * The encounter on screen that a new alert continues, if any (the server's rule: same subject, camera and
 * deployment, within the gap of its newest alert).
 * @param {any} alert
 */
function continues(alert) {
  if (!alert.subject_id || !queue.options) return null;
  const gapMs = queue.options.encounter_gap_s * 1000;
  for (const encounter of queue.encounters.values()) {
    const best = encounter.best;
    if (best.subject_id !== alert.subject_id || best.source !== alert.source) continue;
    if (best.deployment_id !== alert.deployment_id || alert.seq <= encounter.last_seq) continue;
    if (new Date(alert.decided_at).getTime() - new Date(encounter.last_at).getTime() <= gapMs) return encounter;
  }
  return null;
}

/**
 * Whether an alert is already on a card (the stream may resend what a page load already brought).
 * @param {string} id
 */
function shown(id) {
  for (const encounter of queue.encounters.values()) if (encounter.members.some((m) => m.id === id)) return true;
  return false;
}

/** Whether the officer is working in the queue: then nothing may move under them. */
function engaged() {
  const list = $("#alert-list");
  return list.matches(":hover") || list.contains(document.activeElement) || Boolean(document.querySelector("dialog[open]"));
}

/**
 * A new alert from the live stream.
 * @param {any} alert
 */
export function onLiveAlert(alert) {
  if ($("#view-alerts").hidden || !wanted(alert) || shown(alert.id)) return;
  const encounter = continues(alert);
  if (encounter) {
    encounter.members.unshift({ id: alert.id, seq: alert.seq, status: alert.status, version: alert.version,
      score: alert.score, decided_at: alert.decided_at });
    encounter.count += 1;
    if (OPEN.has(alert.status)) encounter.open += 1;
    encounter.last_at = alert.decided_at;
    encounter.last_seq = alert.seq;
    if (alert.score > encounter.best.score) encounter.best = alert;
    encounter.status = statusOf(encounter);
    queue.alerts += 1;
    fillCard(cardOf(encounter.key), encounter);
    showTotals();
    return;
  }
  if (engaged() || queue.held.length) {
    queue.held.push(alert);
    showHeld();
    return;
  }
  const fresh = { key: alert.id, status: alert.status, count: 1, open: OPEN.has(alert.status) ? 1 : 0, first_at: alert.decided_at, last_at: alert.decided_at,
    last_seq: alert.seq, best: alert, members: [{ id: alert.id, seq: alert.seq, status: alert.status,
      version: alert.version, score: alert.score, decided_at: alert.decided_at }] };
  queue.encounters.set(fresh.key, fresh);
  const card = renderCard(fresh);
  card.classList.add("new");
  $("#alert-list").prepend(card);
  queue.total += 1;
  queue.alerts += 1;
  showTotals();
}

function showHeld() {
  const bar = $("#new-bar");
  const n = queue.held.length;
  bar.hidden = n === 0;
  bar.textContent = n === 1 ? "1 new alert: show it (N)" : `${n} new alerts: show them (N)`;
}

async function showNew() {
  await loadQueue();
  window.scrollTo(0, 0);
  const first = $("#alert-list li.alert");
  if (first) first.focus();
}

// ---- cards ---------------------------------------------------------------------------------------------

/** @param {string} key */
function cardOf(key) {
  return $(`#alert-list li.alert[data-key="${CSS.escape(key)}"]`);
}

/** @param {Encounter} encounter */
function statusOf(encounter) {
  const present = new Set(encounter.members.map((m) => m.status));
  const waiting = [...OPEN].find((s) => present.has(s));
  if (waiting) return waiting;
  // Nothing open is left: the decision just taken on it, else what the server said, else the best alert's.
  const decided = encounter.members.find((m) => !OPEN.has(m.status));
  return decided ? decided.status : OPEN.has(encounter.status) ? encounter.best.status : encounter.status;
}

/** @param {any} subject */
function subjectName(subject) {
  return subject ? subject.display_name || subject.external_ref : "Erased subject";
}

/** @param {Encounter} encounter */
function renderCard(encounter) {
  const card = $("#alert-template").content.firstElementChild.cloneNode(true);
  card.dataset.key = encounter.key;
  const heading = `alert-h-${encounter.key}`;
  $(".name", card).id = heading;
  card.setAttribute("aria-labelledby", heading);
  $(".controls", card).append(el("div", { class: "actions hold-box" },
    el("button", { type: "button", class: "hold", text: "Place legal hold…", onclick: () => placeHold(card) })));
  $(".outcome", card).after(el("p", { class: "hold-state" }));
  fillCard(card, encounter);
  $(".confirm", card).addEventListener("click", () => decide(card, "confirm"));
  $(".reject", card).addEventListener("click", () => decide(card, "reject"));
  $(".escalate", card).addEventListener("click", () => decide(card, "escalate"));
  $(".record-outcome", card).addEventListener("click", () => recordOutcome(card));
  $(".scene", card).addEventListener("toggle", (/** @type {Event} */ event) => {
    const img = $(".context", card);
    const open = /** @type {HTMLDetailsElement} */ (event.target).open;
    if (open && !img.getAttribute("src")) img.src = `/api/alerts/${img.dataset.alert}/context`;
  });
  return card;
}

/**
 * @param {HTMLElement} card
 * @param {Encounter} encounter
 */
function fillCard(card, encounter) {
  const alert = encounter.best;
  card.className = `alert ${encounter.status}${card.classList.contains("new") ? " new" : ""}`;
  card.dataset.alert = alert.id;
  const probe = $(".probe", card);
  if (probe.dataset.alert !== alert.id) { probe.src = `/api/alerts/${alert.id}/probe`; probe.dataset.alert = alert.id; }
  const reference = $(".reference", card);
  if (alert.has_reference && reference.dataset.alert !== alert.id) {
    reference.src = `/api/alerts/${alert.id}/reference`;
    reference.dataset.alert = alert.id;
  }
  reference.closest("figure").hidden = !alert.has_reference;
  const scene = $(".scene", card);
  scene.hidden = !alert.has_context;
  const context = $(".context", card);
  if (context.dataset.alert !== alert.id) { context.removeAttribute("src"); context.dataset.alert = alert.id; scene.open = false; }
  const subject = alert.subject;
  $(".name", card).textContent = subjectName(subject);
  $(".ref", card).textContent = subject ? `Reference ${subject.external_ref}` : "";
  $(".repeats", card).textContent = plural(encounter.count, "alert");
  $(".category", card).textContent = subject ? words(subject.category) : "–";
  $(".reason", card).textContent = subject ? subject.reason : "–";
  $(".score", card).textContent = `${alert.score.toFixed(3)} (threshold ${alert.threshold.toFixed(3)})`;
  $(".camera", card).textContent = alert.source;
  $(".time", card).replaceChildren(timeEl(encounter.last_at));
  $(".first-time", card).replaceChildren(timeEl(encounter.first_at));
  $(".status", card).textContent = words(encounter.status);
  $(".decided", card).textContent = decidedText(encounter);
  const open = encounter.members.filter((m) => OPEN.has(m.status));
  const mayDecide = can("alerts:adjudicate");
  $(".decide", card).hidden = !mayDecide || open.length === 0;
  $(".escalate", card).hidden = !open.some((m) => (DECIDABLE_FROM.escalate || []).includes(m.status));
  const target = outcomeTarget(encounter);
  $(".engage", card).hidden = !mayDecide || open.length > 0 || target === null;
  const choice = $(".outcome-choice", card);
  if (queue.options && choice.options.length !== queue.options.outcomes.length) {
    choice.replaceChildren(...queue.options.outcomes.map((/** @type {string} */ o) => el("option", { value: o, text: words(o) })));
  }
  const outcome = target && target.outcome ? target : null;
  $(".outcome", card).textContent = outcome
    ? `Outcome: ${words(outcome.outcome)} (recorded by ${outcome.outcome_by} at ${fmtTime(outcome.outcome_at)})` : "";
  if (outcome) choice.value = outcome.outcome;
  const held = $(".hold-state", card);
  held.hidden = !alert.hold;
  held.textContent = alert.hold
    ? `On legal hold${alert.hold_by ? ` (placed by ${alert.hold_by}${alert.hold_at ? `, ${fmtTime(alert.hold_at)}` : ""})` : ""}: ` +
      "kept past the retention period until a supervisor lifts the hold." : "";
  $(".hold", card).hidden = alert.hold || !can("retention:manage");
}

/** @param {Encounter} encounter */
function decidedText(encounter) {
  const alert = encounter.best;
  let text = "";
  if (alert.adjudicated_by) text = `by ${alert.adjudicated_by}, ${fmtTime(alert.adjudicated_at)}`;
  if (alert.reject_reason) text += ` (${words(alert.reject_reason)})`;
  return text;
}

/**
 * The one alert an engagement's outcome is recorded on (one engagement, one outcome, however many repeats):
 * the best face once it is decided (officers may engage the person of a rejected alert too).
 * @param {Encounter} encounter
 */
function outcomeTarget(encounter) {
  return DECIDED.has(encounter.best.status) ? encounter.best : null;
}

// ---- decisions -----------------------------------------------------------------------------------------

/**
 * @param {HTMLElement} card
 * @param {any} error
 */
function showConflict(card, error) {
  const current = error.details && error.details.current;
  const box = $(".conflict", card);
  if (current) {
    const who = current.outcome_by && current.outcome ? current.outcome_by : current.adjudicated_by;
    box.textContent = `Someone else got there first: ${who || "another officer"} set this alert to ` +
      `${current.status}${current.outcome ? ` / ${words(current.outcome)}` : ""}. Your change was not saved.`;
  } else {
    box.textContent = error.message;
  }
  box.hidden = false;
}

/**
 * Put a changed alert into its encounter.
 * @param {Encounter} encounter
 * @param {any} alert
 */
function absorb(encounter, alert) {
  const member = encounter.members.find((m) => m.id === alert.id);
  if (member) {
    if (OPEN.has(member.status) && !OPEN.has(alert.status)) encounter.open -= 1;
    member.status = alert.status;
    member.version = alert.version;
  }
  if (encounter.best.id === alert.id) encounter.best = alert;
  encounter.status = statusOf(encounter);
}

const QUESTIONS = {
  confirm: { title: "Confirm this match", submit: "Confirm match", verb: "confirms" },
  reject: { title: "Reject", submit: "Reject", verb: "rejects" },
  escalate: { title: "Escalate to a supervisor", submit: "Escalate", verb: "escalates" },
};

/**
 * Confirm, reject or escalate every open alert of an encounter, after asking.
 * @param {HTMLElement} card
 * @param {"confirm" | "reject" | "escalate"} decision
 */
export async function decide(card, decision) {
  const encounter = queue.encounters.get(card.dataset.key || "");
  if (!encounter || $(".decide", card).hidden) return;
  const from = new Set(DECIDABLE_FROM[decision] || []);
  const targets = encounter.members.filter((m) => from.has(m.status));
  if (!targets.length) return;
  const q = QUESTIONS[decision];
  const who = subjectName(encounter.best.subject);
  const many = targets.length === 1 ? "this alert"
    : targets.length < encounter.open ? `the newest ${targets.length} of its ${encounter.open} open alerts`
      : `all ${targets.length} open alerts of this encounter`;
  const final = decision === "escalate" ? "A supervisor then confirms or rejects it."
    : "It cannot be undone: only corrected later with a reason, and this decision stays in the alert's history.";
  const answer = await ask({
    title: `${q.title} (${plural(targets.length, "alert")})?`, submit: q.submit, note: true, danger: decision === "reject",
    text: `This ${q.verb} ${many} (${who} on ${encounter.best.source}). ${final}`,
    reasons: decision === "reject" ? queue.options.reject_reasons : undefined,
  });
  card.focus();
  if (!answer) return;
  $(".conflict", card).hidden = true;
  let done = 0;
  for (const member of targets) {
    /** @type {Record<string, any>} */
    const body = { decision, version: member.version };
    if (decision === "reject") body.reason = answer.reason;
    if (answer.note) body.note = answer.note;
    try {
      absorb(encounter, await api("POST", `/api/alerts/${member.id}/adjudication`, body));
      done += 1;
    } catch (error) {
      const current = /** @type {any} */ (error).details?.current;
      if (current) absorb(encounter, current);
      showConflict(card, error);
      break;
    }
  }
  fillCard(card, encounter);
  if (done) flash(`${done} alert${done === 1 ? "" : "s"} of ${who}: ${words(statusOf(encounter))}.`);
  // After a confirmation the engagement comes next; after a rejection, usually the next card (focus stays).
  const next = decision !== "confirm" || $(".engage", card).hidden ? null : $(".outcome-choice", card);
  if (next) next.focus();
}

/** @param {HTMLElement} card */
async function recordOutcome(card) {
  const encounter = queue.encounters.get(card.dataset.key || "");
  const target = encounter ? outcomeTarget(encounter) : null;
  if (!encounter || !target) return;
  const outcome = $(".outcome-choice", card).value;
  if (outcome === target.outcome) return;
  /** @type {Record<string, any>} */
  const body = { outcome, version: target.version };
  if (target.outcome) {
    // A recorded outcome is never overwritten: the change is an amendment, with its reason.
    const answer = await ask({
      title: "Amend the outcome?", submit: "Amend outcome", note: true, noteRequired: true,
      noteLabel: "Why it is amended (required; kept in the alert's history)",
      text: `${target.outcome_by} recorded "${words(target.outcome)}". This changes it to "${words(outcome)}"; ` +
        "the first outcome stays in the alert's history.",
    });
    card.focus();
    if (!answer) return;
    body.amendment_reason = answer.note;
  }
  $(".conflict", card).hidden = true;
  try {
    const updated = await api("POST", `/api/alerts/${target.id}/outcome`, body);
    absorb(encounter, updated);
    fillCard(card, encounter);
    flash(`Outcome saved: ${words(updated.outcome)}.`);
  } catch (error) {
    const current = /** @type {any} */ (error).details?.current;
    if (current) { absorb(encounter, current); fillCard(card, encounter); }
    showConflict(card, error);
  }
}

/**
 * Put the card's alert (the one whose faces it shows) on legal hold, after asking for the reason.
 * @param {HTMLElement} card
 */
async function placeHold(card) {
  const encounter = queue.encounters.get(card.dataset.key || "");
  if (!encounter || encounter.best.hold || !can("retention:manage")) return;
  const alert = encounter.best;
  const who = subjectName(alert.subject);
  const days = queue.options.retention_days;
  const answer = await ask({
    title: `Place a legal hold on this alert (${who} on ${alert.source})?`, submit: "Place hold", note: true,
    noteRequired: true, noteLabel: "Reason for the hold (required; e.g. the investigation or case reference)",
    text: "The alert, its images and its record are kept past the retention period (alerts are otherwise deleted " +
      `after ${days} days) until a supervisor lifts the hold. The hold and its reason are kept in the audit ` +
      "log in your name.",
  });
  card.focus();
  if (!answer) return;
  $(".conflict", card).hidden = true;
  try {
    const hold = await api("POST", `/api/retention/holds/${alert.id}`, { reason: answer.note });
    absorb(encounter, { ...alert, hold: hold.hold, hold_by: hold.hold_by, hold_at: hold.hold_at });
    fillCard(card, encounter);
    flash(`Alert of ${who} on legal hold.`);
  } catch (error) {
    showConflict(card, error);
  }
}

// ---- keyboard ------------------------------------------------------------------------------------------

/** @param {number} step */
function moveFocus(step) {
  const cards = [...document.querySelectorAll("#alert-list li.alert")];
  if (!cards.length) return;
  const current = cards.findIndex((c) => c.contains(document.activeElement));
  const index = current < 0 ? 0 : Math.min(cards.length - 1, Math.max(0, current + step));
  const card = /** @type {HTMLElement} */ (cards[index]);
  card.focus();
  card.scrollIntoView({ block: "nearest" });
}

/** @returns {HTMLElement | null} */
function focusedCard() {
  const active = document.activeElement;
  return active ? active.closest("#alert-list li.alert") : null;
}

/** @param {KeyboardEvent} event */
function onKey(event) {
  if ($("#view-alerts").hidden || event.ctrlKey || event.metaKey || event.altKey) return;
  if (document.querySelector("dialog[open]")) return;
  const target = /** @type {HTMLElement} */ (event.target);
  if (target.closest("input, textarea, select")) return;
  const card = focusedCard();
  /** @type {Record<string, () => unknown>} */
  const actions = {
    j: () => moveFocus(1), k: () => moveFocus(-1),
    c: () => card && decide(card, "confirm"), r: () => card && decide(card, "reject"),
    e: () => card && decide(card, "escalate"),
    o: () => { if (card) { const scene = $(".scene", card); if (!scene.hidden) scene.open = !scene.open; } },
    n: () => { if (!$("#new-bar").hidden) showNew(); },
    m: () => { if (!$("#load-more").hidden) loadMore(); },
    "/": () => $("#queue-filters").status.focus(),
    "?": () => $("#keys-dialog").showModal(),
  };
  const action = actions[event.key];
  if (!action) return;
  event.preventDefault();
  action();
}

/** Wire the queue's controls (once, at start). */
export function setUpQueue() {
  const form = $("#queue-filters");
  form.status.dataset.initial = "pending";
  form.addEventListener("change", () => loadQueue().catch((error) => flash(error.message)));
  form.addEventListener("submit", (/** @type {Event} */ event) => event.preventDefault());
  $("#new-bar").addEventListener("click", () => showNew().catch((error) => flash(error.message)));
  $("#load-more").addEventListener("click", () => loadMore().catch((error) => flash(error.message)));
  $("#keys-open").addEventListener("click", () => $("#keys-dialog").showModal());
  $("#keys-close").addEventListener("click", () => $("#keys-dialog").close());
  document.addEventListener("keydown", onKey);
}
