// Form and table helpers shared by the console's pages (governance, training records, watchlist review).
import { el, words } from "./dom.js";
import { flash } from "./ui.js";

/**
 * @param {string} label
 * @param {any} input
 */
export function field(label, input) {
  return el("label", {}, label, " ", input);
}

/**
 * A table with a caption (its accessible name) and header cells.
 * @param {string} caption
 * @param {string[]} headers
 * @param {any[][]} rows cells: text or nodes
 */
export function table(caption, headers, rows) {
  const cell = (/** @type {any} */ value) => el("td", {}, value instanceof Node ? value : String(value ?? "–"));
  return el("div", { class: "scroll", tabindex: "0", role: "region", "aria-label": caption }, el("table", {},
    el("caption", { text: caption }),
    el("thead", {}, el("tr", {}, ...headers.map((h) => el("th", { scope: "col", text: h })))),
    el("tbody", {}, ...rows.map((row) => el("tr", {}, ...row.map(cell))))));
}

/**
 * Facts as a definition list.
 * @param {[string, any][]} facts
 */
export function facts(facts) {
  return el("dl", { class: "facts-list" }, ...facts.flatMap(([k, v]) => [el("dt", { text: k }),
    el("dd", {}, v instanceof Node ? v : String(v ?? "–"))]));
}

/**
 * A submit handler that reports errors in the flash line and re-enables the form.
 * @param {any} form
 * @param {(form: any) => Promise<void>} handler
 */
export function onSubmit(form, handler) {
  form.addEventListener("submit", async (/** @type {Event} */ event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) button.disabled = true;
    try { await handler(form); } catch (error) { flash(error.message); } finally { if (button) button.disabled = false; }
  });
}

/** @param {string[]} values @param {string} [chosen] */
export function options(values, chosen) {
  return values.map((v) => el("option", { value: v, text: words(v), selected: v === chosen }));
}

