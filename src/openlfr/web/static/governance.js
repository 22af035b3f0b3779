// The governance pages: users and roles, API tokens, deployments (plan → authorise with the watchlist
// composition → signage → live → end → review and sign-off, with their records and public notices), retention
// holds and the audit log with its verification. What each page offers follows the session the server sent:
// the permissions it holds, the roles it may grant, and the next steps each deployment allows (with the
// permission each needs). The server checks every call again.
import { api } from "./api.js";
import { $, el, fmtTime, words } from "./dom.js";
import { facts, field, onSubmit, options, table } from "./forms.js";
import { ask, can, flash, user } from "./ui.js";
import { trainingSection } from "./training.js";

// ---- users and roles -----------------------------------------------------------------------------------

export async function loadUsers() {
  const view = $("#view-users");
  const training = await trainingSection(loadUsers);
  if (!can("users:manage")) {  // oversight: the officers' training records only
    view.replaceChildren(el("h1", { text: "Training records" }), ...(training ? [training] : []));
    return;
  }
  const roles = /** @type {string[]} */ (user.me.account_roles);
  const users = await api("GET", "/api/users");
  const rows = users.map((/** @type {any} */ u) => {
    const mine = roles.includes(u.role);  // the server refuses changes to accounts of roles one does not grant
    const actions = el("div", { class: "actions" });
    if (mine && u.username !== user.me.name) {
      const choice = el("select", { "aria-label": `Role of ${u.username}` }, ...options(roles, u.role));
      actions.append(choice, el("button", { type: "button", text: "Change role", onclick: async () => {
        if (choice.value === u.role) return;
        const answer = await ask({ title: `Make ${u.username} ${words(choice.value)}?`, submit: "Change role",
          text: "Their open sessions are checked again at once." });
        if (!answer) return;
        try { await api("PATCH", `/api/users/${u.id}`, { role: choice.value }); flash("Role changed."); await loadUsers(); }
        catch (error) { flash(error.message); }
      } }));
      actions.append(el("button", { type: "button", class: u.disabled ? "" : "danger",
        text: u.disabled ? "Enable" : "Disable…", "aria-label": `${u.disabled ? "Enable" : "Disable"} ${u.username}`,
        onclick: async () => {
          if (!u.disabled) {
            const answer = await ask({ title: `Disable ${u.username}?`, submit: "Disable account", danger: true,
              text: "Every session of the account ends at once; its tokens stop working." });
            if (!answer) return;
          }
          try { await api("PATCH", `/api/users/${u.id}`, { disabled: !u.disabled }); await loadUsers(); }
          catch (error) { flash(error.message); }
        } }));
    }
    return [u.username, words(u.role), u.disabled ? "disabled" : "active", fmtTime(u.created_at), actions];
  });
  const form = el("form", { class: "card narrow", id: "user-form" },
    el("h2", { text: "New account" }),
    field("Username", el("input", { name: "username", required: true, maxlength: 64, autocomplete: "off" })),
    field("Password (at least 12 characters)", el("input", { name: "password", type: "password", required: true,
      minlength: 12, maxlength: 1024, autocomplete: "new-password" })),
    field("Role", el("select", { name: "role" }, ...options(roles))),
    el("button", { type: "submit", class: "primary", text: "Create account" }));
  onSubmit(form, async (f) => {
    await api("POST", "/api/users", { username: f.username.value, password: f.password.value, role: f.role.value });
    flash(`Account ${f.username.value} created.`);
    await loadUsers();
  });
  view.replaceChildren(el("h1", { text: "Users and roles" }),
    el("p", { class: "hint", text: `You manage accounts of these roles: ${roles.map(words).join(", ")}.` }),
    table("Accounts", ["Username", "Role", "State", "Created", "Actions"], rows), form, ...(training ? [training] : []));
}

// ---- API tokens ----------------------------------------------------------------------------------------

export async function loadTokens() {
  const view = $("#view-tokens");
  const roles = /** @type {string[]} */ (user.me.token_roles);
  const tokens = await api("GET", "/api/tokens");
  const rows = tokens.map((/** @type {any} */ t) => {
    const revoke = t.active ? el("button", { type: "button", class: "danger", text: "Revoke…",
      "aria-label": `Revoke token ${t.name}`, onclick: async () => {
        const answer = await ask({ title: `Revoke token ${t.name}?`, submit: "Revoke token", danger: true,
          text: "Every client using it is refused from now on. This cannot be undone." });
        if (!answer) return;
        try { await api("DELETE", `/api/tokens/${t.id}`); flash("Token revoked."); await loadTokens(); }
        catch (error) { flash(error.message); }
      } }) : "";
    const state = t.active ? "active" : t.revoked_at ? `revoked ${fmtTime(t.revoked_at)}` : "expired";
    return [t.name, words(t.role), t.created_by, fmtTime(t.created_at), fmtTime(t.expires_at) || "never",
      fmtTime(t.last_used_at) || "never", state, revoke];
  });
  const secret = el("div", { id: "token-secret", "aria-live": "polite" });
  const form = el("form", { class: "card narrow", id: "token-form" },
    el("h2", { text: "New API token" }),
    field("Name (the client that will use it)", el("input", { name: "name", required: true, maxlength: 64 })),
    field("Role", el("select", { name: "role" }, ...options(roles))),
    field("Expires after (days; empty: until revoked)", el("input", { name: "days", type: "number", min: 1, max: 3650 })),
    el("button", { type: "submit", class: "primary", text: "Mint token" }), secret);
  onSubmit(form, async (f) => {
    const created = await api("POST", "/api/tokens",
      { name: f.name.value, role: f.role.value, expires_in_days: f.days.value ? Number(f.days.value) : null });
    await loadTokens();
    $("#token-secret").replaceChildren(el("p", { class: "warn", text: "Copy it now: it is shown this once only." }),
      el("code", { class: "secret", text: created.token }));
  });
  view.replaceChildren(el("h1", { text: "API tokens" }),
    el("p", { class: "hint", text: "Tokens are for machine clients; decisions and accounts need a person signed in." }),
    table("Tokens", ["Name", "Role", "Minted by", "Created", "Expires", "Last used", "State", ""], rows), form);
}

// ---- deployments ---------------------------------------------------------------------------------------

/** @type {{ open: string | null }} */
const deployments = { open: null };

export async function loadDeployments() {
  const view = $("#view-deployments");
  const list = await api("GET", "/api/deployments");
  const rows = list.map((/** @type {any} */ d) => [
    el("button", { type: "button", class: "link", text: d.name, onclick: () => showDeployment(d.id) }),
    words(d.status), d.location, fmtTime(d.planned_start), fmtTime(d.planned_end), d.subject_count]);
  const children = [el("h1", { text: "Deployments" }),
    table("Deployments, newest first", ["Name", "Status", "Location", "Planned start", "Planned end", "Subjects"], rows),
    el("div", { id: "deployment-detail" })];
  if (can("deployments:manage")) children.push(await planForm());
  children.push(transparencyCard());
  view.replaceChildren(...children);
  if (deployments.open) await showDeployment(deployments.open);
}

/** The snapshots of every watchlist, newest first, for the plan form. */
async function snapshots() {
  const lists = await api("GET", "/api/watchlists");
  const found = [];
  for (const wl of lists) {
    const detail = await api("GET", `/api/watchlists/${encodeURIComponent(wl.name)}`);
    for (const s of detail.snapshots) found.push({ ...s, watchlist: wl.name });
  }
  return found.sort((a, b) => b.created_at.localeCompare(a.created_at));
}

/** @param {Date} when */
function localInput(when) {
  const pad = (/** @type {number} */ n) => String(n).padStart(2, "0");
  return `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}T${pad(when.getHours())}:${pad(when.getMinutes())}`;
}

async function planForm() {
  const cameras = await api("GET", "/api/cameras");
  const shots = await snapshots();
  const now = new Date();
  const text = (/** @type {string} */ name, /** @type {string} */ label, max = 2000) =>
    field(label, el("input", { name, required: true, maxlength: max }));
  const form = el("form", { class: "card", id: "plan-form" },
    el("h2", { text: "Plan a deployment" }),
    text("name", "Name", 200), text("use_case", "Use case", 200), text("purpose", "Purpose"),
    text("legal_basis", "Legal basis"), text("justification", "Justification (necessity and proportionality)"),
    text("location", "Location", 1000),
    field("Planned start (your time zone)", el("input", { name: "start", type: "datetime-local", required: true, value: localInput(now) })),
    field("Planned end", el("input", { name: "end", type: "datetime-local", required: true,
      value: localInput(new Date(now.getTime() + 4 * 3600_000)) })),
    el("fieldset", {}, el("legend", { text: "Cameras" }), ...cameras.map((/** @type {any} */ c) =>
      el("label", { class: "inline" }, el("input", { type: "checkbox", name: "camera", value: c.id }), ` ${c.name} — ${c.location || c.id}`))),
    field("Watchlist snapshot", el("select", { name: "snapshot", required: true }, ...shots.map((s) =>
      el("option", { value: s.id, text: `${s.watchlist}: ${s.subjects} subjects, ${s.templates} templates (${fmtTime(s.created_at)})` })))),
    field("Threshold (empty: the calibrated floor for the watchlist's size)", el("input", { name: "threshold", type: "number", step: "0.01", min: -1, max: 1 })),
    el("label", { class: "inline" }, el("input", { type: "checkbox", name: "signage" }), " Signs will be put up before it starts"),
    el("button", { type: "submit", class: "primary", text: "Plan deployment" }));
  onSubmit(form, async (f) => {
    const chosen = [...f.querySelectorAll("input[name=camera]:checked")].map((c) => c.value);
    if (!chosen.length) { flash("Choose at least one camera."); return; }
    const created = await api("POST", "/api/deployments", {
      name: f.name.value, use_case: f.use_case.value, purpose: f.purpose.value, legal_basis: f.legal_basis.value,
      justification: f.justification.value, location: f.location.value,
      planned_start: new Date(f.start.value).toISOString(), planned_end: new Date(f.end.value).toISOString(),
      camera_ids: chosen, snapshot: f.snapshot.value, signage_confirmed: f.signage.checked,
      threshold: f.threshold.value === "" ? null : Number(f.threshold.value) });
    flash(`Deployment ${created.name} planned: a supervisor must authorise it.`);
    deployments.open = created.id;
    await loadDeployments();
  });
  return form;
}

/** @param {string} id */
async function showDeployment(id) {
  deployments.open = id;
  const box = $("#deployment-detail");
  const d = await api("GET", `/api/deployments/${id}`);
  // Cameras by name (and place), not by id; a camera removed since is shown by its id.
  const registered = can("cameras:read") ? await api("GET", "/api/cameras").catch(() => []) : [];
  const cameraNames = d.camera_ids.map((/** @type {string} */ cid) => {
    const c = registered.find((/** @type {any} */ r) => r.id === cid);
    return c ? (c.location ? `${c.name} (${c.location})` : c.name) : cid;
  });
  const counts = d.counts ? `${d.counts.faces_seen} faces seen, ${d.counts.frames} frames` : "–";
  const children = [el("h2", { tabindex: "-1", text: d.name }), facts([
    ["Status", words(d.status)], ["Location", d.location], ["Use case", d.use_case], ["Purpose", d.purpose],
    ["Legal basis", d.legal_basis], ["Justification", d.justification],
    ["Planned", `${fmtTime(d.planned_start)} – ${fmtTime(d.planned_end)}`], ["Cameras", cameraNames.join(", ")],
    ["Watchlist", `${d.subject_count} subjects, ${d.watchlist_size} templates (snapshot ${d.snapshot_fingerprint.slice(0, 12)})`],
    ["Threshold", `${d.threshold}${d.threshold_minimum !== null ? ` (floor ${d.threshold_minimum})` : ""}`],
    ["Planned by", d.created_by],
    ["Authorised", d.authorisation ? `by ${d.authorisation.by} at ${fmtTime(d.authorisation.at)}: ${d.authorisation.text}` : "not yet"],
    ["Started", fmtTime(d.started_at) || "–"], ["Ended", d.ended_at ? `${fmtTime(d.ended_at)} (${d.end_reason})` : "–"],
    ["Templates destroyed", d.templates_destroyed ?? "–"], ["Recognition", counts]])];
  const composition = await api("GET", `/api/deployments/${id}/composition`).catch(() => null);
  if (composition) children.push(compositionCard(composition, d.composition ? "Watchlist composition shown at authorisation" : "Watchlist composition"));
  const offered = d.next_steps.filter((/** @type {any} */ s) => can(s.permission));
  for (const step of offered) children.push(stepControl(step.step, d, composition));
  if (d.started_at && d.ended_at) children.push(await reviewCard(d));  // it ran and ended: the review is due
  children.push(await reportLinks(d));
  box.replaceChildren(...children);
  $("h2", box).focus();
}

/** @param {any} c @param {string} title */
function compositionCard(c, title) {
  const rows = [...Object.entries(c.by_category).map(([k, n]) => [words(k), n])];
  return el("section", { class: "card composition", "aria-label": title }, el("h3", { text: title }),
    el("ul", {}, ...c.summary.map((/** @type {string} */ line) => el("li", { text: line }))),
    table("Subjects by category", ["Category", "Subjects"], rows),
    facts([["Subjects", c.subjects], ["Templates", c.templates], ["Under 18", `${c.under_18} (${c.under_18_unjustified} without justification)`],
      ["Review overdue", c.review_overdue], ["Review due soon", c.review_due_soon], ["Possible duplicates", c.possible_duplicates]]));
}

/**
 * The control for one next step the server allows and the caller may take.
 * @param {string} step @param {any} d @param {any} composition
 */
function stepControl(step, d, composition) {
  const url = `/api/deployments/${d.id}`;
  const done = async (/** @type {string} */ message) => { flash(message); await loadDeployments(); };
  if (step === "authorise") {
    const form = el("form", { class: "card step", id: "authorise-form" }, el("h3", { text: "Authorise" }),
      el("p", { class: "hint", text: "You authorise the watchlist composition shown above; a change since refuses it." }),
      field("What is authorised, and why it is necessary and proportionate",
        el("textarea", { name: "text", required: true, maxlength: 8000, rows: 3 })),
      el("button", { type: "submit", class: "primary", text: "Authorise deployment" }));
    onSubmit(form, async (f) => {
      await api("POST", `${url}/authorise`, { text: f.text.value, composition_digest: composition.digest });
      await done("Deployment authorised.");
    });
    return form;
  }
  if (step === "signage") {
    const form = el("form", { class: "card step", id: "signage-form" }, el("h3", { text: "Record signs put up" }),
      field("Where the signs are", el("input", { name: "location", required: true, maxlength: 1000 })),
      el("button", { type: "submit", text: "Record signage" }));
    onSubmit(form, async (f) => { await api("POST", `${url}/signage`, { location: f.location.value }); await done("Signage recorded."); });
    return form;
  }
  if (step === "sign_off") {
    const form = el("form", { class: "card step", id: "signoff-form" }, el("h3", { text: "Sign off the record" }),
      field("Review notes", el("textarea", { name: "notes", required: true, maxlength: 4000, rows: 3 })),
      field("Corrections to the record (one per line)", el("textarea", { name: "corrections", maxlength: 4000, rows: 2 })),
      el("button", { type: "submit", class: "primary", text: "Sign off" }));
    onSubmit(form, async (f) => {
      const corrections = f.corrections.value.split("\n").map((/** @type {string} */ l) => l.trim()).filter(Boolean);
      await api("POST", `${url}/sign-off`, { notes: f.notes.value, corrections });
      await done("Record signed off.");
    });
    return form;
  }
  /** @type {Record<string, [string, string, boolean]>} label, what it does, needs a reason */
  const simple = {
    start: ["Go live", "Recognition starts on its cameras inside the planned window.", false],
    end: ["End deployment", "Recognition stops and the watchlist templates are destroyed. This cannot be undone.", false],
    cancel: ["Cancel deployment", "The deployment will never run. This cannot be undone.", true],
  };
  const [label, text, reason] = simple[step] || [words(step), "", false];
  return el("div", { class: "actions step" }, el("button", { type: "button", class: step === "start" ? "primary" : "danger",
    id: `step-${step}`, text: `${label}…`, onclick: async () => {
      const answer = await ask({ title: `${label}: ${d.name}?`, text, submit: label, note: step !== "start", danger: step !== "start" });
      if (!answer) return;
      if (reason && !answer.note) { flash("Say why."); return; }
      try {
        await api("POST", `${url}/${step}`, step === "start" ? undefined : answer.note ? { reason: answer.note } : {});
        await done(`${label}: done.`);
      } catch (error) { flash(error.message); }
    } }));
}

/** @param {any} d */
async function reviewCard(d) {
  const review = await api("GET", `/api/deployments/${d.id}/review`);
  const rows = review.unreviewed_alerts.map((/** @type {any} */ a) => [a.id.slice(0, 12), words(a.status), a.source, fmtTime(a.decided_at)]);
  const s = review.sign_off;
  return el("section", { class: "card review", "aria-label": "Post-deployment review" }, el("h3", { text: "Post-deployment review" }),
    rows.length ? table("Alerts nobody decided", ["Alert", "Status", "Camera", "Time"], rows) : el("p", { text: "Every alert was decided." }),
    s ? facts([["Signed off", `by ${s.by} at ${fmtTime(s.at)}`], ["Notes", s.notes], ["Corrections", s.corrections.join("; ") || "none"]])
      : el("p", { class: "hint", text: "Not signed off yet." }));
}

/**
 * Why signs and leaflets cannot be printed yet (the server's words), or null when they can. The server answers
 * 503 notice_not_configured until governance.notice says who the public contacts: the console asks it first
 * rather than offer links that fail.
 * @param {string} pub the deployment's public record
 * @returns {Promise<string | null>}
 */
async function noticeMissing(pub) {
  try { await api("GET", `${pub}/signage?format=html`); return null; }
  catch (error) { return /** @type {any} */ (error).code === "notice_not_configured" ? /** @type {Error} */ (error).message : null; }
}

/** @param {any} d */
async function reportLinks(d) {
  const link = (/** @type {string} */ href, /** @type {string} */ text, download = false) =>
    el("li", {}, el("a", { href, text, target: download ? undefined : "_blank", rel: "noopener", download: download ? "" : undefined }));
  const base = `/api/deployments/${d.id}/record?format=`;
  const items = [link(`${base}html`, "Deployment record (printable page)"), link(`${base}csv`, "Deployment record, CSV", true),
    link(`${base}json`, "Deployment record, JSON", true)];
  const pub = `/public/deployments/${d.id}`;
  const missing = d.published ? await noticeMissing(pub) : null;
  if (d.published) {
    items.push(link(pub, "Public record (where the QR code on the signs points)"));
    if (!missing) {
      items.push(link(`${pub}/signage?format=pdf`, "Sign, PDF (A3)", true), link(`${pub}/signage?format=html`, "Sign, web page"),
        link(`${pub}/leaflet?format=pdf`, "Leaflet, PDF (A5)", true), link(`${pub}/leaflet?format=html`, "Leaflet, web page"));
    }
  }
  const hint = !d.published ? el("p", { class: "hint", text: "Signs, leaflet and the public record appear once it is authorised." })
    : missing ? el("p", { class: "hint notice-missing",
      text: `Signs and leaflets cannot be printed yet (${missing}); an administrator sets them in governance.notice.` })
      : null;
  return el("section", { class: "card reports", "aria-label": "Reports" }, el("h3", { text: "Reports" }), el("ul", {}, ...items), hint);
}

/** The transparency report of a period: links to view (HTML) and download (CSV, JSON), for the dates chosen. */
function transparencyCard() {
  const today = new Date();
  const iso = (/** @type {Date} */ d) => d.toISOString().slice(0, 10);
  const from = el("input", { name: "from", type: "date", required: true, value: iso(new Date(today.getTime() - 30 * 86400_000)) });
  const to = el("input", { name: "to", type: "date", required: true, value: iso(new Date(today.getTime() + 86400_000)) });
  const links = el("ul", { class: "transparency-links" });
  const update = () => {
    const query = `from=${encodeURIComponent(from.value)}&to=${encodeURIComponent(to.value)}`;
    const link = (/** @type {string} */ fmt, /** @type {string} */ text, download = false) => el("li", {},
      el("a", { href: `/api/reports/transparency?${query}&format=${fmt}`, text, target: download ? undefined : "_blank",
        rel: "noopener", download: download ? `transparency-${from.value}-${to.value}.${fmt}` : undefined }));
    links.replaceChildren(link("html", "View (printable page)"), link("csv", "Download CSV", true), link("json", "Download JSON", true));
  };
  from.addEventListener("change", update);
  to.addEventListener("change", update);
  update();
  return el("section", { class: "card reports", id: "transparency", "aria-label": "Transparency report" },
    el("h2", { text: "Transparency report" }),
    el("p", { class: "hint", text: "Every deployment started in the period, with the published figures." }),
    el("div", { class: "filters" }, field("From", from), field("To (not included)", to)), links);
}

// ---- retention holds -----------------------------------------------------------------------------------

export async function loadHolds() {
  const view = $("#view-holds");
  const holds = await api("GET", "/api/retention/holds");
  const rows = holds.map((/** @type {any} */ h) => [h.alert, h.hold_by, h.hold_reason, fmtTime(h.hold_at),
    el("button", { type: "button", text: "Lift…", "aria-label": `Lift the hold on ${h.alert}`, onclick: async () => {
      const answer = await ask({ title: "Lift the hold?", text: "The alert is deleted by the next purge if it is past its retention.",
        submit: "Lift hold", note: true });
      if (!answer) return;
      if (!answer.note) { flash("Say why."); return; }
      try { await api("POST", `/api/retention/holds/${encodeURIComponent(h.alert)}/lift`, { reason: answer.note }); await loadHolds(); }
      catch (error) { flash(error.message); }
    } })]);
  const form = el("form", { class: "card narrow", id: "hold-form" }, el("h2", { text: "Hold an alert" }),
    field("Alert id", el("input", { name: "alert", required: true, maxlength: 64 })),
    field("Why (investigation, court case)", el("input", { name: "reason", required: true, maxlength: 2000 })),
    el("button", { type: "submit", class: "primary", text: "Place hold" }));
  onSubmit(form, async (f) => {
    await api("POST", `/api/retention/holds/${encodeURIComponent(f.alert.value.trim())}`, { reason: f.reason.value });
    flash("Hold placed.");
    await loadHolds();
  });
  const purge = el("button", { type: "button", class: "danger", id: "purge-now", text: "Run the retention purge now…", onclick: async () => {
    const answer = await ask({ title: "Purge now?", submit: "Purge", danger: true,
      text: "Every alert past its retention and not held is deleted with its images. This cannot be undone." });
    if (!answer) return;
    try { const r = await api("POST", "/api/retention/run"); flash(`Purged ${r.alerts} alerts (${r.held} held kept; retention ${r.retention_days} days).`); }
    catch (error) { flash(error.message); }
  } });
  view.replaceChildren(el("h1", { text: "Retention holds" }),
    el("p", { class: "hint", text: "A held alert is kept past its retention period until the hold is lifted." }),
    table("Alerts on hold", ["Alert", "Held by", "Reason", "Since", ""], rows), form, el("div", { class: "actions" }, purge));
}

// ---- audit log -----------------------------------------------------------------------------------------

const PAGE = 100;

export async function loadAudit() {
  const view = $("#view-audit");
  const result = el("p", { id: "audit-result", role: "status" });
  const body = el("tbody", {});
  const more = el("button", { type: "button", id: "audit-more", text: "Load more", hidden: true });
  const filter = el("form", { class: "filters", id: "audit-filter", "aria-label": "Filter the audit log" },
    field("Action", el("input", { name: "action", maxlength: 100, placeholder: "e.g. deployment.authorise" })),
    field("Target id", el("input", { name: "target", maxlength: 64 })),
    el("button", { type: "submit", text: "Show" }));
  let after = 0;
  const fetchPage = async () => {
    const params = new URLSearchParams({ after: String(after), limit: String(PAGE) });
    if (filter.action.value.trim()) params.set("action", filter.action.value.trim());
    if (filter.target.value.trim()) params.set("target_id", filter.target.value.trim());
    const entries = await api("GET", `/api/audit/entries?${params}`);
    for (const e of entries) {
      body.append(el("tr", {}, el("td", { text: String(e.seq) }), el("td", { text: fmtTime(e.at) }), el("td", { text: e.actor }),
        el("td", { text: e.action }), el("td", { text: `${e.target_type} ${e.target_id || ""}` }),
        el("td", { class: "details", text: JSON.stringify(e.details) })));
      after = e.seq;
    }
    more.hidden = entries.length < PAGE;
  };
  onSubmit(filter, async () => { after = 0; body.replaceChildren(); await fetchPage(); });
  more.addEventListener("click", () => fetchPage().catch((error) => flash(error.message)));
  const verify = el("button", { type: "button", id: "audit-verify", class: "primary", text: "Verify the chain", onclick: async () => {
    try {
      const v = await api("GET", "/api/audit/verify");
      result.className = v.ok ? "verdict ok" : "verdict bad";
      result.textContent = v.ok ? `Chain intact: ${v.entries} entries, head ${v.last_hash.slice(0, 16)}… (seq ${v.last_seq}).`
        : `Chain broken: ${v.problems.map((/** @type {any} */ p) => `seq ${p.seq}: ${p.problem}`).join("; ")}`;
    } catch (error) { flash(error.message); }
  } });
  view.replaceChildren(el("h1", { text: "Audit log" }),
    el("div", { class: "actions" }, verify,
      el("a", { href: "/api/audit/anchor", download: "audit-anchor.json", class: "button", text: "Download the chain head (anchor)" })),
    result, filter,
    el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": "Audit entries" }, el("table", { class: "dense" }, el("caption", { text: "Entries, oldest first" }),
      el("thead", {}, el("tr", {}, ...["Seq", "When", "Actor", "Action", "Target", "Details"].map((h) => el("th", { scope: "col", text: h })))),
      body)), more);
  await fetchPage();
}
