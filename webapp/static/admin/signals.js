// The Signals › Optimisation page: walk-forward reports (verdict, out-of-sample figures, the stitched
// equity curve, each window's choice, parameter stability), the live parameters, and adoption: an
// admin picks a window's parameter set, says who and why, and the change is recorded. Nothing here
// changes the live strategy except that explicit adoption.
import { ago, api, confirmDialog, emptyState, errorBox, h, icon, ICONS, toast } from "./api.js";
import uPlot from "./vendor/uplot-1.6.32/uPlot.esm.js";

const UPLOT_CSS = "/static/admin/vendor/uplot-1.6.32/uPlot.min.css";
const fixed = (value, digits, sign = false) =>
  (value === null || value === undefined ? "—" : `${sign && value > 0 ? "+" : ""}${Number(value).toFixed(digits)}`);
const percent = (rate) => (rate === null || rate === undefined ? "—" : `${(rate * 100).toFixed(1)}%`);

function figure(label, value, id, hint) {
  return h("div", { class: "card stat", id, title: hint || "" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value));
}

function grid(id, headers, rows) {
  return h("div", { class: "table-wrap" }, h("table", { class: "data", id },
    h("thead", {}, h("tr", {}, headers.map(([label, num]) => h("th", { class: num ? "num" : "" }, label)))),
    h("tbody", {}, rows)));
}

function drawEquity(box, equity) {
  box.dataset.points = String(equity.length);
  if (!equity.length) {
    box.replaceChildren(h("div", { class: "card-pad faint" }, "No out-of-sample trade: nothing to draw."));
    return null;
  }
  box.replaceChildren();
  const xs = equity.map((p) => Date.parse(p.time) / 1000);
  return new uPlot({
    width: Math.max(300, box.clientWidth || 800), height: 240,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), "Etc/UTC"),
    series: [{}, { label: "Out-of-sample pips", stroke: "#7c6cff", fill: "rgba(124,108,255,.08)" }],
    axes: [{ stroke: "#8d96a8", grid: { stroke: "#232a38" } }, { stroke: "#8d96a8", grid: { stroke: "#232a38" } }],
  }, [xs, equity.map((p) => p.pips)], box);
}

/** The searched parameters whose value in `params` differs from `live`, as "name a → b". */
function changes(params, live, names) {
  return names.filter((n) => params[n] !== live[n]).map((n) => `${n} ${live[n]} → ${params[n]}`);
}

async function adopt(body, summary, reload) {
  const form = h("form", { method: "dialog", id: "adopt-form" },
    h("h2", { id: "adopt-title" }, "Adopt this parameter set?"),
    h("p", {}, "From the next signal-generation run on, the channel trades with it. ", summary),
    h("label", { class: "field-label", for: "adopt-by" }, "Your name"),
    h("input", { id: "adopt-by", type: "text", required: true, maxlength: 128, autocomplete: "name" }),
    h("label", { class: "field-label", for: "adopt-note" }, "Why (kept with the change)"),
    h("input", { id: "adopt-note", type: "text", maxlength: 500 }),
    h("div", { class: "dialog-actions" },
      h("button", { type: "button", class: "btn btn-ghost", id: "adopt-cancel" }, "Cancel"),
      h("button", { type: "submit", class: "btn btn-primary", id: "adopt-ok" }, "Adopt")));
  const dialog = h("dialog", { "aria-labelledby": "adopt-title" }, form);
  const close = () => { dialog.close(); dialog.remove(); };
  form.querySelector("#adopt-cancel").addEventListener("click", close);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    try {
      await api("POST", "/admin/api/signals/adoptions", {
        ...body, adopted_by: form.querySelector("#adopt-by").value, note: form.querySelector("#adopt-note").value,
      });
      close();
      toast("Adopted: the live strategy uses it from the next run.");
      reload();
    } catch (error) {
      toast(error.message, "error");
    }
  });
  document.body.append(dialog);
  dialog.showModal();
}

function reportView(run, data, reload) {
  const r = run.report;
  const oos = r.out_of_sample;
  const names = Object.keys(r.bounds);
  const chartBox = h("div", { class: "card-pad", id: "equity-chart" });
  const windows = r.windows.map((w) => {
    const pips = w.trades.reduce((sum, t) => sum + t.pips, 0);
    const diff = w.params ? changes(w.params, data.live, names) : [];
    const button = w.params
      ? h("button", { type: "button", class: "btn btn-sm", dataset: { window: w.index } }, "Adopt")
      : null;
    button?.addEventListener("click", () => adopt({ run_id: run.id, window: w.index },
      diff.length ? `Changes: ${diff.join(", ")}.` : "It equals the live set.", reload));
    return h("tr", {},
      h("td", { class: "num" }, String(w.index)),
      h("td", { title: w.out_of_sample_start }, new Date(w.out_of_sample_start).toLocaleDateString()),
      h("td", {}, w.chosen === null ? h("span", { class: "faint" }, "none traded enough") : `#${w.chosen}`),
      h("td", { class: "num" }, `${w.in_sample_trades} / ${fixed(w.in_sample_expectancy_r, 3, true)}`),
      h("td", { class: "num" }, `${w.trades.length} / ${fixed(pips, 1, true)}`),
      h("td", {}, diff.length ? diff.join(", ") : w.params ? h("span", { class: "faint" }, "as live") : "—"),
      h("td", {}, button));
  });
  const stability = r.stability.map((s) => h("tr", {},
    h("td", {}, h("code", {}, s.name)), h("td", { class: "num" }, `${s.low} – ${s.high}`),
    h("td", {}, s.values.join(", ")), h("td", { class: "num" }, fixed(s.spread, 2))));
  const node = h("div", { id: "report" },
    h("div", { class: `alert ${oos.edge ? "alert-info" : "alert-error"}`, id: "verdict", role: "status" }, oos.verdict),
    h("div", { class: "stats" },
      figure("Out-of-sample trades", String(oos.trades), "oos-trades"),
      figure("Win rate", percent(oos.win_rate), "oos-win-rate"),
      figure("Expectancy", `${fixed(oos.expectancy_r, 3, true)} R`, "oos-expectancy", `${fixed(oos.expectancy_pips, 1, true)} pips per trade`),
      figure("In-sample expectancy", `${fixed(r.in_sample_expectancy_r, 3, true)} R`, "is-expectancy", "What the chosen sets showed on the data they were tuned on: compare it with the out-of-sample figure"),
      figure("Total", `${fixed(oos.total_pips, 1, true)} pips`, "oos-total"),
      figure("Max drawdown", `${fixed(oos.max_drawdown_pips, 1)} pips`, "oos-drawdown")),
    h("div", { class: "card" }, h("div", { class: "card-pad" }, h("h2", {}, "Stitched out-of-sample equity (pips)")), chartBox),
    h("div", { class: "card" }, h("div", { class: "card-pad" }, h("h2", {}, "Windows"),
      h("p", { class: "faint" }, `${r.windows.length} windows of ${r.config.in_sample_candles} in-sample + ${r.config.out_of_sample_candles} out-of-sample candles, ${r.config.candidates} parameter sets each; ${r.distinct_choices} distinct choices.`)),
    grid("windows-table", [["Window", true], ["Out of sample from"], ["Chosen"], ["In-sample trades / R", true], ["OOS trades / pips", true], ["Differs from live"], [""]], windows)),
    h("div", { class: "card" }, h("div", { class: "card-pad" }, h("h2", {}, "Parameter stability"),
      h("p", { class: "faint" }, "Spread is the deviation of the chosen values over the width of the bounds: near 0 the windows agree; about 0.29 is as scattered as random picks.")),
    grid("stability-table", [["Parameter"], ["Bounds", true], ["Chosen per window"], ["Spread", true]], stability)));
  return { node, draw: () => drawEquity(chartBox, r.equity) };
}

function liveCard(data, reload) {
  const names = ["ema_fast", "ema_slow", "adx_min", "rsi_buy_min", "rsi_sell_max", "stop_atr", "target_atr", "expiry_candles"];
  const reset = h("button", { type: "button", class: "btn btn-sm btn-ghost", id: "adopt-defaults" }, "Back to the defaults");
  reset.addEventListener("click", () => adopt({ defaults: true }, `Changes: ${changes(data.defaults, data.live, names).join(", ") || "none"}.`, reload));
  const history = data.adoptions.map((a) => h("tr", {},
    h("td", { title: a.adopted_at }, ago(a.adopted_at)), h("td", {}, a.adopted_by),
    h("td", {}, a.run_id === null ? "defaults" : `run ${a.run_id}, window ${a.window}`),
    h("td", {}, changes(a.params, a.previous_params, Object.keys(a.params)).join(", ") || "no change"),
    h("td", {}, a.note)));
  return h("div", { class: "card", id: "live-params" },
    h("div", { class: "card-pad" }, h("h2", {}, "Live parameters (XAU/USD 15min)"),
      h("p", {}, names.map((n) => h("span", { class: "pill", dataset: { param: n } }, `${n} ${data.live[n]}`)), " ", reset)),
    history.length
      ? grid("adoptions-table", [["When"], ["By"], ["From"], ["Change"], ["Why"]], history)
      : h("div", { class: "card-pad faint" }, "Never changed: the strategy trades its built-in defaults."));
}

export async function optimisationPage(view, params, shell) {
  if (!document.querySelector(`link[href="${UPLOT_CSS}"]`)) document.head.append(h("link", { rel: "stylesheet", href: UPLOT_CSS }));
  shell.crumbs({ label: "Signals", href: "#/signals" }, { label: "Optimisation" });
  const start = h("button", { type: "button", class: "btn btn-sm", id: "start-optimisation" }, icon(ICONS.refresh), "Run optimisation");
  start.addEventListener("click", async () => {
    if (!await confirmDialog("Run a walk-forward optimisation?", "It runs on the workers over the configured candle file and takes a few minutes; the report appears here when it is done. The live parameters do not change.", "Run", { danger: false })) return;
    try {
      const run = await api("POST", "/admin/api/signals/optimisations");
      follow(run);
    } catch (error) {
      toast(error.message, "error");
    }
  });
  // A started run: a progress bar fed by the flow's progress artifact, then the new report.
  const meter = h("progress", { id: "optimisation-progress", max: 100, hidden: true });
  const status = h("a", { class: "faint", id: "optimisation-status", target: "_blank", rel: "noopener" });
  let timer = null;
  const follow = (run) => {
    start.disabled = true;
    meter.hidden = false;
    meter.removeAttribute("value");
    status.href = run.ui_url;
    status.textContent = "Starting…";
    timer = setInterval(async () => {
      try {
        const p = await api("GET", `/admin/api/signals/optimisations/progress/${run.flow_run_id}`);
        if (p.progress !== null) meter.value = p.progress;
        status.textContent = `${p.state}${p.progress === null ? "" : ` · ${Math.round(p.progress)}% of windows`}`;
        if (!p.final) return;
        clearInterval(timer);
        start.disabled = false;
        if (p.state === "Completed") { toast("Optimisation done: its report is below."); reload(); }
        else toast(`The optimisation run ended ${p.state}: see it in Prefect.`, "error");
      } catch (error) {
        clearInterval(timer);
        start.disabled = false;
        status.textContent = error.message;
      }
    }, 2000);
  };
  shell.actions(status, meter, start);
  let chart = null;
  // Draw the page again in place (after an adoption or a finished run), releasing this one's chart.
  const reload = () => { chart?.destroy(); clearInterval(timer); optimisationPage(view, params, shell); };
  let data;
  try {
    data = await api("GET", "/admin/api/signals/optimisations");
  } catch (error) {
    view.replaceChildren(errorBox(error));
    return;
  }
  const head = h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Optimisation"),
    h("p", {}, "Walk-forward: each window tunes on its in-sample candles and is judged on the candles after them. Only the out-of-sample figures say anything about the future.")));
  if (!data.runs.length) {
    view.replaceChildren(head, liveCard(data, reload), emptyState(ICONS.chart, "No optimisation yet",
      "Run one here, with promostack optimise --csv candles.csv, or the optimise-signals deployment. Reports appear here."));
    return { cleanup: () => clearInterval(timer) };
  }
  const wanted = Number(params[0] || data.runs[0].id);
  const picker = h("select", { id: "run-picker", "aria-label": "Walk-forward run" },
    data.runs.map((run) => h("option", { value: run.id, selected: run.id === wanted },
      `Run ${run.id} · ${ago(run.created_at)} · ${run.source} · ${run.trades} trades · ${run.edge ? "edge" : "no edge"}`)));
  picker.addEventListener("change", () => { window.location.hash = `#/signals/optimise/${picker.value}`; });
  let run;
  try {
    run = await api("GET", `/admin/api/signals/optimisations/${wanted}`);
  } catch (error) {
    view.replaceChildren(head, errorBox(error));
    return;
  }
  const report = reportView(run, data, reload);
  view.replaceChildren(head, liveCard(data, reload), h("p", {}, picker), report.node);
  chart = report.draw();
  return { cleanup: () => { chart?.destroy(); clearInterval(timer); } };
}
