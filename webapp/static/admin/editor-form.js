// The template editor's "Selected area" form: every setting of one text area, or of the logo
// area, bound to the editor's meta. Each edit is recorded for undo first (`editor.record`) and
// reported after (`editor.changed`); the editor decides when the form is rebuilt.
import { h, icon, ICONS } from "./api.js";

const SHADOW_DEFAULT = { dx: 2, dy: 2, color: "#00000080" };

/** A colour picker with its #RRGGBB(AA) text twin, for the value `get()`/`set(v)`. */
function colourField(editor, name, label, get, set, tag) {
  const value = get();
  const picker = h("input", { type: "color", value: value.slice(0, 7), "aria-label": `${label} picker` });
  const text = h("input", { type: "text", id: `area-${name}`, value, maxlength: 9, spellcheck: "false" });
  picker.addEventListener("input", () => { editor.record(tag); set(picker.value + get().slice(7)); text.value = get(); editor.changed(); editor.relabel(); });
  text.addEventListener("input", () => { editor.record(tag); set(text.value); if (/^#[0-9a-fA-F]{6}/.test(text.value)) picker.value = text.value.slice(0, 7); editor.changed(); });
  return h("div", { class: "field" }, h("label", { for: `area-${name}` }, label), h("div", { class: "color-row" }, picker, text));
}

/**
 * Fills `form` with the settings of text area `area`. `editor` gives `fonts`, `errors` (by area
 * id, then field), `record(tag)`, `changed()`, `relabel()` (the list shows a new label, source or
 * colour), `renamed(oldId, newId)`, `rebuild()` and the actions `duplicate`, `forward`,
 * `backward`, `calm(id)` and `remove`.
 */
export function fillAreaForm(form, area, editor) {
  const fieldError = (name) => editor.errors[area.id]?.[name];
  const wrap = (name, label, control) => h("div", { class: `field${fieldError(name) ? " invalid" : ""}` },
    h("label", { for: `area-${name}` }, label), control, fieldError(name) ? h("div", { class: "field-error" }, fieldError(name)) : null);
  const bind = (input, name, parse = (v) => v) => {
    input.id = `area-${name}`;
    input.addEventListener(input.type === "checkbox" || input.tagName === "SELECT" ? "change" : "input", () => {
      editor.record(`${area.id}:${name}`);
      const before = area.id;
      area[name] = input.type === "checkbox" ? input.checked : parse(input.value);
      if (name === "id") editor.renamed(before, area.id);
      editor.changed();
      if (name === "label" || name === "source") editor.relabel();
    });
    return input;
  };
  const number = (name, attrs) => bind(h("input", { type: "number", value: area[name], ...attrs }), name, (v) => (v === "" ? v : Number(v)));
  const select = (name, options) => bind(h("select", {}, options.map(([value, text]) => h("option", { value, selected: area[name] === value }, text))), name);
  const segmented = (name, label, options) => h("div", { class: "field" }, h("span", { class: "field-label", id: `seg-${name}` }, label),
    h("div", { class: "seg", role: "group", "aria-labelledby": `seg-${name}` },
      options.map(([value, text]) => h("button", { type: "button", class: area[name] === value ? "on" : "", "aria-pressed": String(area[name] === value), dataset: { value },
        onclick: (event) => {
          editor.record();
          area[name] = value;
          for (const b of event.currentTarget.parentNode.children) { b.classList.toggle("on", b === event.currentTarget); b.setAttribute("aria-pressed", String(b === event.currentTarget)); }
          editor.changed();
        } }, text))));
  const colour = (name, label, get, set) => colourField(editor, name, label, get, set, `${area.id}:${name}`);
  const fontOptions = Object.entries(editor.fonts).map(([name, f]) => [name, `${f.family} ${f.style}`]);
  if (!editor.fonts[area.font]) fontOptions.push([area.font, `${area.font} (not installed)`]);
  const shadowToggle = h("input", { type: "checkbox", id: "area-shadow", checked: Boolean(area.shadow) });
  shadowToggle.addEventListener("change", () => {
    editor.record();
    area.shadow = shadowToggle.checked ? { ...SHADOW_DEFAULT } : null;
    editor.changed();
    editor.rebuild();
    document.getElementById("area-shadow")?.focus();
  });
  const shadowNumber = (key, label) => {
    const input = h("input", { type: "number", id: `area-shadow-${key}`, value: area.shadow[key], min: -50, max: 50 });
    input.addEventListener("input", () => { editor.record(`${area.id}:shadow-${key}`); area.shadow[key] = input.value === "" ? 0 : Number(input.value); editor.changed(); });
    return wrap(`shadow-${key}`, label, input);
  };
  const action = (id, text, onclick, keys) => h("button", { type: "button", class: "btn btn-sm", id, "aria-keyshortcuts": keys, onclick }, text);
  form.replaceChildren(
    h("div", { class: "row" }, wrap("label", "Label (visitors see it)", bind(h("input", { type: "text", value: area.label, maxlength: 64 }), "label")),
      wrap("id", "Id", bind(h("input", { type: "text", value: area.id, maxlength: 32 }), "id"))),
    wrap("source", "Filled with", select("source", [["coupon", "The coupon code"], ["text", "Text the visitor types"]])),
    wrap("default_text", "Sample / default text", bind(h("input", { type: "text", value: area.default_text, maxlength: 500 }), "default_text")),
    wrap("font", "Font", select("font", fontOptions)),
    colour("color", "Colour", () => area.color, (v) => { area.color = v; }),
    segmented("align", "Alignment", [["left", "Left"], ["center", "Center"], ["right", "Right"]]),
    segmented("valign", "Vertical", [["top", "Top"], ["middle", "Middle"], ["bottom", "Bottom"]]),
    h("div", { class: "row" }, wrap("min_size", "Min size", number("min_size", { min: 4, max: 1000 })), wrap("max_size", "Max size", number("max_size", { min: 4, max: 1000 }))),
    h("div", { class: "row" }, wrap("max_lines", "Max lines", number("max_lines", { min: 1, max: 20 })), wrap("max_chars", "Max characters", number("max_chars", { min: 1, max: 500 }))),
    h("div", { class: "row" }, wrap("line_spacing", "Line spacing", number("line_spacing", { min: 0.8, max: 3, step: 0.05 })),
      wrap("stroke_width", "Outline width", number("stroke_width", { min: 0, max: 40 }))),
    colour("stroke_color", "Outline colour", () => area.stroke_color, (v) => { area.stroke_color = v; }),
    h("div", { class: "field row" },
      h("label", { class: "check" }, bind(h("input", { type: "checkbox", checked: area.wrap }), "wrap"), "Wrap lines"),
      h("label", { class: "check" }, bind(h("input", { type: "checkbox", checked: area.uppercase }), "uppercase"), "UPPERCASE"),
      h("label", { class: "check" }, shadowToggle, "Shadow")),
    area.shadow ? h("div", { class: "row" }, shadowNumber("dx", "Shadow x"), shadowNumber("dy", "Shadow y")) : null,
    area.shadow ? colour("shadow-color", "Shadow colour (#RRGGBBAA)", () => area.shadow.color, (v) => { area.shadow.color = v; }) : null,
    h("p", { class: "faint mono", id: "area-box" }, `x ${area.box.x} · y ${area.box.y} · ${area.box.w}×${area.box.h} px`),
    h("div", { class: "area-actions" },
      action("duplicate-area", "Duplicate", editor.duplicate, "Control+D"),
      action("layer-up", "Bring forward", editor.forward, "Control+]"),
      action("layer-down", "Send backward", editor.backward, "Control+["),
      action("calm-spot", "Move to a calm spot", () => editor.calm(area.id)),
      h("button", { type: "button", class: "btn btn-sm btn-danger", id: "remove-area", "aria-keyshortcuts": "Delete", onclick: editor.remove }, icon(ICONS.trash), "Remove area")));
}

/** Fills `form` with the logo area's settings (`editor` as for `fillAreaForm`, plus `removeLogo`). */
export function fillLogoForm(form, logo, editor) {
  const fit = h("select", { id: "logo-fit" }, [["contain", "Whole logo, inside the box"], ["cover", "Fill the box (edges may be cut)"]].map(([value, text]) => h("option", { value, selected: logo.fit === value }, text)));
  fit.addEventListener("change", () => { editor.record(); logo.fit = fit.value; editor.changed(); });
  form.replaceChildren(
    h("p", {}, "Visitors may add their logo; it is fitted into this box keeping its shape. The preview shows a stand-in."),
    h("div", { class: "field" }, h("label", { for: "logo-fit" }, "Fit"), fit),
    h("p", { class: "faint mono", id: "area-box" }, `x ${logo.box.x} · y ${logo.box.y} · ${logo.box.w}×${logo.box.h} px`),
    h("div", { class: "area-actions" },
      h("button", { type: "button", class: "btn btn-sm", id: "calm-spot", onclick: () => editor.calm("logo_area") }, "Move to a calm spot"),
      h("button", { type: "button", class: "btn btn-sm btn-danger", id: "remove-logo", onclick: editor.removeLogo }, icon(ICONS.trash), "Remove logo area")));
}
