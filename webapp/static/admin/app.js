// The dashboard shell: the product rail, the feature sidebar, and hash routing between pages.
//
// A route is `#/<product>/<section>[/<id>]`; each page is an async function that fills the view
// and may return a clean-up function (called when the page is left) and a `leave` guard.
import { h, icon, ICONS } from "./api.js";
import { couponsPage, emptyProductPage, runsPage, signalsPage, templatesPage } from "./pages.js";
import { editorPage } from "./editor.js";

const PRODUCTS = {
  promo: { name: "Promo Gen", sub: "Templates & coupons", links: [
    { href: "#/promo/templates", label: "Templates", icon: ICONS.image, section: "templates" },
    { href: "#/promo/coupons", label: "Coupons", icon: ICONS.ticket, section: "coupons" },
  ] },
  campaigns: { name: "Campaigns", sub: "User submissions", links: [{ href: "#/campaigns", label: "Overview", icon: ICONS.megaphone, section: "overview" }] },
  broadcasts: { name: "Broadcasts", sub: "Telegram messages", links: [{ href: "#/broadcasts", label: "Overview", icon: ICONS.send, section: "overview" }] },
  analytics: { name: "Analytics", sub: "Bots & generations", links: [{ href: "#/analytics", label: "Overview", icon: ICONS.chart, section: "overview" }] },
  signals: { name: "Signals", sub: "XAU/USD channel", links: [{ href: "#/signals", label: "Signals", icon: ICONS.trend, section: "signals" }] },
  revenue: { name: "Revenue", sub: "Stripe metrics", links: [{ href: "#/revenue", label: "Overview", icon: ICONS.coin, section: "overview" }] },
  ops: { name: "Operations", sub: "Prefect jobs", links: [{ href: "#/ops/runs", label: "Flow runs", icon: ICONS.flow, section: "runs" }] },
};

const ROUTES = [
  { path: /^\/promo\/templates$/, product: "promo", section: "templates", page: templatesPage },
  { path: /^\/promo\/templates\/([a-z0-9-]+)$/, product: "promo", section: "templates", page: editorPage },
  { path: /^\/promo\/coupons$/, product: "promo", section: "coupons", page: couponsPage },
  { path: /^\/signals$/, product: "signals", section: "signals", page: signalsPage },
  { path: /^\/ops\/runs$/, product: "ops", section: "runs", page: runsPage },
  ...["campaigns", "broadcasts", "analytics", "revenue"].map((product) => ({
    path: new RegExp(`^/${product}$`), product, section: "overview", page: (view, params, shell) => emptyProductPage(view, product, shell),
  })),
];
const HOME = "#/promo/templates";

const app = document.getElementById("app");
const view = document.getElementById("view");
const crumbs = document.getElementById("crumbs");
const actions = document.getElementById("topbar-actions");
const menuButton = document.getElementById("menu-btn");
const scrim = document.getElementById("scrim");

let current = { cleanup: null, leave: null };
let settledHash = window.location.hash;

function setNavOpen(open) {
  app.classList.toggle("nav-open", open);
  scrim.hidden = !open;
  menuButton.setAttribute("aria-expanded", String(open));
}

menuButton.addEventListener("click", () => setNavOpen(!app.classList.contains("nav-open")));
scrim.addEventListener("click", () => setNavOpen(false));
document.addEventListener("keydown", (event) => { if (event.key === "Escape") setNavOpen(false); });

function renderChrome(route) {
  const product = PRODUCTS[route.product];
  for (const item of document.querySelectorAll(".rail-item[data-product]")) {
    const active = item.dataset.product === route.product;
    item.classList.toggle("active", active);
    if (active) item.setAttribute("aria-current", "page"); else item.removeAttribute("aria-current");
  }
  document.getElementById("sidebar-product").textContent = product.name;
  document.getElementById("sidebar-sub").textContent = product.sub;
  const links = document.getElementById("sidebar-links");
  links.replaceChildren(
    h("div", { class: "sidebar-section" }, product.name),
    ...product.links.map((link) => h("a", { class: `side-link ${link.section === route.section ? "active" : ""}`, href: link.href }, icon(link.icon), link.label)),
  );
}

/** What pages use to set the top bar. */
const shell = {
  crumbs(...parts) {
    crumbs.replaceChildren(...parts.flatMap((part, i) => {
      const node = i === parts.length - 1 ? h("strong", {}, part.label) : h("a", { href: part.href }, part.label);
      return i ? [h("span", { class: "sep" }, "/"), node] : [node];
    }));
  },
  actions(...nodes) { actions.replaceChildren(...nodes); },
};

async function route() {
  const hash = window.location.hash || HOME;
  if (current.leave && hash !== settledHash && !current.leave()) {
    // The page has unsaved work and the person chose to stay: put the URL back.
    history.replaceState(null, "", settledHash);
    return;
  }
  const path = hash.replace(/^#/, "");
  const match = ROUTES.map((r) => ({ r, m: r.path.exec(path) })).find((x) => x.m);
  if (!match) { window.location.replace(HOME); return; }
  settledHash = hash;
  if (current.cleanup) current.cleanup();
  current = { cleanup: null, leave: null };
  setNavOpen(false);
  renderChrome(match.r);
  shell.actions();
  view.replaceChildren(h("div", { class: "loading" }, "Loading…"));
  view.scrollTop = 0;
  const result = await match.r.page(view, match.m.slice(1), shell);
  if (settledHash === hash && result) current = { cleanup: result.cleanup || null, leave: result.leave || null };
}

window.addEventListener("hashchange", route);
window.addEventListener("beforeunload", (event) => {
  if (current.leave && !current.leave(true)) { event.preventDefault(); event.returnValue = ""; }
});
if (!window.location.hash) history.replaceState(null, "", HOME);
route();
