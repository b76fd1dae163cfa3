// The Revenue page: MRR KPI cards per currency, the MRR chart (daily snapshots), monthly movements,
// rebills, failed renewals and refunds, all read from /admin/api/revenue (the Stripe mirror, never
// Stripe itself). Without Stripe keys it says what to set, and shows no numbers.
import { ago, api, emptyState, errorBox, h, icon, ICONS, toast } from "./api.js";
import uPlot from "./vendor/uplot-1.6.32/uPlot.esm.js";

// Currencies Stripe counts in whole units (no cents).
const ZERO_DECIMAL = new Set(["bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv", "xaf", "xof", "xpf"]);
const COLOURS = ["#7c6cff", "#34d399", "#f59e0b", "#60a5fa", "#f472b6"];

/** An amount in Stripe's minor unit as money: 123456 usd → "$1,234.56". */
export function money(minor, currency) {
  if (minor === null || minor === undefined) return "—";
  const major = ZERO_DECIMAL.has(currency) ? minor : minor / 100;
  return new Intl.NumberFormat(undefined, { style: "currency", currency: currency.toUpperCase() }).format(major);
}

const percent = (rate) => (rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`);

function stylesheet(href) {
  if (!document.querySelector(`link[href="${href}"]`)) document.head.append(h("link", { rel: "stylesheet", href }));
}

function stat(label, value, id, hint) {
  return h("div", { class: "card stat", id, title: hint || "" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value));
}

function table(id, headers, rows, empty) {
  if (!rows.length) return h("div", { class: "card-pad faint" }, empty);
  return h("div", { class: "table-wrap" }, h("table", { class: "data", id },
    h("thead", {}, h("tr", {}, headers.map(([label, num]) => h("th", { class: num ? "num" : "" }, label)))),
    h("tbody", {}, rows)));
}

function section(title, ...children) {
  return h("div", { class: "card" }, h("div", { class: "card-pad" }, h("h2", {}, title)), ...children);
}

function notConfigured(view, missing) {
  view.replaceChildren(
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Revenue"))),
    emptyState(ICONS.coin, "Stripe is not configured", "Revenue figures come from a mirror of your Stripe account. No numbers are shown until it is connected.",
      h("p", {}, "Set ", missing.flatMap((name, i) => [i ? " and " : "", h("code", {}, name)]), ", add the webhook endpoint /stripe/webhook in Stripe, then run the reconcile-stripe deployment once.")));
}

function kpiCards(kpi) {
  const c = kpi.currency;
  return h("div", { class: "stats", dataset: { currency: c }, id: `kpis-${c}` },
    stat(`MRR (${c.toUpperCase()})`, money(kpi.mrr, c), `kpi-mrr-${c}`, "Monthly-normalised active and past-due subscriptions, forever coupons applied, no trials, metered prices or tax"),
    stat("ARR", money(kpi.arr, c), `kpi-arr-${c}`),
    stat("Paying customers", String(kpi.subscribers), `kpi-subscribers-${c}`),
    stat("ARPU", money(kpi.arpu, c), `kpi-arpu-${c}`),
    kpi.net_new_mrr_this_month === null ? null : stat("Net new MRR (month)", money(kpi.net_new_mrr_this_month, c), `kpi-netnew-${c}`),
    kpi.subscriber_churn_rate === null && kpi.net_new_mrr_this_month === null ? null : stat("Subscriber churn (30 d)", percent(kpi.subscriber_churn_rate), `kpi-churn-${c}`),
    kpi.net_new_mrr_this_month === null ? null : stat("MRR churn gross / net", `${percent(kpi.gross_mrr_churn_rate)} / ${percent(kpi.net_mrr_churn_rate)}`, `kpi-revchurn-${c}`),
    kpi.net_new_mrr_this_month === null ? null : stat("LTV", kpi.ltv === null ? "—" : money(kpi.ltv, c), `kpi-ltv-${c}`, "ARPU ÷ subscriber churn rate; undefined while nobody churned"));
}

function drawChart(box, points) {
  const days = [...new Set(points.map((p) => p.day))].sort();
  const currencies = [...new Set(points.map((p) => p.currency))].sort();
  box.dataset.points = String(points.length);
  if (!days.length) {
    box.replaceChildren(h("div", { class: "card-pad faint", id: "mrr-chart-empty" }, "No snapshots yet: the revenue-snapshot deployment writes one a day."));
    return null;
  }
  const xs = days.map((d) => Date.parse(`${d}T00:00:00Z`) / 1000);
  const series = currencies.map((c) => days.map((d) => {
    const found = points.find((p) => p.day === d && p.currency === c);
    return found ? (ZERO_DECIMAL.has(c) ? found.mrr : found.mrr / 100) : null;
  }));
  box.replaceChildren();
  return new uPlot({
    width: Math.max(300, box.clientWidth || 800), height: 240,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    series: [{}, ...currencies.map((c, i) => ({ label: `MRR ${c.toUpperCase()}`, stroke: COLOURS[i % COLOURS.length], spanGaps: true }))],
    axes: [{ stroke: "#8d96a8", grid: { stroke: "#232a38" } }, { stroke: "#8d96a8", grid: { stroke: "#232a38" } }],
  }, [xs, ...series], box);
}

export async function revenuePage(view, params, shell) {
  stylesheet("/static/admin/vendor/uplot-1.6.32/uPlot.min.css");
  shell.crumbs({ label: "Revenue", href: "#/revenue" }, { label: "Overview" });
  let chart = null;
  let product = "";

  const reconcile = h("button", { type: "button", class: "btn btn-sm", id: "reconcile-now" }, icon(ICONS.refresh), "Reconcile with Stripe");
  reconcile.addEventListener("click", async () => {
    reconcile.disabled = true;
    try {
      const run = await api("POST", "/admin/api/revenue/reconcile");
      toast("Reconcile started: the figures update when its run completes.");
      reconcile.title = run.ui_url;
    } catch (error) {
      toast(error.message, "error");
    } finally {
      reconcile.disabled = false;
    }
  });
  const picker = h("select", { id: "revenue-product", "aria-label": "Product" });
  picker.addEventListener("change", () => { product = picker.value; load(); });

  const body = h("div", { class: "stack" }, h("div", { class: "loading" }, "Reading the mirror…"));
  const head = h("div", { class: "page-head" },
    h("div", {}, h("h1", {}, "Revenue"), h("p", { id: "revenue-status" }, "")),
    h("div", { class: "actions" }, picker, reconcile));

  async function load() {
    let data;
    try {
      data = await api("GET", `/admin/api/revenue${product ? `?product=${encodeURIComponent(product)}` : ""}`);
    } catch (error) {
      body.replaceChildren(errorBox(error));
      return;
    }
    if (!data.configured) { notConfigured(view, data.missing); return; }
    picker.replaceChildren(h("option", { value: "" }, "All products"),
      ...data.products.map((p) => h("option", { value: p.id, selected: p.id === product }, p.name || p.id)));
    const events = data.events;
    document.getElementById("revenue-status").textContent =
      `Last webhook ${ago(events.last_received_at)} · last reconcile ${ago(data.last_reconciled_at)}` +
      (events.failed ? ` · ${events.failed} event(s) failed, retried by the next reconcile` : "");

    const cards = data.kpis.length
      ? data.kpis.map(kpiCards)
      : [emptyState(ICONS.coin, "No recurring revenue yet", "No active or past-due subscription counts under the current filters.")];
    const chartBox = h("div", { id: "mrr-chart", class: "card-pad" });
    const movements = data.movements === null
      ? h("div", { class: "card-pad faint" }, "Movements are kept for all counted products together: choose All products to see them.")
      : table("movements-table", [["Month"], ["Currency"], ["New", 1], ["Expansion", 1], ["Reactivation", 1], ["Contraction", 1], ["Churn", 1], ["Net new", 1]],
        data.movements.slice().reverse().map((m) => h("tr", {}, h("td", {}, m.month), h("td", {}, m.currency.toUpperCase()),
          h("td", { class: "num" }, `${money(m.new, m.currency)} (${m.new_customers})`), h("td", { class: "num" }, money(m.expansion, m.currency)),
          h("td", { class: "num" }, `${money(m.reactivation, m.currency)} (${m.reactivated_customers})`), h("td", { class: "num" }, `−${money(m.contraction, m.currency)}`),
          h("td", { class: "num" }, `−${money(m.churn, m.currency)} (${m.churned_customers})`), h("td", { class: "num" }, h("strong", {}, money(m.net_new, m.currency))))),
        "No movements yet: they are recorded as subscriptions change.");
    const rebills = table("rebills-table", [["Month"], ["Currency"], ["Rebills", 1], ["Rebilled", 1], ["Failed rebills", 1], ["Refunds", 1], ["Refunded", 1]],
      data.rebills.slice().reverse().map((r) => h("tr", {}, h("td", {}, r.month), h("td", {}, r.currency.toUpperCase()),
        h("td", { class: "num" }, String(r.rebills)), h("td", { class: "num" }, money(r.rebill_amount, r.currency)),
        h("td", { class: "num" }, String(r.failed_rebills)), h("td", { class: "num" }, String(r.refunds)), h("td", { class: "num" }, money(r.refund_amount, r.currency)))),
      "No renewals yet.");
    const failed = table("failed-table", [["Invoice"], ["Customer"], ["Amount", 1], ["Attempts", 1], ["Failed"], ["Now"]],
      data.failed_payments.map((f) => h("tr", {}, h("td", {}, h("span", { class: "mono" }, f.id)), h("td", {}, h("span", { class: "mono" }, f.customer || "—")),
        h("td", { class: "num" }, money(f.amount, f.currency)), h("td", { class: "num" }, String(f.attempts)), h("td", { title: f.failed_at }, ago(f.failed_at)),
        h("td", {}, h("span", { class: `pill ${f.status === "paid" ? "pill-ok" : "pill-danger"}` }, f.status || "—")))),
      "No failed renewal payments.");
    const recent = table("recent-rebills-table", [["Invoice"], ["Customer"], ["Amount", 1], ["Paid"]],
      data.recent_rebills.map((r) => h("tr", {}, h("td", {}, h("span", { class: "mono" }, r.id)), h("td", {}, h("span", { class: "mono" }, r.customer || "—")),
        h("td", { class: "num" }, money(r.amount, r.currency)), h("td", { title: r.paid_at }, ago(r.paid_at)))),
      "No paid renewals yet.");
    const refunds = table("refunds-table", [["Refund"], ["Amount", 1], ["Status"], ["Created"]],
      data.refunds.map((r) => h("tr", {}, h("td", {}, h("span", { class: "mono" }, r.id)), h("td", { class: "num" }, money(r.amount, r.currency)),
        h("td", {}, r.status || "—"), h("td", { title: r.created }, ago(r.created)))),
      "No refunds.");
    body.replaceChildren(...cards, section("MRR", chartBox), section("Movements by month", movements),
      section("Rebills by month", rebills), section("Failed renewal payments", failed), section("Recent rebills", recent), section("Refunds", refunds));
    if (chart) chart.destroy();
    chart = drawChart(chartBox, data.chart);
  }

  view.replaceChildren(head, body);
  await load();
  return { cleanup: () => { if (chart) chart.destroy(); } };
}
