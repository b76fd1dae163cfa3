// render.js — the canvas twin of the server's Pillow engine (promostack/render).
//
// It implements the fitting rule of promostack/render/fit.py step by step, with the same font
// files and the metrics of fonts/fonts.json, so the preview matches the PNG the server makes.
// Used by the public generator page and the admin template editor:
//
//   import { loadFonts, loadImage, drawPromo, fitText } from "/static/js/render.js";
//   await loadFonts(fonts);                       // fonts: {name: {url, units_per_em, ascender, descender, fallback}}
//   const result = drawPromo(ctx, meta, fonts, {background, texts, logo, scale});
//   result.errors  // {areaId: "message"} for texts that do not fit; those areas are not drawn
//
// Everything is computed in template pixels; `scale` only multiplies the drawing (high-DPI).

const WHITESPACE = /[ \t\n\r\f\v]+/;

/** A text that does not fit its area, or that cannot be drawn (the message says why). */
export class FitError extends Error {
  constructor(areaId, message) {
    super(message);
    this.name = "FitError";
    this.areaId = areaId;
  }
}

// --- loading -------------------------------------------------------------------------------------

/** Resolves once every font (and its fallback) is loaded; FontFace objects are added when the
 *  page has no @font-face for them, so any page can use the engine. */
export async function loadFonts(fonts) {
  const waits = Object.entries(fonts).map(async ([name, info]) => {
    let declared = false;
    for (const face of document.fonts) {
      if (face.family.replace(/^["']|["']$/g, "") === name) declared = true;
    }
    if (!declared && info.url) document.fonts.add(new FontFace(name, `url("${info.url}")`));
    const loaded = await document.fonts.load(`32px "${name}"`);
    if (!loaded.length) throw new Error(`font ${name} could not be loaded`);
  });
  await Promise.all(waits);
}

/** Resolves to a decoded image element for `url` (object URLs included). */
export function loadImage(url) {
  return new Promise((resolve, reject) => {
    const image = new Image();
    image.decoding = "async";
    image.onload = () => image.decode().then(() => resolve(image), () => resolve(image));
    image.onerror = () => reject(new Error(`image ${url} could not be loaded`));
    image.src = url;
  });
}

// --- the fitting rule ----------------------------------------------------------------------------

/** The text as the rule draws it: ASCII whitespace runs collapsed to one space, ends trimmed. */
export function normalise(text) {
  return text.split(WHITESPACE).filter((word) => word).join(" ");
}

function fontMetrics(info, size) {
  // ceil(size × ascender / units_per_em) with integers, as the server computes it.
  const ascent = -Math.floor((-size * info.ascender) / info.units_per_em);
  const descent = -Math.floor((-size * -info.descender) / info.units_per_em);
  return { ascent, descent };
}

function lineHeight(size, spacing) {
  return Math.floor(size * spacing + 0.5);
}

function cssFont(area, fonts, size) {
  const fallback = fonts[area.font] && fonts[area.font].fallback;
  return fallback ? `${size}px "${area.font}", "${fallback}"` : `${size}px "${area.font}"`;
}

function linesAt(ctx, words, avail, wrap) {
  const measure = (text) => ctx.measureText(text).width;
  if (!wrap) {
    const line = words.join(" ");
    return { lines: [line], widths: [measure(line)] };
  }
  const lines = [];
  const widths = [];
  let current = words[0];
  let currentWidth = measure(current);
  for (let i = 1; i < words.length; i += 1) {
    const candidate = `${current} ${words[i]}`;
    const candidateWidth = measure(candidate);
    if (candidateWidth <= avail) {
      current = candidate;
      currentWidth = candidateWidth;
    } else {
      lines.push(current);
      widths.push(currentWidth);
      current = words[i];
      currentWidth = measure(current);
    }
  }
  lines.push(current);
  widths.push(currentWidth);
  return { lines, widths };
}

/**
 * The size, lines and baselines of `text` in `area` (fit.py's FitResult, as a plain object);
 * throws FitError when the text is too long or does not fit even at min_size.
 */
export function fitText(ctx, area, fonts, text) {
  const info = fonts[area.font];
  if (!info) throw new FitError(area.id, `Unknown font ${area.font}.`);
  let clean = normalise(text);
  const length = [...clean].length;
  if (length > area.max_chars) {
    throw new FitError(area.id, `This text has ${length} characters; the limit is ${area.max_chars}.`);
  }
  if (area.uppercase) clean = clean.toUpperCase();
  if (!clean) return { text: "", size: area.min_size, lines: [], widths: [], origins: [] };
  const words = clean.split(" ");
  const box = area.box;
  const avail = box.w - 2 * area.stroke_width;
  const maxLines = area.wrap ? area.max_lines : 1;
  const found = new Map();
  const fits = (size) => {
    ctx.font = cssFont(area, fonts, size);
    const layout = linesAt(ctx, words, avail, area.wrap);
    const { ascent, descent } = fontMetrics(info, size);
    const height = ascent + descent + (layout.lines.length - 1) * lineHeight(size, area.line_spacing);
    const ok = layout.lines.length <= maxLines && Math.max(...layout.widths) <= avail && height <= box.h;
    if (ok) found.set(size, layout);
    return ok;
  };
  const size = avail > 0 ? largestFitting(area.min_size, area.max_size, fits) : null;
  if (size === null) {
    throw new FitError(area.id, "This text is too long for its space; please shorten it.");
  }
  const { lines, widths } = found.get(size);
  const { ascent, descent } = fontMetrics(info, size);
  const step = lineHeight(size, area.line_spacing);
  const block = ascent + descent + (lines.length - 1) * step;
  let top = box.y;
  if (area.valign === "middle") top = box.y + Math.floor((box.h - block) / 2);
  else if (area.valign === "bottom") top = box.y + box.h - block;
  const origins = widths.map((width, i) => {
    let x = box.x + area.stroke_width;
    if (area.align === "center") x = box.x + (box.w - width) / 2;
    else if (area.align === "right") x = box.x + box.w - area.stroke_width - width;
    return [x, top + ascent + i * step];
  });
  return { text: clean, size, lines, widths, origins, ascent, descent, lineHeight: step, blockHeight: block };
}

function largestFitting(lo, hi, fits) {
  if (!fits(lo)) return null;
  if (fits(hi)) return hi;
  hi -= 1;
  while (lo < hi) {
    const mid = Math.floor((lo + hi + 1) / 2);
    if (fits(mid)) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// --- drawing -------------------------------------------------------------------------------------

function drawLines(ctx, fit, dx, dy, paint) {
  fit.lines.forEach((line, i) => paint(line, fit.origins[i][0] + dx, fit.origins[i][1] + dy));
}

function alphaOf(color) {
  return color.length === 9 ? parseInt(color.slice(7, 9), 16) : 255;
}

let scratch = null;

/** One off-screen canvas of at least `width`×`height`, reused by every translucent layer (a
 *  preview redraws on each keystroke; a fresh full-size canvas each time would churn memory). */
function scratchCanvas(width, height) {
  if (!scratch) scratch = document.createElement("canvas");
  if (scratch.width !== width || scratch.height !== height) {
    scratch.width = width;
    scratch.height = height;
  }
  return scratch;
}

/**
 * Paints the shapes `shapes(ctx)` draws in `color`, the way the server does: the shapes form one
 * coverage mask, and the colour is blended through it once with its alpha. (Drawing a
 * translucent stroke and fill straight onto the canvas would darken where they overlap.)
 */
function paintLayer(ctx, color, shapes) {
  const alpha = alphaOf(color);
  const opaque = color.slice(0, 7);
  if (alpha === 255) {
    ctx.fillStyle = ctx.strokeStyle = opaque;
    shapes(ctx);
    return;
  }
  const layer = scratchCanvas(ctx.canvas.width, ctx.canvas.height);
  const lctx = layer.getContext("2d");
  lctx.setTransform(1, 0, 0, 1, 0, 0);
  lctx.clearRect(0, 0, layer.width, layer.height);
  lctx.setTransform(ctx.getTransform());
  for (const key of ["font", "textAlign", "textBaseline", "lineJoin", "lineWidth"]) lctx[key] = ctx[key];
  lctx.fillStyle = lctx.strokeStyle = opaque;
  shapes(lctx);
  ctx.save();
  ctx.setTransform(1, 0, 0, 1, 0, 0);
  ctx.globalAlpha = alpha / 255;
  ctx.drawImage(layer, 0, 0);
  ctx.restore();
}

/** Draws one fitted text: shadow (text and stroke, shifted, no blur), then stroke, then fill. */
export function drawText(ctx, area, fonts, fit) {
  if (!fit.lines.length) return;
  ctx.save();
  ctx.font = cssFont(area, fonts, fit.size);
  ctx.textAlign = "left";
  ctx.textBaseline = "alphabetic";
  ctx.lineJoin = "round";
  ctx.lineWidth = 2 * area.stroke_width;
  const stroke = area.stroke_width > 0;
  // The outline is the glyphs with their stroke: what the shadow and the stroke colour cover.
  const outline = (dx, dy) => (c) => {
    if (stroke) drawLines(c, fit, dx, dy, (t, x, y) => c.strokeText(t, x, y));
    drawLines(c, fit, dx, dy, (t, x, y) => c.fillText(t, x, y));
  };
  if (area.shadow) paintLayer(ctx, area.shadow.color, outline(area.shadow.dx, area.shadow.dy));
  if (stroke) paintLayer(ctx, area.stroke_color, outline(0, 0));
  paintLayer(ctx, area.color, (c) => drawLines(c, fit, 0, 0, (t, x, y) => c.fillText(t, x, y)));
  ctx.restore();
}

/** Where a logo of `w`×`h` goes in `box` (template pixels), as promostack/render/logo.py puts it:
 *  {x, y, w, h} of the resized logo; for `cover` it overflows the box and is clipped to it. */
export function logoPlacement(box, w, h, fit) {
  const scale = fit === "cover" ? Math.max(box.w / w, box.h / h) : Math.min(box.w / w, box.h / h);
  let dw = Math.max(1, Math.round(w * scale));
  let dh = Math.max(1, Math.round(h * scale));
  if (fit === "contain") {
    dw = Math.min(dw, box.w);
    dh = Math.min(dh, box.h);
    return { x: box.x + Math.floor((box.w - dw) / 2), y: box.y + Math.floor((box.h - dh) / 2), w: dw, h: dh };
  }
  dw = Math.max(dw, box.w);
  dh = Math.max(dh, box.h);
  return { x: box.x - Math.floor((dw - box.w) / 2), y: box.y - Math.floor((dh - box.h) / 2), w: dw, h: dh };
}

/** Draws the logo into the logo area; `cover` is clipped to the area. */
export function drawLogo(ctx, logoArea, image) {
  const w = image.naturalWidth || image.width;
  const h = image.naturalHeight || image.height;
  const place = logoPlacement(logoArea.box, w, h, logoArea.fit);
  ctx.save();
  const { x, y, w: bw, h: bh } = logoArea.box;
  ctx.beginPath();
  ctx.rect(x, y, bw, bh);
  ctx.clip();
  ctx.imageSmoothingQuality = "high";
  ctx.drawImage(image, place.x, place.y, place.w, place.h);
  ctx.restore();
}

/**
 * Draws a whole promo: background, logo, then each text area in order, at `scale` canvas pixels
 * per template pixel. Returns {errors: {areaId: message}, fits: {areaId: fit}}; an area whose
 * text does not fit is left empty (the server would refuse to render it).
 */
export function drawPromo(ctx, meta, fonts, { background, texts = {}, logo = null, scale = 1 }) {
  const errors = {};
  const fits = {};
  ctx.save();
  ctx.setTransform(scale, 0, 0, scale, 0, 0);
  ctx.clearRect(0, 0, meta.width, meta.height);
  if (background) ctx.drawImage(background, 0, 0, meta.width, meta.height);
  if (logo && meta.logo_area) drawLogo(ctx, meta.logo_area, logo);
  for (const area of meta.text_areas) {
    const text = texts[area.id] ?? area.default_text;
    try {
      fits[area.id] = fitText(ctx, area, fonts, text);
    } catch (error) {
      if (!(error instanceof FitError)) throw error;
      errors[area.id] = error.message;
      continue;
    }
    drawText(ctx, area, fonts, fits[area.id]);
  }
  ctx.restore();
  return { errors, fits };
}

/** Sizes the canvas's backing store to its displayed size × devicePixelRatio (never above the
 *  template's own pixels × ratio) and returns the scale from template pixels to canvas pixels. */
export function sizeCanvasForDisplay(canvas, meta) {
  const ratio = window.devicePixelRatio || 1;
  const shown = canvas.getBoundingClientRect().width || meta.width;
  const width = Math.max(1, Math.round(Math.min(shown, meta.width) * ratio));
  const height = Math.max(1, Math.round((width * meta.height) / meta.width));
  if (canvas.width !== width || canvas.height !== height) {
    canvas.width = width;
    canvas.height = height;
  }
  return width / meta.width;
}
