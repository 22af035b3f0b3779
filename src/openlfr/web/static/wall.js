// The live camera wall: one MJPEG stream per running camera, shown frame by frame in an <img> (the server renders
// each frame with every face blanked except alerted matches, and draws the zone, tracks and alerts). A stream
// ends after the server's stream limit or when the camera stops: the wall opens it again while the page is shown.

import { api } from "./api.js";
import { $, el } from "./dom.js";

const RECONNECT_MS = 1000;
const REFRESH_MS = 5000;

/** @type {{ shown: boolean, timer: number | null }} */
const wall = { shown: false, timer: null };
/** @type {Map<HTMLImageElement, AbortController>} */
const tiles = new Map();

const JPEG_START = [0xff, 0xd8];
const JPEG_END = [0xff, 0xd9];

/**
 * Where `marker` (two bytes) starts in `bytes` at or after `from`; -1 if nowhere.
 * @param {Uint8Array} bytes
 * @param {number[]} marker
 * @param {number} from
 */
function find(bytes, marker, from) {
  for (let i = from; i + 1 < bytes.length; i += 1) if (bytes[i] === marker[0] && bytes[i + 1] === marker[1]) return i;
  return -1;
}

/**
 * Play a camera's MJPEG stream into `img` until it ends (server limit, camera stopped, login ended) or the tile
 * leaves the page; each frame is shown as soon as its last byte arrives. Read with fetch rather than by the
 * <img> itself, so that the end of a stream is seen and the stream opened again.
 * @param {HTMLImageElement} img
 * @param {string} cameraId
 */
async function play(img, cameraId) {
  while (wall.shown && img.isConnected) {
    const controller = new AbortController();
    tiles.set(img, controller);
    try {
      const response = await fetch(`/api/cameras/${encodeURIComponent(cameraId)}/wall.mjpg`,
        { credentials: "same-origin", cache: "no-store", signal: controller.signal });
      if (!response.ok || !response.body) throw new Error(`HTTP ${response.status}`);
      img.dataset.opened = String(Number(img.dataset.opened || 0) + 1);
      const reader = response.body.getReader();
      let buffer = new Uint8Array(0);
      for (;;) {
        const { done, value } = await reader.read();
        if (done || !img.isConnected) break;
        const joined = new Uint8Array(buffer.length + value.length);
        joined.set(buffer);
        joined.set(value, buffer.length);
        buffer = joined;
        let start = find(buffer, JPEG_START, 0);
        let end = start < 0 ? -1 : find(buffer, JPEG_END, start + 2);
        while (start >= 0 && end >= 0) {
          show(img, buffer.slice(start, end + 2));
          buffer = buffer.slice(end + 2);
          start = find(buffer, JPEG_START, 0);
          end = start < 0 ? -1 : find(buffer, JPEG_END, start + 2);
        }
      }
    } catch { /* closed, aborted or refused: try again below while the wall is shown */ }
    tiles.delete(img);
    await new Promise((resolve) => { setTimeout(resolve, RECONNECT_MS); });
  }
}

/**
 * Show one JPEG in `img` (the previous frame's object URL is released).
 * @param {HTMLImageElement} img
 * @param {Uint8Array<ArrayBuffer>} jpeg
 */
function show(img, jpeg) {
  const previous = img.src;
  img.src = URL.createObjectURL(new Blob([jpeg], { type: "image/jpeg" }));
  img.dataset.frames = String(Number(img.dataset.frames || 0) + 1);
  if (previous.startsWith("blob:")) URL.revokeObjectURL(previous);
}

/** Show the wall: a tile per running camera, kept in step with the cameras' health. */
export async function showWall() {
  wall.shown = true;
  await refreshWall();
  if (wall.timer === null) wall.timer = window.setInterval(() => { refreshWall().catch(() => {}); }, REFRESH_MS);
}

/** Leave the wall: every stream is closed (nothing plays in a hidden page). */
export function hideWall() {
  wall.shown = false;
  if (wall.timer !== null) { clearInterval(wall.timer); wall.timer = null; }
  for (const controller of tiles.values()) controller.abort();
  tiles.clear();
  $("#wall-grid").replaceChildren();
}

async function refreshWall() {
  /** @type {any[]} */
  const health = await api("GET", "/api/cameras/health");
  if (!wall.shown) return;
  const grid = $("#wall-grid");
  const running = health.filter((cam) => cam.state === "running" || cam.state === "starting" || cam.state === "reconnecting");
  const ids = new Set(running.map((cam) => cam.camera_id));
  for (const tile of [...grid.querySelectorAll("figure")]) {
    if (ids.has(tile.dataset.id)) continue;
    tiles.get($("img", tile))?.abort();
    tile.remove();
  }
  for (const cam of running) {
    if (grid.querySelector(`figure[data-id="${cam.camera_id}"]`)) continue;
    const img = el("img", { alt: `Live video of camera ${cam.name}: faces blanked except alerted matches` });
    grid.append(el("figure", { class: "card wall-tile", "data-id": cam.camera_id }, img,
      el("figcaption", { text: `${cam.name} · ${cam.state}` })));
    play(img, cam.camera_id).catch(() => {});
  }
  const empty = grid.querySelector("p.empty");
  if (!running.length && !empty) grid.append(el("p", { class: "empty", text: "No camera is running." }));
  if (running.length && empty) empty.remove();
}
