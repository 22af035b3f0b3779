// A camera's test view (Cameras page): one current frame, fetched on request, with every face blanked on the
// server before it is sent, its resolution and the faces found, so the aim and focus can be checked before a
// deployment. The picture is only ever the server's blanked JPEG; nothing is kept once the page changes.
import { api } from "./api.js";
import { el, fmtTime } from "./dom.js";

/**
 * The "Test view" button and the panel it fills, for the camera `cam` (from /api/cameras/health).
 * @param {{ camera_id: string, name: string }} cam
 * @returns {{ button: HTMLButtonElement, panel: HTMLElement }}
 */
export function testView(cam) {
  const img = el("img", { alt: `Test view of ${cam.name}: one current frame, every face blanked` });
  const facts = el("p", { class: "test-facts", role: "status" });
  const error = el("p", { class: "error", role: "alert" });
  const panel = el("section", { class: "test-view", "aria-label": `Test view of ${cam.name}`, hidden: true },
    img, facts);
  const button = el("button", { type: "button", class: "test-view-button", text: "Test view",
    "aria-label": `Test view of ${cam.name}`, onclick: async () => {
      button.disabled = true;
      error.textContent = "";
      facts.textContent = "Taking a frame…";
      try {
        const view = await api("POST", `/api/cameras/${encodeURIComponent(cam.camera_id)}/test-view`);
        img.src = view.image;
        img.width = view.image_width;
        img.height = view.image_height;
        const faces = view.faces === 1 ? "1 face" : `${view.faces} faces`;
        facts.textContent = `${view.source_width}×${view.source_height} px · ${faces} detected, every one blanked · `
          + `${view.from_deployment ? "from the running deployment" : "read from the source"} · ${fmtTime(view.captured_at)}`;
        panel.hidden = false;
      } catch (failure) {
        facts.textContent = "";
        panel.hidden = true;
        error.textContent = `No test view of ${cam.name}: ${failure.message}`;
      } finally {
        button.disabled = false;
      }
    } });
  return { button, panel: el("div", { class: "test-view-box" }, error, panel) };
}
