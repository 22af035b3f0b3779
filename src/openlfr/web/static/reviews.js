// The watchlist review page: every entry whose review-by date has passed or is near, across watchlists, as the
// server lists them (GET /api/watchlist-reviews, with its state codes). A caller whose permissions include
// watchlists:manage settles each: a new review-by date (renew) or removal from that watchlist (asked first).
import { api } from "./api.js";
import { $, el, words } from "./dom.js";
import { field, onSubmit, table } from "./forms.js";
import { ask, can, flash } from "./ui.js";

/** @type {{ within: number }} */
const shown = { within: 30 };

/** @param {number} days */
function when(days) {
  if (days < 0) return `${-days} day${days === -1 ? "" : "s"} overdue`;
  if (days === 0) return "due today";
  return `due in ${days} day${days === 1 ? "" : "s"}`;
}

/** @param {Date} day */
function isoDay(day) {
  return day.toISOString().slice(0, 10);
}

export async function loadReviews() {
  const view = $("#view-reviews");
  const due = await api("GET", `/api/watchlist-reviews?within_days=${shown.within}`);
  const manage = can("watchlists:manage");
  const tomorrow = isoDay(new Date(Date.now() + 86400_000));
  const rows = due.entries.map((/** @type {any} */ e) => {
    const name = e.display_name ? `${e.display_name} (${e.external_ref})` : e.external_ref;
    const cells = [name, e.watchlist, words(e.category), e.review_by,
      el("span", { class: `review-${e.state}`, text: `${words(e.state)}: ${when(e.days_left)}` })];
    if (manage) cells.push(actions(e, name, tomorrow));
    return cells;
  });
  const counts = due.states.map((/** @type {string} */ state) =>
    `${due.entries.filter((/** @type {any} */ e) => e.state === state).length} ${words(state)}`).join(", ");
  const period = el("form", { class: "filters", id: "review-window", "aria-label": "Review window" },
    field("Due within (days)", el("input", { name: "within", type: "number", min: 0, max: 366, required: true,
      value: String(due.within_days) })),
    el("button", { type: "submit", text: "Show" }));
  onSubmit(period, async (f) => { shown.within = Number(f.within.value); await loadReviews(); });
  const headers = ["Subject", "Watchlist", "Category", "Review by", "State"];
  if (manage) headers.push("Actions");
  view.replaceChildren(el("h1", { text: "Watchlist review" }),
    el("p", { class: "hint", text: "Every entry must be reviewed by its review-by date: renew it with a new date, "
      + "or take it off the watchlist. An overdue entry is left out of new snapshots." }),
    period,
    el("p", { id: "review-summary", role: "status", text: `As of ${due.as_of}: ${counts}.` }),
    rows.length ? table("Entries due for review, most overdue first", headers, rows)
      : el("p", { class: "empty", text: `No entry is due within ${due.within_days} days.` }));
}

/**
 * @param {any} e
 * @param {string} name
 * @param {string} tomorrow
 */
function actions(e, name, tomorrow) {
  const date = el("input", { type: "date", min: tomorrow, required: true, "aria-label": `New review date for ${name} on ${e.watchlist}` });
  return el("div", { class: "actions" }, date,
    el("button", { type: "button", text: "Renew review", "aria-label": `Renew review of ${name} on ${e.watchlist}`,
      onclick: async () => {
        if (!date.value || date.value < tomorrow) { flash("Choose a new review date after today."); date.focus(); return; }
        try {
          await api("PATCH", `/api/subjects/${encodeURIComponent(e.subject_id)}`, { review_by: date.value });
          flash(`${name}: next review by ${date.value}.`);
          await loadReviews();
        } catch (error) { flash(error.message); }
      } }),
    el("button", { type: "button", class: "danger", text: "Remove…", "aria-label": `Remove ${name} from ${e.watchlist}`,
      onclick: async () => {
        const answer = await ask({ title: `Take ${name} off ${e.watchlist}?`, submit: "Remove from watchlist", danger: true,
          text: "The subject is no longer matched by deployments of this watchlist; its record and images stay "
            + "(erase them on the Watchlists page)." });
        if (!answer) return;
        try {
          await api("DELETE", `/api/watchlists/${encodeURIComponent(e.watchlist)}/members/${encodeURIComponent(e.subject_id)}`);
          flash(`${name} removed from ${e.watchlist}.`);
          await loadReviews();
        } catch (error) { flash(error.message); }
      } }));
}
