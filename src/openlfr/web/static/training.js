// Training (competence) records on the Users page: each account's records with their standing, and, for a
// caller whose permissions include competence:manage, a form to record a passed course. The competences an
// account may hold come from the server (`eligible`); the server also refuses what the domain forbids (nobody
// records their own training, a course passed in the future…) and the form shows its answer in place.
import { api } from "./api.js";
import { el, fmtTime, words } from "./dom.js";
import { field, table } from "./forms.js";
import { can, flash, user } from "./ui.js";

/** @param {Date} day */
function isoDay(day) {
  return day.toISOString().slice(0, 10);
}

/** @param {any} r */
function standing(r) {
  if (r.current) return "current";
  if (r.superseded) return "superseded";
  return r.expires_on < isoDay(new Date()) ? "expired" : "not yet valid";
}

/**
 * The training records of every account that may hold a competence or has a record (GET /api/competence).
 * @param {() => Promise<void>} reload
 */
export async function trainingSection(reload) {
  if (!can("competence:read")) return null;
  const lists = await api("GET", "/api/competence");
  const cards = lists.map((/** @type {any} */ list) => accountCard(list, reload));
  return el("section", { class: "training", id: "training", "aria-labelledby": "training-title" },
    el("h2", { id: "training-title", text: "Training (competence) records" }),
    el("p", { class: "hint", text: "Reviewing alerts needs a current operator record; authorising a deployment a "
      + "current supervisor record. A new record supersedes the last; none is changed or deleted." }),
    ...(cards.length ? cards : [el("p", { class: "empty", text: "No account holds a competence." })]));
}

/**
 * @param {any} list one account's records, with its username, role and eligible competences
 * @param {() => Promise<void>} reload
 */
function accountCard(list, reload) {
  const account = { username: list.username, role: list.role };
  const rows = list.records.map((/** @type {any} */ r) => [words(r.competence), r.course, r.passed_on, r.expires_on,
    standing(r), `${r.recorded_by}, ${fmtTime(r.recorded_at)}`]);
  const card = el("article", { class: "card training-account", "data-user": account.username },
    el("h3", { text: `${account.username} (${words(account.role)})` }),
    rows.length ? table(`Training records of ${account.username}`,
      ["Competence", "Course", "Passed", "Expires", "Standing", "Recorded by"], rows)
      : el("p", { class: "empty", text: "No training recorded." }));
  if (can("competence:manage") && list.eligible.length) card.append(recordForm(account, list.eligible, reload));
  return card;
}

/**
 * @param {any} account
 * @param {string[]} eligible
 * @param {() => Promise<void>} reload
 */
function recordForm(account, eligible, reload) {
  const today = new Date();
  const inAYear = new Date(today.getTime() + 365 * 86400_000);
  const error = el("p", { class: "error", role: "alert" });
  const own = account.username === user.me.name;
  const form = el("form", { class: "record-competence", "aria-label": `Record training of ${account.username}` },
    el("h4", { text: "Record a passed course" }),
    own ? el("p", { class: "hint", text: "This is your own account: another supervisor records your training." }) : null,
    field("Competence", el("select", { name: "competence" },
      ...eligible.map((c) => el("option", { value: c, text: words(c) })))),
    field("Course", el("input", { name: "course", required: true, maxlength: 200 })),
    field("Passed on", el("input", { name: "passed_on", type: "date", required: true, max: isoDay(today), value: isoDay(today) })),
    field("Counts until (the last day)", el("input", { name: "expires_on", type: "date", required: true, value: isoDay(inAYear) })),
    el("button", { type: "submit", class: "primary", text: "Record competence" }), error);
  form.addEventListener("submit", async (/** @type {Event} */ event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    button.disabled = true;
    error.textContent = "";
    try {
      await api("POST", `/api/users/${encodeURIComponent(account.username)}/competence`, {
        competence: form.competence.value, course: form.course.value,
        passed_on: form.passed_on.value, expires_on: form.expires_on.value });
      flash(`${words(form.competence.value)} competence of ${account.username} recorded.`);
      await reload();
    } catch (failure) {
      // The server's reason, as it gave it (and its code), where the officer is looking.
      error.textContent = `Not recorded: ${failure.message} (${failure.code})`;
      button.disabled = false;
    }
  });
  return form;
}
