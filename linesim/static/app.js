/* Chat page: one or more panes, each a simulated LINE user talking to the bot.
 * Everything goes through the simulator's control API (/_sim/...). */
"use strict";

const { el } = LineRender;
const POLL_MS = 1000;
const PRESET_PLACES = [
  { title: "市役所", address: "東京都千代田区丸の内1-1", latitude: 35.6812, longitude: 139.7671 },
  { title: "地域交流センター", address: "東京都世田谷区太子堂1-1", latitude: 35.6436, longitude: 139.6713 },
  { title: "駅前スーパー", address: "東京都杉並区阿佐谷南1-1", latitude: 35.7047, longitude: 139.6357 },
];

const api = {
  async call(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const data = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(data.error || data.message || res.statusText);
    return data;
  },
  users() { return this.call("GET", "/_sim/users").then((d) => d.users); },
  createUser(displayName) { return this.call("POST", "/_sim/users", { displayName }); },
  event(uid, ev) { return this.call("POST", `/_sim/users/${uid}/events`, ev); },
  conversation(uid, after) { return this.call("GET", `/_sim/users/${uid}/conversation?after=${after}`); },
  config() { return this.call("GET", "/_sim/config"); },
  richMenu(uid) { return this.call("GET", `/_sim/users/${uid}/richmenu`); },
  setWebhook(url) { return this.call("PUT", "/_sim/config", { webhookUrl: url || null }); },
};

let allUsers = [];
const panes = [];

function fmtTime(iso) {
  const d = new Date(iso);
  return d.toLocaleTimeString("ja-JP", { hour: "2-digit", minute: "2-digit" });
}

function syncUrl() {
  const ids = panes.map((p) => p.userId).filter(Boolean);
  const url = ids.length ? `/?users=${ids.join(",")}` : "/";
  history.replaceState(null, "", url);
}

async function refreshUsers() {
  allUsers = await api.users();
  panes.forEach((p) => p.fillSelect());
}

function askDialog(id, setup) {
  const dialog = document.getElementById(id);
  const form = dialog.querySelector("form");
  form.reset();
  if (setup) setup(dialog);
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue && dialog.returnValue !== "cancel" ? new FormData(form) : null);
    }, { once: true });
  });
}

async function createUserFlow() {
  const data = await askDialog("user-dialog");
  if (!data) return null;
  const user = await api.createUser(data.get("displayName") || undefined);
  await refreshUsers();
  return { user, follow: data.get("follow") === "on" };
}

class Pane {
  constructor(userId) {
    const tpl = document.getElementById("pane-template").content.cloneNode(true);
    this.root = tpl.querySelector(".pane");
    this.log = this.root.querySelector(".log");
    this.quick = this.root.querySelector(".quick-replies");
    this.select = this.root.querySelector(".user-select");
    this.badge = this.root.querySelector(".friend-badge");
    this.followBtn = this.root.querySelector(".toggle-follow");
    this.input = this.root.querySelector(".text-input");
    this.richmenu = this.root.querySelector(".richmenu");
    this.richMenuId = null;
    this.richMenuOpen = true;
    this.userId = userId || null;
    this.after = 0;
    this.lastBot = null;
    this.byEventId = {};
    this.bind();
    document.getElementById("panes").append(this.root);
    this.fillSelect();
    this.switchTo(this.userId);
  }

  bind() {
    this.select.addEventListener("change", () => this.switchTo(this.select.value || null));
    this.root.querySelector(".new-user").addEventListener("click", async () => {
      const created = await createUserFlow();
      if (!created) return;
      this.switchTo(created.user.userId);
      if (created.follow) this.send({ type: "follow" });
    });
    this.root.querySelector(".close-pane").addEventListener("click", () => {
      panes.splice(panes.indexOf(this), 1);
      this.root.remove();
      syncUrl();
    });
    this.followBtn.addEventListener("click", () => {
      const user = this.user();
      if (user) this.send({ type: user.following ? "unfollow" : "follow" });
    });
    this.root.querySelector(".send-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const text = this.input.value.trim();
      if (!text) return;
      this.input.value = "";
      this.send({ type: "text", text });
    });
    this.richmenu.querySelector(".rm-bar").addEventListener("click", () => {
      this.richMenuOpen = !this.richMenuOpen;
      this.renderRichMenuState();
    });
    this.root.querySelector(".loc").addEventListener("click", () => this.sendLocation());
    this.root.querySelector(".stk").addEventListener("click", () => this.send({ type: "sticker" }));
    this.root.querySelector(".img").addEventListener("click", () => this.send({ type: "image" }));
  }

  user() { return allUsers.find((u) => u.userId === this.userId); }

  fillSelect() {
    this.select.replaceChildren(el("option", null, "— ユーザーを選択 —"));
    this.select.firstChild.value = "";
    allUsers.forEach((u) => {
      const opt = el("option", null, `${u.displayName}（${u.userId.slice(0, 9)}…）`);
      opt.value = u.userId;
      this.select.append(opt);
    });
    this.select.value = this.userId || "";
    this.renderStatus();
  }

  renderStatus() {
    const user = this.user();
    this.root.classList.toggle("no-user", !user);
    if (!user) { this.badge.textContent = ""; this.followBtn.hidden = true; return; }
    this.followBtn.hidden = false;
    this.badge.textContent = user.following ? "友だち" : (user.everBlocked ? "ブロック中" : "未追加");
    this.badge.className = "friend-badge " + (user.following ? "ok" : "off");
    this.followBtn.textContent = user.following ? "ブロック" : "友だち追加";
  }

  switchTo(userId) {
    this.userId = userId;
    this.after = 0;
    this.lastBot = null;
    this.byEventId = {};
    this.log.replaceChildren();
    this.quick.replaceChildren();
    if (!userId) this.log.append(el("div", "empty", "ユーザーを選ぶか「＋ 新規」で作成してください"));
    this.renderStatus();
    syncUrl();
    this.poll();
    this.refreshRichMenu();
  }

  /* The rich menu this user sees (linked to them, else the channel's default), like the LINE
   * app: the image with tappable areas, under a chat bar showing chatBarText that opens and
   * closes it. `selected` decides whether it starts open. */
  async refreshRichMenu() {
    const uid = this.userId;
    let data = { richMenu: null };
    if (uid) {
      try { data = await api.richMenu(uid); } catch (e) { return; }
    }
    if (uid !== this.userId) return;
    const menu = data.richMenu;
    const id = menu ? menu.richMenuId : null;
    if (id === this.richMenuId) return;
    this.richMenuId = id;
    this.richmenu.hidden = !menu;
    this.root.classList.toggle("has-richmenu", Boolean(menu));
    if (!menu) return;
    this.richMenuOpen = Boolean(menu.selected);
    this.richmenu.querySelector(".rm-bar-text").textContent = menu.chatBarText;
    const stage = this.richmenu.querySelector(".rm-stage");
    stage.style.aspectRatio = `${menu.size.width} / ${menu.size.height}`;
    const img = this.richmenu.querySelector(".rm-image");
    img.src = data.imageUrl;
    img.alt = menu.areas.map((a) => a.action.label).filter(Boolean).join(" / ");
    const layer = this.richmenu.querySelector(".rm-areas");
    layer.replaceChildren();
    menu.areas.forEach((area) => {
      const b = area.bounds;
      const a = area.action;
      const btn = el("button", "rm-area");
      btn.type = "button";
      btn.title = (a.label ? a.label + " — " : "") + LineRender.describeAction(a);
      btn.setAttribute("aria-label", a.label || LineRender.describeAction(a));
      Object.assign(btn.style, {
        left: `${(100 * b.x) / menu.size.width}%`, top: `${(100 * b.y) / menu.size.height}%`,
        width: `${(100 * b.width) / menu.size.width}%`, height: `${(100 * b.height) / menu.size.height}%`,
      });
      btn.addEventListener("click", () => {
        if (a.type === "postback" && a.inputOption === "closeRichMenu") {
          this.richMenuOpen = false;
          this.renderRichMenuState();
        }
        this.onAction(a);
      });
      layer.append(btn);
    });
    this.renderRichMenuState();
  }

  renderRichMenuState() {
    this.richmenu.classList.toggle("closed", !this.richMenuOpen);
    this.richmenu.querySelector(".rm-bar").setAttribute("aria-expanded", String(this.richMenuOpen));
  }

  async send(ev) {
    if (!this.userId) return;
    try {
      const res = await api.event(this.userId, ev);
      await this.poll();
      this.markWebhook(res.webhookEventId, res);
    } catch (err) {
      this.system(`送信できません: ${err.message}`, "error");
    }
    if (ev.type === "follow" || ev.type === "unfollow") await refreshUsers();
  }

  async sendLocation() {
    const data = await askDialog("location-dialog", (dialog) => {
      const box = dialog.querySelector(".presets");
      box.replaceChildren();
      PRESET_PLACES.forEach((p) => {
        const b = el("button", "chip", p.title);
        b.type = "button";
        b.addEventListener("click", () => {
          for (const k of ["title", "address", "latitude", "longitude"]) dialog.querySelector(`[name=${k}]`).value = p[k];
        });
        box.append(b);
      });
    });
    if (!data) return;
    this.send({
      type: "location", title: data.get("title"), address: data.get("address"),
      latitude: Number(data.get("latitude")), longitude: Number(data.get("longitude")),
    });
  }

  /* What tapping a button, quick reply or Flex component does in the LINE app. */
  async onAction(a) {
    switch (a.type) {
      case "message":
        return this.send({ type: "text", text: a.text });
      case "postback":
        return this.send({ type: "postback", data: a.data, displayText: a.displayText || a.text });
      case "datetimepicker": {
        const inputType = { date: "date", time: "time", datetime: "datetime-local" }[a.mode] || "date";
        const data = await askDialog("datetime-dialog", (dialog) => {
          const input = dialog.querySelector("[name=value]");
          input.type = inputType;
          if (a.initial) input.value = a.initial;
          if (a.min) input.min = a.min;
          if (a.max) input.max = a.max;
          dialog.querySelector(".dt-title").textContent = a.label || "日時を選択";
        });
        if (!data) return;
        return this.send({ type: "postback", data: a.data, params: { [a.mode]: data.get("value") } });
      }
      case "uri":
        return window.open(a.uri, "_blank", "noopener");
      case "location":
        return this.sendLocation();
      case "camera":
      case "cameraRoll":
        return this.send({ type: "image" });
      case "clipboard":
        return navigator.clipboard && navigator.clipboard.writeText(a.clipboardText);
      default:
        this.system(`未対応のアクション: ${a.type}`, "error");
    }
  }

  async poll() {
    if (!this.userId) return;
    const uid = this.userId;
    let data;
    try { data = await api.conversation(uid, this.after); } catch (e) { return; }
    if (uid !== this.userId) return;
    const atBottom = this.log.scrollHeight - this.log.scrollTop - this.log.clientHeight < 40;
    data.entries.forEach((entry) => this.render(entry));
    if (data.entries.length) {
      this.after = data.entries[data.entries.length - 1].seq;
      this.renderQuickReplies();
      if (atBottom || data.entries.length) this.log.scrollTop = this.log.scrollHeight;
    }
  }

  system(text, cls) {
    this.log.append(el("div", "system " + (cls || ""), text));
    this.log.scrollTop = this.log.scrollHeight;
  }

  render(entry) {
    if (entry.direction === "bot") return this.renderBot(entry);
    this.lastBot = null;
    const ev = entry.event;
    let content = null;
    if (ev.type === "follow") this.system(ev.follow.isUnblocked ? "ブロックを解除しました" : "友だち追加しました");
    else if (ev.type === "unfollow") this.system("ブロックしました");
    else if (ev.type === "postback") {
      content = entry.displayText ? el("div", "bubble user", entry.displayText)
        : el("div", "postback-chip", `postback: ${ev.postback.data}${ev.postback.params ? " " + JSON.stringify(ev.postback.params) : ""}`);
    } else if (ev.message.type === "text") content = el("div", "bubble user", ev.message.text);
    else if (ev.message.type === "location") content = LineRender.location(ev.message);
    else if (ev.message.type === "sticker") content = LineRender.sticker("スタンプ");
    else if (ev.message.type === "image") content = LineRender.placeholder("写真", "4:3", "media");
    const row = el("div", "row user-row");
    if (content) {
      row.append(el("span", "time", fmtTime(entry.at)), content);
      this.log.append(row);
    }
    this.byEventId[ev.webhookEventId] = row.isConnected ? row : this.log.lastElementChild;
    if (entry.webhook) this.markWebhook(ev.webhookEventId, entry.webhook);
  }

  markWebhook(eventId, outcome) {
    const target = this.byEventId[eventId];
    if (!target || target.dataset.marked) return;
    const ok = outcome.status !== null && outcome.status >= 200 && outcome.status < 300;
    if (ok) { target.dataset.marked = "1"; return; }
    target.dataset.marked = "1";
    const note = el("div", "webhook-note",
      outcome.status === null ? `webhook 未達: ${outcome.error}` : `webhook が ${outcome.status} を返しました`);
    target.after(note);
  }

  renderBot(entry) {
    const m = entry.message;
    const row = el("div", "row bot-row" + (entry.delivered ? "" : " undelivered"));
    const avatar = el("span", "avatar", document.querySelector(".bot-avatar").textContent);
    const col = el("div", "bot-col");
    col.append(LineRender.message(m, (a) => this.onAction(a)));
    if (m.altText) col.append(el("div", "alt-text", `通知: ${m.altText}`));
    const meta = el("span", "time", `${entry.via} · ${fmtTime(entry.at)}`);
    if (!entry.delivered) meta.textContent += " · 未配信（ブロック中）";
    row.append(avatar, col, meta);
    this.log.append(row);
    this.lastBot = entry;
  }

  /* Like LINE, quick replies show only while the newest message carries them. */
  renderQuickReplies() {
    this.quick.replaceChildren();
    const items = this.lastBot && this.lastBot.delivered && this.lastBot.message.quickReply
      ? this.lastBot.message.quickReply.items : [];
    items.forEach((item) => {
      const a = item.action || {};
      const chip = el("button", "chip", a.label || { camera: "カメラ", cameraRoll: "カメラロール", location: "位置情報" }[a.type] || a.type);
      chip.type = "button";
      chip.title = LineRender.describeAction(a);
      chip.addEventListener("click", () => { this.quick.replaceChildren(); this.onAction(a); });
      this.quick.append(chip);
    });
  }
}

async function main() {
  const cfg = await api.config();
  const urlInput = document.getElementById("webhook-url");
  urlInput.value = cfg.webhookUrl || "";
  document.getElementById("webhook-form").addEventListener("submit", async (e) => {
    e.preventDefault();
    const saved = document.getElementById("webhook-saved");
    try { await api.setWebhook(urlInput.value.trim()); saved.textContent = "保存しました"; } catch (err) { saved.textContent = err.message; }
    setTimeout(() => { saved.textContent = ""; }, 2000);
  });
  document.getElementById("add-pane").addEventListener("click", () => panes.push(new Pane(null)));
  await refreshUsers();
  const wanted = (new URLSearchParams(location.search).get("users") || "").split(",").filter(Boolean);
  const initial = wanted.length ? wanted : (allUsers[0] ? [allUsers[0].userId] : [null]);
  initial.forEach((uid) => panes.push(new Pane(uid)));
  document.querySelectorAll(".tool").forEach((b) => b.prepend(LineRender.svgIcon(b.dataset.icon, 20)));
  setInterval(() => panes.forEach((p) => p.poll()), POLL_MS);
  setInterval(refreshUsers, POLL_MS * 3);
  setInterval(() => panes.forEach((p) => p.refreshRichMenu()), POLL_MS * 3);
}

main();
