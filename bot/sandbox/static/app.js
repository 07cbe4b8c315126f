// The local workspace page: polls the workspace every second and renders it;
// every click goes to the sandbox, which sends Alliance what Slack would send.
"use strict";

const { el } = BlockKit;
const USAGE = "/alliance [CASE] | new couple | log CPL-7KQ2 8 7 8 8 | cases | history CPL-7KQ2 | help";
const ui = {
  user: new URLSearchParams(location.search).get("as") || localStorage.getItem("alliance-sandbox-user") || "",
  place: "C0SUPERV1", // a channel id, or "home"
  thread: null,       // ts of the open thread
  state: null,
  drawn: "",          // what the main pane shows, to redraw only on change
  modalKey: "",
};

async function api(path, body) {
  const response = await fetch("/api/" + path, {
    method: "POST", headers: { "Content-Type": "application/json" },
    body: JSON.stringify(Object.assign({ user: ui.user }, body || {})),
  });
  const answer = await response.json();
  if (!answer.ok) toast(answer.error || "Something went wrong.");
  return answer;
}

function toast(text) {
  const box = document.getElementById("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, 6000);
}

function ctx(container) {
  const s = ui.state;
  return {
    names: s.names,
    channels: Object.fromEntries(s.channels.map((c) => [c.id, c.name.replace(/^# /, "")])),
    onAction: (action) => {
      const body = { action };
      if (container.view_id) body.values = BlockKit.values(document.getElementById("modal-layer"));
      body.container = container;
      api("action", body);
    },
  };
}

function timeOf(ts) {
  const moment = new Date(Number(ts.split(".")[0]) * 1000);
  const me = ui.state.people.find((p) => p.id === ui.user);
  return moment.toLocaleString("en-GB", { timeZone: me.tz, weekday: "short", day: "numeric", month: "short",
                                          hour: "2-digit", minute: "2-digit" });
}

// -- messages ------------------------------------------------------------------
function messageNode(message, channel, inThread) {
  const box = el("article", "message" + (message.ephemeral_for ? " ephemeral" : ""));
  box.dataset.ts = message.ts;
  const isBot = message.user === "UBOT0001";
  const name = isBot ? "Alliance" : (ui.state.names[message.user] || message.user);
  box.appendChild(el("div", "avatar" + (isBot ? " bot" : ""), name.slice(0, 1)));
  const body = el("div", "message-body");
  const meta = el("div", "meta");
  meta.appendChild(el("span", "author", name));
  if (isBot) meta.appendChild(el("span", "badge", "APP"));
  meta.appendChild(el("span", "time", timeOf(message.ts)));
  if (message.edited) meta.appendChild(el("span", "edited", "(edited)"));
  body.appendChild(meta);
  if (message.ephemeral_for) body.appendChild(el("div", "only-you", "Only visible to you"));
  const context = ctx({ channel, ts: message.ts });
  body.appendChild(message.blocks && message.blocks.length ? BlockKit.render(message.blocks, context)
                                                           : BlockKit.mrkdwn(message.text, context));
  (message.files || []).forEach((file) => {
    const figure = el("figure", "file");
    figure.appendChild(el("figcaption", null, file.title || file.name));
    if ((file.mimetype || "").startsWith("image/")) {
      const img = el("img", "file-image");
      img.src = file.url_private;
      img.alt = file.title || file.name;
      figure.appendChild(img);
    } else {
      const a = el("a", "link", file.name);
      a.href = file.url_private;
      figure.appendChild(a);
    }
    body.appendChild(figure);
  });
  if (!inThread && !message.ephemeral_for && channel.startsWith("C")) {
    const replies = el("button", "thread-link", message.reply_count
      ? message.reply_count + (message.reply_count === 1 ? " reply" : " replies") : "Reply in thread");
    replies.type = "button";
    if (!message.reply_count) replies.classList.add("quiet");
    replies.addEventListener("click", () => openThread(message.ts));
    body.appendChild(replies);
  }
  box.appendChild(body);
  return box;
}

function drawMessages() {
  const s = ui.state;
  const pane = document.getElementById("messages");
  const atBottom = pane.scrollHeight - pane.scrollTop - pane.clientHeight < 40;
  pane.replaceChildren();
  const messages = s.messages[ui.place] || [];
  if (!messages.length) pane.appendChild(el("p", "empty", ui.place.startsWith("D")
    ? "This is your direct message with Alliance. Type /alliance help below to start."
    : "Warnings and the weekly digest for supervisors appear here. Type /alliance help below to start."));
  messages.forEach((m) => pane.appendChild(messageNode(m, ui.place, false)));
  if (atBottom || ui.drawnPlace !== ui.place) pane.scrollTop = pane.scrollHeight;
  ui.drawnPlace = ui.place;
}

function drawThread() {
  const aside = document.getElementById("thread");
  const root = (ui.state.messages[ui.place] || []).find((m) => m.ts === ui.thread);
  if (!ui.thread || !root) { aside.hidden = true; return; }
  aside.hidden = false;
  const list = document.getElementById("thread-messages");
  list.replaceChildren(messageNode(root, ui.place, true), el("div", "reply-count",
    root.reply_count + (root.reply_count === 1 ? " reply" : " replies")));
  root.replies.forEach((m) => list.appendChild(messageNode(m, ui.place, true)));
}

function openThread(ts) {
  ui.thread = ts;
  drawThread();
  document.getElementById("reply").focus();
}

// -- App Home ------------------------------------------------------------------
function drawHome() {
  const pane = document.getElementById("messages");
  pane.replaceChildren();
  const home = ui.state.home;
  if (!home) { pane.appendChild(el("p", "empty", "Opening App Home…")); return; }
  const box = el("div", "home");
  box.appendChild(BlockKit.render(home.view.blocks, ctx({ view_id: home.id })));
  pane.appendChild(box);
}

// -- modals ----------------------------------------------------------------------
function drawModal() {
  const layer = document.getElementById("modal-layer");
  const modal = ui.state.modal;
  if (!modal) { layer.hidden = true; layer.replaceChildren(); ui.modalKey = ""; return; }
  const key = modal.id + "/" + modal.hash;
  if (key !== ui.modalKey) {
    ui.modalKey = key;
    const view = modal.view;
    const dialog = el("form", "modal");
    dialog.setAttribute("role", "dialog");
    dialog.appendChild(el("h2", "modal-title", view.title && view.title.text));
    const body = el("div", "modal-body");
    body.appendChild(BlockKit.render(view.blocks, ctx({ view_id: modal.id })));
    body.appendChild(el("div", "field-error general"));
    dialog.appendChild(body);
    const footer = el("div", "modal-footer");
    const close = el("button", "btn", (view.close && view.close.text) || "Close");
    close.type = "button";
    close.addEventListener("click", () => api("close", { view_id: modal.id }));
    footer.appendChild(close);
    if (view.submit) {
      const submit = el("button", "btn primary", view.submit.text);
      submit.type = "submit";
      footer.appendChild(submit);
    }
    dialog.addEventListener("submit", (event) => {
      event.preventDefault();
      api("submit", { view_id: modal.id, values: BlockKit.values(layer) });
    });
    dialog.appendChild(footer);
    layer.replaceChildren(dialog);
    layer.hidden = false;
  }
  layer.querySelectorAll(".field-error").forEach((node) => {
    const id = node.dataset.errorFor;
    node.textContent = id === undefined ? (modal.errors[""] || "") : (modal.errors[id] || "");
  });
}

// -- the frame ---------------------------------------------------------------------
function drawSidebar() {
  const s = ui.state;
  const people = document.getElementById("person");
  if (!people.options.length) {
    s.people.forEach((p) => {
      const o = el("option", null, p.label + " · " + p.role + " · " + p.tz.split("/").pop().replace("_", " "));
      o.value = p.id;
      people.appendChild(o);
    });
  }
  people.value = ui.user;
  const channels = document.getElementById("channels");
  channels.replaceChildren();
  s.channels.forEach((c) => {
    const item = el("button", "place" + (ui.place === c.id ? " active" : ""), c.name);
    item.type = "button";
    item.dataset.place = c.dm ? "dm" : c.id;
    item.addEventListener("click", () => go(c.id));
    channels.appendChild(item);
  });
  const home = document.getElementById("app-home");
  home.classList.toggle("active", ui.place === "home");
  document.getElementById("clock-now").textContent = s.clock.local + " · " + s.clock.tz;
}

function go(place) {
  ui.place = place;
  ui.thread = null;
  ui.drawn = "";
  if (place === "home") api("home");
  render();
}

function render() {
  const s = ui.state;
  if (!s) return;
  if (ui.place.startsWith("D")) ui.place = s.channels.find((c) => c.dm).id;
  drawSidebar();
  const channel = s.channels.find((c) => c.id === ui.place);
  document.getElementById("title").textContent = ui.place === "home" ? "Alliance · Home" : channel.name;
  document.getElementById("composer").hidden = ui.place === "home";
  document.getElementById("compose").placeholder = channel && channel.dm
    ? "/alliance … (this app takes commands only)" : "Message " + (channel ? channel.name : "") + ", or /alliance …";
  const drawn = [s.version, ui.place, ui.user, ui.thread].join("|");
  if (drawn !== ui.drawn) {
    ui.drawn = drawn;
    if (ui.place === "home") drawHome(); else drawMessages();
    drawThread();
  }
  drawModal();
}

async function poll() {
  try {
    const response = await fetch("/api/state?user=" + encodeURIComponent(ui.user));
    ui.state = await response.json();
    if (!ui.user) ui.user = ui.state.me;
    document.body.dataset.ready = "yes";
    render();
  } catch (error) {
    toast("The local workspace is not answering (was it stopped?).");
  }
}

function openFromHash() {
  const match = location.hash.match(/^#\/?([CD][A-Z0-9]+)\/p(\d+)(\d{6})$/);
  if (!match) return;
  go(match[1]);
  ui.thread = match[2] + "." + match[3];
  ui.drawn = "";
  render();
}

function wire() {
  document.getElementById("person").addEventListener("change", (event) => {
    ui.user = event.target.value;
    localStorage.setItem("alliance-sandbox-user", ui.user);
    ui.drawn = ""; ui.modalKey = "";
    if (ui.place === "home") api("home");
    poll();
  });
  document.getElementById("app-home").addEventListener("click", () => go("home"));
  const compose = document.getElementById("compose");
  compose.addEventListener("input", () => {
    document.getElementById("usage").hidden = !compose.value.startsWith("/");
  });
  document.getElementById("composer").addEventListener("submit", async (event) => {
    event.preventDefault();
    const text = compose.value.trim();
    if (!text) return;
    compose.value = "";
    document.getElementById("usage").hidden = true;
    await api("command", { channel: ui.place, text });
    poll();
  });
  document.getElementById("reply-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    const reply = document.getElementById("reply");
    if (!reply.value.trim()) return;
    const text = reply.value.trim();
    reply.value = "";
    await api("reply", { channel: ui.place, thread_ts: ui.thread, text });
    poll();
  });
  document.getElementById("thread-close").addEventListener("click", () => { ui.thread = null; ui.drawn = ""; render(); });
  document.querySelectorAll("[data-when]").forEach((b) => b.addEventListener("click", () => moveClock(b.dataset.when)));
  document.getElementById("clock-form").addEventListener("submit", (event) => {
    event.preventDefault();
    moveClock(document.getElementById("clock-to").value);
  });
  window.addEventListener("hashchange", openFromHash);
  document.getElementById("usage").textContent = USAGE;
}

async function moveClock(when) {
  if (!when.trim()) return;
  const log = document.getElementById("clock-log");
  log.textContent = "Running the scheduled jobs…";
  const answer = await api("clock", { to: when });
  log.textContent = answer.ok
    ? "Jobs run at " + answer.now + ": " + answer.jobs.map((l) => l.replace(/ at \S+?: /, ": ")).join(" · ")
    : "";
  poll();
}

wire();
poll().then(openFromHash);
setInterval(poll, 1000);
