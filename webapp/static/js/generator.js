// The generator page: fields → live canvas preview → server render → download or share.
// Drawing is render.js's job; this module only wires the page to it and to the JSON API.
import { drawPromo, loadFonts, loadImage, normalise, sizeCanvasForDisplay } from "./render.js";

const LOGO_MAX_BYTES = 5 * 1024 * 1024;
const LOGO_TYPES = ["image/png", "image/jpeg", "image/webp"];
// The character counter appears once a text is this close to its area's max_chars.
const COUNT_FROM = 0.8;

const page = JSON.parse(document.getElementById("template-meta").textContent);
const meta = page.meta;
const fonts = page.fonts;
const canvas = document.getElementById("preview");
const form = document.getElementById("promo-form");
const statusLine = document.getElementById("status");
const downloadButton = document.getElementById("download");
const shareButton = document.getElementById("share");
const logoInput = document.getElementById("logo");
const logoClear = document.getElementById("logo-clear");
const inputs = [...form.querySelectorAll("[data-area]")];
const couponArea = meta.text_areas.find((a) => a.source === "coupon");
// The code is typed into the coupon area's field, or into a field of its own when the template
// does not show the code (the server validates it all the same).
const codeInput = document.getElementById(couponArea ? `area-${couponArea.id}` : "coupon-code");
const codeErrorId = couponArea ? couponArea.id : "coupon";

const state = { background: null, logo: null, logoFile: null, ready: false, drawQueued: false, busy: false, action: 0 };

// --- messages ---------------------------------------------------------------------------------

// The status line speaks for the last action only: typing, a coupon check, a download or a share
// each starts a new action, which clears what an earlier one said; a late answer of an earlier
// action (a slow coupon check) says nothing.
function newAction() {
  state.action += 1;
  setStatus("");
  return state.action;
}

function setStatus(text, kind = "") {
  statusLine.textContent = text;
  statusLine.className = `status ${kind}`.trim();
}

/** Shows "52 / 60 characters" under a field near or over its area's limit (counted as the
 *  engine counts: whitespace runs collapsed), and says what happens past it. */
function updateCounter(input) {
  const counter = document.getElementById(`count-${input.dataset.area}`);
  if (!counter) return;
  const limit = Number(input.dataset.maxChars);
  const length = [...normalise(input.value)].length;
  const shown = length >= Math.floor(limit * COUNT_FROM);
  counter.hidden = !shown;
  counter.classList.toggle("over", length > limit);
  if (!shown) return;
  counter.textContent = length > limit
    ? `${length} / ${limit} characters: ${length - limit} too many. Shorten it to make your image.`
    : `${length} / ${limit} characters${length === limit ? ": that is the limit" : ""}.`;
}

function setFieldError(areaId, text) {
  const box = document.getElementById(`error-${areaId}`);
  if (!box) return false;
  box.textContent = text || "";
  box.hidden = !text;
  box.closest(".field").classList.toggle("invalid", Boolean(text));
  return true;
}

function clearFieldErrors() {
  for (const area of meta.text_areas) setFieldError(area.id, "");
  setFieldError("coupon", "");
  setFieldError("logo", "");
}

// --- preview ----------------------------------------------------------------------------------

function currentCode() {
  return codeInput.value.trim();
}

function currentTexts() {
  const texts = {};
  for (const input of inputs) texts[input.dataset.area] = input.value;
  return texts;
}

/** The texts the preview draws: what the server will draw — the coupon code trimmed and
 *  upper-cased, as every validator stores it — except that an empty coupon field shows the
 *  area's sample code as a placeholder (a download needs a real code anyway). */
function previewTexts() {
  const texts = currentTexts();
  if (couponArea) {
    const code = texts[couponArea.id].trim().toUpperCase();
    texts[couponArea.id] = code || couponArea.default_text;
  }
  return texts;
}

function drawNow() {
  state.drawQueued = false;
  if (!state.ready) return;
  const scale = sizeCanvasForDisplay(canvas, meta);
  const result = drawPromo(canvas.getContext("2d"), meta, fonts, {
    background: state.background,
    texts: previewTexts(),
    logo: state.logo,
    scale,
  });
  for (const area of meta.text_areas) setFieldError(area.id, result.errors[area.id] || "");
  canvas.dataset.drawn = String(Number(canvas.dataset.drawn || 0) + 1);
}

function queueDraw() {
  if (state.drawQueued) return;
  state.drawQueued = true;
  requestAnimationFrame(drawNow);
}

// --- talking to the API -----------------------------------------------------------------------

/** The message and field of an API error answer (or a generic one when it is not JSON). */
async function apiError(response) {
  try {
    const body = await response.json();
    return { message: body.message || `The server said ${response.status}.`, field: body.field || null, status: response.status };
  } catch {
    return { message: `The server said ${response.status}; please try again.`, field: null, status: response.status };
  }
}

function showApiError(error) {
  const field = error.field || "";
  let areaId = null;
  if (field === "code") areaId = codeErrorId;
  else if (field.startsWith("texts.")) areaId = field.slice("texts.".length);
  else if (field === "logo") areaId = "logo";
  if (areaId && setFieldError(areaId, error.message)) {
    setStatus("Please fix the highlighted field.", "error");
  } else {
    setStatus(error.message, "error");
  }
}

function readAsDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader();
    reader.onload = () => resolve(reader.result);
    reader.onerror = () => reject(reader.error);
    reader.readAsDataURL(file);
  });
}

/** The finished PNG from the server (which validates the coupon and records the download). */
async function renderOnServer() {
  const texts = currentTexts();
  const code = currentCode();
  if (couponArea) delete texts[couponArea.id];
  const body = { template: meta.slug, code, texts, format: "png", channel: "web" };
  if (state.logoFile) body.logo = await readAsDataUrl(state.logoFile);
  let response;
  try {
    response = await fetch("/api/render", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
  } catch {
    throw { message: "We could not reach the server. Check your connection and try again.", field: null };
  }
  if (!response.ok) throw await apiError(response);
  return response.blob();
}

function fileName() {
  const code = currentCode();
  const safe = code.replace(/[^A-Za-z0-9_-]+/g, "").slice(0, 40);
  return `${meta.slug}${safe ? `-${safe}` : ""}.png`;
}

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.appendChild(link);
  link.click();
  link.remove();
  // Revoke later: some browsers read the URL after click() returns.
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/** True when the page itself can see the form is not ready (empty coupon, text too long). */
function blockedLocally() {
  clearFieldErrors();
  drawNow();
  if (!currentCode()) {
    setFieldError(codeErrorId, "Type your coupon code first.");
    setStatus("Your coupon code is missing.", "error");
    codeInput.focus();
    return true;
  }
  const invalid = form.querySelector(".field.invalid");
  if (invalid) {
    setStatus("Please fix the highlighted field.", "error");
    return true;
  }
  return false;
}

async function withBusy(label, work) {
  if (state.busy) return;
  state.busy = true;
  downloadButton.disabled = shareButton.disabled = true;
  setStatus(label);
  try {
    await work();
  } catch (error) {
    showApiError(error && error.message ? error : { message: String(error), field: null });
  } finally {
    state.busy = false;
    downloadButton.disabled = shareButton.disabled = false;
  }
}

async function download(event) {
  event.preventDefault();
  newAction();
  if (!state.ready || blockedLocally()) return;
  await withBusy("Checking your coupon and making your image…", async () => {
    const blob = await renderOnServer();
    saveBlob(blob, fileName());
    setStatus("Downloaded. Enjoy!", "ok");
  });
}

async function share() {
  newAction();
  if (!state.ready || blockedLocally()) return;
  await withBusy("Checking your coupon and making your image…", async () => {
    const blob = await renderOnServer();
    const file = new File([blob], fileName(), { type: "image/png" });
    if (navigator.canShare && navigator.canShare({ files: [file] })) {
      try {
        await navigator.share({ files: [file], title: meta.name });
        setStatus("Shared.", "ok");
      } catch (error) {
        // The person closed the share sheet: nothing went wrong.
        setStatus(error && error.name === "AbortError" ? "" : "Sharing failed; the image was downloaded instead.");
        if (!error || error.name !== "AbortError") saveBlob(blob, file.name);
      }
      return;
    }
    // No file sharing here: save the image and put the page's link on the clipboard.
    saveBlob(blob, file.name);
    try {
      await navigator.clipboard.writeText(window.location.href);
      setStatus("Image downloaded, and the link to this page is copied.", "ok");
    } catch {
      setStatus("Image downloaded (this browser cannot share files).", "ok");
    }
  });
}

// --- the coupon check as you leave the field ---------------------------------------------------

async function checkCoupon() {
  const code = currentCode();
  if (!code) return;
  const action = newAction();
  try {
    const response = await fetch("/api/coupons/validate", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ code }),
    });
    if (!response.ok) {
      const error = await apiError(response);
      if (action === state.action) setStatus(error.message, "error");
      return;
    }
    const check = await response.json();
    // Typed on meanwhile, or a download started (its own answer says more): stay quiet.
    if (currentCode() !== code || action !== state.action) return;
    if (check.valid) {
      setFieldError(codeErrorId, "");
      setStatus(check.discount ? `Coupon ${check.code} is valid: ${check.discount}% off.` : `Coupon ${check.code} is valid.`, "ok");
    } else {
      setFieldError(codeErrorId, check.reason || "This coupon is not valid.");
    }
  } catch {
    // Offline: the download will say so; the preview keeps working.
  }
}

// --- logo ---------------------------------------------------------------------------------------

async function chooseLogo() {
  newAction();
  setFieldError("logo", "");
  const file = logoInput.files && logoInput.files[0];
  if (!file) return;
  if (!LOGO_TYPES.includes(file.type)) {
    setFieldError("logo", "The logo must be a PNG, JPEG or WebP image.");
    logoInput.value = "";
    return;
  }
  if (file.size > LOGO_MAX_BYTES) {
    setFieldError("logo", "The logo is larger than 5 MB; please use a smaller file.");
    logoInput.value = "";
    return;
  }
  try {
    state.logo = await loadImage(URL.createObjectURL(file));
    state.logoFile = file;
    logoClear.hidden = false;
    queueDraw();
  } catch {
    setFieldError("logo", "This file could not be read as an image.");
    logoInput.value = "";
  }
}

function clearLogo() {
  state.logo = state.logoFile = null;
  logoInput.value = "";
  logoClear.hidden = true;
  setFieldError("logo", "");
  queueDraw();
}

// --- start ----------------------------------------------------------------------------------------

async function start() {
  for (const input of inputs) {
    input.addEventListener("input", () => {
      newAction();
      updateCounter(input);
      queueDraw();
    });
    updateCounter(input);
  }
  codeInput.addEventListener("change", checkCoupon);
  form.addEventListener("submit", download);
  shareButton.addEventListener("click", share);
  if (logoInput) {
    logoInput.addEventListener("change", chooseLogo);
    logoClear.addEventListener("click", clearLogo);
  }
  new ResizeObserver(queueDraw).observe(canvas);
  try {
    const [background] = await Promise.all([
      loadImage(`/api/templates/${encodeURIComponent(meta.slug)}/image?v=${meta.version}`),
      loadFonts(fonts),
    ]);
    state.background = background;
  } catch (error) {
    setStatus("The template could not be loaded; please reload the page.", "error");
    return;
  }
  state.ready = true;
  document.getElementById("preview-loading").hidden = true;
  drawNow();
  document.body.dataset.ready = "true";
}

start();
