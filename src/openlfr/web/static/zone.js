// Camera zones in the console: the zone drawn over a camera's view (an SVG in normalised coordinates, so it
// fits the picture at any size), and the editor with which an administrator draws it. Points are added by
// clicking on the view, or typed ("x,y; x,y; …", fractions of the image) for keyboard use; the server checks
// the polygon (at least three points, inside the image, edges not crossing) and says why it refuses one.

import { $, el } from "./dom.js";

/**
 * "x,y; x,y" for a list of points (three decimals).
 * @param {number[][] | null} points
 */
export function formatPoints(points) {
  return (points || []).map(([x, y]) => `${x.toFixed(3)},${y.toFixed(3)}`).join("; ");
}

/**
 * The points of "x,y; x,y" text; null when the text is empty (the whole view).
 * @param {string} text
 * @returns {number[][] | null}
 */
export function parsePoints(text) {
  const parts = text.split(";").map((part) => part.trim()).filter(Boolean);
  if (!parts.length) return null;
  return parts.map((part) => part.split(",").map((value) => Number(value.trim())));
}

/**
 * An SVG laid over a camera's view showing `points` (none: nothing drawn).
 * @param {SVGSVGElement} svg
 * @param {number[][] | null} points
 */
export function drawZone(svg, points) {
  svg.replaceChildren();
  if (!points || !points.length) return;
  // SVG elements take the namespace of the overlay (parsed from the page's own markup).
  const shape = document.createElementNS(svg.namespaceURI, points.length >= 3 ? "polygon" : "polyline");
  shape.setAttribute("points", points.map(([x, y]) => `${x},${y}`).join(" "));
  shape.setAttribute("class", "zone-shape");
  svg.append(shape);
  for (const [x, y] of points) {
    const dot = document.createElementNS(svg.namespaceURI, "circle");
    dot.setAttribute("cx", String(x));
    dot.setAttribute("cy", String(y));
    dot.setAttribute("r", "0.012");
    dot.setAttribute("class", "zone-point");
    svg.append(dot);
  }
}

/** An empty zone overlay (viewBox 0..1 stretched over the view), cloned from the page's template. */
export function zoneOverlay() {
  const template = /** @type {HTMLTemplateElement} */ ($("#zone-overlay-template"));
  return /** @type {SVGSVGElement} */ ($("svg", template.content).cloneNode(true));
}

/**
 * The zone editor of one camera card: a field of points, clicks on the view add points, Save and Clear.
 * @param {{ name: string, view: HTMLElement, svg: SVGSVGElement, points: number[][] | null,
 *   save: (points: number[][] | null) => Promise<void> }} options
 */
export function zoneEditor({ name, view, svg, points, save }) {
  const id = `zone-${name.replace(/[^A-Za-z0-9_-]/g, "_")}`;
  const field = el("input", { id, class: "zone-points", value: formatPoints(points), autocomplete: "off",
    "aria-describedby": `${id}-help` });
  const help = el("p", { id: `${id}-help`, class: "hint",
    text: "Click corners on the view in order, or type x,y pairs (fractions of the image) separated by ';'. Empty: the whole view." });
  const redraw = () => {
    try { drawZone(svg, parsePoints(field.value)); } catch { /* half-typed: keep the last drawing */ }
  };
  field.addEventListener("input", redraw);
  view.addEventListener("click", (/** @type {MouseEvent} */ event) => {
    const box = view.getBoundingClientRect();
    const x = Math.min(1, Math.max(0, (event.clientX - box.left) / box.width));
    const y = Math.min(1, Math.max(0, (event.clientY - box.top) / box.height));
    const current = parsePoints(field.value) || [];
    field.value = formatPoints([...current, [x, y]]);
    redraw();
  });
  const form = el("form", { class: "zone-form", "aria-label": `Zone of camera ${name}` },
    el("label", { for: id, text: "Zone" }), field, help,
    el("div", { class: "actions" },
      el("button", { type: "submit", text: "Save zone" }),
      el("button", { type: "button", text: "Clear", onclick: () => { field.value = ""; redraw(); } })));
  form.addEventListener("submit", async (/** @type {SubmitEvent} */ event) => {
    event.preventDefault();
    await save(parsePoints(field.value));
  });
  drawZone(svg, points);
  return form;
}
