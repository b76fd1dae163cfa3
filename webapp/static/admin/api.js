// What every dashboard page uses: the JSON API client (with the CSRF header), DOM building,
// toasts, a confirmation dialog and small formatters. No page logic lives here.

const CSRF = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
// sessionStorage key of the dashboard page to open after log-in.
export const AFTER_LOGIN = "promostack.after-login";
export const PREFECT_UI = document.querySelector('meta[name="prefect-ui"]')?.content ?? "";

/** An answer of the admin API that was not 2xx: `message` is the server's sentence, `kind` its
 *  stable name (the body is `{"error": kind, "message": sentence, "field"?: ...}`). */
export class ApiError extends Error {
  constructor(status, body) {
    super(body?.message || `The server answered ${status}.`);
    this.kind = body?.error || "";
    this.status = status;
    this.body = body || {};
  }
}

/** The parsed JSON answer of `method url`; throws ApiError (and goes to log-in on 401). */
export async function api(method, url, body) {
  const init = { method, headers: { Accept: "application/json" }, credentials: "same-origin" };
  if (method !== "GET") init.headers["X-CSRF-Token"] = CSRF;
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(url, init);
  } catch (error) {
    throw new ApiError(0, { error: "unreachable", message: "The dashboard cannot reach the server. Check your connection and try again." });
  }
  if (response.status === 401) {
    window.location.assign(`/admin/login${window.location.hash}`);
    throw new ApiError(401, { error: "not_logged_in", message: "Your session has ended; log in again." });
  }
  if (response.status === 204) return null;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, data);
  return data;
}

/** An element: `h("button", {class: "btn", onclick: f}, "Save")`. Text is never parsed as HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, String(value));
  }
  for (const child of children.flat()) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG_NS = "http://www.w3.org/2000/svg";

/** An inline SVG icon from path data (24×24 grid, stroked). */
export function icon(paths) {
  const svg = document.createElementNS(SVG_NS, "svg");
  svg.setAttribute("viewBox", "0 0 24 24");
  svg.setAttribute("aria-hidden", "true");
  for (const d of [].concat(paths)) {
    const path = document.createElementNS(SVG_NS, "path");
    path.setAttribute("d", d);
    svg.append(path);
  }
  return svg;
}

export const ICONS = {
  image: ["M5 4h14a2 2 0 0 1 2 2v12a2 2 0 0 1-2 2H5a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2Z", "m4 18 5-5 3.5 3.5L15 14l5 4.5", "M9 8.2a1.8 1.8 0 1 0 0 .1"],
  ticket: ["M4 7a2 2 0 0 1 2-2h12a2 2 0 0 1 2 2v2a2 2 0 0 0 0 6v2a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2v-2a2 2 0 0 0 0-6Z", "M14 5v14"],
  megaphone: ["M4 10v4a1 1 0 0 0 1 1h2l5 4V5L7 9H5a1 1 0 0 0-1 1Z", "M16 8.5a5 5 0 0 1 0 7"],
  send: ["m21 3-9.5 9.5", "M21 3l-6.5 18-3-8.5L3 9.5 21 3Z"],
  chart: ["M4 20V4M4 20h16", "M8 16v-4M12 16V8M16 16v-6M20 16V6"],
  trend: ["M3 17l5-6 4 4 8-9", "M15 6h5v5"],
  coin: ["M12 3a9 9 0 1 0 0 18 9 9 0 0 0 0-18Z", "M15 9.2c-.6-1-1.7-1.6-3-1.6-1.7 0-3 .9-3 2.2 0 3 6 1.6 6 4.5 0 1.3-1.3 2.2-3 2.2-1.4 0-2.6-.7-3.1-1.7M12 6v1.6M12 16.4V18"],
  flow: ["M6 3.5a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5ZM18 9.5a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5ZM6 15.5a2.5 2.5 0 1 0 0 5 2.5 2.5 0 0 0 0-5Z", "M8.5 6H12a3 3 0 0 1 3 3v.5M8.5 18H12a3 3 0 0 0 3-3v-.5"],
  plus: ["M12 5v14M5 12h14"],
  upload: ["M12 16V4M7 9l5-5 5 5", "M4 16v2a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-2"],
  refresh: ["M20 11a8 8 0 0 0-14.6-4.5L4 8", "M4 4v4h4", "M4 13a8 8 0 0 0 14.6 4.5L20 16", "M20 20v-4h-4"],
  warn: ["M12 3 2 20h20L12 3Z", "M12 10v4M12 17.5v.01"],
  trash: ["M4 7h16M10 11v6M14 11v6", "M6 7l1 12a2 2 0 0 0 2 2h6a2 2 0 0 0 2-2l1-12M9 7V4h6v3"],
  back: ["M15 18l-6-6 6-6"],
  external: ["M14 4h6v6M20 4l-9 9", "M18 14v4a2 2 0 0 1-2 2H6a2 2 0 0 1-2-2V8a2 2 0 0 1 2-2h4"],
};

const MAX_TOASTS = 3;

/** Shows a short message under the top bar for a few seconds (errors longer, and they can be
 *  closed); at most three at once, the oldest going first. A page change clears them, except
 *  one shown with `carry` (it announces the page being opened: "created", "deleted"). */
export function toast(message, kind = "ok", { carry = false } = {}) {
  const box = document.getElementById("toasts");
  const close = h("button", { type: "button", class: "toast-close", "aria-label": "Dismiss" }, "×");
  const item = h("div", { class: `toast ${kind === "error" ? "error" : ""}`, role: kind === "error" ? "alert" : "status" }, h("span", {}, message), close);
  if (carry) item.dataset.carry = "true";
  close.addEventListener("click", () => item.remove());
  box.append(item);
  while (box.children.length > MAX_TOASTS) box.firstElementChild.remove();
  setTimeout(() => item.remove(), kind === "error" ? 7000 : 3500);
}

/** Removes the toasts of the page being left (a message belongs to the page that showed it). */
export function clearToasts() {
  for (const item of document.querySelectorAll("#toasts .toast")) {
    if (item.dataset.carry) delete item.dataset.carry;
    else item.remove();
  }
}

/** Resolves true when the person confirms `question` in a modal dialog. */
export function confirmDialog(title, question, action = "Delete", { danger = true } = {}) {
  return new Promise((resolve) => {
    const cancel = h("button", { type: "button", class: "btn btn-ghost" }, "Cancel");
    const ok = h("button", { type: "button", class: `btn ${danger ? "btn-danger" : "btn-primary"}`, id: "confirm-ok" }, action);
    const dialog = h("dialog", { "aria-labelledby": "confirm-title" },
      h("h2", { id: "confirm-title" }, title), h("p", {}, question), h("div", { class: "dialog-actions" }, cancel, ok));
    const finish = (answer) => { dialog.close(); dialog.remove(); resolve(answer); };
    cancel.addEventListener("click", () => finish(false));
    ok.addEventListener("click", () => finish(true));
    dialog.addEventListener("cancel", () => finish(false));
    document.body.append(dialog);
    dialog.showModal();
  });
}

/** Resolves to the text the person typed in a modal dialog (trimmed), or null when cancelled. */
export function promptDialog(title, question, { value = "", action = "OK", maxlength = 64 } = {}) {
  return new Promise((resolve) => {
    const input = h("input", { type: "text", id: "prompt-input", value, maxlength, required: true, autocomplete: "off" });
    const cancel = h("button", { type: "button", class: "btn btn-ghost" }, "Cancel");
    const ok = h("button", { type: "submit", class: "btn btn-primary", id: "prompt-ok" }, action);
    const form = h("form", { method: "dialog" },
      h("h2", { id: "prompt-title" }, title), h("p", { id: "prompt-question" }, question),
      h("label", { for: "prompt-input", class: "visually-hidden" }, title), input,
      h("div", { class: "dialog-actions" }, cancel, ok));
    const dialog = h("dialog", { "aria-labelledby": "prompt-title", "aria-describedby": "prompt-question" }, form);
    let answered = false;
    const finish = (answer) => {
      if (answered) return;
      answered = true;
      dialog.close();
      dialog.remove();
      resolve(answer);
    };
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      if (input.value.trim()) finish(input.value.trim());
    });
    cancel.addEventListener("click", () => finish(null));
    dialog.addEventListener("cancel", () => finish(null));
    document.body.append(dialog);
    dialog.showModal();
    input.select();
  });
}

/** An empty state: icon, title, a sentence, and optional extra nodes. */
export function emptyState(iconPaths, title, text, ...extra) {
  return h("div", { class: "empty" }, h("div", { class: "empty-icon" }, icon(iconPaths)), h("h2", {}, title), h("p", {}, text), ...extra);
}

/** A red box saying what went wrong (and, for schema errors, each field). */
export function errorBox(error) {
  const fields = error.body?.fields || [];
  return h("div", { class: "alert alert-error", role: "alert" },
    fields.length ? "The template was not saved:" : error.message,
    fields.length ? h("ul", {}, fields.map((f) => h("li", {}, h("code", {}, f.field), " — ", f.message))) : null);
}

/** "3 min ago" style text for an ISO time. */
export function ago(iso) {
  if (!iso) return "—";
  const seconds = (Date.now() - new Date(iso).getTime()) / 1000;
  if (seconds < 60) return "just now";
  if (seconds < 3600) return `${Math.round(seconds / 60)} min ago`;
  if (seconds < 86400) return `${Math.round(seconds / 3600)} h ago`;
  return new Date(iso).toLocaleDateString(undefined, { year: "numeric", month: "short", day: "numeric" });
}

/** A duration in seconds as "850 ms", "12.3 s" or "4 min 05 s". */
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return "—";
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  return `${minutes} min ${String(Math.round(seconds % 60)).padStart(2, "0")} s`;
}
