// OpenLFR operator console: ES modules, no build step, no inline script (the CSP forbids it). Type-checked
// (tsc --checkJs over the JSDoc annotations) and linted in CI: see docs/adr/0100-console-front-end.md.
// Every piece of data is put into the page with textContent, never as HTML. What the page offers follows the
// permissions the server sends with the session; the server checks every call anyway.
import { api, session } from "./api.js";
import { $, el, fmtTime, words } from "./dom.js";
import { loadQueue, onLiveAlert, queue, setUpQueue } from "./queue.js";
import { loadAudit, loadDeployments, loadHolds, loadTokens, loadUsers } from "./governance.js";
import { ask, can, flash, user } from "./ui.js";
import { loadReviews } from "./reviews.js";
import { testView } from "./testview.js";
import { notifyNewAlert, setUpNotify, unlockAudio } from "./notify.js";
import { hideWall, showWall } from "./wall.js";
import { drawZone, zoneEditor, zoneOverlay } from "./zone.js";

const state = {
  /** @type {EventSource | null} */ stream: null,
  maxSeq: 0,
  newCount: 0,
  /** @type {number[]} */ timers: [],
  /** @type {string | null} */ watchlist: null,
};

/** Pages: the permissions that open each (any one of them, as the server names them). */
const PAGES = { alerts: ["alerts:read"], watchlists: ["watchlists:read"], reviews: ["watchlists:read"],
  cameras: ["cameras:read"], deployments: ["deployments:read"], holds: ["retention:manage"], audit: ["audit:read"],
  users: ["users:manage", "competence:read"], tokens: ["tokens:manage"], wall: ["cameras:wall"] };

/** @param {string} name */
function mayOpen(name) {
  return PAGES[/** @type {keyof PAGES} */ (name)].some((permission) => can(permission));
}

/** @type {Record<string, () => Promise<void>>} */
const GOVERNANCE = { reviews: loadReviews, deployments: loadDeployments, holds: loadHolds, audit: loadAudit, users: loadUsers, tokens: loadTokens };

// ---- session -------------------------------------------------------------------------------------------

function stopTimers() {
  for (const id of state.timers) clearInterval(id);
  state.timers = [];
}

/** @param {string} [message] */
function showLogin(message) {
  user.me = null;
  if (state.stream) { state.stream.close(); state.stream = null; }
  stopTimers();
  hideWall();
  $("#top").hidden = true;
  for (const view of document.querySelectorAll(".view")) /** @type {HTMLElement} */ (view).hidden = view.id !== "view-login";
  $("#login-error").textContent = message || "";
  $("#login-username").focus();
}

/** @param {any} me */
async function startSession(me) {
  user.me = me;
  session.csrf = me.csrf_token;
  $("#top").hidden = false;
  $("#who").textContent = `${me.name} (${me.role})`;
  for (const name of Object.keys(PAGES)) $(`#nav-${name}`).hidden = !mayOpen(name);
  // Oversight without account management sees the training records only.
  $("#nav-users").textContent = can("users:manage") ? "Users" : "Training records";
  if (!location.hash || location.hash === "#login") location.hash = "#alerts";
  await route();
  openStream();
}

/** @param {SubmitEvent} event */
async function login(event) {
  event.preventDefault();
  const form = /** @type {any} */ (event.target);
  try {
    const me = await api("POST", "/api/auth/login", { username: form.username.value, password: form.password.value });
    form.password.value = "";
    unlockAudio();
    await startSession(me);
  } catch (error) {
    $("#login-error").textContent = /** @type {Error} */ (error).message;
  }
}

async function logout() {
  try { await api("POST", "/api/auth/logout"); } catch { /* already gone */ }
  state.maxSeq = 0;
  queue.lastSeq = 0;
  queue.encounters.clear();
  $("#alert-list").replaceChildren();
  showLogin("Signed out.");
}

// ---- routing -------------------------------------------------------------------------------------------

async function route() {
  if (!user.me) return;
  const asked = (location.hash || "#alerts").slice(1) || "alerts";
  const allowed = Object.keys(PAGES).filter(mayOpen);
  const known = allowed.includes(asked) ? asked : allowed[0];
  stopTimers();
  if (known !== "wall") hideWall();
  for (const view of document.querySelectorAll(".view")) /** @type {HTMLElement} */ (view).hidden = view.id !== `view-${known}`;
  for (const link of document.querySelectorAll(".top nav a")) {
    const active = link.id === `nav-${known}`;
    link.classList.toggle("active", active);
    if (active) link.setAttribute("aria-current", "page"); else link.removeAttribute("aria-current");
  }
  if (known === "alerts") { state.newCount = 0; updateCount(); await loadQueue(); }
  if (known === "watchlists") await loadWatchlists();
  if (known === "cameras") await loadCameras();
  if (known === "wall") await showWall();
  if (GOVERNANCE[known]) await GOVERNANCE[known]();
}

// ---- live alerts ---------------------------------------------------------------------------------------

function updateCount() {
  $("#new-count").textContent = state.newCount ? `${state.newCount} new` : "";
}

function openStream() {
  if (state.stream) state.stream.close();
  // The browser resends the last event id when it reconnects by itself; `after` covers a fresh start, from
  // what the queue last loaded, so an alert stored between that load and this stream is not missed
  // (without either, the stream starts from now).
  state.maxSeq = Math.max(state.maxSeq, queue.lastSeq);
  const source = new EventSource(`/api/alerts/stream${state.maxSeq ? `?after=${state.maxSeq}` : ""}`);
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
    if (alert.seq <= state.maxSeq) return;
    state.maxSeq = alert.seq;
    onNewAlert(alert);
  });
}

/** @param {any} alert */
function onNewAlert(alert) {
  notifyNewAlert();
  if ($("#view-alerts").hidden) { state.newCount += 1; updateCount(); }
  flash(`New alert: ${alert.subject ? alert.subject.display_name || alert.subject.external_ref : "subject"} on ${alert.source}`);
  onLiveAlert(alert);
}

// ---- watchlists ----------------------------------------------------------------------------------------

/** The codes a subject takes (GET /api/watchlist-options), loaded with the page: never written into the script. */
const subjectCodes = { /** @type {string[]} */ categories: [], /** @type {string[]} */ image_sources: [] };

function canManageWatchlists() { return can("watchlists:manage"); }

async function loadWatchlists() {
  $("#watchlist-form").hidden = !canManageWatchlists();
  Object.assign(subjectCodes, await api("GET", "/api/watchlist-options"));
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
    ...subjectCodes.categories.map((c) => el("option", { value: c, text: words(c), selected: subject && subject.category === c })));
  const form = el("form", { class: "card" },
    el("h2", { text: editing ? "Edit details" : "Add a subject" }),
    editing ? null : field("Reference", el("input", { name: "external_ref", required: true, maxlength: 200 })),
    field("Display name", el("input", { name: "display_name", maxlength: 200, value: subject ? subject.display_name : "" })),
    field("Category", category),
    field("Reason (legal basis)", el("input", { name: "reason", required: true, maxlength: 2000, value: subject ? subject.reason : "" })),
    field("Image source", el("select", { name: "image_source" },
      ...subjectCodes.image_sources.map((c) => el("option", { value: c, text: words(c), selected: subject && subject.image_source === c })))),
    field("Image source note (required for other: say what it is and why it may be used)", el("input", { name: "image_source_note", maxlength: 2000, value: subject ? subject.image_source_note : "" })),
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
  // Enrolled, but it may show someone else: said plainly, with the server's reason.
  if (report.warning) return el("li", { class: "verdict warn-box" }, el("strong", { text: `${text}. Check it: ` }), report.warning.detail);
  return el("li", { class: `verdict ${ok ? "ok" : "bad"}`, text });
}

async function showSubject(id) {
  const box = $("#subject-detail");
  const subject = await api("GET", `/api/subjects/${id}`);
  const images = subject.images.map((image) => el("figure", {},
    el("img", { src: `/api/subjects/${subject.id}/images/${image.id}`, alt: `Reference image ${image.source_name}` }),
    el("figcaption", { text: `${image.source_name} — ${image.quality.passed ? "passed" : "failed"} quality` })));
  const children = [
    el("h2", { tabindex: "-1", text: subject.display_name || subject.external_ref }),
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
    const listed = state.watchlist;
    const who = subject.display_name || subject.external_ref;
    if (listed) {
      actions.append(el("button", { type: "button", text: `Remove from ${listed}…`, onclick: async () => {
        const answer = await ask({ title: `Remove ${who} from ${listed}?`, submit: "Remove from watchlist",
          text: "The subject is no longer searched for in deployments that use a later snapshot of this watchlist. " +
            "Its record and images stay; it can be added again." });
        if (!answer) return;
        try { await api("DELETE", `/api/watchlists/${encodeURIComponent(listed)}/members/${subject.id}`);
          flash("Removed from the watchlist."); await showWatchlist(listed); } catch (error) { flash(error.message); } } }));
    }
    actions.append(el("button", { type: "button", class: "danger", text: "Erase subject…", onclick: async () => {
      const answer = await ask({ title: `Erase ${who}?`, submit: "Erase subject", danger: true, note: true,
        noteRequired: true, noteLabel: "Why it is erased (required; kept in the audit log)",
        text: "Every image and template of this subject is deleted and it leaves every watchlist. This cannot be undone." });
      if (!answer) return;
      try { await api("POST", `/api/subjects/${subject.id}/erase`, { reason: answer.note });
        flash("Subject erased."); await loadWatchlists(); } catch (error) { flash(error.message); } } }));
    children.push(actions);
  }
  // The control that asked for this card (in it, or the form just redrawn away) would leave the focus at the page's
  // top: keyboard and screen-reader users are taken to the subject's heading instead.
  const lost = box.contains(document.activeElement) || !document.activeElement || document.activeElement === document.body;
  box.replaceChildren(...children);
  if (lost) /** @type {HTMLElement} */ ($("h2", box)).focus();
}

// ---- cameras -------------------------------------------------------------------------------------------

async function loadCameras() {
  $("#camera-form").hidden = !can("cameras:manage");
  await refreshCameras();
  state.timers.push(setInterval(refreshCameras, 2000));
}

async function refreshCameras() {
  let health, cameras;
  try {
    [health, cameras] = await Promise.all([api("GET", "/api/cameras/health"), api("GET", "/api/cameras")]);
  } catch (error) { return; }
  /** @type {Map<string, any>} */
  const byId = new Map(cameras.map((/** @type {any} */ c) => [c.id, c]));
  const box = $("#camera-list");
  const seen = new Set();
  for (const cam of health) {
    seen.add(cam.camera_id);
    let card = box.querySelector(`[data-id="${cam.camera_id}"]`);
    if (!card) {
      const svg = zoneOverlay();
      const img = el("img", { alt: `Live preview of ${cam.name}, faces blanked` });
      // The overlay is in fractions of the picture: the view takes the picture's shape once it is known.
      img.addEventListener("load", () => { view.style.aspectRatio = `${img.naturalWidth} / ${img.naturalHeight}`; });
      const view = el("div", { class: "camera-view" }, img, svg);
      card = el("article", { class: "card camera", "data-id": cam.camera_id },
        el("h2", { text: cam.name }), view, el("dl", {}), el("div", { class: "actions" }));
      const zone = byId.get(cam.camera_id)?.zone ?? null;
      if (can("cameras:manage")) {
        card.insertBefore(zoneEditor({ name: cam.name, view, svg, points: zone,
          save: (points) => saveZone(cam, points) }), $(".actions", card));
      } else drawZone(svg, zone);
      const check = testView(cam);
      $(".actions", card).append(check.button);
      card.append(check.panel);
      if (can("cameras:manage")) {
        $(".actions", card).append(el("button", { type: "button", class: "danger", text: "Remove",
          "aria-label": `Remove camera ${cam.name}`, onclick: () => removeCamera(cam) }));
      }
      box.append(card);
    }
    const facts = [["State", cam.state], ["Source", cam.target], ["FPS", cam.fps.toFixed(1)], ["Frames", cam.frames],
      ["Faces", cam.faces], ["Alerts", cam.alerts], ["Reconnects", cam.reconnects],
      ["Last frame", fmtTime(cam.last_frame_at) || "–"], ["Deployment", await deploymentLabel(cam.deployment_id)]];
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

/** Deployment id → "name (status)", asked once per deployment a camera shows. */
const deploymentLabels = new Map();

/**
 * The deployment reading a camera, by its name (the id where the caller may not read deployments).
 * @param {string | null} id
 * @returns {Promise<string>}
 */
async function deploymentLabel(id) {
  if (!id) return "–";
  if (!deploymentLabels.has(id)) {
    try {
      const d = await api("GET", `/api/deployments/${encodeURIComponent(id)}`);
      deploymentLabels.set(id, `${d.name} (${words(d.status)})`);
    } catch { return id.slice(0, 8); }
  }
  return deploymentLabels.get(id);
}

/**
 * Store a camera's zone (null: the whole view); the server checks it and says why it refuses one.
 * @param {any} cam
 * @param {number[][] | null} points
 */
async function saveZone(cam, points) {
  try {
    await api("PUT", `/api/cameras/${cam.camera_id}/zone`, { points });
    flash(points ? `Zone of ${cam.name} saved.` : `Zone of ${cam.name} cleared: the whole view.`);
  } catch (error) { flash(error.message); }
}

/**
 * Remove a camera, after asking (it stops recognition on it and cannot be undone).
 * @param {any} cam
 */
async function removeCamera(cam) {
  const answer = await ask({ title: `Remove camera ${cam.name}?`, submit: "Remove camera", danger: true,
    text: "Recognition on it stops and the camera is deleted. This cannot be undone." });
  if (!answer) return;
  try { await api("DELETE", `/api/cameras/${cam.camera_id}`); await refreshCameras(); } catch (error) { flash(error.message); }
}

/** @param {SubmitEvent} event */
async function addCamera(event) {
  event.preventDefault();
  const form = /** @type {any} */ (event.target);
  try {
    await api("POST", "/api/cameras", { name: form.name.value, source: form.source.value,
      location: form.location.value, loop: form.loop.checked });
    form.reset();
    await refreshCameras();
  } catch (error) { flash(error.message); }
}

// ---- start ---------------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", async () => {
  session.onUnauthorised = showLogin;
  $("#login-form").addEventListener("submit", login);
  $("#logout").addEventListener("click", logout);
  $("#watchlist-form").addEventListener("submit", createWatchlist);
  $("#camera-form").addEventListener("submit", addCamera);
  setUpQueue();
  setUpNotify();
  window.addEventListener("hashchange", () => route().catch((error) => flash(error.message)));
  try {
    await startSession(await api("GET", "/api/auth/session"));
  } catch {
    showLogin("");
  }
});
