// Small DOM helpers shared by the console's modules. Data reaches the page as text only (textContent and
// attributes), never as HTML.

/**
 * The first element matching `selector` under `root` (the console's own markup: it is always there).
 * @param {string} selector
 * @param {ParentNode} [root]
 * @returns {any}
 */
export function $(selector, root = document) {
  return root.querySelector(selector);
}

/**
 * Build an element: `class`, `text`, `on<event>` handlers and plain attributes in `props`.
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {...(Node | string | null | undefined)} children
 * @returns {any}
 */
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (value !== undefined && value !== null && value !== false) node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children) if (child !== null && child !== undefined) node.append(child);
  return node;
}

/**
 * A code as people read it ("different_person" → "different person").
 * @param {string | null | undefined} code
 */
export function words(code) {
  return code ? code.replaceAll("_", " ") : "";
}

const CLOCK = new Intl.DateTimeFormat(undefined, {
  year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", second: "2-digit",
  timeZoneName: "short",
});
const RELATIVE = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });

/**
 * An absolute time with its time zone ("3 Dec 2026, 07:04:10 UTC").
 * @param {string | null | undefined} iso
 */
export function fmtTime(iso) {
  return iso ? CLOCK.format(new Date(iso)) : "";
}

/**
 * How long ago, in words ("3 minutes ago").
 * @param {string} iso
 * @param {number} [now]
 */
export function ago(iso, now = Date.now()) {
  const seconds = Math.round((new Date(iso).getTime() - now) / 1000);
  /** @type {[Intl.RelativeTimeFormatUnit, number][]} */
  const units = [["day", 86400], ["hour", 3600], ["minute", 60]];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return RELATIVE.format(Math.trunc(seconds / size), unit);
  }
  return RELATIVE.format(seconds, "second");
}

/**
 * A <time> element: relative time shown, the absolute time with its zone beside it and in `datetime`.
 * @param {string} iso
 */
export function timeEl(iso) {
  return el("time", { datetime: iso, class: "rel", "data-iso": iso },
    el("span", { class: "ago", text: ago(iso) }), " ", el("span", { class: "at", text: fmtTime(iso) }));
}

/** Refresh every relative time on the page (called on a timer). */
export function refreshTimes() {
  for (const node of document.querySelectorAll("time.rel")) {
    const iso = /** @type {HTMLElement} */ (node).dataset.iso;
    const shown = node.querySelector(".ago");
    if (iso && shown) shown.textContent = ago(iso);
  }
}
