// The campaign page: pick a photo → see it under the overlay → drag and zoom → the server makes
// the final JPEG (download or share) → copy the caption → enter the post's link.
//
// The placement sent to the server is the one drawn here: `zoom` over a cover fit, and the photo
// point (0-1 of its upright width and height) at the frame's centre.

const page = JSON.parse(document.getElementById("campaign-data").textContent);
const canvas = document.getElementById("frame-canvas");
const stage = document.getElementById("frame-stage");
const hint = document.getElementById("frame-hint");
const input = document.getElementById("photo-input");
const zoomInput = document.getElementById("zoom");
const makeButton = document.getElementById("make-photo");
const photoStatus = document.getElementById("photo-status");
const result = document.getElementById("result");
const resultImage = document.getElementById("result-image");
const downloadLink = document.getElementById("download-photo");
const shareButton = document.getElementById("share-photo");
const MAX_ZOOM = 4;

const state = {
  shape: page.shapes[0],
  overlays: new Map(),
  file: null,
  photo: null, // an ImageBitmap, or null when the browser cannot decode the file (HEIC on most)
  zoom: 1,
  cx: 0.5,
  cy: 0.5,
  result: null, // { blob, url }
  busy: false,
};

// --- messages ---------------------------------------------------------------------------------

function setStatus(box, text, kind = "") {
  box.textContent = text;
  box.className = `status ${kind}`.trim();
}

function setFieldError(field, text) {
  const box = document.getElementById(`error-${field}`);
  if (!box) return false;
  box.textContent = text || "";
  box.hidden = !text;
  box.closest(".field")?.classList.toggle("invalid", Boolean(text));
  return true;
}

function megabytes(bytes) {
  return `${Math.round(bytes / 1e6)} MB`;
}

// --- drawing ------------------------------------------------------------------------------------

function overlayFor(shape) {
  if (!state.overlays.has(shape.id)) {
    state.overlays.set(shape.id, new Promise((resolve, reject) => {
      const image = new Image();
      image.onload = () => resolve(image);
      image.onerror = () => reject(new Error("The frame could not be loaded; reload the page."));
      image.src = shape.overlay;
    }));
  }
  return state.overlays.get(shape.id);
}

/** The scale of the photo in frame pixels: a cover fit times the zoom. */
function photoScale() {
  const { width, height } = state.shape;
  return Math.max(width / state.photo.width, height / state.photo.height) * state.zoom;
}

/** Keeps the centre point where the photo still covers the whole frame (as the server does). */
function clampCentre() {
  if (!state.photo) return;
  const scale = photoScale();
  const halfW = state.shape.width / scale / 2 / state.photo.width;
  const halfH = state.shape.height / scale / 2 / state.photo.height;
  state.cx = Math.min(Math.max(state.cx, halfW), 1 - halfW);
  state.cy = Math.min(Math.max(state.cy, halfH), 1 - halfH);
}

let drawQueued = false;
function draw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(async () => {
    drawQueued = false;
    const shape = state.shape;
    const context = canvas.getContext("2d");
    context.clearRect(0, 0, canvas.width, canvas.height);
    if (state.photo) {
      const scale = photoScale();
      const w = state.photo.width * scale;
      const h = state.photo.height * scale;
      context.imageSmoothingQuality = "high";
      context.drawImage(state.photo, shape.width / 2 - state.cx * w, shape.height / 2 - state.cy * h, w, h);
    }
    try {
      context.drawImage(await overlayFor(shape), 0, 0, shape.width, shape.height);
    } catch (error) {
      setStatus(photoStatus, error.message, "error");
    }
  });
}

function chooseShape(id) {
  state.shape = page.shapes.find((s) => s.id === id) || page.shapes[0];
  canvas.width = state.shape.width;
  canvas.height = state.shape.height;
  stage.style.aspectRatio = `${state.shape.width} / ${state.shape.height}`;
  clampCentre();
  clearResult();
  draw();
}

// --- picking and placing -----------------------------------------------------------------------

async function pick(file) {
  setFieldError("photo", "");
  clearResult();
  if (!file) return;
  if (file.size > page.max_photo_bytes) {
    setFieldError("photo", `This photo is ${megabytes(file.size)}; the limit is ${megabytes(page.max_photo_bytes)}.`);
    return;
  }
  state.file = file;
  state.zoom = 1;
  state.cx = state.cy = 0.5;
  zoomInput.value = "1";
  if (state.photo?.close) state.photo.close();
  state.photo = null;
  try {
    // Decoded upright: the browser applies EXIF orientation, as the server does.
    state.photo = await createImageBitmap(file, { imageOrientation: "from-image" });
    hint.hidden = true;
    zoomInput.disabled = false;
  } catch {
    // HEIC and other formats this browser cannot show: the server can still frame it.
    hint.textContent = "No preview for this photo here; it will be framed centred";
    hint.hidden = false;
    zoomInput.disabled = true;
  }
  makeButton.disabled = false;
  draw();
}

const pointers = new Map();
let pinch = null;

function stagePixels() {
  // Frame pixels per CSS pixel of the stage.
  return state.shape.width / stage.getBoundingClientRect().width;
}

stage.addEventListener("pointerdown", (event) => {
  if (!state.photo) return;
  stage.setPointerCapture(event.pointerId);
  pointers.set(event.pointerId, { x: event.clientX, y: event.clientY });
  stage.classList.add("dragging");
  if (pointers.size === 2) {
    const [a, b] = [...pointers.values()];
    pinch = { distance: Math.hypot(a.x - b.x, a.y - b.y), zoom: state.zoom };
  }
});

stage.addEventListener("pointermove", (event) => {
  const last = pointers.get(event.pointerId);
  if (!last || !state.photo) return;
  const now = { x: event.clientX, y: event.clientY };
  pointers.set(event.pointerId, now);
  if (pointers.size === 2 && pinch) {
    const [a, b] = [...pointers.values()];
    setZoom(pinch.zoom * (Math.hypot(a.x - b.x, a.y - b.y) / pinch.distance));
    return;
  }
  const scale = photoScale();
  const ratio = stagePixels();
  state.cx -= ((now.x - last.x) * ratio) / (state.photo.width * scale);
  state.cy -= ((now.y - last.y) * ratio) / (state.photo.height * scale);
  clampCentre();
  clearResult();
  draw();
});

function endPointer(event) {
  pointers.delete(event.pointerId);
  if (pointers.size < 2) pinch = null;
  if (!pointers.size) stage.classList.remove("dragging");
}
stage.addEventListener("pointerup", endPointer);
stage.addEventListener("pointercancel", endPointer);
stage.addEventListener("wheel", (event) => {
  if (!state.photo) return;
  event.preventDefault();
  setZoom(state.zoom * Math.exp(-event.deltaY / 500));
}, { passive: false });

function setZoom(value) {
  state.zoom = Math.min(Math.max(value, 1), MAX_ZOOM);
  zoomInput.value = String(state.zoom);
  clampCentre();
  clearResult();
  draw();
}

// --- the final image -------------------------------------------------------------------------------

function clearResult() {
  if (state.result) URL.revokeObjectURL(state.result.url);
  state.result = null;
  result.hidden = true;
}

async function makePhoto() {
  if (!state.file || state.busy) return;
  state.busy = true;
  makeButton.disabled = true;
  setFieldError("photo", "");
  setStatus(photoStatus, "Making your photo…");
  const query = new URLSearchParams({
    shape: state.shape.id,
    zoom: state.zoom.toFixed(4),
    cx: state.cx.toFixed(5),
    cy: state.cy.toFixed(5),
  });
  try {
    const response = await fetch(`/c/${page.slug}/photo?${query}`, {
      method: "POST",
      headers: { "Content-Type": state.file.type || "application/octet-stream" },
      body: state.file,
    });
    if (!response.ok) {
      const body = await response.json().catch(() => ({}));
      const message = body.message || `The server answered ${response.status}; try again.`;
      if (!setFieldError(body.field === "photo" ? "photo" : "none", message)) setStatus(photoStatus, message, "error");
      else setStatus(photoStatus, "");
      return;
    }
    const blob = await response.blob();
    clearResult();
    state.result = { blob, url: URL.createObjectURL(blob) };
    resultImage.src = state.result.url;
    downloadLink.href = state.result.url;
    downloadLink.download = `${page.slug}-${state.shape.id}.jpg`;
    result.hidden = false;
    const count = Number(response.headers.get("X-Supporters"));
    if (count) {
      document.getElementById("supporters").textContent = String(count);
      document.getElementById("supporters-label").textContent = count === 1 ? "supporter" : "supporters";
    }
    setStatus(photoStatus, "Your photo is ready.", "ok");
  } catch {
    setStatus(photoStatus, "The server cannot be reached; check your connection and try again.", "error");
  } finally {
    state.busy = false;
    makeButton.disabled = !state.file;
  }
}

async function sharePhoto() {
  if (!state.result) return;
  const file = new File([state.result.blob], downloadLink.download, { type: "image/jpeg" });
  if (navigator.canShare && navigator.canShare({ files: [file] })) {
    try {
      await navigator.share({ files: [file], title: page.name, text: captionText() });
      return;
    } catch (error) {
      if (error && error.name === "AbortError") return; // the person closed the share sheet
    }
  }
  downloadLink.click();
  setStatus(photoStatus, "This browser cannot share files: the photo was downloaded instead.", "ok");
}

// --- caption -----------------------------------------------------------------------------------------

const captionBox = document.getElementById("caption");
const captionName = document.getElementById("caption-name");

/** The caption as the server fills it: {name} and {code}, then the hashtags on their own line. */
function captionText() {
  if (!captionBox) return "";
  const values = { name: captionName.value.trim(), code: page.code };
  const text = page.caption_template
    .replace(/\{\{|\}\}|\{(name|code)\}/g, (match, key) => (key ? values[key] : match[0]))
    .trim();
  const tags = page.hashtags.map((t) => `#${t}`).join(" ");
  return tags ? `${text}\n\n${tags}`.trim() : text;
}

async function copyCaption() {
  const status = document.getElementById("caption-status");
  try {
    await navigator.clipboard.writeText(captionBox.value);
  } catch {
    captionBox.select();
    document.execCommand("copy");
  }
  setStatus(status, "Caption copied.", "ok");
}

// --- submitting a post -----------------------------------------------------------------------------

async function submitPost(event) {
  event.preventDefault();
  const form = event.currentTarget;
  const status = document.getElementById("submit-status");
  for (const field of ["name", "contact", "url"]) setFieldError(field, "");
  const body = {
    name: form.elements.name.value,
    contact: form.elements.contact.value,
    url: form.elements.url.value,
  };
  const button = document.getElementById("submit-post");
  button.disabled = true;
  setStatus(status, "Sending…");
  try {
    const response = await fetch(`/c/${page.slug}/submissions`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok) {
      const message = answer.message || `The server answered ${response.status}; try again.`;
      if (setFieldError(answer.field, message)) setStatus(status, "");
      else setStatus(status, message, "error");
      return;
    }
    form.elements.url.value = "";
    setStatus(status, answer.message, "ok");
  } catch {
    setStatus(status, "The server cannot be reached; check your connection and try again.", "error");
  } finally {
    button.disabled = false;
  }
}

// --- wiring ------------------------------------------------------------------------------------------

for (const radio of document.querySelectorAll('input[name="shape"]')) {
  radio.addEventListener("change", () => chooseShape(radio.value));
}
input.addEventListener("change", () => pick(input.files[0]));
zoomInput.addEventListener("input", () => setZoom(Number(zoomInput.value)));
makeButton.addEventListener("click", makePhoto);
shareButton.addEventListener("click", sharePhoto);
if (captionBox) {
  captionName.addEventListener("input", () => { captionBox.value = captionText(); });
  document.getElementById("copy-caption").addEventListener("click", copyCaption);
}
document.getElementById("submit-form")?.addEventListener("submit", submitPost);
chooseShape(state.shape.id);
