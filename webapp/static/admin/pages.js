// The dashboard's list pages: templates, coupons, flow runs, signals, and the honest empty
// states of the products that are not built yet. The template editor lives in editor.js.
import { ago, api, ApiError, confirmDialog, duration, emptyState, errorBox, h, icon, ICONS, PREFECT_UI, toast } from "./api.js";
import { FRESH_TEMPLATE } from "./editor.js";

// --- templates ---------------------------------------------------------------------------------

function visibilitySwitch(template, channel, label) {
  const input = h("input", { type: "checkbox", checked: template.visibility[channel], "data-channel": channel, "aria-label": `${label}: ${template.name}` });
  input.addEventListener("change", async () => {
    input.disabled = true;
    try {
      const saved = await api("PUT", `/admin/api/templates/${template.slug}/visibility`, { [channel]: input.checked });
      template.visibility = saved.visibility;
      template.version = saved.version;
      const live = saved.visibility.web || saved.visibility.telegram;
      const pill = input.closest(".tpl-card")?.querySelector(".tpl-title .pill");
      if (pill) { pill.textContent = live ? "Live" : "Hidden"; pill.classList.toggle("pill-ok", live); }
      toast(`${template.name} is ${input.checked ? "shown" : "hidden"} on ${label}.`);
    } catch (error) {
      input.checked = !input.checked;
      toast(error.message, "error");
    } finally {
      input.disabled = false;
    }
  });
  return h("label", { class: "switch" }, input, label);
}

function templateCard(template) {
  const href = `#/promo/templates/${template.slug}`;
  const shown = template.visibility.web || template.visibility.telegram;
  return h("article", { class: "card tpl-card", dataset: { slug: template.slug } },
    h("a", { class: "tpl-thumb", href, "aria-label": `Edit ${template.name}` },
      h("img", { src: `/admin/api/templates/${template.slug}/image?v=${template.version}`, alt: "", loading: "lazy" })),
    h("div", { class: "tpl-body" },
      h("div", { class: "tpl-title" }, h("h3", {}, template.name),
        h("span", { class: `pill ${shown ? "pill-ok" : ""}` }, shown ? "Live" : "Hidden")),
      h("div", { class: "tpl-meta" }, `${template.slug} · ${template.width}×${template.height} · ${template.areas} area${template.areas === 1 ? "" : "s"} · v${template.version} · ${ago(template.updated_at)}`),
      h("div", { class: "tpl-switches" }, visibilitySwitch(template, "web", "Web"), visibilitySwitch(template, "telegram", "Telegram")),
      h("div", { class: "tpl-actions" }, h("a", { class: "btn btn-sm", href }, "Edit"))));
}

function uploadCard() {
  const message = h("div");
  const name = h("input", { type: "text", id: "new-name", name: "name", placeholder: "Black Friday 2026", maxlength: 80, required: true });
  const file = h("input", { type: "file", id: "new-image", name: "image", accept: "image/png,image/jpeg,image/webp", required: true });
  const button = h("button", { type: "submit", class: "btn btn-primary" }, icon(ICONS.upload), "Upload");
  const form = h("form", { class: "card card-pad", id: "upload-form" },
    h("h2", {}, "New template"),
    message,
    h("div", { class: "upload-card" },
      h("div", {}, h("label", { for: "new-name" }, "Name"), name),
      h("div", {}, h("label", { for: "new-image" }, "Background image (PNG, JPEG or WebP, up to 15 MB)"), file),
      button));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    const body = new FormData();
    body.append("name", name.value);
    if (file.files[0]) body.append("image", file.files[0]);
    button.disabled = true;
    try {
      const meta = await api("POST", "/admin/api/templates", body);
      toast(`${meta.name} created. Draw its text areas, then make it visible.`, "ok", { carry: true });
      sessionStorage.setItem(FRESH_TEMPLATE, meta.slug); // the editor places its coupon area
      window.location.hash = `#/promo/templates/${meta.slug}`;
    } catch (error) {
      message.replaceChildren(errorBox(error));
    } finally {
      button.disabled = false;
    }
  });
  return form;
}

export async function templatesPage(view, params, shell) {
  shell.crumbs({ label: "Promo Gen", href: "#/promo/templates" }, { label: "Templates" });
  let data;
  try {
    data = await api("GET", "/admin/api/templates");
  } catch (error) {
    view.replaceChildren(errorBox(error));
    return;
  }
  const broken = data.broken.length
    ? h("div", { class: "alert alert-warn" }, "Some templates cannot be read and are left out:",
      h("ul", {}, data.broken.map((b) => h("li", {}, h("code", {}, b.slug), " — ", b.error))))
    : null;
  const list = data.templates.length
    ? h("div", { class: "tpl-grid", id: "template-list" }, data.templates.map(templateCard))
    : emptyState(ICONS.image, "No templates yet", "Upload a background image above to create your first template, then draw where the coupon code goes.");
  view.replaceChildren(
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Templates"),
      h("p", {}, `${data.templates.length} template${data.templates.length === 1 ? "" : "s"} in object storage. Hidden ones are shown nowhere until you switch them on.`))),
    h("div", { class: "stack" }, uploadCard(), broken, list));
}

// --- coupons -----------------------------------------------------------------------------------

function couponRow(coupon, refresh) {
  const expired = coupon.expires_at && new Date(coupon.expires_at) < new Date();
  const usedUp = coupon.max_uses !== null && coupon.usage_count >= coupon.max_uses;
  const [label, kind] = !coupon.active ? ["Inactive", ""] : expired ? ["Expired", "pill-warn"] : usedUp ? ["Used up", "pill-warn"] : ["Active", "pill-ok"];
  // Switching a code off is confirmed (visitors and the bot are refused it at once); an inactive
  // code can be switched back on, with its uses and expiry as they were.
  const toggle = coupon.active
    ? h("button", { type: "button", class: "btn btn-sm btn-danger", "aria-label": `Deactivate ${coupon.code}`, onclick: async () => {
      const sure = await confirmDialog(`Deactivate ${coupon.code}?`, "Visitors and the bot are refused this code from now on. You can reactivate it later.", "Deactivate");
      if (!sure) return;
      try {
        await api("POST", `/admin/api/coupons/${encodeURIComponent(coupon.code)}/deactivate`);
        toast(`${coupon.code} is deactivated.`);
        refresh();
      } catch (error) { toast(error.message, "error"); }
    } }, "Deactivate")
    : h("button", { type: "button", class: "btn btn-sm", "aria-label": `Reactivate ${coupon.code}`, onclick: async () => {
      try {
        await api("POST", `/admin/api/coupons/${encodeURIComponent(coupon.code)}/reactivate`);
        toast(`${coupon.code} is active again.`);
        refresh();
      } catch (error) { toast(error.message, "error"); }
    } }, "Reactivate");
  // data-label names each cell when a phone shows the rows as cards.
  return h("tr", { dataset: { code: coupon.code } },
    h("td", { dataset: { label: "Code" } }, h("span", { class: "mono" }, coupon.code), coupon.description ? h("div", { class: "faint" }, coupon.description) : null),
    h("td", { dataset: { label: "Status" } }, h("span", { class: `pill ${kind}` }, label)),
    h("td", { class: "num", dataset: { label: "Discount" } }, coupon.discount !== null ? `${coupon.discount}%` : "—"),
    h("td", { class: "num", dataset: { label: "Uses" } }, coupon.max_uses !== null ? `${coupon.usage_count} / ${coupon.max_uses}` : `${coupon.usage_count}`),
    h("td", { dataset: { label: "Expires" } }, coupon.expires_at ? new Date(coupon.expires_at).toLocaleDateString() : "Never"),
    h("td", { class: "num row-actions" }, toggle));
}

export async function couponsPage(view, params, shell) {
  shell.crumbs({ label: "Promo Gen", href: "#/promo/templates" }, { label: "Coupons" });
  const message = h("div");
  const field = (id, label, attrs) => h("div", {}, h("label", { for: id }, label), h("input", { id, name: id, ...attrs }));
  const form = h("form", { class: "card card-pad", id: "coupon-form" },
    h("h2", {}, "Add a code"), message,
    h("div", { class: "row wrap" },
      field("code", "Code", { type: "text", placeholder: "SUMMER25", required: true, maxlength: 64, autocomplete: "off" }),
      field("discount", "Discount %", { type: "number", min: 1, max: 100, step: "any", placeholder: "25" }),
      field("max_uses", "Max uses", { type: "number", min: 1, step: 1, placeholder: "Unlimited" }),
      field("expires_on", "Expires on", { type: "date" }),
      field("description", "Note", { type: "text", placeholder: "Summer newsletter", maxlength: 255 }),
      h("div", { class: "shrink" }, h("button", { type: "submit", class: "btn btn-primary" }, icon(ICONS.plus), "Add"))));
  const table = h("div", { class: "card" });
  const validator = h("p");

  async function refresh() {
    try {
      const data = await api("GET", "/admin/api/coupons");
      validator.textContent = data.validator === "local"
        ? `${data.coupons.length} code${data.coupons.length === 1 ? "" : "s"} in the local registry, which validates every coupon.`
        : "FunderPro validates coupons (FUNDERPRO_PRODUCT_ID is set); this local registry is not consulted.";
      table.replaceChildren(data.coupons.length
        ? h("div", { class: "table-wrap" }, h("table", { class: "data cards-on-phone", id: "coupon-table" },
          h("thead", {}, h("tr", {}, h("th", {}, "Code"), h("th", {}, "Status"), h("th", { class: "num" }, "Discount"), h("th", { class: "num" }, "Uses"), h("th", {}, "Expires"), h("th", {}, h("span", { class: "visually-hidden" }, "Actions")))),
          h("tbody", {}, data.coupons.map((c) => couponRow(c, refresh)))))
        : h("div", { class: "card-pad" }, emptyState(ICONS.ticket, "No codes yet", "Add a code above; visitors and the bot can use it as soon as it is active.")));
    } catch (error) {
      table.replaceChildren(h("div", { class: "card-pad" }, errorBox(error)));
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    const values = Object.fromEntries(new FormData(form).entries());
    try {
      const added = await api("POST", "/admin/api/coupons", values);
      toast(`${added.code} added.`);
      form.reset();
      refresh();
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  });
  view.replaceChildren(
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Coupons"), validator)),
    h("div", { class: "stack" }, form, table));
  await refresh();
}

// --- flow runs ---------------------------------------------------------------------------------

const STATE_PILLS = { COMPLETED: "pill-ok", RUNNING: "pill-info", PENDING: "pill-info", SCHEDULED: "pill-accent", FAILED: "pill-danger", CRASHED: "pill-danger", CANCELLED: "pill-warn", CANCELLING: "pill-warn", PAUSED: "pill-warn" };

export async function runsPage(view, params, shell) {
  shell.crumbs({ label: "Operations", href: "#/ops/runs" }, { label: "Flow runs" });
  const body = h("div", {}, h("div", { class: "loading" }, "Asking Prefect…"));
  const refreshButton = h("button", { type: "button", class: "btn", onclick: () => load() }, icon(ICONS.refresh), "Refresh");
  // Shown only while Prefect answers: a link to a UI that is not running helps nobody.
  const uiLink = h("a", { class: "btn", id: "prefect-ui-link", href: `${PREFECT_UI}/runs`, target: "_blank", rel: "noopener", hidden: true }, icon(ICONS.external), "Prefect UI");
  view.replaceChildren(
    h("div", { class: "page-head" },
      h("div", {}, h("h1", {}, "Flow runs"), h("p", {}, "The latest runs of every Prefect flow: renders, syncs, signals, broadcasts, exports.")),
      h("div", { class: "actions" }, refreshButton, uiLink)),
    body);

  async function load() {
    refreshButton.disabled = true;
    try {
      const data = await api("GET", "/admin/api/flow-runs");
      uiLink.hidden = false;
      const counts = {};
      for (const run of data.runs) counts[run.state_type] = (counts[run.state_type] || 0) + 1;
      const stat = (label, value) => h("div", { class: "card stat" }, h("div", { class: "label" }, label), h("div", { class: "value" }, value));
      body.replaceChildren(data.runs.length
        ? h("div", {},
          h("div", { class: "stats" }, stat("Runs listed", data.runs.length), stat("Completed", counts.COMPLETED || 0),
            stat("Running", (counts.RUNNING || 0) + (counts.PENDING || 0)), stat("Failed", (counts.FAILED || 0) + (counts.CRASHED || 0))),
          h("div", { class: "card" }, h("div", { class: "table-wrap" }, h("table", { class: "data cards-on-phone", id: "runs-table" },
            h("thead", {}, h("tr", {}, h("th", {}, "Flow"), h("th", {}, "Run"), h("th", {}, "State"), h("th", {}, "Started"), h("th", { class: "num" }, "Duration"))),
            h("tbody", {}, data.runs.map((run) => h("tr", {},
              h("td", {}, h("strong", {}, run.flow)),
              h("td", { dataset: { label: "Run" } }, h("a", { href: run.ui_url, target: "_blank", rel: "noopener" }, run.name)),
              h("td", { dataset: { label: "State" } }, h("span", { class: `pill ${STATE_PILLS[run.state_type] || ""}` }, run.state)),
              h("td", { title: run.start || "", dataset: { label: "Started" } }, ago(run.start)),
              h("td", { class: "num", dataset: { label: "Duration" } }, duration(run.duration_s)))))))))
        : emptyState(ICONS.flow, "No flow runs yet", "Runs appear here as soon as a flow runs: render a promo, or start a deployment from the Prefect UI."));
    } catch (error) {
      uiLink.hidden = true;
      const notConfigured = error.status === 503 && error.body.configured === false;
      const [heading, advice] = notConfigured
        ? ["Prefect is not configured", "Set PREFECT_API_URL to your Prefect server's API (make run sets it), restart the web app, then refresh."]
        : error.status === 503
          ? ["Prefect is not reachable", "Start it with make run (or prefect server start), then refresh."]
          : ["Flow runs could not be loaded", "Refresh to try again."];
      body.replaceChildren(h("div", { class: "card card-pad notice", id: "prefect-down", dataset: { reason: notConfigured ? "not-configured" : "unreachable" } },
        h("div", { class: "notice-icon" }, icon(ICONS.warn)),
        h("div", {}, h("h2", {}, heading),
          h("p", {}, error.message.charAt(0).toUpperCase() + error.message.slice(1) + "."),
          h("p", {}, advice))));
    } finally {
      refreshButton.disabled = false;
    }
  }
  await load();
}

// --- signals -----------------------------------------------------------------------------------

export async function signalsPage(view, params, shell) {
  shell.crumbs({ label: "Signals", href: "#/signals" }, { label: "Signals" });
  let data;
  try {
    data = await api("GET", "/admin/api/signals");
  } catch (error) {
    view.replaceChildren(errorBox(error));
    return;
  }
  const price = (value) => (value === null || value === undefined ? "—" : Number(value).toFixed(2));
  view.replaceChildren(
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Signals"), h("p", {}, "Trading signals the strategy opened, newest first."))),
    data.signals.length
      ? h("div", { class: "card" }, h("div", { class: "table-wrap" }, h("table", { class: "data", id: "signals-table" },
        h("thead", {}, h("tr", {}, ["Opened", "Symbol", "Side", "Entry", "Take profit", "Stop loss", "Status", "Pips"].map((t, i) => h("th", { class: i >= 3 && i !== 6 ? "num" : "" }, t)))),
        h("tbody", {}, data.signals.map((s) => h("tr", {},
          h("td", { title: s.opened_at }, ago(s.opened_at)),
          h("td", {}, h("strong", {}, s.symbol), h("span", { class: "faint" }, ` ${s.interval}`)),
          h("td", {}, h("span", { class: `pill ${s.side === "BUY" ? "pill-ok" : "pill-danger"}` }, s.side)),
          h("td", { class: "num" }, price(s.entry)), h("td", { class: "num" }, price(s.take_profit)), h("td", { class: "num" }, price(s.stop_loss)),
          h("td", {}, h("span", { class: `pill ${s.status === "open" ? "pill-info" : s.status === "take_profit" ? "pill-ok" : s.status === "stop_loss" ? "pill-danger" : ""}` }, s.status.replace("_", " "))),
          h("td", { class: "num" }, s.pips === null ? "—" : s.pips.toFixed(1))))))))
      : emptyState(ICONS.trend, "No signals yet", "Signals appear here once the signals flow has run and found a setup. Nothing is shown until then."));
}

export { ApiError };
