// The editor's "Background image" section: upload a new picture for the template (PUT
// /admin/api/templates/<slug>/image). The server keeps, scales or flags the areas and saves the
// next version; the editor then reopens on it, and this section says what happened, outlining
// in red (the editor's `has-error`) each area the server says needs a look.
import { api, confirmDialog, errorBox, h } from "./api.js";

const NOTE_KEY = (slug) => `promostack.background-note.${slug}`;

/**
 * The panel section. `editor.state` is the editor's state (its `meta.version`, `dirty` and
 * `errors` are read and written); the areas to check are marked in `state.errors` at once.
 */
export function backgroundSection(slug, { state }) {
  const note = h("div", { id: "background-note", "aria-live": "polite" });
  const file = h("input", { type: "file", id: "background-file", accept: "image/png,image/jpeg,image/webp" });
  const button = h("button", { type: "button", class: "btn btn-sm", id: "replace-background", disabled: true }, "Replace image");
  file.addEventListener("change", () => { button.disabled = !file.files.length; });

  // What the last replacement did, carried over the reload that shows the new picture.
  const carried = sessionStorage.getItem(NOTE_KEY(slug));
  if (carried) {
    sessionStorage.removeItem(NOTE_KEY(slug));
    const refit = JSON.parse(carried);
    for (const review of refit.needs_review) state.errors[review.area] = { box: review.reason };
    note.replaceChildren(h("div", { class: `alert ${refit.needs_review.length ? "alert-warn" : "alert-info"}`, id: "background-refit" },
      h("p", {}, refit.summary),
      refit.needs_review.length
        ? h("ul", {}, refit.needs_review.map((r) => h("li", { dataset: { area: r.area } }, h("code", {}, r.area), ` — ${r.reason}`)))
        : null));
  }

  button.addEventListener("click", async () => {
    const chosen = file.files[0];
    if (!chosen) return;
    const lose = state.dirty ? " Your unsaved changes are lost." : "";
    const sure = await confirmDialog("Replace the background image?",
      `The new picture is saved as the next version; the areas are kept, or scaled when only the size changes.${lose}`,
      "Replace", { danger: false });
    if (!sure) return;
    const body = new FormData();
    body.append("image", chosen);
    body.append("version", String(state.meta.version));
    button.disabled = true;
    note.replaceChildren(h("p", { class: "faint" }, "Uploading…"));
    try {
      const { refit } = await api("PUT", `/admin/api/templates/${slug}/image`, body);
      sessionStorage.setItem(NOTE_KEY(slug), JSON.stringify(refit));
      state.dirty = false; // saved on the server: reopening must not ask to keep unsaved changes
      window.location.reload();
    } catch (error) {
      note.replaceChildren(errorBox(error));
      button.disabled = false;
    }
  });

  return h("section", { class: "panel-section", id: "background" }, h("h2", {}, "Background image"),
    h("p", { class: "faint small" }, "PNG, JPEG or WebP, up to 15 MB. Same size: the areas stay. Same shape, new size: they are scaled. Another shape: they stay where they are, and any that had to move is outlined."),
    note,
    h("div", { class: "field" }, h("label", { for: "background-file" }, "New image"), file),
    button);
}
