// The dashboard's Campaigns pages: the list (with a form for a new one), one campaign (settings,
// overlays per shape, status, figures) and the review queue of submitted posts (filters, approve
// or reject one or many with a note, CSV export).
import { ago, api, ApiError, emptyState, errorBox, h, icon, ICONS, toast } from "./api.js";

const CSRF = document.querySelector('meta[name="csrf-token"]')?.content ?? "";
const STATUS_PILL = { draft: "", live: "pill-ok", ended: "pill-warn", pending: "pill-info", approved: "pill-ok", rejected: "pill-danger" };

function pill(status) {
  return h("span", { class: `pill ${STATUS_PILL[status] ?? ""}` }, status);
}

function crumbs(shell, ...more) {
  shell.crumbs({ label: "Campaigns", href: "#/campaigns" }, ...more);
}

// --- the list -------------------------------------------------------------------------------------

function newCampaignForm() {
  const message = h("div");
  const name = h("input", { id: "campaign-name", type: "text", maxlength: 120, required: true, placeholder: "Summer of Gold" });
  const slug = h("input", { id: "campaign-slug", type: "text", maxlength: 64, required: true, placeholder: "summer-of-gold" });
  name.addEventListener("input", () => {
    if (!slug.dataset.touched) slug.value = name.value.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "").slice(0, 64);
  });
  slug.addEventListener("input", () => { slug.dataset.touched = "1"; });
  const form = h("form", { class: "card card-pad", id: "campaign-form" },
    h("h2", {}, "New campaign"), message,
    h("div", { class: "row wrap" },
      h("div", {}, h("label", { for: "campaign-name" }, "Name"), name),
      h("div", {}, h("label", { for: "campaign-slug" }, "Page address /c/…"), slug),
      h("div", { class: "shrink" }, h("button", { type: "submit", class: "btn btn-primary" }, icon(ICONS.plus), "Create"))));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    try {
      const campaign = await api("POST", "/admin/api/campaigns", { name: name.value, slug: slug.value });
      toast(`${campaign.name} created as a draft: upload an overlay, then make it live.`);
      window.location.hash = `#/campaigns/${campaign.slug}`;
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  });
  return form;
}

export async function campaignsPage(view, params, shell) {
  crumbs(shell, { label: "Overview" });
  let data;
  try {
    data = await api("GET", "/admin/api/campaigns");
  } catch (error) {
    view.replaceChildren(errorBox(error));
    return;
  }
  const rows = data.campaigns.map((c) => h("tr", { dataset: { slug: c.slug } },
    h("td", {}, h("a", { href: `#/campaigns/${c.slug}` }, h("strong", {}, c.name)), h("div", { class: "faint" }, `/c/${c.slug}`)),
    h("td", {}, pill(c.effective_status)),
    h("td", { class: "num" }, String(c.photos)),
    h("td", { class: "num" }, String(c.submissions)),
    h("td", { class: "num" }, c.pending ? h("a", { href: `#/campaigns/review?campaign=${c.slug}&status=pending` }, `${c.pending} to review`) : "0"),
    h("td", {}, Object.keys(c.overlays).join(", ") || h("span", { class: "faint" }, "no overlay"))));
  view.replaceChildren(
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Campaigns"),
      h("p", {}, "Photo frames people make on each campaign's page, and the posts they enter.")),
      h("div", { class: "actions" }, h("a", { class: "btn", href: "#/campaigns/review" }, "Review queue"))),
    h("div", { class: "stack" }, newCampaignForm(),
      rows.length
        ? h("div", { class: "card" }, h("div", { class: "table-wrap" }, h("table", { class: "data", id: "campaign-table" },
          h("thead", {}, h("tr", {}, ["Campaign", "Status", "Photos", "Submissions", "Pending", "Shapes"].map((t, i) => h("th", { class: i >= 2 && i <= 4 ? "num" : "" }, t)))),
          h("tbody", {}, rows))))
        : emptyState(ICONS.megaphone, "No campaigns yet", "Create one above, upload its overlay, and share its page.")));
}

// --- one campaign -----------------------------------------------------------------------------------

function toLocalInput(iso) {
  if (!iso) return "";
  const date = new Date(iso);
  return new Date(date.getTime() - date.getTimezoneOffset() * 60000).toISOString().slice(0, 16);
}

function fromLocalInput(value) {
  return value ? new Date(value).toISOString() : null;
}

async function uploadOverlay(slug, shape, file) {
  const response = await fetch(`/admin/api/campaigns/${slug}/overlays/${shape}`, {
    method: "PUT", credentials: "same-origin", headers: { "X-CSRF-Token": CSRF, "Content-Type": "image/png", Accept: "application/json" }, body: file,
  });
  const body = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

function overlayCard(campaign, shape, info, refresh) {
  const current = campaign.overlays[shape];
  const message = h("div");
  const input = h("input", { type: "file", accept: "image/png", id: `overlay-${shape}`, "aria-label": `${info.label} overlay PNG` });
  input.addEventListener("change", async () => {
    if (!input.files[0]) return;
    message.replaceChildren();
    try {
      await uploadOverlay(campaign.slug, shape, input.files[0]);
      toast(`${info.label} overlay saved.`);
      refresh();
    } catch (error) {
      message.replaceChildren(errorBox(error));
      input.value = "";
    }
  });
  const remove = current ? h("button", { type: "button", class: "btn btn-sm btn-danger", onclick: async () => {
    try {
      await api("DELETE", `/admin/api/campaigns/${campaign.slug}/overlays/${shape}`);
      refresh();
    } catch (error) { toast(error.message, "error"); }
  } }, "Remove") : null;
  return h("div", { class: "card card-pad overlay-card", dataset: { shape } },
    h("h2", {}, `${info.label} · ${info.width}×${info.height}`),
    current ? h("img", { src: current.url, alt: `${info.label} overlay`, style: `width:100%;max-width:220px;aspect-ratio:${info.width}/${info.height};background:repeating-conic-gradient(#333 0% 25%, #222 0% 50%) 50% / 16px 16px;border-radius:8px` })
      : h("p", { class: "faint" }, "No overlay: this shape is not offered."),
    message,
    h("label", { for: `overlay-${shape}` }, current ? "Replace with a PNG" : "Upload a PNG with a see-through window"), input, remove);
}

function settingsForm(campaign, platforms, refresh) {
  const message = h("div");
  const field = (id, label, control) => h("div", { class: "field" }, h("label", { for: id }, label), control);
  const text = (id, value, attrs = {}) => h("input", { id, type: "text", value: value ?? "", ...attrs });
  const controls = {
    name: text("c-name", campaign.name, { maxlength: 120 }),
    description: h("textarea", { id: "c-description", rows: 2, maxlength: 2000 }, campaign.description),
    starts_at: h("input", { id: "c-starts", type: "datetime-local", value: toLocalInput(campaign.starts_at) }),
    ends_at: h("input", { id: "c-ends", type: "datetime-local", value: toLocalInput(campaign.ends_at) }),
    caption_template: h("textarea", { id: "c-caption", rows: 3, maxlength: 2000, placeholder: "{name} supports the Summer of Gold! Code {code}" }, campaign.caption_template),
    hashtags: text("c-hashtags", campaign.hashtags.map((t) => `#${t}`).join(" "), { placeholder: "#summer #gold" }),
    coupon_code: text("c-code", campaign.coupon_code, { maxlength: 64 }),
    per_person_limit: h("input", { id: "c-limit", type: "number", min: 1, max: 100, value: campaign.per_person_limit }),
  };
  const boxes = Object.entries(platforms).map(([id, label]) => h("label", { class: "switch" },
    h("input", { type: "checkbox", value: id, checked: campaign.platforms.includes(id), "data-platform": id }), label));
  const form = h("form", { class: "card card-pad", id: "campaign-settings" },
    h("h2", {}, "Settings"), message,
    field("c-name", "Name", controls.name),
    field("c-description", "Description (shown on the page)", controls.description),
    h("div", { class: "row wrap" }, field("c-starts", "Opens at (your time)", controls.starts_at), field("c-ends", "Ends at (your time)", controls.ends_at)),
    field("c-caption", "Caption ({name} and {code} are filled in)", controls.caption_template),
    h("div", { class: "row wrap" }, field("c-hashtags", "Hashtags", controls.hashtags), field("c-code", "Code for {code}", controls.coupon_code),
      field("c-limit", "Posts per person", controls.per_person_limit)),
    h("div", { class: "field" }, h("label", {}, "Platforms accepted"), h("div", { class: "row wrap" }, boxes)),
    h("button", { type: "submit", class: "btn btn-primary" }, "Save settings"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.replaceChildren();
    const body = {
      name: controls.name.value,
      description: controls.description.value,
      starts_at: fromLocalInput(controls.starts_at.value),
      ends_at: fromLocalInput(controls.ends_at.value),
      caption_template: controls.caption_template.value,
      hashtags: controls.hashtags.value.split(/[\s,]+/).filter(Boolean),
      coupon_code: controls.coupon_code.value || null,
      per_person_limit: Number(controls.per_person_limit.value || 1),
      platforms: boxes.map((b) => b.querySelector("input")).filter((i) => i.checked).map((i) => i.value),
    };
    try {
      await api("PUT", `/admin/api/campaigns/${campaign.slug}`, body);
      toast("Settings saved.");
      refresh();
    } catch (error) {
      message.replaceChildren(errorBox(error));
    }
  });
  return form;
}

function statsCard(stats) {
  const max = Math.max(1, ...stats.days.map((d) => Math.max(d.photos, d.submissions)));
  const bars = stats.days.map((d) => h("div", { class: "bar-day", title: `${d.day}: ${d.photos} photos, ${d.submissions} submissions`, style: "display:flex;flex-direction:column;justify-content:flex-end;gap:1px;flex:1;height:100%" },
    h("div", { style: `height:${(d.photos / max) * 100}%;background:var(--accent-strong, #6d5dfc);min-height:${d.photos ? 2 : 0}px` }),
    h("div", { style: `height:${(d.submissions / max) * 50}%;background:var(--ok, #34d399);min-height:${d.submissions ? 2 : 0}px` })));
  const list = (title, entries) => h("div", {}, h("h3", {}, title), h("ul", {}, Object.entries(entries).map(([k, v]) => h("li", {}, `${k}: ${v}`))));
  return h("div", { class: "card card-pad", id: "campaign-stats" },
    h("h2", {}, "Figures"),
    h("p", {}, h("strong", { id: "stat-photos" }, String(stats.photos)), " photos made · ", h("strong", { id: "stat-submissions" }, String(stats.submissions)), " submissions"),
    h("div", { class: "row wrap" }, list("By status", stats.by_status), list("By platform", stats.by_platform), list("Photos by shape", stats.photos_by_shape)),
    h("p", { class: "faint" }, "Last 30 days (UTC): photos (purple) and submissions (green) per day."),
    h("div", { style: "display:flex;gap:2px;align-items:stretch;height:90px" }, bars));
}

export async function campaignPage(view, [slug], shell) {
  crumbs(shell, { label: slug });
  let campaign, index, stats;
  try {
    [campaign, index, stats] = await Promise.all([
      api("GET", `/admin/api/campaigns/${slug}`), api("GET", "/admin/api/campaigns"), api("GET", `/admin/api/campaigns/${slug}/stats`)]);
  } catch (error) {
    view.replaceChildren(errorBox(error));
    return;
  }
  const refresh = () => campaignPage(view, [slug], shell);
  const move = (status, label) => h("button", { type: "button", class: `btn ${status === "ended" ? "btn-danger" : "btn-primary"}`, id: `status-${status}`, onclick: async () => {
    try {
      await api("POST", `/admin/api/campaigns/${slug}/status`, { status });
      toast(`${campaign.name} is ${status}.`);
      refresh();
    } catch (error) { toast(error.message, "error"); }
  } }, label);
  const moves = { draft: [move("live", "Go live"), move("ended", "End")], live: [move("ended", "End now")], ended: [] }[campaign.status];
  view.replaceChildren(
    h("div", { class: "page-head" },
      h("div", {}, h("h1", {}, campaign.name, " ", pill(campaign.effective_status)),
        h("p", {}, "Page: ", h("a", { href: campaign.public_url, target: "_blank", rel: "noopener" }, campaign.public_url), campaign.status === "draft" && campaign.starts_at ? ` · opens by itself at ${new Date(campaign.starts_at).toLocaleString()}` : "")),
      h("div", { class: "actions" }, h("a", { class: "btn", href: `#/campaigns/review?campaign=${slug}` }, "Submissions"), ...moves)),
    h("div", { class: "stack" },
      statsCard(stats),
      h("div", { class: "row wrap" }, Object.entries(index.shapes).map(([shape, info]) => overlayCard(campaign, shape, info, refresh))),
      settingsForm(campaign, index.platforms, refresh)));
}

// --- the review queue -----------------------------------------------------------------------------

export async function reviewPage(view, params, shell) {
  crumbs(shell, { label: "Review queue" });
  const query = new URLSearchParams(window.location.hash.split("?")[1] || "");
  let index;
  try {
    index = await api("GET", "/admin/api/campaigns");
  } catch (error) {
    view.replaceChildren(errorBox(error));
    return;
  }
  const select = (id, label, options, value) => h("div", {}, h("label", { for: id }, label),
    h("select", { id }, h("option", { value: "" }, "All"), options.map(([v, text]) => h("option", { value: v, selected: v === value }, text))));
  const filters = h("div", { class: "row wrap card card-pad", id: "review-filters" },
    select("f-campaign", "Campaign", index.campaigns.map((c) => [c.slug, c.name]), query.get("campaign") || ""),
    select("f-status", "Status", [["pending", "Pending"], ["approved", "Approved"], ["rejected", "Rejected"]], query.get("status") || ""),
    select("f-platform", "Platform", Object.entries(index.platforms), query.get("platform") || ""));
  const note = h("input", { type: "text", id: "review-note", maxlength: 500, placeholder: "Note (optional, kept with the decision)" });
  const table = h("div", { class: "card" });
  const exportLink = h("a", { class: "btn", id: "export-csv" }, "Export CSV");
  const chosen = () => [...table.querySelectorAll("input[data-id]:checked")].map((i) => Number(i.dataset.id));

  function currentFilter() {
    const params = new URLSearchParams();
    for (const [key, id] of [["campaign", "f-campaign"], ["status", "f-status"], ["platform", "f-platform"]]) {
      const value = document.getElementById(id).value;
      if (value) params.set(key, value);
    }
    return params;
  }

  async function decide(decision, ids) {
    if (!ids.length) { toast("Tick at least one submission first.", "error"); return; }
    try {
      const answer = await api("POST", "/admin/api/campaign-submissions/review", { ids, decision, note: note.value });
      toast(`${answer.count} submission${answer.count === 1 ? "" : "s"} ${decision}.`);
      note.value = "";
      load();
    } catch (error) { toast(error.message, "error"); }
  }

  async function load() {
    const params = currentFilter();
    exportLink.href = `/admin/api/campaign-submissions.csv?${params}`;
    let data;
    try {
      data = await api("GET", `/admin/api/campaign-submissions?${params}`);
    } catch (error) {
      table.replaceChildren(errorBox(error));
      return;
    }
    const all = h("input", { type: "checkbox", "aria-label": "Select all", onchange: () => {
      for (const box of table.querySelectorAll("input[data-id]")) box.checked = all.checked;
    } });
    table.replaceChildren(data.submissions.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "data", id: "submission-table" },
        h("thead", {}, h("tr", {}, h("th", {}, all), ["Sent", "Campaign", "Post", "Who", "Status", "Review", ""].map((t) => h("th", {}, t)))),
        h("tbody", {}, data.submissions.map((s) => h("tr", { dataset: { id: s.id } },
          h("td", {}, h("input", { type: "checkbox", "data-id": s.id, "aria-label": `Select submission ${s.id}` })),
          h("td", { title: s.created_at }, ago(s.created_at)),
          h("td", {}, s.campaign),
          h("td", {}, h("a", { href: s.url, target: "_blank", rel: "noopener noreferrer" }, `${index.platforms[s.platform]} ↗`), s.resolved ? null : h("span", { class: "pill pill-warn" }, "short link")),
          h("td", {}, s.name, h("div", { class: "faint" }, s.contact)),
          h("td", {}, pill(s.status)),
          h("td", {}, s.reviewed_at ? h("div", { class: "faint" }, `${s.reviewed_by}, ${ago(s.reviewed_at)}`) : "—", s.review_note ? h("div", {}, s.review_note) : null),
          h("td", { class: "num" },
            h("button", { type: "button", class: "btn btn-sm", "aria-label": `Approve ${s.id}`, onclick: () => decide("approved", [s.id]) }, "Approve"),
            h("button", { type: "button", class: "btn btn-sm btn-danger", "aria-label": `Reject ${s.id}`, onclick: () => decide("rejected", [s.id]) }, "Reject")))))))
      : h("div", { class: "card-pad" }, emptyState(ICONS.megaphone, "Nothing here", "No submission matches these filters.")));
  }

  for (const id of ["f-campaign", "f-status", "f-platform"]) filters.querySelector(`#${id}`).addEventListener("change", load);
  view.replaceChildren(
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Review queue"), h("p", {}, "Posts people entered. Links open in a new tab; short links need a look before approving.")),
      h("div", { class: "actions" }, exportLink)),
    h("div", { class: "stack" }, filters,
      h("div", { class: "row wrap card card-pad" }, note,
        h("div", { class: "shrink" }, h("button", { type: "button", class: "btn btn-primary", id: "approve-selected", onclick: () => decide("approved", chosen()) }, "Approve selected")),
        h("div", { class: "shrink" }, h("button", { type: "button", class: "btn btn-danger", id: "reject-selected", onclick: () => decide("rejected", chosen()) }, "Reject selected"))),
      table));
  await load();
}
