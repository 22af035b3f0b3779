// How a new alert makes itself known: a two-tone sound and a visual mark (the tab's title and the top bar).
// Each can be turned off; the choice is this browser's (localStorage), as the officer at this desk wants it,
// and is never sent anywhere. The browser plays sound only after a first click or key press on the page.

const KEY = "openlfr.notify";

/** @typedef {{ sound: boolean, visual: boolean }} Settings */

/** @type {Settings} */
const settings = { sound: true, visual: true };
/** @type {AudioContext | null} */
let audio = null;
/** @type {number | undefined} */
let visualTimer;

function load() {
  try {
    const kept = JSON.parse(localStorage.getItem(KEY) || "{}");
    for (const name of /** @type {(keyof Settings)[]} */ (["sound", "visual"])) {
      if (typeof kept[name] === "boolean") settings[name] = kept[name];
    }
  } catch { /* nothing kept, or unreadable: the defaults */ }
}

function save() {
  try { localStorage.setItem(KEY, JSON.stringify(settings)); } catch { /* storage refused: this page only */ }
}

/** Let the page play sound (browsers allow it after a user gesture). */
export function unlockAudio() {
  try {
    audio = audio || new AudioContext();
    if (audio.state === "suspended") audio.resume();
  } catch { audio = null; }
}

function beep() {
  const ctx = audio;
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

/** A new alert arrived: sound and mark the page, as the settings say. */
export function notifyNewAlert() {
  if (settings.sound) beep();
  if (!settings.visual) return;
  document.title = "(!) OpenLFR console";
  const top = /** @type {HTMLElement} */ (document.getElementById("top"));
  top.classList.add("alerting");
  clearTimeout(visualTimer);
  visualTimer = window.setTimeout(() => { document.title = "OpenLFR console"; top.classList.remove("alerting"); }, 5000);
}

/** Wire the settings' controls (once, at start). */
export function setUpNotify() {
  load();
  const sound = /** @type {HTMLInputElement} */ (document.getElementById("notify-sound"));
  const visual = /** @type {HTMLInputElement} */ (document.getElementById("notify-visual"));
  sound.checked = settings.sound;
  visual.checked = settings.visual;
  sound.addEventListener("change", () => { settings.sound = sound.checked; save(); });
  visual.addEventListener("change", () => { settings.visual = visual.checked; save(); });
  /** @type {HTMLElement} */ (document.getElementById("notify-test")).addEventListener("click", () => { unlockAudio(); beep(); });
  document.addEventListener("click", unlockAudio, { once: true });
  document.addEventListener("keydown", unlockAudio, { once: true });
}
