// The Broadcasts page: compose a message to a bot's audience (Telegram HTML checked by the server
// before saving), send a test to yourself, send now or at a time, then follow it live (sent,
// blocked, failed, unknown, remaining, rate, ETA) and pause, resume, cancel or retract it.
// Below: the Telegram channels the bots post promos to, and posting one now or later.
import { ago, api, confirmDialog, duration, emptyState, errorBox, h, icon, ICONS, toast } from "./api.js";

const LIVE = new Set(["queued", "scheduled", "running", "retracting"]);
const PILL = { done: "pill-ok", running: "pill-info", queued: "pill-info", paused: "pill-warn", cancelled: "pill-danger", retracted: "", retracting: "pill-warn", draft: "", scheduled: "pill-info" };
// status -> the controls that apply (the server refuses the others anyway)
const CONTROLS = {
  draft: ["test", "send"], scheduled: ["pause", "cancel"], queued: ["pause", "cancel"], running: ["pause", "cancel", "retract"],
  paused: ["resume", "cancel", "retract"], done: ["retract", "requeue"], cancelled: ["retract"], retracting: [], retracted: [],
};
const LABELS = { test: "Send a test to me", send: "Send now", pause: "Pause", resume: "Resume", cancel: "Cancel", retract: "Retract (delete sent)", requeue: "Re-queue unknown" };

const field = (id, label, control, hint) => h("div", { class: "field" }, h("label", { for: id }, label), control, hint ? h("div", { class: "faint" }, hint) : null);

function parseButtons(text) {
  return text.split("\n").map((line) => line.trim()).filter(Boolean).map((line) => {
    const [label, ...rest] = line.split("|");
    return { text: label.trim(), url: rest.join("|").trim() };
  });
}

function composeForm(bots, onSaved) {
  const bot = h("select", { id: "b-bot" }, bots.map((b) => h("option", { value: b }, b)));
  const text = h("textarea", { id: "b-text", rows: 5, maxlength: 20000, placeholder: "<b>Sale</b> ends tonight" });
  const photo = h("select", { id: "b-photo" }, h("option", { value: "none" }, "No photo"), h("option", { value: "upload" }, "Upload a photo"), h("option", { value: "promo" }, "Render a promo"));
  const file = h("input", { id: "b-file", type: "file", accept: "image/png,image/jpeg" });
  const template = h("input", { id: "b-template", type: "text", placeholder: "template slug" });
  const code = h("input", { id: "b-code", type: "text", placeholder: "COUPON" });
  const uploadRow = h("div", { class: "row wrap", hidden: true }, field("b-file", "Photo", file));
  const promoRow = h("div", { class: "row wrap", hidden: true }, field("b-template", "Template", template), field("b-code", "Coupon code", code));
  photo.addEventListener("change", () => { uploadRow.hidden = photo.value !== "upload"; promoRow.hidden = photo.value !== "promo"; });
  const buttons = h("textarea", { id: "b-buttons", rows: 2, placeholder: "Shop now | https://example.com/shop" });
  const days = h("input", { id: "b-days", type: "number", min: 1, max: 3650, placeholder: "any" });
  const language = h("input", { id: "b-language", type: "text", maxlength: 3, placeholder: "any" });
  const paid = h("input", { id: "b-paid", type: "checkbox" });
  const message = h("div", { class: "field-error", id: "b-error", role: "alert" });
  const form = h("form", { class: "card card-pad", id: "compose" },
    h("h2", {}, "Compose"),
    h("div", { class: "row wrap" }, field("b-bot", "Bot", bot), field("b-photo", "Photo", photo)),
    field("b-text", "Message (Telegram HTML: b, i, u, s, a, code, pre, blockquote, tg-spoiler)", text),
    uploadRow, promoRow,
    field("b-buttons", "URL buttons, one per line: text | https://…", buttons),
    h("div", { class: "row wrap" }, field("b-days", "Only users seen in the last N days", days), field("b-language", "Only this language (en, de…)", language),
      h("div", { class: "field" }, h("label", { class: "row shrink" }, paid, " Paid lane (allow_paid_broadcast)"))),
    message,
    h("button", { type: "submit", class: "btn btn-primary", id: "b-save" }, "Save draft"));
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    const draft = {
      bot: bot.value, text: text.value, photo: photo.value, buttons: parseButtons(buttons.value), paid: paid.checked,
      seen_within_days: days.value ? Number(days.value) : null, language: language.value.trim() || null,
      promo_template: photo.value === "promo" ? template.value.trim() : null, promo_code: photo.value === "promo" ? code.value.trim() : null,
    };
    let body = draft;
    if (photo.value === "upload") {
      body = new FormData();
      body.append("draft", JSON.stringify(draft));
      if (file.files[0]) body.append("photo", file.files[0]);
    }
    try {
      const saved = await api("POST", "/admin/api/broadcasts", body);
      toast(`Broadcast ${saved.id} saved as a draft.`);
      form.reset();
      onSaved(saved);
    } catch (error) {
      message.textContent = error.message;
    }
  });
  return form;
}

function progressCard(b) {
  const c = b.counts;
  const done = c.total ? Math.round((100 * (c.total - c.remaining)) / c.total) : 0;
  const stat = (label, value, id) => h("div", { class: "card stat", id }, h("div", { class: "label" }, label), h("div", { class: "value" }, String(value)));
  return h("div", { class: "stack", id: "b-progress", dataset: { status: b.status } },
    h("div", { class: "row wrap" },
      h("span", { class: `pill ${PILL[b.status] || ""}`, id: "b-status" }, b.status),
      h("progress", { max: 100, value: done, id: "b-bar", "aria-label": "Recipients done" }),
      h("span", { class: "faint" }, `${done}% of ${c.total}`)),
    h("div", { class: "stats" },
      stat("Sent", c.sent, "b-sent"), stat("Blocked", c.blocked, "b-blocked"), stat("Failed", c.failed, "b-failed"),
      stat("Unknown", c.unknown, "b-unknown"), stat("Remaining", c.remaining, "b-remaining"),
      stat("Rate", `${c.rate_per_s}/s`, "b-rate"), stat("ETA", c.eta_s === null ? "—" : duration(c.eta_s), "b-eta"),
      c.retracted ? stat("Retracted", c.retracted, "b-retracted") : null));
}

export async function broadcastsPage(view, params, shell) {
  shell.crumbs({ label: "Broadcasts", href: "#/broadcasts" }, { label: "Overview" });
  let timer = null;
  let selected = null;
  const list = h("div", { class: "card", id: "b-list" });
  const detail = h("div", { class: "card card-pad", id: "b-detail", hidden: true });
  const channelsBox = h("div", { class: "card card-pad", id: "channels" });
  view.replaceChildren(h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Broadcasts"),
    h("p", {}, "Messages to a bot's active users, paced per bot token and resumable; promo posts to channels."))),
  h("div", { class: "loading" }, "Loading…"));

  let data;
  try {
    data = await api("GET", "/admin/api/broadcasts");
  } catch (error) {
    view.replaceChildren(errorBox(error));
    return null;
  }
  if (!data.bots.length) {
    view.replaceChildren(h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Broadcasts"))),
      emptyState(ICONS.send, "No bot can broadcast", "Set TELEGRAM_BOT_TOKEN (or FOREX_BOT_TOKEN) to broadcast with that bot."));
    return null;
  }

  async function act(b, action) {
    if (action === "cancel" && !(await confirmDialog("Cancel broadcast", "Nobody else will get it. Cancel?", "Cancel broadcast"))) return;
    if (action === "retract" && !(await confirmDialog("Retract broadcast", "Delete the messages already sent (Telegram allows 48 h)?", "Retract"))) return;
    try {
      const url = `/admin/api/broadcasts/${b.id}/${action}`;
      const answer = await api("POST", url, action === "send" ? { at: null } : undefined);
      toast(action === "test" ? `Test sent to ${answer.chats} chat(s).` : `Broadcast ${b.id}: ${action} requested.`);
      if (action !== "test") show(answer.id ? answer : await api("GET", `/admin/api/broadcasts/${b.id}`));
      refreshList();
    } catch (error) {
      toast(error.message, "error");
    }
  }

  function scheduler(b) {
    const at = h("input", { type: "datetime-local", id: "b-at", "aria-label": "Send at" });
    const f = h("form", { class: "row wrap", id: "b-schedule" }, at, h("button", { type: "submit", class: "btn btn-sm shrink" }, "Schedule"));
    f.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!at.value) { toast("Pick a date and time first.", "error"); return; }
      try {
        show(await api("POST", `/admin/api/broadcasts/${b.id}/send`, { at: new Date(at.value).toISOString() }));
        toast(`Broadcast ${b.id} scheduled.`);
        refreshList();
      } catch (error) {
        toast(error.message, "error");
      }
    });
    return f;
  }

  function show(b) {
    selected = b.id;
    detail.hidden = false;
    const controls = (CONTROLS[b.status] || []).map((action) => h("button", {
      type: "button", class: `btn btn-sm${action === "cancel" || action === "retract" ? " btn-danger" : action === "send" ? " btn-primary" : ""}`,
      id: `b-${action}`, onclick: () => act(b, action), disabled: action === "test" && !data.test_chats,
      title: action === "test" && !data.test_chats ? "Set ADMIN_TELEGRAM_IDS to receive tests" : "",
    }, LABELS[action]));
    detail.replaceChildren(
      h("div", { class: "row wrap" }, h("h2", {}, `Broadcast ${b.id} · ${b.bot}`), h("div", { class: "actions shrink" }, controls)),
      b.status === "draft" ? scheduler(b) : null,
      b.scheduled_at && b.status === "scheduled" ? h("p", { class: "faint", id: "b-when" }, `Scheduled for ${new Date(b.scheduled_at).toLocaleString()}`) : null,
      h("pre", { class: "faint", id: "b-text-shown" }, b.text),
      progressCard(b));
    clearTimeout(timer);
    if (LIVE.has(b.status)) timer = setTimeout(poll, 1500);
  }

  async function poll() {
    if (selected === null) return;
    try {
      show(await api("GET", `/admin/api/broadcasts/${selected}`));
    } catch (error) {
      timer = setTimeout(poll, 5000);
    }
  }

  async function refreshList() {
    const fresh = await api("GET", "/admin/api/broadcasts").catch(() => data);
    data = fresh;
    list.replaceChildren(data.broadcasts.length
      ? h("div", { class: "table-wrap" }, h("table", { class: "data", id: "b-table" },
        h("thead", {}, h("tr", {}, ["#", "Bot", "Message", "Status", "Sent", "Blocked", "Failed", "Unknown", "Created"].map((t) => h("th", {}, t)))),
        h("tbody", {}, data.broadcasts.map((b) => h("tr", { class: "clickable", dataset: { id: b.id }, onclick: () => show(b) },
          h("td", {}, String(b.id)), h("td", {}, b.bot), h("td", {}, b.text.slice(0, 60)),
          h("td", {}, h("span", { class: `pill ${PILL[b.status] || ""}` }, b.status)),
          h("td", { class: "num" }, String(b.counts.sent)), h("td", { class: "num" }, String(b.counts.blocked)),
          h("td", { class: "num" }, String(b.counts.failed)), h("td", { class: "num" }, String(b.counts.unknown)),
          h("td", { title: b.created_at }, ago(b.created_at)))))))
      : h("div", { class: "card-pad faint" }, "No broadcasts yet: compose the first one above."));
  }

  async function refreshChannels() {
    let got;
    try {
      got = await api("GET", "/admin/api/channels");
    } catch (error) {
      channelsBox.replaceChildren(errorBox(error));
      return;
    }
    const chat = h("input", { id: "ch-chat", type: "text", placeholder: "@channel or -100…" });
    const chBot = h("select", { id: "ch-bot" }, data.bots.map((b) => h("option", { value: b }, b)));
    const add = h("form", { class: "row wrap", id: "ch-add" }, field("ch-bot", "Bot", chBot), field("ch-chat", "Channel", chat),
      h("button", { type: "submit", class: "btn shrink" }, icon(ICONS.send), "Register channel"));
    add.addEventListener("submit", async (event) => {
      event.preventDefault();
      try {
        await api("POST", "/admin/api/channels", { bot: chBot.value, chat: chat.value.trim() });
        toast("Channel registered.");
        refreshChannels();
      } catch (error) {
        toast(error.message, "error");
      }
    });
    const postForm = (c) => {
      const tpl = h("input", { type: "text", placeholder: "template", "aria-label": "Template" });
      const cd = h("input", { type: "text", placeholder: "CODE", "aria-label": "Coupon code" });
      const cap = h("input", { type: "text", placeholder: "caption (HTML)", "aria-label": "Caption" });
      const at = h("input", { type: "datetime-local", "aria-label": "Post at (empty: now)" });
      const f = h("form", { class: "row wrap" }, tpl, cd, cap, at, h("button", { type: "submit", class: "btn btn-sm shrink" }, "Post"));
      f.addEventListener("submit", async (event) => {
        event.preventDefault();
        try {
          const when = at.value ? new Date(at.value).toISOString() : null;
          const report = await api("POST", `/admin/api/channels/${c.id}/posts`, { template: tpl.value.trim(), code: cd.value.trim(), caption: cap.value, at: when });
          toast(when ? "Post scheduled." : report.state === "posted" ? `Posted (message ${report.message_id}).` : `Not posted: ${report.error || report.state}`, report.state === "failed" ? "error" : "ok");
          refreshChannels();
        } catch (error) {
          toast(error.message, "error");
        }
      });
      return f;
    };
    channelsBox.replaceChildren(h("h2", {}, "Channels"), add,
      got.channels.length ? h("div", { class: "stack" }, got.channels.map((c) => h("div", { class: "card card-pad", dataset: { channel: c.id } },
        h("strong", {}, c.username ? `@${c.username}` : c.title), h("span", { class: "faint" }, ` ${c.bot} · ${c.chat_id}`), postForm(c))))
        : h("p", { class: "faint" }, "No channels yet. Make the bot an administrator of the channel, then register it here."),
      got.posts.length ? h("div", { class: "table-wrap" }, h("table", { class: "data", id: "posts-table" },
        h("thead", {}, h("tr", {}, ["#", "Channel", "Template", "Code", "State", "Message", "When"].map((t) => h("th", {}, t)))),
        h("tbody", {}, got.posts.map((p) => h("tr", {}, h("td", {}, String(p.id)), h("td", {}, String(p.channel_id)), h("td", {}, p.template),
          h("td", {}, p.code), h("td", { title: p.error || "" }, p.state), h("td", {}, p.message_id ? String(p.message_id) : "—"),
          h("td", {}, ago(p.posted_at || p.scheduled_at || p.created_at))))))) : null);
  }

  view.replaceChildren(
    h("div", { class: "page-head" }, h("div", {}, h("h1", {}, "Broadcasts"),
      h("p", {}, `Paced at ${data.rate_per_s}/s per bot (${data.paid_rate_per_s}/s on the paid lane), shared by every process; resumable.`))),
    h("div", { class: "stack" }, composeForm(data.bots, (saved) => { show(saved); refreshList(); }), detail, list, channelsBox));
  refreshList();
  refreshChannels();
  return () => { selected = null; clearTimeout(timer); };
}
