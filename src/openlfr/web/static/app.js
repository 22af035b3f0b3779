// OpenLFR operator console. Plain JavaScript, no build step, no inline script (the CSP forbids it).
// Every piece of data is put into the page with textContent, never as HTML.
"use strict";

const state = { me: null, csrf: null, alerts: new Map(), maxSeq: 0, stream: null, newCount: 0,
                timers: [], watchlist: null, audio: null };
const $ = (selector, root = document) => root.querySelector(selector);
const CAN_DECIDE = new Set(["operator", "supervisor"]);

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error && body.error.message) || `HTTP ${status}`);
    this.status = status;
    this.code = body && body.error ? body.error.code : "http_error";
    this.details = body && body.error ? body.error.details : null;
  }
}

async function api(method, path, body, isForm = false) {
  const headers = {};
  if (method !== "GET" && state.csrf) headers["X-CSRF-Token"] = state.csrf;
  if (body !== undefined && !isForm) headers["Content-Type"] = "application/json";
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : isForm ? body : JSON.stringify(body),
  });
  if (response.status === 204) return null;
  const data = await response.json().catch(() => null);
  if (!response.ok) {
    if (response.status === 401 && path !== "/api/auth/login") showLogin("Your session has ended: sign in again.");
    throw new ApiError(response.status, data);
  }
  return data;
}

function flash(message) {
  const box = $("#flash");
  box.textContent = message;
  box.classList.toggle("show", Boolean(message));
  if (message) setTimeout(() => { if (box.textContent === message) flash(""); }, 6000);
}

function fmtTime(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "medium" });
}

// ---- session -------------------------------------------------------------------------------------------

function stopTimers() {
  for (const id of state.timers) clearInterval(id);
  state.timers = [];
}

function showLogin(message) {
  state.me = null;
  if (state.stream) { state.stream.close(); state.stream = null; }
  stopTimers();
  $("#top").hidden = true;
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== "view-login";
  $("#login-error").textContent = message || "";
  $("#login-username").focus();
}

async function startSession(session) {
  state.me = session;
  state.csrf = session.csrf_token;
  $("#top").hidden = false;
  $("#who").textContent = `${session.name} (${session.role})`;
  if (!location.hash || location.hash === "#login") location.hash = "#alerts";
  await route();
  openStream();
}

async function login(event) {
  event.preventDefault();
  const form = event.target;
  try {
    const session = await api("POST", "/api/auth/login", {
      username: form.username.value, password: form.password.value,
    });
    form.password.value = "";
    unlockAudio();
    await startSession(session);
  } catch (error) {
    $("#login-error").textContent = error.message;
  }
}

async function logout() {
  try { await api("POST", "/api/auth/logout"); } catch (error) { /* already gone */ }
  state.alerts.clear();
  state.maxSeq = 0;
  $("#alert-list").replaceChildren();
  showLogin("Signed out.");
}

// ---- routing -------------------------------------------------------------------------------------------

async function route() {
  if (!state.me) return;
  const name = (location.hash || "#alerts").slice(1) || "alerts";
  const known = ["alerts", "watchlists", "cameras"].includes(name) ? name : "alerts";
  stopTimers();
  for (const view of document.querySelectorAll(".view")) view.hidden = view.id !== `view-${known}`;
  for (const link of document.querySelectorAll(".top nav a")) link.classList.toggle("active", link.id === `nav-${known}`);
  if (known === "alerts") { state.newCount = 0; updateCount(); await loadAlerts(); }
  if (known === "watchlists") await loadWatchlists();
  if (known === "cameras") await loadCameras();
}

// ---- live alerts ---------------------------------------------------------------------------------------

function unlockAudio() {
  try {
    state.audio = state.audio || new AudioContext();
    if (state.audio.state === "suspended") state.audio.resume();
  } catch (error) { state.audio = null; }
}

function beep() {
  const ctx = state.audio;
  if (!ctx) return;
  const now = ctx.currentTime;
  for (const [offset, freq] of [[0, 880], [0.18, 1175]]) {
    const osc = ctx.createOscillator();
    const gain = ctx.createGain();
    osc.frequency.value = freq;
    gain.gain.setValueAtTime(0.0001, now + offset);
    gain.gain.exponentialRampToValueAtTime(0.25, now + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, now + offset + 0.16);
    osc.connect(gain).connect(ctx.destination);
    osc.start(now + offset);
    osc.stop(now + offset + 0.17);
  }
}

function updateCount() {
  $("#new-count").textContent = state.newCount ? String(state.newCount) : "";
}

function wanted(alert) {
  const filter = $("#alert-filter").value;
  return !filter || alert.status === filter;
}

async function loadAlerts() {
  const filter = $("#alert-filter").value;
  const query = filter ? `?status=${encodeURIComponent(filter)}&limit=100` : "?limit=100";
  const page = await api("GET", `/api/alerts${query}`);
  const list = $("#alert-list");
  list.replaceChildren();
  for (const alert of page.items) {
    state.alerts.set(alert.id, alert);
    state.maxSeq = Math.max(state.maxSeq, alert.seq);
    list.append(renderAlert(alert));
  }
  $("#alerts-empty").hidden = page.items.length > 0;
}

function openStream() {
  if (state.stream) state.stream.close();
  // The browser resends the last event id when it reconnects by itself; `after` covers a fresh start.
  const source = new EventSource(`/api/alerts/stream?after=${state.maxSeq}`);
  state.stream = source;
  const label = $("#stream-state");
  source.onopen = () => { label.textContent = "live"; label.classList.add("live"); };
  source.onerror = () => {
    label.textContent = "reconnecting…"; label.classList.remove("live");
    if (source.readyState === EventSource.CLOSED) {
      // A refused reconnect (session over) closes the stream: check the session, then start again.
      api("GET", "/api/auth/session").then(() => setTimeout(openStream, 1000)).catch(() => {});
    }
  };
  source.addEventListener("alert", (event) => {
    const alert = JSON.parse(event.data);
    const known = state.alerts.has(alert.id);
    state.alerts.set(alert.id, alert);
    state.maxSeq = Math.max(state.maxSeq, alert.seq);
    if (known) return;
    onNewAlert(alert);
  });
}

function onNewAlert(alert) {
  beep();
  const onAlerts = !$("#view-alerts").hidden;
  if (!onAlerts) { state.newCount += 1; updateCount(); }
  flash(`New alert: ${alert.subject ? alert.subject.display_name || alert.subject.external_ref : "subject"} on ${alert.source}`);
  if (onAlerts && wanted(alert)) {
    const card = renderAlert(alert);
    card.classList.add("new");
    $("#alert-list").prepend(card);
    $("#alerts-empty").hidden = true;
  }
  document.title = `(!) OpenLFR console`;
  setTimeout(() => { document.title = "OpenLFR console"; }, 5000);
}

function renderAlert(alert) {
  const card = $("#alert-template").content.firstElementChild.cloneNode(true);
  card.dataset.id = alert.id;
  fillAlert(card, alert);
  $(".confirm", card).addEventListener("click", () => decide(card, "confirm"));
  $(".reject", card).addEventListener("click", () => decide(card, "reject"));
  $(".escalate", card).addEventListener("click", () => decide(card, "escalate"));
  $(".record-outcome", card).addEventListener("click", () => recordOutcome(card));
  $(".scene", card).addEventListener("toggle", (event) => {
    const img = $(".context", card);
    if (event.target.open && !img.getAttribute("src")) img.src = `/api/alerts/${alert.id}/context`;
  });
  return card;
}

function fillAlert(card, alert) {
  const subject = alert.subject;
  card.className = `alert ${alert.status}${card.classList.contains("new") ? " new" : ""}`;
  card.setAttribute("aria-label", `Alert ${alert.seq}: ${subject ? subject.display_name || subject.external_ref : "erased subject"}`);
  const probe = $(".probe", card);
  if (!probe.getAttribute("src")) probe.src = `/api/alerts/${alert.id}/probe`;
  const reference = $(".reference", card);
  if (alert.has_reference && !reference.getAttribute("src")) reference.src = `/api/alerts/${alert.id}/reference`;
  reference.closest("figure").hidden = !alert.has_reference;
  $(".scene", card).hidden = !alert.has_context;
  $(".name", card).textContent = subject ? subject.display_name || subject.external_ref : "Erased subject";
  $(".ref", card).textContent = subject ? `Reference ${subject.external_ref}` : "";
  $(".category", card).textContent = subject ? subject.category.replaceAll("_", " ") : "–";
  $(".reason", card).textContent = subject ? subject.reason : "–";
  $(".score", card).textContent = `${alert.score.toFixed(3)} (threshold ${alert.threshold.toFixed(3)})`;
  $(".camera", card).textContent = alert.source;
  $(".time", card).textContent = fmtTime(alert.decided_at);
  $(".status", card).textContent = alert.status;
  let decided = "";
  if (alert.adjudicated_by) decided = `by ${alert.adjudicated_by} at ${fmtTime(alert.adjudicated_at)}`;
  if (alert.reject_reason) decided += ` (${alert.reject_reason.replaceAll("_", " ")})`;
  $(".decided", card).textContent = decided;
  const canDecide = state.me && CAN_DECIDE.has(state.me.role);
  $(".decide", card).hidden = !canDecide || !["pending", "escalated"].includes(alert.status);
  $(".escalate", card).hidden = alert.status !== "pending";
  $(".engage", card).hidden = !canDecide || alert.status !== "confirmed";
  $(".outcome", card).textContent = alert.outcome
    ? `Outcome: ${alert.outcome.replaceAll("_", " ")} (recorded by ${alert.outcome_by} at ${fmtTime(alert.outcome_at)})` : "";
  if (alert.outcome) $(".outcome-choice", card).value = alert.outcome;
}

function showConflict(card, error) {
  const current = error.details && error.details.current;
  const box = $(".conflict", card);
  if (current) {
    state.alerts.set(current.id, current);
    fillAlert(card, current);
    const who = current.outcome_by && current.outcome ? current.outcome_by : current.adjudicated_by;
    box.textContent = `Someone else got there first: ${who || "another officer"} set this alert to ` +
      `${current.status}${current.outcome ? ` / ${current.outcome.replaceAll("_", " ")}` : ""}. Your change was not saved.`;
  } else {
    box.textContent = error.message;
  }
  box.hidden = false;
}

async function decide(card, decision) {
  const alert = state.alerts.get(card.dataset.id);
  const body = { decision, version: alert.version };
  if (decision === "reject") body.reason = $(".reject-reason", card).value;
  $(".conflict", card).hidden = true;
  try {
    const updated = await api("POST", `/api/alerts/${alert.id}/adjudication`, body);
    state.alerts.set(updated.id, updated);
    fillAlert(card, updated);
    flash(`Alert ${updated.seq} ${updated.status}.`);
    const next = updated.status === "confirmed" ? $(".record-outcome", card) : null;
    if (next) next.focus();
  } catch (error) {
    showConflict(card, error);
  }
}

async function recordOutcome(card) {
  const alert = state.alerts.get(card.dataset.id);
  $(".conflict", card).hidden = true;
  try {
    const updated = await api("POST", `/api/alerts/${alert.id}/outcome`,
      { outcome: $(".outcome-choice", card).value, version: alert.version });
    state.alerts.set(updated.id, updated);
    fillAlert(card, updated);
    flash(`Outcome saved for alert ${updated.seq}.`);
  } catch (error) {
    showConflict(card, error);
  }
}

// ---- watchlists ----------------------------------------------------------------------------------------

const CATEGORIES = ["wanted_by_courts", "suspected_offence", "bail_or_conditions", "missing_at_risk",
  "risk_to_self_or_others", "associate", "witness", "victim"];
const IMAGE_SOURCES = [["custody_image", "custody image"], ["other_police_image", "other police-held image"],
  ["other", "other (say what in the note)"]];

function canManageWatchlists() { return state.me && state.me.role === "supervisor"; }

async function loadWatchlists() {
  $("#watchlist-form").hidden = !canManageWatchlists();
  const lists = await api("GET", "/api/watchlists");
  const ul = $("#watchlist-list");
  ul.replaceChildren();
  for (const wl of lists) {
    const button = el("button", { type: "button", text: `${wl.name} (${wl.subjects})`,
      class: state.watchlist === wl.name ? "active" : "", onclick: () => showWatchlist(wl.name) });
    ul.append(el("li", {}, button));
  }
  if (!lists.length) ul.append(el("li", { class: "empty", text: "No watchlists yet." }));
  if (state.watchlist) await showWatchlist(state.watchlist);
}

async function createWatchlist(event) {
  event.preventDefault();
  const form = event.target;
  try {
    await api("POST", "/api/watchlists", { name: form.name.value, description: form.description.value });
    state.watchlist = form.name.value.trim();
    form.reset();
    await loadWatchlists();
  } catch (error) { flash(error.message); }
}

async function showWatchlist(name) {
  state.watchlist = name;
  for (const button of document.querySelectorAll("#watchlist-list button")) {
    button.classList.toggle("active", button.textContent.startsWith(`${name} (`));
  }
  const detail = $("#watchlist-detail");
  let wl;
  try { wl = await api("GET", `/api/watchlists/${encodeURIComponent(name)}`); } catch (error) { detail.replaceChildren(); return; }
  const rows = wl.members.map((m) => el("tr", {},
    el("td", {}, el("button", { type: "button", text: m.display_name || m.external_ref, onclick: () => showSubject(m.id) })),
    el("td", { text: m.external_ref }), el("td", { text: m.category.replaceAll("_", " ") }),
    el("td", { text: m.review_by + (m.review_overdue ? " (overdue)" : "") })));
  const children = [
    el("h2", { text: wl.name }), el("p", { class: "hint", text: wl.description }),
    el("table", {}, el("thead", {}, el("tr", {}, el("th", { text: "Name" }), el("th", { text: "Reference" }),
      el("th", { text: "Category" }), el("th", { text: "Review by" }))), el("tbody", {}, ...rows)),
    el("p", { class: "hint", text: `${wl.snapshots.length} snapshot(s).` }),
  ];
  if (canManageWatchlists()) {
    children.push(el("button", { type: "button", text: "Take a snapshot for a deployment", onclick: async () => {
      try { const s = await api("POST", `/api/watchlists/${encodeURIComponent(name)}/snapshots`);
        flash(`Snapshot ${s.id.slice(0, 8)}: ${s.templates} templates of ${s.subjects} subjects, ${s.excluded.length} excluded.`);
        await showWatchlist(name);
      } catch (error) { flash(error.message); } } }));
    children.push(subjectForm(name));
  }
  children.push(el("div", { id: "subject-detail" }));
  detail.replaceChildren(...children);
}

function field(label, input) { return el("label", {}, label, input); }

function subjectForm(watchlist, subject) {
  const editing = Boolean(subject);
  const category = el("select", { name: "category" },
    ...CATEGORIES.map((c) => el("option", { value: c, text: c.replaceAll("_", " "), selected: subject && subject.category === c })));
  const form = el("form", { class: "card" },
    el("h2", { text: editing ? "Edit details" : "Add a subject" }),
    editing ? null : field("Reference", el("input", { name: "external_ref", required: true, maxlength: 200 })),
    field("Display name", el("input", { name: "display_name", maxlength: 200, value: subject ? subject.display_name : "" })),
    field("Category", category),
    field("Reason (legal basis)", el("input", { name: "reason", required: true, maxlength: 2000, value: subject ? subject.reason : "" })),
    field("Image source", el("select", { name: "image_source" },
      ...IMAGE_SOURCES.map(([c, label]) => el("option", { value: c, text: label, selected: subject && subject.image_source === c })))),
    field("Image source note (required for other)", el("input", { name: "image_source_note", maxlength: 2000, value: subject ? subject.image_source_note : "" })),
    field("Date of birth (if known)", el("input", { name: "date_of_birth", type: "date", value: subject && subject.date_of_birth ? subject.date_of_birth : "" })),
    field("Justification if under 18", el("input", { name: "minor_justification", maxlength: 2000, value: subject ? subject.minor_justification : "" })),
    field("Review by", el("input", { name: "review_by", type: "date", required: true, value: subject ? subject.review_by : "" })),
    el("button", { type: "submit", text: editing ? "Save" : "Add subject" }));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const body = { display_name: form.display_name.value, category: form.category.value, reason: form.reason.value,
      image_source: form.image_source.value, image_source_note: form.image_source_note.value,
      date_of_birth: form.date_of_birth.value || null, minor_justification: form.minor_justification.value,
      review_by: form.review_by.value };
    try {
      if (editing) {
        await api("PATCH", `/api/subjects/${subject.id}`, body);
        flash("Saved.");
        await showSubject(subject.id);
      } else {
        const created = await api("POST", "/api/subjects", { ...body, external_ref: form.external_ref.value, watchlist });
        await showWatchlist(watchlist);
        await showSubject(created.id);
      }
    } catch (error) { flash(error.message); }
  });
  return form;
}

function verdictLine(name, report) {
  const ok = report.outcome === "enrolled" || report.outcome === "already_enrolled";
  let text = `${name}: ${report.outcome.replaceAll("_", " ")}`;
  if (report.reasons.length) text += ` — ${report.reasons.map((r) => r.replaceAll("_", " ")).join(", ")}`;
  else if (!ok && report.detail) text += ` — ${report.detail}`;
  if (report.image) text += ` — quality: eyes ${report.image.quality.quality ? report.image.quality.quality.inter_ocular_px : "?"} px apart`;
  return el("li", { class: `verdict ${ok ? "ok" : "bad"}`, text });
}

async function showSubject(id) {
  const box = $("#subject-detail");
  const subject = await api("GET", `/api/subjects/${id}`);
  const images = subject.images.map((image) => el("figure", {},
    el("img", { src: `/api/subjects/${subject.id}/images/${image.id}`, alt: `Reference image ${image.source_name}` }),
    el("figcaption", { text: `${image.source_name} — ${image.quality.passed ? "passed" : "failed"} quality` })));
  const children = [
    el("h2", { text: subject.display_name || subject.external_ref }),
    el("p", { text: `${subject.external_ref} · ${subject.category.replaceAll("_", " ")} · added by ${subject.added_by} · review by ${subject.review_by}` }),
    el("p", { text: `Reason: ${subject.reason}` }),
    el("div", { class: "thumbs" }, ...images),
  ];
  if (canManageWatchlists()) {
    const results = el("ul", { class: "plain", "aria-live": "polite" });
    const input = el("input", { type: "file", name: "file", accept: "image/jpeg,image/png,image/webp", multiple: true });
    const upload = el("form", { class: "card" }, el("h2", { text: "Upload reference images" }), field("Images", input),
      el("button", { type: "submit", text: "Upload" }), results);
    upload.addEventListener("submit", async (event) => {
      event.preventDefault();
      results.replaceChildren();
      for (const file of input.files) {
        const body = new FormData();
        body.append("file", file);
        try { results.append(verdictLine(file.name, await api("POST", `/api/subjects/${subject.id}/images`, body, true))); }
        catch (error) { results.append(el("li", { class: "verdict bad", text: `${file.name}: ${error.message}` })); }
      }
      const thumbs = $(".thumbs", box);
      const fresh = await api("GET", `/api/subjects/${subject.id}`);
      thumbs.replaceChildren(...fresh.images.map((image) => el("figure", {},
        el("img", { src: `/api/subjects/${subject.id}/images/${image.id}`, alt: `Reference image ${image.source_name}` }),
        el("figcaption", { text: image.source_name }))));
    });
    children.push(upload, subjectForm(state.watchlist, subject));
    const actions = el("div", { class: "actions" });
    if (state.watchlist) {
      actions.append(el("button", { type: "button", text: `Remove from ${state.watchlist}`, onclick: async () => {
        try { await api("DELETE", `/api/watchlists/${encodeURIComponent(state.watchlist)}/members/${subject.id}`);
          flash("Removed from the watchlist."); await showWatchlist(state.watchlist); } catch (error) { flash(error.message); } } }));
    }
    actions.append(el("button", { type: "button", class: "danger", text: "Erase subject…", onclick: async () => {
      const reason = window.prompt("Erase every image and template of this subject. Why?");
      if (!reason) return;
      try { await api("POST", `/api/subjects/${subject.id}/erase`, { reason });
        flash("Subject erased."); await loadWatchlists(); } catch (error) { flash(error.message); } } }));
    children.push(actions);
  }
  box.replaceChildren(...children);
}

// ---- cameras -------------------------------------------------------------------------------------------

async function loadCameras() {
  $("#camera-form").hidden = !(state.me && state.me.role === "admin");
  await refreshCameras();
  state.timers.push(setInterval(refreshCameras, 2000));
}

async function refreshCameras() {
  let health;
  try { health = await api("GET", "/api/cameras/health"); } catch (error) { return; }
  const box = $("#camera-list");
  const seen = new Set();
  for (const cam of health) {
    seen.add(cam.camera_id);
    let card = box.querySelector(`[data-id="${cam.camera_id}"]`);
    if (!card) {
      card = el("article", { class: "card camera", "data-id": cam.camera_id },
        el("h2", { text: cam.name }), el("img", { alt: `Live preview of ${cam.name}, faces blanked` }),
        el("dl", {}), el("div", { class: "actions" }));
      if (state.me.role === "admin") {
        $(".actions", card).append(el("button", { type: "button", class: "danger", text: "Remove", onclick: async () => {
          try { await api("DELETE", `/api/cameras/${cam.camera_id}`); await refreshCameras(); } catch (error) { flash(error.message); } } }));
      }
      box.append(card);
    }
    const facts = [["State", cam.state], ["Source", cam.target], ["FPS", cam.fps.toFixed(1)], ["Frames", cam.frames],
      ["Faces", cam.faces], ["Alerts", cam.alerts], ["Reconnects", cam.reconnects],
      ["Last frame", fmtTime(cam.last_frame_at) || "–"], ["Deployment", cam.deployment_id ? cam.deployment_id.slice(0, 8) : "–"]];
    if (cam.last_error) facts.push(["Last error", cam.last_error]);
    $("dl", card).replaceChildren(...facts.flatMap(([k, v]) => [el("dt", { text: k }),
      el("dd", { text: String(v), class: k === "State" ? `state-${cam.state}` : "" })]));
    const img = $("img", card);
    if (cam.state === "running") img.src = `/api/cameras/${cam.camera_id}/preview?at=${Date.now()}`;
    else img.removeAttribute("src");
  }
  for (const card of [...box.children]) if (!seen.has(card.dataset.id)) card.remove();
  if (!health.length) box.replaceChildren(el("p", { class: "empty", text: "No cameras." }));
}

async function addCamera(event) {
  event.preventDefault();
  const form = event.target;
  try {
    await api("POST", "/api/cameras", { name: form.name.value, source: form.source.value,
      location: form.location.value, loop: form.loop.checked });
    form.reset();
    await refreshCameras();
  } catch (error) { flash(error.message); }
}

// ---- start ---------------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", async () => {
  $("#login-form").addEventListener("submit", login);
  $("#logout").addEventListener("click", logout);
  $("#alert-filter").addEventListener("change", loadAlerts);
  $("#watchlist-form").addEventListener("submit", createWatchlist);
  $("#camera-form").addEventListener("submit", addCamera);
  document.addEventListener("click", unlockAudio, { once: true });
  document.addEventListener("keydown", unlockAudio, { once: true });
  window.addEventListener("hashchange", () => route().catch((error) => flash(error.message)));
  try {
    await startSession(await api("GET", "/api/auth/session"));
  } catch (error) {
    showLogin("");
  }
});
