// What every page of the console shares: who is signed in (and what they may do), the flash line and the
// confirmation dialog.
import { $, el, words } from "./dom.js";

/** @type {{ me: any }} */
export const user = { me: null };

/**
 * Whether the signed-in caller holds `permission` (as the server sent it; the server checks every call).
 * @param {string} permission
 */
export function can(permission) {
  return Boolean(user.me && user.me.permissions.includes(permission));
}

/** @param {string} message */
export function flash(message) {
  const box = $("#flash");
  box.textContent = message;
  box.classList.toggle("show", Boolean(message));
  if (message) setTimeout(() => { if (box.textContent === message) flash(""); }, 6000);
}

/**
 * @typedef {object} Question
 * @property {string} title
 * @property {string} text
 * @property {string} submit the label of the button that does it
 * @property {string[]} [reasons] codes to choose one from (required when given)
 * @property {boolean} [note] offer a free-text note
 * @property {string} [noteLabel] what the note is for (default: an optional note for the audit log)
 * @property {boolean} [noteRequired] the note must be given (e.g. why an earlier record is amended)
 * @property {boolean} [danger]
 */

/**
 * Ask before doing something: resolves to the chosen reason and note, or null when cancelled.
 * @param {Question} question
 * @returns {Promise<{ reason: string | null, note: string } | null>}
 */
export function ask(question) {
  const dialog = $("#ask-dialog");
  const form = $("form", dialog);
  $("h2", dialog).textContent = question.title;
  $(".ask-text", dialog).textContent = question.text;
  const reasons = $(".ask-reasons", dialog);
  reasons.hidden = !question.reasons;
  $(".ask-reason-list", reasons).replaceChildren(...(question.reasons || []).map((code, index) =>
    el("label", { class: "inline" },
      el("input", { type: "radio", name: "reason", value: code, required: index === 0 }), ` ${words(code)}`)));
  $(".ask-note", dialog).hidden = !question.note;
  $(".ask-note-label", dialog).textContent = question.noteLabel || "Note (optional; kept in the audit log)";
  form.note.required = Boolean(question.note && question.noteRequired);
  form.note.value = "";
  const submit = $("button.ask-submit", dialog);
  submit.textContent = question.submit;
  submit.className = `ask-submit ${question.danger ? "danger-fill" : "primary"}`;
  return new Promise((resolve) => {
    /** @param {Event} event */
    const done = (event) => {
      event.preventDefault();
      const chosen = form.querySelector("input[name=reason]:checked");
      cleanup();
      dialog.close();
      resolve({ reason: chosen ? chosen.value : null, note: form.note.value.trim() });
    };
    const cancel = () => { cleanup(); if (dialog.open) dialog.close(); resolve(null); };
    /** @param {KeyboardEvent} event */
    const ctrlEnter = (event) => { if (event.key === "Enter" && event.ctrlKey) form.requestSubmit(); };
    const cleanup = () => {
      form.removeEventListener("submit", done);
      dialog.removeEventListener("cancel", cancel);
      dialog.removeEventListener("keydown", ctrlEnter);
      $(".ask-cancel", dialog).removeEventListener("click", cancel);
    };
    form.addEventListener("submit", done);
    dialog.addEventListener("cancel", cancel);
    dialog.addEventListener("keydown", ctrlEnter);
    $(".ask-cancel", dialog).addEventListener("click", cancel);
    dialog.showModal();
    const first = question.reasons ? reasons.querySelector("input") : question.note ? form.note : submit;
    first.focus();
  });
}
