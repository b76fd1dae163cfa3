// The dashboard shell: the product rail, the feature sidebar, and hash routing between pages.
//
// A route is `#/<product>/<section>[/<id>]`; each page is an async function that fills the view
// and may return a clean-up function (called when the page is left) and a `leave` guard.
import { AFTER_LOGIN, clearToasts, h, icon, ICONS } from "./api.js";
import { couponsPage, runsPage, signalsPage, templatesPage } from "./pages.js";
import { broadcastsPage } from "./broadcasts.js";
import { editorPage } from "./editor.js";
import { campaignPage, campaignsPage, reviewPage } from "./campaigns.js";
import { analyticsPage } from "./analytics.js";
import { revenuePage } from "./revenue.js";
import { optimisationPage } from "./signals.js";

const PRODUCTS = {
  promo: { name: "Promo Gen", sub: "Templates & coupons", links: [
    { href: "#/promo/templates", label: "Templates", icon: ICONS.image, section: "templates" },
    { href: "#/promo/coupons", label: "Coupons", icon: ICONS.ticket, section: "coupons" },
  ] },
  campaigns: { name: "Campaigns", sub: "Photo frames & posts", links: [
    { href: "#/campaigns", label: "Overview", icon: ICONS.megaphone, section: "overview" },
    { href: "#/campaigns/review", label: "Review queue", icon: ICONS.ticket, section: "review" },
  ] },
  broadcasts: { name: "Broadcasts", sub: "Telegram messages", links: [{ href: "#/broadcasts", label: "Overview", icon: ICONS.send, section: "overview" }] },
  analytics: { name: "Analytics", sub: "Bots & generations", links: [{ href: "#/analytics", label: "Overview", icon: ICONS.chart, section: "overview" }] },
  signals: { name: "Signals", sub: "XAU/USD channel", links: [
    { href: "#/signals", label: "Signals", icon: ICONS.trend, section: "signals" },
    { href: "#/signals/optimise", label: "Optimisation", icon: ICONS.chart, section: "optimise" },
  ] },
  revenue: { name: "Revenue", sub: "Stripe metrics", links: [{ href: "#/revenue", label: "Overview", icon: ICONS.coin, section: "overview" }] },
  ops: { name: "Operations", sub: "Prefect jobs", links: [{ href: "#/ops/runs", label: "Flow runs", icon: ICONS.flow, section: "runs" }] },
};

const ROUTES = [
  { path: /^\/promo\/templates$/, product: "promo", section: "templates", page: templatesPage },
  { path: /^\/promo\/templates\/([a-z0-9-]+)$/, product: "promo", section: "templates", page: editorPage },
  { path: /^\/promo\/coupons$/, product: "promo", section: "coupons", page: couponsPage },
  { path: /^\/signals$/, product: "signals", section: "signals", page: signalsPage },
  { path: /^\/signals\/optimise(?:\/(\d+))?$/, product: "signals", section: "optimise", page: optimisationPage },
  { path: /^\/revenue$/, product: "revenue", section: "overview", page: revenuePage },
  { path: /^\/ops\/runs$/, product: "ops", section: "runs", page: runsPage },
  { path: /^\/analytics$/, product: "analytics", section: "overview", page: analyticsPage },
  { path: /^\/campaigns$/, product: "campaigns", section: "overview", page: campaignsPage },
  { path: /^\/campaigns\/review(?:\?.*)?$/, product: "campaigns", section: "review", page: reviewPage },
  { path: /^\/campaigns\/([a-z0-9-]+)$/, product: "campaigns", section: "overview", page: campaignPage },
  { path: /^\/broadcasts$/, product: "broadcasts", section: "overview", page: broadcastsPage },
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
// The skip link moves focus to the page without touching the hash (the hash is the route).
document.getElementById("skip-link")?.addEventListener("click", (event) => { event.preventDefault(); view.focus(); });
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

let navigation = 0;

/** What the page of navigation `id` uses to set the top bar; a page left behind changes nothing. */
function shellFor(id) {
  return {
    crumbs(...parts) {
      if (id !== navigation) return;
      crumbs.replaceChildren(...parts.flatMap((part, i) => {
        const node = i === parts.length - 1 ? h("strong", {}, part.label) : h("a", { href: part.href }, part.label);
        return i ? [h("span", { class: "sep" }, "/"), node] : [node];
      }));
    },
    actions(...nodes) { if (id === navigation) actions.replaceChildren(...nodes); },
  };
}

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
  const id = ++navigation;
  clearToasts();
  setNavOpen(false);
  renderChrome(match.r);
  actions.replaceChildren();
  // Each navigation renders into its own element: a slower page from an earlier navigation
  // that finishes late fills a detached element instead of the page on screen.
  const pageView = h("div", { class: "page" }, h("div", { class: "loading" }, "Loading…"));
  view.replaceChildren(pageView);
  view.scrollTop = 0;
  const result = await match.r.page(pageView, match.m.slice(1), shellFor(id));
  if (id === navigation && result) current = { cleanup: result.cleanup || null, leave: result.leave || null };
  else if (result?.cleanup) result.cleanup();
}

window.addEventListener("hashchange", route);
window.addEventListener("beforeunload", (event) => {
  if (current.leave && !current.leave(true)) { event.preventDefault(); event.returnValue = ""; }
});
// After log-in, open the page that was asked for before it (kept by login.js or api.js).
const wanted = sessionStorage.getItem(AFTER_LOGIN);
sessionStorage.removeItem(AFTER_LOGIN);
if (wanted && (!window.location.hash || window.location.hash === HOME)) history.replaceState(null, "", wanted);
if (!window.location.hash) history.replaceState(null, "", HOME);
route();
