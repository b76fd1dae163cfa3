// The template editor: draw text areas (and the logo area) on the image, move and resize them
// with snapping guides, select several to align or distribute, undo and redo every change,
// zoom and pan, preview with the same canvas engine as the public page (render.js, the twin of
// the Pillow engine), look at and restore earlier versions, and save through the admin API
// (422 errors are shown by field). Everything is reachable from the keyboard; the shortcuts are
// listed in the README ("Admin dashboard") and in the editor's hint line.
import { api, confirmDialog, errorBox, h, icon, ICONS, promptDialog, toast } from "./api.js";
import { drawPromo, loadFonts, loadImage, sizeCanvasForDisplay } from "/static/js/render.js";
import { align, boundsOf, calmSpot, clamp, distribute, overlappingPairs, snapMove, snapResize, snapTargets } from "./editor-geometry.js";
import { fillAreaForm, fillLogoForm } from "./editor-form.js";
import { History } from "./editor-history.js";
import { versionsSection } from "./editor-versions.js";
import { backgroundSection } from "./editor-background.js";

// sessionStorage key: the slug of a template just uploaded, whose coupon area is to be placed.
export const FRESH_TEMPLATE = "promostack.fresh-template";
const LOGO = "logo_area"; // the logo area's id on the overlay and in the selection
const MIN_DRAW = 8; // template pixels: a smaller drag is a click, not a new area
const SNAP_PX = 6; // screen pixels within which an edge or centre snaps
const ZOOMS = [0.5, 0.75, 1, 1.5, 2, 3, 4];
const DEFAULT_LABEL = /^\s*$|^Text \d+$/;
const AREA_DEFAULTS = {
  source: "text", default_text: "Your text", font: "Inter-Bold", color: "#ffffff", align: "center",
  valign: "middle", min_size: 12, max_size: 120, wrap: false, max_lines: 3, line_spacing: 1.15,
  uppercase: false, max_chars: 120, stroke_width: 0, stroke_color: "#000000", shadow: null,
};
const LABEL_SUGGESTIONS = ["Headline", "Subheading", "Offer details", "Fine print", "Call to action"];

/** An area id made from a label ("Fine print" -> "fine_print"), unique among `taken`. */
function idFromLabel(label, taken) {
  let base = label.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 26);
  if (!/^[a-z]/.test(base)) base = `text_${base}`.replace(/_+$/, "");
  let id = base;
  for (let n = 2; taken.has(id); n += 1) id = `${base}_${n}`;
  return id;
}

/** A stand-in logo for the preview: the visitor's own logo goes here on the public page. */
function sampleLogo() {
  const c = document.createElement("canvas");
  c.width = 400;
  c.height = 200;
  const ctx = c.getContext("2d");
  ctx.fillStyle = "rgba(255,255,255,.88)";
  ctx.beginPath();
  ctx.roundRect(8, 8, 384, 184, 28);
  ctx.fill();
  ctx.fillStyle = "#3b2fc9";
  ctx.font = "700 88px Inter, sans-serif";
  ctx.textAlign = "center";
  ctx.textBaseline = "middle";
  ctx.fillText("LOGO", 200, 104);
  return c;
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

  const state = {
    meta, selection: meta.text_areas[0] ? [meta.text_areas[0].id] : [], dirty: false, savedJSON: JSON.stringify(meta),
    errors: {}, previewErrors: {}, background: null, fontsReady: false, zoom: 1, preview: null,
  };
  const history = new History();
  const logoImage = sampleLogo();
  const canvas = h("canvas", { id: "preview", "aria-label": "Live preview of the template with its sample texts" });
  const overlay = h("div", { class: "overlay", id: "overlay" });
  const stage = h("div", { class: "stage", id: "stage" }, canvas, overlay);
  const viewport = h("div", { class: "stage-viewport", id: "stage-viewport" }, stage);
  const messages = h("div", { id: "editor-messages" });
  const warnings = h("div", { id: "editor-warnings", "aria-live": "polite" });
  const previewBanner = h("div", { id: "version-preview", hidden: true });
  const areaList = h("div", { class: "area-list", id: "area-list" });
  const areaForm = h("div", { id: "area-form" });
  const logoSection = h("div", { id: "logo-section" });
  const saveButton = h("button", { type: "button", class: "btn btn-primary", id: "save", "aria-keyshortcuts": "Control+S" }, "Save");
  const deleteButton = h("button", { type: "button", class: "btn btn-danger", id: "delete" }, icon(ICONS.trash), "Delete");
  const title = h("h1", {}, meta.name);
  const subtitle = h("p");

  const primary = () => state.selection[state.selection.length - 1] ?? null;
  const areaById = (id) => state.meta.text_areas.find((a) => a.id === id);

  /** Every box on the overlay: the text areas in drawing order, then the logo area. */
  function items() {
    const list = state.meta.text_areas.map((a) => ({ id: a.id, label: a.label || a.id, box: a.box }));
    if (state.meta.logo_area) list.push({ id: LOGO, label: "Logo", box: state.meta.logo_area.box });
    return list;
  }
  const boxOf = (id) => (id === LOGO ? state.meta.logo_area?.box : areaById(id)?.box);
  function setBox(id, box) {
    if (id === LOGO) state.meta.logo_area.box = box;
    else areaById(id).box = box;
  }

  // --- undo and redo ------------------------------------------------------------------------

  /** Call before changing the meta: remembers it for Ctrl+Z (same-`tag` changes are one step). */
  function record(tag = null) {
    history.record(JSON.stringify(state.meta), tag);
  }

  function applySnapshot(json) {
    // The version stays the one on the server: an undo after a save is a new edit of it.
    const { version, updated_at } = state.meta;
    state.meta = { ...JSON.parse(json), version, updated_at };
    state.selection = state.selection.filter((id) => boxOf(id));
    if (!state.selection.length && state.meta.text_areas[0]) state.selection = [state.meta.text_areas[0].id];
    refreshAll();
  }

  function undo() {
    const snapshot = history.undo(JSON.stringify(state.meta));
    if (snapshot) applySnapshot(snapshot);
    else toast("Nothing to undo.");
  }

  function redo() {
    const snapshot = history.redo(JSON.stringify(state.meta));
    if (snapshot) applySnapshot(snapshot);
    else toast("Nothing to redo.");
  }

  // --- template-level fields ------------------------------------------------------------------

  const nameInput = h("input", { type: "text", id: "tpl-name", value: meta.name, maxlength: 80 });
  const descInput = h("textarea", { id: "tpl-description", maxlength: 500, rows: 2 }, meta.description);
  const visibilityInputs = {};
  const visibility = (channel, label) => {
    const input = h("input", { type: "checkbox", id: `vis-${channel}`, checked: meta.visibility[channel] });
    input.addEventListener("change", () => { record(); state.meta.visibility[channel] = input.checked; changed(); });
    visibilityInputs[channel] = input;
    return h("label", { class: "switch" }, input, label);
  };
  nameInput.addEventListener("input", () => { record("tpl-name"); state.meta.name = nameInput.value; title.textContent = nameInput.value || slug; changed(); });
  descInput.addEventListener("input", () => { record("tpl-description"); state.meta.description = descInput.value; changed(); });

  function changed() {
    state.dirty = JSON.stringify(state.meta) !== state.savedJSON;
    saveButton.textContent = state.dirty ? "Save changes" : "Save";
    undoButton.disabled = !history.canUndo;
    redoButton.disabled = !history.canRedo;
    renderSubtitle();
    scheduleDraw();
    renderWarnings();
  }

  /** Every field and list redrawn from state.meta (after an undo, a redo or a restore). */
  function refreshAll() {
    nameInput.value = state.meta.name;
    descInput.value = state.meta.description;
    title.textContent = state.meta.name || slug;
    for (const [channel, input] of Object.entries(visibilityInputs)) input.checked = state.meta.visibility[channel];
    const focusedId = document.activeElement?.id;
    delete areaForm.dataset.area;
    renderAreas(true);
    renderLogoSection();
    changed();
    if (focusedId && document.getElementById(focusedId) && !areaForm.contains(document.activeElement)) document.getElementById(focusedId).focus();
  }

  function renderSubtitle() {
    const m = state.meta;
    subtitle.textContent = `${m.slug} · ${m.width}×${m.height} px · version ${m.version}${state.dirty ? " · unsaved changes" : ""}`;
  }

  // --- warnings: default labels and overlapping areas -----------------------------------------

  function defaultLabels() {
    return state.meta.text_areas.filter((a) => a.source === "text" && DEFAULT_LABEL.test(a.label));
  }

  function renderWarnings() {
    const lines = [];
    for (const area of defaultLabels()) {
      lines.push(h("li", { dataset: { warning: "label" } }, h("code", {}, area.id), ` is labelled “${area.label || "(nothing)"}”: visitors see that name above its field. Give it one that says what to type.`));
    }
    for (const [a, b] of overlappingPairs(items())) {
      lines.push(h("li", { dataset: { warning: "overlap" } }, `${a.label} and ${b.label} overlap: their texts may be drawn over each other.`));
    }
    const overlapping = new Set(overlappingPairs(items()).flat().map((i) => i.id));
    for (const [id, box] of boxes) box.classList.toggle("overlaps", overlapping.has(id));
    warnings.replaceChildren(lines.length ? h("div", { class: "alert alert-warn", id: "warning-list" }, h("strong", {}, "Check before saving:"), h("ul", {}, lines)) : "");
  }

  // --- preview --------------------------------------------------------------------------------

  let drawQueued = false;
  /** The boxes follow the meta at once (the keyboard, tests and screen readers see the change
   *  immediately); the canvas is redrawn on the next frame. */
  function scheduleDraw() {
    renderOverlay();
    if (drawQueued) return;
    drawQueued = true;
    requestAnimationFrame(() => { drawQueued = false; draw(); });
  }

  function draw() {
    const shown = state.preview || state;
    const ctx = canvas.getContext("2d");
    const scale = sizeCanvasForDisplay(canvas, shown.meta);
    const backgroundOnly = () => {
      ctx.save();
      ctx.setTransform(scale, 0, 0, scale, 0, 0);
      if (shown.background) ctx.drawImage(shown.background, 0, 0, shown.meta.width, shown.meta.height);
      ctx.restore();
    };
    if (!state.fontsReady) {
      backgroundOnly();
    } else {
      try {
        const errors = drawPromo(ctx, shown.meta, fonts, { background: shown.background, logo: logoImage, scale }).errors;
        if (!state.preview) state.previewErrors = errors;
      } catch (error) {
        // A half-edited area (an empty size, say) must not take the editor down with the preview.
        backgroundOnly();
        state.previewErrors = { preview: `The preview cannot be drawn yet: ${error.message}` };
      }
    }
    canvas.dataset.drawn = String(Number(canvas.dataset.drawn || 0) + 1);
    renderOverlay();
    renderPreviewNotes();
  }

  const previewNote = h("div", { id: "preview-notes" });
  function renderPreviewNotes() {
    const entries = Object.entries(state.previewErrors);
    previewNote.replaceChildren(entries.length && !state.preview
      ? h("div", { class: "alert alert-warn" }, "The sample text does not fit:", h("ul", {}, entries.map(([id, text]) => h("li", {}, h("code", {}, id), " — ", text))))
      : "");
  }

  // --- the overlay: boxes you can select, move, resize and draw --------------------------------

  // Boxes are kept per id and updated in place: replacing them on every frame would pull the
  // element out from under a pointer (or a test, or the keyboard focus) in the middle of a drag.
  const boxes = new Map();
  const guideLayer = h("div", { class: "guides", "aria-hidden": "true" });
  overlay.append(guideLayer);
  function renderOverlay() {
    overlay.hidden = Boolean(state.preview);
    const { width, height } = state.meta;
    const seen = new Set();
    for (const item of items()) {
      let box = boxes.get(item.id);
      if (!box) {
        box = h("div", { class: `area-box${item.id === LOGO ? " logo-box" : ""}`, dataset: { area: item.id }, tabindex: "0", role: "button", "aria-describedby": "stage-keys" },
          h("span", { class: "area-tag" }),
          ...["nw", "ne", "sw", "se"].map((corner) => h("span", { class: `handle ${corner}`, dataset: { corner } })));
        // Tabbing to a box selects it; a click selects through the pointer handlers instead.
        box.addEventListener("focus", () => { if (!pointerDown && !state.selection.includes(item.id)) select(item.id); });
        boxes.set(item.id, box);
        overlay.insertBefore(box, guideLayer);
      }
      const selected = state.selection.includes(item.id);
      box.classList.toggle("selected", selected);
      box.classList.toggle("primary", item.id === primary());
      box.setAttribute("aria-pressed", String(selected));
      box.setAttribute("aria-label", `${item.label} area, x ${item.box.x}, y ${item.box.y}, ${item.box.w} by ${item.box.h} pixels`);
      box.classList.toggle("has-error", Boolean(state.errors[item.id] || state.previewErrors[item.id]));
      box.querySelector(".area-tag").textContent = item.label;
      placeBox(box, item.box, width, height);
      seen.add(item.id);
    }
    // Drawing order is stacking order: the DOM order follows the list so a later box is on top.
    // Boxes are moved only when out of order: moving an element takes the keyboard focus off it.
    const wanted = items().map((item) => boxes.get(item.id));
    const current = [...overlay.children].filter((child) => child.classList.contains("area-box") && !child.classList.contains("drafting"));
    if (wanted.some((box, i) => current[i] !== box)) {
      const focused = document.activeElement;
      for (const box of wanted) overlay.insertBefore(box, guideLayer);
      if (focused && overlay.contains(focused)) focused.focus();
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

  function showGuides(guides) {
    const { width, height } = state.meta;
    guideLayer.replaceChildren(
      ...guides.x.map((x) => h("div", { class: "guide guide-v", style: `left:${(x / width) * 100}%` })),
      ...guides.y.map((y) => h("div", { class: "guide guide-h", style: `top:${(y / height) * 100}%` })));
  }

  function templatePoint(event) {
    const rect = overlay.getBoundingClientRect();
    return {
      x: clamp(Math.round(((event.clientX - rect.left) / rect.width) * state.meta.width), 0, state.meta.width),
      y: clamp(Math.round(((event.clientY - rect.top) / rect.height) * state.meta.height), 0, state.meta.height),
    };
  }

  /** How many template pixels one screen pixel is now (snapping feels the same at any zoom). */
  const perScreenPixel = () => state.meta.width / overlay.getBoundingClientRect().width;

  let drag = null;
  let spaceHeld = false;
  let pointerDown = false;
  overlay.addEventListener("pointerdown", (event) => {
    pointerDown = true;
    if (event.button === 1 || (event.button === 0 && spaceHeld)) {
      drag = { mode: "pan", x: event.clientX, y: event.clientY, left: viewport.scrollLeft, top: viewport.scrollTop };
    } else if (event.button !== 0) {
      return;
    } else {
      const point = templatePoint(event);
      const boxElement = event.target.closest(".area-box");
      if (boxElement && (event.shiftKey || event.ctrlKey || event.metaKey)) {
        toggleSelected(boxElement.dataset.area);
        event.preventDefault();
        return;
      }
      if (boxElement) {
        const id = boxElement.dataset.area;
        if (!state.selection.includes(id)) select(id);
        const corner = event.target.dataset.corner;
        const ids = corner ? [id] : [...state.selection];
        drag = { mode: corner ? "resize" : "move", corner, ids, start: point, before: JSON.stringify(state.meta), originals: new Map(ids.map((i) => [i, { ...boxOf(i) }])), moved: false };
      } else {
        drag = { mode: "draw", start: point, box: null, element: h("div", { class: "area-box drafting", id: "draft" }) };
      }
    }
    overlay.setPointerCapture(event.pointerId);
    event.preventDefault();
  });

  overlay.addEventListener("pointermove", (event) => {
    if (!drag) return;
    if (drag.mode === "pan") {
      viewport.scrollLeft = drag.left - (event.clientX - drag.x);
      viewport.scrollTop = drag.top - (event.clientY - drag.y);
      return;
    }
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
    const others = items().filter((i) => !drag.ids.includes(i.id)).map((i) => i.box);
    const targets = snapTargets(width, height, others);
    // Alt turns snapping off for a free placement.
    const threshold = event.altKey ? 0 : SNAP_PX * perScreenPixel();
    if (drag.mode === "move") {
      const group = boundsOf([...drag.originals.values()]);
      const moved = { ...group, x: clamp(group.x + dx, 0, width - group.w), y: clamp(group.y + dy, 0, height - group.h) };
      const snapped = snapMove(moved, targets, threshold);
      const shiftX = clamp(snapped.box.x, 0, width - group.w) - group.x;
      const shiftY = clamp(snapped.box.y, 0, height - group.h) - group.y;
      for (const [id, o] of drag.originals) setBox(id, { ...o, x: o.x + shiftX, y: o.y + shiftY });
      showGuides(snapped.guides);
    } else {
      const o = drag.originals.get(drag.ids[0]);
      let left = o.x, top = o.y, right = o.x + o.w, bottom = o.y + o.h;
      if (drag.corner.includes("w")) left = clamp(o.x + dx, 0, right - 1);
      if (drag.corner.includes("e")) right = clamp(right + dx, left + 1, width);
      if (drag.corner.includes("n")) top = clamp(o.y + dy, 0, bottom - 1);
      if (drag.corner.includes("s")) bottom = clamp(bottom + dy, top + 1, height);
      const snapped = snapResize({ x: left, y: top, w: right - left, h: bottom - top }, drag.corner, targets, threshold);
      setBox(drag.ids[0], snapped.box);
      showGuides(snapped.guides);
    }
    drag.moved = true;
    changed();
    updateReadout();
  });

  async function endDrag() {
    pointerDown = false;
    const ended = drag;
    drag = null;
    guideLayer.replaceChildren();
    if (!ended) return;
    if (ended.mode === "draw") {
      ended.element.remove();
      if (ended.box && ended.box.w >= MIN_DRAW && ended.box.h >= MIN_DRAW) await addArea(ended.box);
    } else if (ended.mode !== "pan" && ended.moved) {
      history.record(ended.before);
      changed();
    }
  }
  overlay.addEventListener("pointerup", endDrag);
  overlay.addEventListener("pointercancel", endDrag);

  function updateReadout() {
    const readout = document.getElementById("area-box");
    const box = boxOf(primary());
    if (readout && box) readout.textContent = `x ${box.x} · y ${box.y} · ${box.w}×${box.h} px`;
  }

  // --- adding, duplicating, removing, ordering ------------------------------------------------

  /** Asks for the new area's label (visitors see it) and adds the area at `box`; false if cancelled. */
  async function addArea(box) {
    const taken = new Set(state.meta.text_areas.map((a) => a.label));
    const suggestion = LABEL_SUGGESTIONS.find((s) => !taken.has(s)) || "";
    const label = await promptDialog("Name the new text area", "Visitors see this name above the field where they type its text.", { value: suggestion, action: "Add area" });
    if (label === null) return false;
    record();
    const id = idFromLabel(label, new Set(state.meta.text_areas.map((a) => a.id)));
    const maxSize = clamp(Math.round(box.h * 0.8), 4, 120);
    state.meta.text_areas.push({ ...AREA_DEFAULTS, id, label, box, max_size: maxSize, min_size: Math.min(12, maxSize) });
    state.selection = [id];
    changed();
    renderAreas(true);
    toast(`Added “${label}”. Set its font, colour and sample text in the Selected area panel.`);
    renderOverlay(); // the box exists now, so the keyboard can go on with it
    boxes.get(id)?.focus();
    return true;
  }

  /** The calmest place of the image for a `w`×`h` box, away from the other areas. */
  function calmPlace(w, h, skip = []) {
    if (!state.background) return { x: Math.round((state.meta.width - w) / 2), y: Math.round((state.meta.height - h) / 2) };
    const gridW = 96;
    const gridH = Math.max(1, Math.round((gridW * state.meta.height) / state.meta.width));
    const scratch = document.createElement("canvas");
    scratch.width = gridW;
    scratch.height = gridH;
    const ctx = scratch.getContext("2d", { willReadFrequently: true });
    ctx.drawImage(state.background, 0, 0, gridW, gridH);
    const avoid = items().filter((i) => !skip.includes(i.id)).map((i) => i.box);
    return calmSpot(ctx.getImageData(0, 0, gridW, gridH), gridW, gridH, state.meta.width, state.meta.height, w, h, avoid);
  }

  async function addAreaFromKeyboard() {
    const w = Math.round(state.meta.width * 0.6);
    const h_ = Math.max(MIN_DRAW, Math.round(state.meta.height * 0.14));
    await addArea({ ...calmPlace(w, h_), w, h: h_ });
  }

  function moveToCalmSpot(id) {
    const box = boxOf(id);
    if (!box) return;
    record();
    setBox(id, { ...box, ...calmPlace(box.w, box.h, [id]) });
    changed();
    updateReadout();
  }

  function duplicate() {
    const ids = state.selection.filter((id) => id !== LOGO);
    if (!ids.length) return;
    record();
    const taken = new Set(state.meta.text_areas.map((a) => a.id));
    const copies = ids.map((id) => {
      const area = structuredClone(areaById(id));
      area.id = idFromLabel(`${area.id}_copy`, taken);
      taken.add(area.id);
      area.label = `${area.label || id} copy`.slice(0, 64);
      const shift = Math.max(8, Math.round(state.meta.width * 0.02));
      area.box = { ...area.box, x: clamp(area.box.x + shift, 0, state.meta.width - area.box.w), y: clamp(area.box.y + shift, 0, state.meta.height - area.box.h) };
      state.meta.text_areas.push(area);
      return area.id;
    });
    state.selection = copies;
    changed();
    renderAreas(true);
    toast(copies.length === 1 ? `Duplicated as ${copies[0]}.` : `Duplicated ${copies.length} areas.`);
  }

  function removeSelected() {
    if (!state.selection.length) return;
    record();
    if (state.selection.includes(LOGO)) state.meta.logo_area = null;
    state.meta.text_areas = state.meta.text_areas.filter((a) => !state.selection.includes(a.id));
    state.selection = state.meta.text_areas[0] ? [state.meta.text_areas[0].id] : [];
    changed();
    renderAreas(true);
    renderLogoSection();
  }

  /** Moves the selected text area `step` places in the drawing order (+1: drawn later, on top). */
  function reorder(step) {
    const id = primary();
    const list = state.meta.text_areas;
    const from = list.findIndex((a) => a.id === id);
    const to = from + step;
    if (from < 0 || to < 0 || to >= list.length) return;
    record();
    const [area] = list.splice(from, 1);
    list.splice(to, 0, area);
    changed();
    renderAreas(true);
  }

  function alignSelected(edge) {
    const ids = [...state.selection];
    if (!ids.length) return;
    record();
    align(ids.map(boxOf), edge, state.meta.width, state.meta.height).forEach((box, i) => setBox(ids[i], box));
    changed();
    updateReadout();
  }

  function distributeSelected(axis) {
    const ids = [...state.selection];
    if (ids.length < 3) { toast("Select three areas or more to distribute them.", "error"); return; }
    record();
    distribute(ids.map(boxOf), axis).forEach((box, i) => setBox(ids[i], box));
    changed();
  }

  // --- selection ------------------------------------------------------------------------------

  function select(id) {
    state.selection = id ? [id] : [];
    renderAreas();
    scheduleDraw();
  }

  function toggleSelected(id) {
    state.selection = state.selection.includes(id) ? state.selection.filter((i) => i !== id) : [...state.selection, id];
    renderAreas();
    scheduleDraw();
  }

  // --- the side panel: areas and the selected area's settings --------------------------------

  function renderAreas(force = false) {
    areaList.replaceChildren(...state.meta.text_areas.map((area) => h("button", {
      type: "button", class: `area-item${state.selection.includes(area.id) ? " selected" : ""}`, dataset: { area: area.id },
      "aria-pressed": String(state.selection.includes(area.id)),
      onclick: (event) => (event.shiftKey || event.ctrlKey || event.metaKey ? toggleSelected(area.id) : select(area.id)),
    }, h("span", { class: "swatch", style: `background:${area.color.slice(0, 7)}` }), h("span", { class: "area-name" }, area.label || area.id),
    h("span", { class: `pill ${area.source === "coupon" ? "pill-accent" : ""}` }, area.source))));
    if (!state.meta.text_areas.length) areaList.append(h("p", { class: "faint" }, "No areas: drag on the image, or use Add text area."));
    selectionTools.hidden = state.selection.length < 2;
    selectionCount.textContent = `${state.selection.length} areas selected`;
    if (force) delete areaForm.dataset.area;
    renderAreaForm();
  }

  // What the "Selected area" form (editor-form.js) may read and do.
  const formEditor = {
    fonts,
    get errors() { return state.errors; },
    record,
    changed,
    relabel: () => renderAreasKeepForm(),
    renamed(before, after) {
      state.selection = state.selection.map((s) => (s === before ? after : s));
      areaForm.dataset.area = after;
      for (const item of areaList.querySelectorAll(".area-item")) if (item.dataset.area === before) item.dataset.area = after;
    },
    rebuild() { delete areaForm.dataset.area; renderAreaForm(); },
    duplicate: () => duplicate(),
    forward: () => reorder(1),
    backward: () => reorder(-1),
    calm: (id) => moveToCalmSpot(id),
    remove: () => removeSelected(),
    removeLogo() { state.selection = [LOGO]; removeSelected(); },
  };

  function renderAreaForm() {
    const id = primary();
    const target = id === LOGO ? state.meta.logo_area : areaById(id);
    if (!target) { areaForm.replaceChildren(h("p", { class: "faint" }, "Select an area on the image or in the list.")); delete areaForm.dataset.area; return; }
    // Typing in the form must not rebuild it under the cursor.
    if (areaForm.dataset.area === id && areaForm.contains(document.activeElement) && drag === null) return;
    areaForm.dataset.area = id;
    if (id === LOGO) fillLogoForm(areaForm, target, formEditor);
    else fillAreaForm(areaForm, target, formEditor);
  }

  function renderLogoSection() {
    logoSection.replaceChildren(state.meta.logo_area
      ? h("button", { type: "button", class: "btn btn-sm", id: "select-logo", onclick: () => { select(LOGO); boxes.get(LOGO)?.focus(); } }, "Select the logo area")
      : h("button", { type: "button", class: "btn btn-sm", id: "add-logo", onclick: addLogoArea }, icon(ICONS.plus), "Add a logo area"));
  }

  function addLogoArea() {
    record();
    const w = Math.max(MIN_DRAW, Math.round(state.meta.width * 0.2));
    const h_ = Math.max(MIN_DRAW, Math.round(w / 2));
    state.meta.logo_area = { box: { ...calmPlace(w, h_), w, h: h_ }, fit: "contain" };
    state.selection = [LOGO];
    changed();
    renderAreas(true);
    renderLogoSection();
    toast("Added a logo area: visitors can now add their logo.");
  }

  function renderAreasKeepForm() {
    for (const item of areaList.querySelectorAll(".area-item")) {
      const area = areaById(item.dataset.area);
      if (!area) continue;
      item.querySelector(".swatch").style.background = area.color.slice(0, 7);
      item.querySelector(".area-name").textContent = area.label || area.id;
      item.querySelector(".pill").textContent = area.source;
      item.querySelector(".pill").classList.toggle("pill-accent", area.source === "coupon");
    }
  }

  // --- zoom and pan -----------------------------------------------------------------------------

  const zoomLabel = h("span", { class: "zoom-label", id: "zoom-level", "aria-live": "polite" }, "100%");
  function setZoom(zoom, anchor = null) {
    const next = clamp(zoom, ZOOMS[0], ZOOMS[ZOOMS.length - 1]);
    const before = stage.getBoundingClientRect();
    const view = viewport.getBoundingClientRect();
    const ax = anchor ? anchor.x : view.left + view.width / 2;
    const ay = anchor ? anchor.y : view.top + view.height / 2;
    const fx = (ax - before.left) / before.width;
    const fy = (ay - before.top) / before.height;
    state.zoom = next;
    if (next === 1) {
      stage.style.width = "";
      stage.style.maxWidth = fitWidth;
    } else {
      const base = Math.min(viewport.clientWidth, (window.innerHeight - 240) * (state.meta.width / state.meta.height));
      stage.style.width = `${Math.round(base * next)}px`;
      stage.style.maxWidth = "none";
    }
    const after = stage.getBoundingClientRect();
    viewport.scrollLeft += after.left + fx * after.width - ax;
    viewport.scrollTop += after.top + fy * after.height - ay;
    zoomLabel.textContent = `${Math.round(next * 100)}%`; // of the fitted size
    scheduleDraw();
  }
  const zoomStep = (direction) => setZoom(direction > 0 ? ZOOMS.find((z) => z > state.zoom) ?? state.zoom : [...ZOOMS].reverse().find((z) => z < state.zoom) ?? state.zoom);
  viewport.addEventListener("wheel", (event) => {
    if (!event.ctrlKey && !event.metaKey) return; // a plain wheel scrolls (pans) the zoomed image
    event.preventDefault();
    const next = event.deltaY < 0 ? ZOOMS.find((z) => z > state.zoom) : [...ZOOMS].reverse().find((z) => z < state.zoom);
    if (next) setZoom(next, { x: event.clientX, y: event.clientY });
  }, { passive: false });

  // --- keyboard -------------------------------------------------------------------------------

  const NUDGE = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
  function onKey(event) {
    if (document.querySelector("dialog[open]")) return;
    const mod = event.ctrlKey || event.metaKey;
    const key = event.key.toLowerCase();
    const typing = event.target.closest("input, textarea, select");
    if (mod && key === "z") { event.preventDefault(); if (event.shiftKey) redo(); else undo(); return; }
    if (mod && key === "y") { event.preventDefault(); redo(); return; }
    if (mod && key === "s") { event.preventDefault(); saveButton.click(); return; }
    if (event.key === " " && !typing && !event.target.closest("button")) { spaceHeld = true; if (event.target.closest(".area-box") || event.target === document.body) event.preventDefault(); return; }
    // On the other buttons keys keep their meaning; on a box or a list item they edit areas.
    if (typing || event.target.closest("button:not(.area-item)")) return;
    if (mod && key === "d") { event.preventDefault(); duplicate(); return; }
    if (mod && key === "a") { event.preventDefault(); state.selection = items().map((i) => i.id); renderAreas(); scheduleDraw(); return; }
    if (mod && event.key === "]") { event.preventDefault(); reorder(1); return; }
    if (mod && event.key === "[") { event.preventDefault(); reorder(-1); return; }
    if (!mod && (event.key === "+" || event.key === "=")) { event.preventDefault(); zoomStep(1); return; }
    if (!mod && event.key === "-") { event.preventDefault(); zoomStep(-1); return; }
    if (!mod && event.key === "0") { event.preventDefault(); setZoom(1); return; }
    if (event.key === "Escape" && state.selection.length > 1) { select(primary()); return; }
    if (!state.selection.length) return;
    if (event.key === "Delete" || event.key === "Backspace") {
      event.preventDefault();
      removeSelected();
    } else if (NUDGE[event.key]) {
      // Arrows move the selection a pixel (ten with Shift); with Alt they resize the area.
      event.preventDefault();
      const step = event.shiftKey ? 10 : 1;
      const [dx, dy] = NUDGE[event.key];
      const { width, height } = state.meta;
      record(`keys:${event.altKey ? "size" : "move"}:${state.selection.join(",")}`);
      if (event.altKey) {
        const id = primary();
        const b = boxOf(id);
        setBox(id, { ...b, w: clamp(b.w + dx * step, 1, width - b.x), h: clamp(b.h + dy * step, 1, height - b.y) });
      } else {
        const group = boundsOf(state.selection.map(boxOf));
        const sx = clamp(group.x + dx * step, 0, width - group.w) - group.x;
        const sy = clamp(group.y + dy * step, 0, height - group.h) - group.y;
        for (const id of state.selection) { const b = boxOf(id); setBox(id, { ...b, x: b.x + sx, y: b.y + sy }); }
      }
      changed();
      updateReadout();
    }
  }
  const onKeyUp = (event) => { if (event.key === " ") spaceHeld = false; };
  document.addEventListener("keydown", onKey);
  document.addEventListener("keyup", onKeyUp);

  // --- saving, deleting, versions ---------------------------------------------------------------

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
    if (first) state.selection = [first];
  }

  function adoptSaved(saved) {
    state.meta = saved;
    state.savedJSON = JSON.stringify(saved);
    state.errors = {};
  }

  saveButton.addEventListener("click", async () => {
    const doubts = [];
    const unnamed = defaultLabels();
    if (unnamed.length) doubts.push(`${unnamed.map((a) => `“${a.label || a.id}”`).join(", ")} ${unnamed.length === 1 ? "is a label" : "are labels"} visitors will see`);
    const overlaps = overlappingPairs(items());
    if (overlaps.length) doubts.push(`${overlaps.map(([a, b]) => `${a.label} and ${b.label}`).join(", ")} overlap`);
    if (doubts.length && !(await confirmDialog("Save with these warnings?", `${doubts.join("; ")}.`, "Save anyway", { danger: false }))) return;
    saveButton.disabled = true;
    messages.replaceChildren();
    try {
      const saved = await api("PUT", `/admin/api/templates/${slug}`, state.meta);
      adoptSaved(saved);
      toast(`Saved: version ${saved.version}.`);
      versions.refresh();
    } catch (error) {
      applyErrors(error);
      messages.replaceChildren(errorBox(error),
        error.status === 409 ? h("button", { type: "button", class: "btn btn-sm", onclick: () => window.location.reload() }, "Reload the template") : "");
      toast(error.status === 422 ? "Not saved: fix the fields marked in red." : error.message, "error");
    } finally {
      saveButton.disabled = false;
      refreshAll();
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

  function endPreview() {
    state.preview = null;
    previewBanner.hidden = true;
    previewBanner.replaceChildren();
    scheduleDraw();
  }

  async function restoreVersion(v) {
    const lose = state.dirty ? " Your unsaved changes are lost." : "";
    const sure = await confirmDialog(`Restore version ${v.version}?`, `Its areas and settings become the newest version; the current one stays in the history.${lose}`, "Restore", { danger: false });
    if (!sure) return;
    try {
      const saved = await api("POST", `/admin/api/templates/${slug}/versions/${v.id}/restore`, { version: state.meta.version });
      const imageChanged = saved.image_key !== state.meta.image_key;
      adoptSaved(saved);
      history.clear();
      endPreview();
      state.selection = saved.text_areas[0] ? [saved.text_areas[0].id] : [];
      if (imageChanged) state.background = await loadImage(`/admin/api/templates/${slug}/image?v=${saved.version}`);
      refreshAll();
      versions.refresh();
      toast(`Restored version ${v.version} as version ${saved.version}.`);
    } catch (error) {
      toast(error.message, "error");
    }
  }

  const versions = versionsSection(slug, {
    async onPreview(v, oldMeta, imageUrl) {
      const background = oldMeta.image_key === state.meta.image_key ? state.background : await loadImage(imageUrl);
      state.preview = { meta: oldMeta, background };
      previewBanner.hidden = false;
      previewBanner.replaceChildren(h("div", { class: "alert alert-info preview-banner" },
        h("span", {}, `Previewing version ${v.version}: ${oldMeta.text_areas.length} area${oldMeta.text_areas.length === 1 ? "" : "s"}, “${oldMeta.name}”. Nothing changes until you restore it.`),
        h("span", { class: "preview-actions" },
          h("button", { type: "button", class: "btn btn-sm btn-primary", id: "restore-previewed", onclick: () => restoreVersion(v) }, "Restore this version"),
          h("button", { type: "button", class: "btn btn-sm", id: "end-preview", onclick: endPreview }, "Back to editing"))));
      scheduleDraw();
    },
    onRestore: restoreVersion,
  });

  // --- layout -----------------------------------------------------------------------------------

  const toolButton = (id, label, text, onclick, keys) => h("button", { type: "button", class: "btn btn-sm tool", id, "aria-label": label, title: keys ? `${label} (${keys})` : label, onclick }, text);
  const undoButton = toolButton("undo", "Undo", "↶ Undo", undo, "Ctrl+Z");
  const redoButton = toolButton("redo", "Redo", "↷ Redo", redo, "Ctrl+Shift+Z");
  const selectionCount = h("span", { class: "faint" });
  const selectionTools = h("div", { class: "tool-group", id: "selection-tools", role: "group", "aria-label": "Align and distribute the selected areas" },
    selectionCount,
    ...[["left", "Align left edges", "⇤"], ["center", "Align centres", "↔"], ["right", "Align right edges", "⇥"], ["top", "Align top edges", "⤒"], ["middle", "Align middles", "↕"], ["bottom", "Align bottom edges", "⤓"]]
      .map(([edge, label, glyph]) => toolButton(`align-${edge}`, label, glyph, () => alignSelected(edge))),
    toolButton("distribute-x", "Distribute horizontally", "⋯", () => distributeSelected("x")),
    toolButton("distribute-y", "Distribute vertically", "⋮", () => distributeSelected("y")));
  const toolbar = h("div", { class: "stage-toolbar", role: "toolbar", "aria-label": "Editor tools" },
    h("div", { class: "tool-group" }, undoButton, redoButton),
    h("div", { class: "tool-group" },
      toolButton("zoom-out", "Zoom out", "−", () => zoomStep(-1), "-"), zoomLabel,
      toolButton("zoom-in", "Zoom in", "+", () => zoomStep(1), "+"),
      toolButton("zoom-fit", "Fit the image", "Fit", () => setZoom(1), "0")),
    h("div", { class: "tool-group" },
      toolButton("add-area", "Add text area", "+ Text area", addAreaFromKeyboard)),
    selectionTools);

  shell.actions(deleteButton, saveButton);
  view.replaceChildren(
    h("div", { class: "page-head" }, h("div", {}, title, subtitle)),
    messages,
    h("div", { class: "editor" },
      h("section", { class: "card stage-card", "aria-label": "Template image" },
        h("p", { class: "stage-hint", id: "stage-keys" }, "Drag on the image to draw a text area; drag a box to move it, a corner to resize it (Shift-click to select several). Keys: ",
          h("kbd", {}, "←↑→↓"), " move (", h("kbd", {}, "Shift"), " ×10), ", h("kbd", {}, "Alt"), "+arrows resize, ",
          h("kbd", {}, "Ctrl Z"), " undo, ", h("kbd", {}, "Ctrl Shift Z"), " redo, ", h("kbd", {}, "Ctrl D"), " duplicate, ",
          h("kbd", {}, "Del"), " remove, ", h("kbd", {}, "+ − 0"), " zoom, ", h("kbd", {}, "Space"), "+drag pan, ", h("kbd", {}, "Alt"), " while dragging: no snapping."),
        toolbar, previewBanner, viewport, previewNote),
      h("aside", { class: "card panel", "aria-label": "Template settings" },
        h("section", { class: "panel-section" }, h("h2", {}, "Template"),
          h("div", { class: "field" }, h("label", { for: "tpl-name" }, "Name"), nameInput),
          h("div", { class: "field" }, h("label", { for: "tpl-description" }, "Description"), descInput),
          h("div", { class: "tpl-switches" }, visibility("web", "Web"), visibility("telegram", "Telegram"))),
        h("section", { class: "panel-section" }, warnings,
          h("h2", {}, "Text areas"), h("p", { class: "faint small" }, "Drawn in this order: later ones are on top."), areaList),
        h("section", { class: "panel-section" }, h("h2", {}, "Logo"), logoSection),
        h("section", { class: "panel-section" }, h("h2", {}, "Selected area"), areaForm),
        backgroundSection(slug, { state }),
        versions.section)));
  const fitWidth = `calc((100vh - 260px) * ${(meta.width / meta.height).toFixed(4)})`;
  stage.style.aspectRatio = `${meta.width} / ${meta.height}`;
  // The whole image stays in view on a desktop screen: the height is what limits a tall template.
  stage.style.maxWidth = fitWidth;
  renderAreas(true);
  renderLogoSection();
  changed();

  const resize = new ResizeObserver(() => scheduleDraw());
  resize.observe(stage);
  try {
    state.background = await loadImage(`/admin/api/templates/${slug}/image?v=${meta.version}`);
  } catch (error) {
    messages.replaceChildren(h("div", { class: "alert alert-error" }, "The template image could not be loaded."));
  }
  // A template just uploaded: its first coupon area goes where the picture is calm, not
  // blindly in the centre (one undo puts it back).
  if (sessionStorage.getItem(FRESH_TEMPLATE) === slug && state.background) {
    sessionStorage.removeItem(FRESH_TEMPLATE);
    const coupon = state.meta.text_areas.find((a) => a.source === "coupon");
    if (coupon) {
      moveToCalmSpot(coupon.id);
      toast("The coupon area is placed where the image is calmest. Ctrl+Z puts it back in the centre.");
    }
  }
  scheduleDraw();
  loadFonts(fonts).then(() => { state.fontsReady = true; scheduleDraw(); },
    () => messages.append(h("div", { class: "alert alert-warn" }, "The fonts could not be loaded, so the preview shows the image only.")));

  return {
    cleanup() { resize.disconnect(); document.removeEventListener("keydown", onKey); document.removeEventListener("keyup", onKeyUp); },
    leave(quiet = false) { return !state.dirty || (!quiet && window.confirm("Leave without saving your changes?")); },
  };
}
