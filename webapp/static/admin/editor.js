// The template editor: draw text areas by dragging on the image, move and resize them, set how
// each is fitted, preview with the same canvas engine as the public page (render.js, the twin of
// the Pillow engine), and save through the admin API (422 errors are shown by field).
import { api, confirmDialog, errorBox, h, icon, ICONS, toast } from "./api.js";
import { drawPromo, loadFonts, loadImage, sizeCanvasForDisplay } from "/static/js/render.js";
import { backgroundSection } from "./editor-background.js";

const MIN_DRAW = 8; // template pixels: a smaller drag is a click, not a new area
const AREA_DEFAULTS = {
  source: "text", default_text: "Your text", font: "Inter-Bold", color: "#ffffff", align: "center",
  valign: "middle", min_size: 12, max_size: 120, wrap: false, max_lines: 3, line_spacing: 1.15,
  uppercase: false, max_chars: 120, stroke_width: 0, stroke_color: "#000000", shadow: null,
};

const clamp = (value, low, high) => Math.min(high, Math.max(low, value));

function nextAreaId(meta) {
  const ids = new Set(meta.text_areas.map((a) => a.id));
  let n = meta.text_areas.length + 1;
  while (ids.has(`text_${n}`)) n += 1;
  return `text_${n}`;
}

export async function editorPage(view, [slug], shell) {
  shell.crumbs({ label: "Promo Gen", href: "#/promo/templates" }, { label: "Templates", href: "#/promo/templates" }, { label: slug });
  let meta;
  let fonts;
  try {
    [meta, { fonts }] = await Promise.all([api("GET", `/admin/api/templates/${slug}`), api("GET", "/admin/api/fonts")]);
  } catch (error) {
    view.replaceChildren(errorBox(error), h("a", { class: "btn", href: "#/promo/templates" }, icon(ICONS.back), "Back to templates"));
    return;
  }

  const state = { meta, selected: meta.text_areas[0]?.id ?? null, dirty: false, errors: {}, previewErrors: {}, background: null, fontsReady: false };
  const canvas = h("canvas", { id: "preview", "aria-label": "Live preview" });
  const overlay = h("div", { class: "overlay", id: "overlay" });
  const stage = h("div", { class: "stage", id: "stage" }, canvas, overlay);
  const messages = h("div", { id: "editor-messages" });
  const areaList = h("div", { class: "area-list", id: "area-list" });
  const areaForm = h("div", { id: "area-form" });
  const saveButton = h("button", { type: "button", class: "btn btn-primary", id: "save" }, "Save");
  const deleteButton = h("button", { type: "button", class: "btn btn-danger", id: "delete" }, icon(ICONS.trash), "Delete");
  const title = h("h1", {}, meta.name);
  const subtitle = h("p");

  // --- template-level fields --------------------------------------------------------------

  const nameInput = h("input", { type: "text", id: "tpl-name", value: meta.name, maxlength: 80 });
  const descInput = h("textarea", { id: "tpl-description", maxlength: 500, rows: 2 }, meta.description);
  const visibility = (channel, label) => {
    const input = h("input", { type: "checkbox", id: `vis-${channel}`, checked: meta.visibility[channel] });
    input.addEventListener("change", () => { state.meta.visibility[channel] = input.checked; changed(); });
    return h("label", { class: "switch" }, input, label);
  };
  nameInput.addEventListener("input", () => { state.meta.name = nameInput.value; title.textContent = nameInput.value || slug; changed(); });
  descInput.addEventListener("input", () => { state.meta.description = descInput.value; changed(); });

  function changed(redrawOnly = false) {
    if (!redrawOnly) {
      state.dirty = true;
      saveButton.textContent = "Save changes";
    }
    renderSubtitle();
    scheduleDraw();
  }

  function renderSubtitle() {
    const m = state.meta;
    subtitle.textContent = `${m.slug} · ${m.width}×${m.height} px · version ${m.version}${state.dirty ? " · unsaved changes" : ""}`;
  }

  // --- preview -----------------------------------------------------------------------------

  let drawQueued = false;
  function scheduleDraw() {
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(() => { drawQueued = false; draw(); });
  }

  function draw() {
    const ctx = canvas.getContext("2d");
    const scale = sizeCanvasForDisplay(canvas, state.meta);
    const backgroundOnly = () => {
      ctx.save();
      ctx.setTransform(scale, 0, 0, scale, 0, 0);
      if (state.background) ctx.drawImage(state.background, 0, 0, state.meta.width, state.meta.height);
      ctx.restore();
    };
    if (!state.fontsReady) {
      backgroundOnly();
    } else {
      try {
        state.previewErrors = drawPromo(ctx, state.meta, fonts, { background: state.background, scale }).errors;
      } catch (error) {
        // A half-edited area (an empty size, say) must not take the editor down with the preview.
        backgroundOnly();
        state.previewErrors = { preview: `The preview cannot be drawn yet: ${error.message}` };
      }
    }
    renderOverlay();
    renderPreviewNotes();
  }

  const previewNote = h("div", { id: "preview-notes" });
  function renderPreviewNotes() {
    const entries = Object.entries(state.previewErrors);
    previewNote.replaceChildren(entries.length
      ? h("div", { class: "alert alert-warn" }, "The sample text does not fit:", h("ul", {}, entries.map(([id, text]) => h("li", {}, h("code", {}, id), " — ", text))))
      : "");
  }

  // --- the overlay: boxes you can move, resize and draw -------------------------------------

  // Boxes are kept per area id and updated in place: replacing them on every frame would pull
  // the element out from under a pointer (or a test) in the middle of a drag.
  const boxes = new Map();
  function renderOverlay() {
    const { width, height } = state.meta;
    const seen = new Set();
    for (const area of state.meta.text_areas) {
      let box = boxes.get(area.id);
      if (!box) {
        box = h("div", { class: "area-box", dataset: { area: area.id } }, h("span", { class: "area-tag" }),
          ...["nw", "ne", "sw", "se"].map((corner) => h("span", { class: `handle ${corner}`, dataset: { corner } })));
        boxes.set(area.id, box);
        overlay.append(box);
      }
      box.classList.toggle("selected", area.id === state.selected);
      box.classList.toggle("has-error", Boolean(state.errors[area.id] || state.previewErrors[area.id]));
      box.querySelector(".area-tag").textContent = area.label || area.id;
      placeBox(box, area.box, width, height);
      seen.add(area.id);
    }
    for (const [id, box] of boxes) {
      if (!seen.has(id)) { box.remove(); boxes.delete(id); }
    }
  }

  function placeBox(element, box, width, height) {
    element.style.left = `${(box.x / width) * 100}%`;
    element.style.top = `${(box.y / height) * 100}%`;
    element.style.width = `${(box.w / width) * 100}%`;
    element.style.height = `${(box.h / height) * 100}%`;
  }

  function templatePoint(event) {
    const rect = overlay.getBoundingClientRect();
    return {
      x: clamp(Math.round(((event.clientX - rect.left) / rect.width) * state.meta.width), 0, state.meta.width),
      y: clamp(Math.round(((event.clientY - rect.top) / rect.height) * state.meta.height), 0, state.meta.height),
    };
  }

  let drag = null;
  overlay.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    const point = templatePoint(event);
    const boxElement = event.target.closest(".area-box");
    if (boxElement) {
      const area = state.meta.text_areas.find((a) => a.id === boxElement.dataset.area);
      select(area.id);
      drag = { mode: event.target.dataset.corner ? "resize" : "move", corner: event.target.dataset.corner, area, start: point, original: { ...area.box } };
    } else {
      drag = { mode: "draw", start: point, box: null, element: h("div", { class: "area-box drafting", id: "draft" }) };
    }
    overlay.setPointerCapture(event.pointerId);
    event.preventDefault();
  });

  overlay.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const point = templatePoint(event);
    const { width, height } = state.meta;
    if (drag.mode === "draw") {
      const x = Math.min(drag.start.x, point.x);
      const y = Math.min(drag.start.y, point.y);
      drag.box = { x, y, w: Math.abs(point.x - drag.start.x), h: Math.abs(point.y - drag.start.y) };
      placeBox(drag.element, drag.box, width, height);
      if (!drag.element.isConnected) overlay.append(drag.element);
      return;
    }
    const dx = point.x - drag.start.x;
    const dy = point.y - drag.start.y;
    const o = drag.original;
    if (drag.mode === "move") {
      drag.area.box = { ...o, x: clamp(o.x + dx, 0, width - o.w), y: clamp(o.y + dy, 0, height - o.h) };
    } else {
      let left = o.x, top = o.y, right = o.x + o.w, bottom = o.y + o.h;
      if (drag.corner.includes("w")) left = clamp(o.x + dx, 0, right - 1);
      if (drag.corner.includes("e")) right = clamp(right + dx, left + 1, width);
      if (drag.corner.includes("n")) top = clamp(o.y + dy, 0, bottom - 1);
      if (drag.corner.includes("s")) bottom = clamp(bottom + dy, top + 1, height);
      drag.area.box = { x: left, y: top, w: right - left, h: bottom - top };
    }
    changed();
    const readout = document.getElementById("area-box");
    const b = drag.area.box;
    if (readout) readout.textContent = `x ${b.x} · y ${b.y} · ${b.w}×${b.h} px`;
  });

  function endDrag() {
    if (drag?.mode === "draw") {
      drag.element.remove();
      if (drag.box && drag.box.w >= MIN_DRAW && drag.box.h >= MIN_DRAW) addArea(drag.box);
    }
    drag = null;
  }
  overlay.addEventListener("pointerup", endDrag);
  overlay.addEventListener("pointercancel", endDrag);

  function addArea(box) {
    const id = nextAreaId(state.meta);
    const maxSize = clamp(Math.round(box.h * 0.8), 4, 120);
    const area = { ...AREA_DEFAULTS, id, label: `Text ${state.meta.text_areas.length + 1}`, box, max_size: maxSize, min_size: Math.min(12, maxSize) };
    state.meta.text_areas.push(area);
    state.selected = id;
    changed();
    renderAreas();
    toast(`Added ${id}. Set its font, colour and text on the right.`);
  }

  function select(id) {
    if (state.selected === id) return;
    state.selected = id;
    renderAreas();
    scheduleDraw();
  }

  // --- the side panel: areas and the selected area's settings ------------------------------

  function renderAreas() {
    areaList.replaceChildren(...state.meta.text_areas.map((area) => h("button", {
      type: "button", class: `area-item${area.id === state.selected ? " selected" : ""}`, dataset: { area: area.id },
      onclick: () => select(area.id),
    }, h("span", { class: "swatch", style: `background:${area.color}` }), h("span", { class: "area-name" }, area.label || area.id),
    h("span", { class: `pill ${area.source === "coupon" ? "pill-accent" : ""}` }, area.source))));
    if (!state.meta.text_areas.length) areaList.append(h("p", { class: "faint" }, "No areas: drag on the image to draw one."));
    renderAreaForm();
  }

  function renderAreaForm() {
    const area = state.meta.text_areas.find((a) => a.id === state.selected);
    if (!area) { areaForm.replaceChildren(); return; }
    if (areaForm.dataset.area === area.id && areaForm.contains(document.activeElement) && drag === null) return;
    areaForm.dataset.area = area.id;
    const fieldError = (name) => state.errors[area.id]?.[name];
    const wrap = (name, label, control) => h("div", { class: `field${fieldError(name) ? " invalid" : ""}` },
      h("label", { for: `area-${name}` }, label), control, fieldError(name) ? h("div", { class: "field-error" }, fieldError(name)) : null);
    const bind = (input, name, parse = (v) => v) => {
      input.id = `area-${name}`;
      input.addEventListener(input.type === "checkbox" || input.tagName === "SELECT" ? "change" : "input", () => {
        area[name] = input.type === "checkbox" ? input.checked : parse(input.value);
        if (name === "id") { state.selected = area.id; areaForm.dataset.area = area.id; for (const item of areaList.querySelectorAll(".area-item.selected")) item.dataset.area = area.id; }
        changed();
        if (name === "label" || name === "source" || name === "color") renderAreasKeepForm();
      });
      return input;
    };
    const number = (name, attrs) => bind(h("input", { type: "number", value: area[name], ...attrs }), name, (v) => (v === "" ? v : Number(v)));
    const select_ = (name, options) => bind(h("select", {}, options.map(([value, text]) => h("option", { value, selected: area[name] === value }, text))), name);
    const colour = h("input", { type: "color", value: area.color.slice(0, 7), "aria-label": "Colour picker" });
    const colourText = h("input", { type: "text", value: area.color, maxlength: 9 });
    colour.addEventListener("input", () => { area.color = colour.value + area.color.slice(7); colourText.value = area.color; changed(); renderAreasKeepForm(); });
    colourText.addEventListener("input", () => { area.color = colourText.value; if (/^#[0-9a-fA-F]{6}/.test(colourText.value)) colour.value = colourText.value.slice(0, 7); changed(); });
    colourText.id = "area-color";
    const segmented = (name, options) => h("div", { class: "seg", role: "group", "aria-label": name },
      options.map(([value, text]) => h("button", { type: "button", class: area[name] === value ? "on" : "", dataset: { value },
        onclick: (event) => { area[name] = value; for (const b of event.target.parentNode.children) b.classList.toggle("on", b === event.target); changed(); } }, text)));
    const fontOptions = Object.entries(fonts).map(([name, f]) => [name, `${f.family} ${f.style}`]);
    if (!fonts[area.font]) fontOptions.push([area.font, `${area.font} (not installed)`]);
    const box = area.box;
    areaForm.replaceChildren(
      h("div", { class: "row" }, wrap("id", "Id", bind(h("input", { type: "text", value: area.id, maxlength: 32 }), "id")),
        wrap("label", "Label", bind(h("input", { type: "text", value: area.label, maxlength: 64 }), "label"))),
      wrap("source", "Filled with", select_("source", [["coupon", "The coupon code"], ["text", "Text the visitor types"]])),
      wrap("default_text", "Sample / default text", bind(h("input", { type: "text", value: area.default_text, maxlength: 500 }), "default_text")),
      wrap("font", "Font", select_("font", fontOptions)),
      wrap("color", "Colour", h("div", { class: "color-row" }, colour, colourText)),
      h("div", { class: "field" }, h("label", {}, "Alignment"), segmented("align", [["left", "Left"], ["center", "Center"], ["right", "Right"]])),
      h("div", { class: "field" }, h("label", {}, "Vertical"), segmented("valign", [["top", "Top"], ["middle", "Middle"], ["bottom", "Bottom"]])),
      h("div", { class: "row" }, wrap("min_size", "Min size", number("min_size", { min: 4, max: 1000 })), wrap("max_size", "Max size", number("max_size", { min: 4, max: 1000 }))),
      h("div", { class: "row" }, wrap("max_lines", "Max lines", number("max_lines", { min: 1, max: 20 })), wrap("max_chars", "Max characters", number("max_chars", { min: 1, max: 500 }))),
      h("div", { class: "field row" },
        h("label", { class: "check" }, bind(h("input", { type: "checkbox", checked: area.wrap }), "wrap"), "Wrap lines"),
        h("label", { class: "check" }, bind(h("input", { type: "checkbox", checked: area.uppercase }), "uppercase"), "UPPERCASE")),
      h("p", { class: "faint mono", id: "area-box" }, `x ${box.x} · y ${box.y} · ${box.w}×${box.h} px`),
      h("button", { type: "button", class: "btn btn-sm btn-danger", id: "remove-area", onclick: () => removeArea(area.id) }, icon(ICONS.trash), "Remove area"));
  }

  function renderAreasKeepForm() {
    for (const item of areaList.querySelectorAll(".area-item")) {
      const area = state.meta.text_areas.find((a) => a.id === item.dataset.area);
      if (!area) continue;
      item.querySelector(".swatch").style.background = area.color;
      item.querySelector(".area-name").textContent = area.label || area.id;
      item.querySelector(".pill").textContent = area.source;
      item.querySelector(".pill").classList.toggle("pill-accent", area.source === "coupon");
    }
  }

  function removeArea(id) {
    state.meta.text_areas = state.meta.text_areas.filter((a) => a.id !== id);
    state.selected = state.meta.text_areas[0]?.id ?? null;
    delete areaForm.dataset.area;
    changed();
    renderAreas();
  }

  const NUDGE = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  function onKey(event) {
    if (!state.selected || event.target.closest("input, textarea, select, button")) return;
    if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      removeArea(state.selected);
    } else if (NUDGE[event.key]) {
      // Arrow keys move the selected area by a pixel (ten with Shift), for exact placement.
      event.preventDefault();
      const area = state.meta.text_areas.find((a) => a.id === state.selected);
      const step = event.shiftKey ? 10 : 1;
      const [dx, dy] = NUDGE[event.key];
      area.box = { ...area.box, x: clamp(area.box.x + dx * step, 0, state.meta.width - area.box.w), y: clamp(area.box.y + dy * step, 0, state.meta.height - area.box.h) };
      changed();
      const readout = document.getElementById("area-box");
      if (readout) readout.textContent = `x ${area.box.x} · y ${area.box.y} · ${area.box.w}×${area.box.h} px`;
    }
  }
  document.addEventListener("keydown", onKey);

  // --- saving and deleting ------------------------------------------------------------------

  function applyErrors(error) {
    state.errors = {};
    for (const f of error.body?.fields || []) {
      const m = /^text_areas\.(\d+)\.?([a-z_]*)/.exec(f.field);
      if (!m) continue;
      const area = state.meta.text_areas[Number(m[1])];
      if (!area) continue;
      state.errors[area.id] = { ...(state.errors[area.id] || {}), [m[2] || "box"]: f.message };
    }
    const first = Object.keys(state.errors)[0];
    if (first) state.selected = first;
  }

  saveButton.addEventListener("click", async () => {
    saveButton.disabled = true;
    messages.replaceChildren();
    try {
      const saved = await api("PUT", `/admin/api/templates/${slug}`, state.meta);
      state.meta = saved;
      state.dirty = false;
      state.errors = {};
      saveButton.textContent = "Save";
      toast(`Saved: version ${saved.version}.`);
    } catch (error) {
      applyErrors(error);
      messages.replaceChildren(errorBox(error),
        error.status === 409 ? h("button", { type: "button", class: "btn btn-sm", onclick: () => window.location.reload() }, "Reload the template") : "");
      toast(error.status === 422 ? "Not saved: fix the fields marked in red." : error.message, "error");
    } finally {
      saveButton.disabled = false;
      delete areaForm.dataset.area;
      renderSubtitle();
      renderAreas();
      scheduleDraw();
    }
  });

  deleteButton.addEventListener("click", async () => {
    const sure = await confirmDialog(`Delete ${state.meta.name}?`, "It disappears from the web page and the bot at once. A backup of its settings stays in storage.");
    if (!sure) return;
    try {
      await api("DELETE", `/admin/api/templates/${slug}`);
      state.dirty = false;
      toast(`${state.meta.name} deleted.`, "ok", { carry: true });
      window.location.hash = "#/promo/templates";
    } catch (error) {
      toast(error.message, "error");
    }
  });

  // --- layout -----------------------------------------------------------------------------

  shell.actions(deleteButton, saveButton);
  view.replaceChildren(
    h("div", { class: "page-head" }, h("div", {}, title, subtitle)),
    messages,
    h("div", { class: "editor" },
      h("section", { class: "card stage-card" },
        h("p", { class: "stage-hint" }, "Drag on the image to draw a text area. Drag a box to move it, a corner to resize it.", h("span", {}, h("kbd", {}, "←↑→↓"), " nudge (", h("kbd", {}, "Shift"), " ×10), ", h("kbd", {}, "Del"), " removes.")),
        stage, previewNote),
      h("aside", { class: "card panel" },
        h("section", { class: "panel-section" }, h("h2", {}, "Template"),
          h("div", { class: "field" }, h("label", { for: "tpl-name" }, "Name"), nameInput),
          h("div", { class: "field" }, h("label", { for: "tpl-description" }, "Description"), descInput),
          h("div", { class: "tpl-switches" }, visibility("web", "Web"), visibility("telegram", "Telegram"))),
        h("section", { class: "panel-section" }, h("h2", {}, "Text areas"), areaList),
        h("section", { class: "panel-section" }, h("h2", {}, "Selected area"), areaForm),
        backgroundSection(slug, { state }))));
  renderSubtitle();
  renderAreas();
  stage.style.aspectRatio = `${meta.width} / ${meta.height}`;
  // The whole image stays in view on a desktop screen: the height is what limits a tall template.
  stage.style.maxWidth = `calc((100vh - 240px) * ${(meta.width / meta.height).toFixed(4)})`;

  const resize = new ResizeObserver(() => scheduleDraw());
  resize.observe(stage);
  try {
    state.background = await loadImage(`/admin/api/templates/${slug}/image?v=${meta.version}`);
  } catch (error) {
    messages.replaceChildren(h("div", { class: "alert alert-error" }, "The template image could not be loaded."));
  }
  scheduleDraw();
  loadFonts(fonts).then(() => { state.fontsReady = true; scheduleDraw(); },
    () => messages.append(h("div", { class: "alert alert-warn" }, "The fonts could not be loaded, so the preview shows the image only.")));

  return {
    cleanup() { resize.disconnect(); document.removeEventListener("keydown", onKey); },
    leave(quiet = false) { return !state.dirty || (!quiet && window.confirm("Leave without saving your changes?")); },
  };
}
