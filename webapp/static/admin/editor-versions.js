// The editor's version history: the meta.json backups the store keeps on every save, listed
// newest first, each with Preview (drawn on the editor's stage) and Restore (saved as the next
// version). The editor passes callbacks; this module only talks to the versions API.
import { ago, api, errorBox, h } from "./api.js";

/**
 * The "Versions" panel section. `onPreview(version, meta, imageUrl)` shows a backup;
 * `onRestore(version)` restores it. `refresh()` reloads the list (after a save or restore).
 */
export function versionsSection(slug, { onPreview, onRestore }) {
  const list = h("ol", { class: "version-list", id: "version-list" });
  const toggle = h("button", { type: "button", class: "btn btn-sm", id: "show-versions", "aria-expanded": "false", "aria-controls": "version-list" }, "Show earlier versions");
  let open = false;

  async function refresh() {
    if (!open) return;
    list.replaceChildren(h("li", { class: "faint" }, "Loading…"));
    let data;
    try {
      data = await api("GET", `/admin/api/templates/${slug}/versions`);
    } catch (error) {
      list.replaceChildren(h("li", {}, errorBox(error)));
      return;
    }
    if (!data.versions.length) {
      list.replaceChildren(h("li", { class: "faint" }, "No earlier versions yet: each save keeps the one it replaces."));
      return;
    }
    list.replaceChildren(...data.versions.map((v) => (v.readable
      ? h("li", { class: "version", dataset: { version: v.id } },
        h("div", { class: "version-head" }, h("strong", {}, `Version ${v.version}`), h("span", { class: "faint", title: v.saved_at }, ago(v.saved_at))),
        h("div", { class: "faint" }, `${v.name} · ${v.areas} area${v.areas === 1 ? "" : "s"}${v.logo ? " · logo" : ""}`),
        h("div", { class: "version-actions" },
          h("button", { type: "button", class: "btn btn-sm", "aria-label": `Preview version ${v.version}`, onclick: () => preview(v) }, "Preview"),
          h("button", { type: "button", class: "btn btn-sm", "aria-label": `Restore version ${v.version}`, onclick: () => onRestore(v) }, "Restore")))
      : h("li", { class: "version faint" }, `${v.id}: cannot be read (${v.error})`))));
  }

  async function preview(v) {
    try {
      const meta = await api("GET", `/admin/api/templates/${slug}/versions/${v.id}`);
      await onPreview(v, meta, `/admin/api/templates/${slug}/versions/${v.id}/image`);
    } catch (error) {
      list.prepend(h("li", {}, errorBox(error)));
    }
  }

  toggle.addEventListener("click", () => {
    open = !open;
    toggle.setAttribute("aria-expanded", String(open));
    toggle.textContent = open ? "Hide earlier versions" : "Show earlier versions";
    list.hidden = !open;
    if (open) refresh();
  });
  list.hidden = true;
  const section = h("section", { class: "panel-section", id: "versions" }, h("h2", {}, "Versions"),
    h("p", { class: "faint small" }, "Every save keeps the version it replaces. Preview one on the image, or restore it as the newest version."),
    toggle, list);
  return { section, refresh };
}
