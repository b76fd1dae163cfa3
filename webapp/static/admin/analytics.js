// The Analytics page: generations over time, KPI cards against the previous period, top
// templates, failures by reason and the coupon search, all read from /admin/api/analytics/
// (DuckDB over the Parquet export, never the live database). The chart is uPlot, vendored.
import { ago, api, errorBox, h, icon, ICONS, toast } from "./api.js";
import uPlot from "./vendor/uplot-1.6.32/uPlot.esm.js";

const BASE = "/admin/api/analytics";
const RANGES = [["24h", "24 h"], ["7d", "7 d"], ["30d", "30 d"], ["90d", "90 d"], ["custom", "Custom"]];
const BUCKET_WORD = { hour: "Hourly", day: "Daily", week: "Weekly" };

function stylesheet(href) {
  if (!document.querySelector(`link[href="${href}"]`)) document.head.append(h("link", { rel: "stylesheet", href }));
}

const number = (n) => (n === null || n === undefined ? "—" : Number(n).toLocaleString());
const percent = (r) => (r === null || r === undefined ? "—" : `${(r * 100).toFixed(1)}%`);

/** "+12.5% vs previous" style text comparing `now` with `before` (rates compare in points). */
function delta(now, before, rate = false) {
  if (now === null || before === null || before === undefined) return h("span", { class: "faint" }, "no previous data");
  const change = rate ? (now - before) * 100 : before ? ((now - before) / before) * 100 : null;
  if (change === null) return h("span", { class: "faint" }, "none in the previous period");
  const sign = change > 0 ? "+" : "";
  return h("span", { class: change >= 0 ? "an-up" : "an-down" }, `${sign}${change.toFixed(1)}${rate ? " pts" : "%"} vs previous`);
}

export async function analyticsPage(view, params, shell) {
  stylesheet("/static/admin/vendor/uplot-1.6.32/uPlot.min.css");
  stylesheet("/static/admin/analytics.css");
  shell.crumbs({ label: "Analytics", href: "#/analytics" }, { label: "Overview" });
  const state = { range: "7d", start: "", end: "", bot: "", channel: "", template: "", q: "", page: 1 };
  let chart = null;
  let poll = null;

  const query = (extra = {}) => {
    const p = new URLSearchParams({ range: state.range });
    if (state.range === "custom") { p.set("start", state.start); p.set("end", state.end); }
    for (const k of ["bot", "channel", "template"]) if (state[k]) p.set(k, state[k]);
    for (const [k, v] of Object.entries(extra)) p.set(k, v);
    return p.toString();
  };

  // --- the controls -------------------------------------------------------------------------
  const asOf = h("span", { id: "data-as-of" }, "");
  const progress = h("progress", { id: "export-progress", max: 100, value: 0, hidden: true, "aria-label": "Export progress" });
  const refresh = h("button", { type: "button", class: "btn btn-sm", id: "refresh-export" }, icon(ICONS.refresh), "Refresh data");
  shell.actions(progress, refresh);

  const rangeButtons = RANGES.map(([value, label]) => h("button", { type: "button", dataset: { range: value }, class: value === state.range ? "on" : "" }, label));
  const startInput = h("input", { type: "date", id: "range-start", "aria-label": "From" });
  const endInput = h("input", { type: "date", id: "range-end", "aria-label": "To" });
  const apply = h("button", { type: "button", class: "btn btn-sm", id: "apply-custom" }, "Apply");
  const custom = h("div", { class: "an-custom", hidden: true }, startInput, endInput, apply);
  const selects = Object.fromEntries(["bot", "channel", "template"].map((k) => [k, h("select", { id: `filter-${k}`, "aria-label": k })]));
  const controls = h("div", { class: "card card-pad an-controls" },
    h("div", { class: "seg an-ranges", role: "group", "aria-label": "Range" }, rangeButtons),
    custom,
    h("div", { class: "an-filters" }, selects.bot, selects.channel, selects.template));

  const kpis = h("div", { class: "stats", id: "kpis" });
  const bucketLabel = h("span", { id: "bucket-label", class: "pill pill-info" }, "");
  const chartBox = h("div", { id: "generations-chart", class: "an-chart" });
  const seriesCsv = h("a", { class: "btn btn-sm", download: "" }, "CSV");
  const chartCard = h("div", { class: "card card-pad" },
    h("div", { class: "an-card-head" }, h("h2", {}, "Generations"), bucketLabel, seriesCsv), chartBox);
  const templatesBody = h("div");
  const templatesCsv = h("a", { class: "btn btn-sm", download: "" }, "CSV");
  const failuresBody = h("div");
  const failuresCsv = h("a", { class: "btn btn-sm", download: "" }, "CSV");
  const search = h("input", { type: "search", id: "coupon-search", placeholder: "Search coupon codes", "aria-label": "Search coupon codes", maxlength: 64, autocomplete: "off" });
  const couponsBody = h("div");
  const couponsCsv = h("a", { class: "btn btn-sm", id: "coupons-csv", download: "" }, "CSV");
  const pager = h("div", { class: "an-pager" });
  const message = h("div");

  view.replaceChildren(
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Analytics"),
      h("p", {}, "Generations from every channel, read from the analytics export (refreshed every 15 minutes). ", asOf, "."))),
    h("div", { class: "stack" }, message, controls, kpis, chartCard,
      h("div", { class: "an-two" },
        h("div", { class: "card card-pad" }, h("div", { class: "an-card-head" }, h("h2", {}, "Top templates"), templatesCsv), templatesBody),
        h("div", { class: "card card-pad" }, h("div", { class: "an-card-head" }, h("h2", {}, "Failures by reason"), failuresCsv), failuresBody)),
      h("div", { class: "card card-pad" }, h("div", { class: "an-card-head" }, h("h2", {}, "Coupon codes"), search, couponsCsv), couponsBody, pager)));

  // --- rendering ------------------------------------------------------------------------------
  function table(id, headers, rows) {
    if (!rows.length) return h("p", { class: "faint" }, "Nothing in this range.");
    return h("div", { class: "table-wrap" }, h("table", { class: "data", id },
      h("thead", {}, h("tr", {}, headers.map(([label, num]) => h("th", { class: num ? "num" : "" }, label)))),
      h("tbody", {}, rows)));
  }

  function kpiCard(label, value, change, id) {
    return h("div", { class: "card stat", id }, h("div", { class: "label" }, label), h("div", { class: "value" }, value), h("div", { class: "an-delta" }, change));
  }

  function drawChart(series) {
    bucketLabel.textContent = BUCKET_WORD[series.bucket];
    chartBox.dataset.bucket = series.bucket;
    chartBox.dataset.points = String(series.points.length);
    const xs = series.points.map((p) => Date.parse(p.t) / 1000);
    const data = [xs, series.points.map((p) => p.attempts), series.points.map((p) => p.successes)];
    if (chart) chart.destroy();
    const width = Math.max(300, chartBox.clientWidth || 800);
    chart = new uPlot({
      width, height: 260,
      tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
      series: [{}, { label: "Generations", stroke: "#7c6cff", fill: "rgba(124,108,255,.12)" }, { label: "Successes", stroke: "#34d399" }],
      axes: [{ stroke: "#8d96a8", grid: { stroke: "#232a38" } }, { stroke: "#8d96a8", grid: { stroke: "#232a38" } }],
    }, data, chartBox);
  }

  async function loadOptions() {
    const options = await api("GET", `${BASE}/options?${query()}`);
    for (const [key, list] of [["bot", options.bots], ["channel", options.channels], ["template", options.templates]]) {
      const keep = state[key];
      selects[key].replaceChildren(h("option", { value: "" }, `All ${key}s`), ...list.map((v) => h("option", { value: v, selected: v === keep }, v)));
    }
  }

  async function loadCoupons() {
    const q = query({ q: state.q, page: state.page });
    const data = await api("GET", `${BASE}/coupons?${q}`);
    couponsCsv.href = `${BASE}/coupons?${query({ q: state.q, page: state.page, format: "csv" })}`;
    couponsBody.replaceChildren(table("coupons-table", [["Code"], ["Uses", true], ["Successes", true], ["Last use"]],
      data.coupons.map((c) => h("tr", { dataset: { code: c.code } }, h("td", {}, h("span", { class: "mono" }, c.code)),
        h("td", { class: "num" }, number(c.attempts)), h("td", { class: "num" }, number(c.successes)), h("td", { title: c.last_used }, ago(c.last_used))))));
    const pages = Math.max(1, Math.ceil(data.total / data.page_size));
    const go = (page) => { state.page = page; loadCoupons().catch((e) => toast(e.message, "error")); };
    pager.replaceChildren(h("span", { class: "faint", id: "coupons-total" }, `${number(data.total)} code${data.total === 1 ? "" : "s"} · page ${data.page} of ${pages}`),
      h("button", { type: "button", class: "btn btn-sm", disabled: data.page <= 1, onclick: () => go(data.page - 1) }, "Previous"),
      h("button", { type: "button", class: "btn btn-sm", id: "coupons-next", disabled: data.page >= pages, onclick: () => go(data.page + 1) }, "Next"));
  }

  async function load() {
    message.replaceChildren();
    try {
      const [k, series, templates, failures] = await Promise.all([
        api("GET", `${BASE}/kpis?${query()}`), api("GET", `${BASE}/series?${query()}`),
        api("GET", `${BASE}/templates?${query()}`), api("GET", `${BASE}/failures?${query()}`), loadOptions(), loadCoupons()]);
      const now = k.current, before = k.previous;
      kpis.replaceChildren(
        kpiCard("Generations", number(now.generations), delta(now.generations, before.generations), "kpi-generations"),
        kpiCard("Unique users", number(now.unique_users), delta(now.unique_users, before.unique_users), "kpi-users"),
        kpiCard("Success rate", percent(now.success_rate), delta(now.success_rate, before.success_rate, true), "kpi-success"));
      drawChart(series);
      seriesCsv.href = `${BASE}/series?${query({ format: "csv" })}`;
      templatesCsv.href = `${BASE}/templates?${query({ format: "csv" })}`;
      failuresCsv.href = `${BASE}/failures?${query({ format: "csv" })}`;
      templatesBody.replaceChildren(table("templates-table", [["Template"], ["Generations", true], ["Success rate", true]],
        templates.map((t) => h("tr", {}, h("td", {}, t.name || "—"), h("td", { class: "num" }, number(t.attempts)), h("td", { class: "num" }, percent(t.success_rate))))));
      failuresBody.replaceChildren(table("failures-table", [["Reason"], ["Failures", true]],
        failures.map((f) => h("tr", {}, h("td", {}, h("code", {}, f.reason)), h("td", { class: "num" }, number(f.failures))))));
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  }

  async function showStatus() {
    const status = await api("GET", `${BASE}/status`);
    const at = status.exported_at ? new Date(status.exported_at) : null;
    const today = at && at.toDateString() === new Date().toDateString();
    const when = at && (today ? at.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" }) : at.toLocaleString([], { dateStyle: "short", timeStyle: "short" }));
    asOf.textContent = at ? `Data as of ${when}` : "Not exported yet";
    asOf.title = status.exported_at || "";
    const running = status.progress?.state === "running";
    progress.hidden = !running;
    if (running) progress.value = status.progress.total ? (100 * status.progress.done) / status.progress.total : 0;
    return status;
  }

  // --- events ---------------------------------------------------------------------------------
  for (const button of rangeButtons) {
    button.addEventListener("click", () => {
      for (const b of rangeButtons) b.classList.toggle("on", b === button);
      custom.hidden = button.dataset.range !== "custom";
      if (button.dataset.range === "custom") { startInput.focus(); return; }
      state.range = button.dataset.range;
      state.page = 1;
      load();
    });
  }
  apply.addEventListener("click", () => {
    if (!startInput.value || !endInput.value) { toast("Pick both dates of the custom range.", "error"); return; }
    Object.assign(state, { range: "custom", start: startInput.value, end: endInput.value, page: 1 });
    load();
  });
  for (const [key, select] of Object.entries(selects)) select.addEventListener("change", () => { state[key] = select.value; load(); });
  let typing = null;
  search.addEventListener("input", () => {
    clearTimeout(typing);
    typing = setTimeout(() => { state.q = search.value; state.page = 1; loadCoupons().catch((e) => toast(e.message, "error")); }, 250);
  });
  refresh.addEventListener("click", async () => {
    refresh.disabled = true;
    try {
      const before = (await showStatus()).progress?.run;
      await api("POST", `${BASE}/export`);
      toast("Export started; the page updates when it is done.");
      clearInterval(poll);
      // Done when a run newer than the one seen before the click has finished.
      poll = setInterval(async () => {
        try {
          const status = await showStatus();
          const progress = status.progress;
          if (progress && progress.run !== before && progress.state !== "running") {
            clearInterval(poll);
            refresh.disabled = false;
            if (progress.state === "failed") toast(`The export failed: ${progress.detail}`, "error"); else load();
          }
        } catch (error) { clearInterval(poll); refresh.disabled = false; }
      }, 2000);
    } catch (error) {
      toast(error.message, "error");
      refresh.disabled = false;
    }
  });

  await Promise.all([showStatus().catch((error) => message.replaceChildren(errorBox(error))), load()]);
  return { cleanup: () => { clearInterval(poll); clearTimeout(typing); if (chart) chart.destroy(); } };
}
