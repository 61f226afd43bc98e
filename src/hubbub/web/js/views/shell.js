// The signed-in layout and the router.
//
//   #/            conversation list (on a narrow screen: only the list)
//   #/c/<id>      a conversation
//   #/new         start a direct chat or create a group
//   #/settings    profile, password, devices, blocked users, sign out
//   #/announcements  broadcasts received, channels to subscribe to (publishing: admins)
//   #/admin       server administration (admins)
//
// Wide screens show the list beside the detail pane; below 720 px one of
// them at a time (`data-pane` on the shell), the detail with a back link.

import { fill, h } from "../dom.js";
import { ChatView } from "./chat.js";
import { ConversationList } from "./list.js";
import { newChatView } from "./newchat.js";
import { SettingsView } from "./settings.js";
import { AdminView } from "./admin.js";
import { AnnouncementsView } from "./announcements.js";

const STATUS_TEXT = {
  connecting: "Connecting…",
  offline: "Offline: showing saved messages. Reconnecting…",
  closed: "Disconnected.",
};

export class Shell {
  constructor(app, main) {
    this.app = app;
    this.sidebar = h("nav", { class: "sidebar", "aria-label": "Conversations" });
    this.detail = h("section", { class: "detail", "aria-label": "Conversation" });
    this.root = h("div", { class: "shell", "data-pane": "list" }, this.sidebar, this.detail);
    fill(main, this.root);
    this.list = new ConversationList(app, this.sidebar);
    this.view = null;
    this.onHash = () => this.route();
    window.addEventListener("hashchange", this.onHash);
    // Escape leaves a chat or page for the list (when no menu or field wants it).
    this.onKey = (ev) => {
      if (ev.key === "Escape" && !ev.defaultPrevented && location.hash.length > 2) {
        location.hash = "#/";
      }
    };
    document.addEventListener("keydown", this.onKey);
    this.offStatus = app.store.on("connection", () => this.status());
    this.offTitle = app.store.on("conversations", () => this.setTitle());
    this.status();
    this.route();
  }

  status() {
    const el = document.getElementById("status");
    const s = this.app.store.connection;
    const text = STATUS_TEXT[s];
    el.hidden = !text;
    el.textContent = text || "";
    el.dataset.state = s;
    this.root.dataset.connection = s;
  }

  route() {
    const hash = location.hash || "#/";
    if (this.view && this.view.destroy) this.view.destroy();
    this.view = null;
    this.app.openConv = null;
    const chat = hash.match(/^#\/c\/([^/]+)$/);
    let pane = "detail";
    if (chat) {
      this.view = new ChatView(this.app, this.detail, decodeURIComponent(chat[1]));
    } else if (hash === "#/settings") {
      this.view = new SettingsView(this.app, this.detail);
    } else if (hash === "#/announcements") {
      this.view = new AnnouncementsView(this.app, this.detail);
    } else if (hash === "#/admin") {
      this.view = new AdminView(this.app, this.detail);
    } else if (hash === "#/new") {
      this.view = newChatView(this.app, this.detail);
    } else {
      pane = "list";
      fill(this.detail, h("div", { class: "empty" },
        h("h2", {}, "hubbub"),
        h("p", {}, "Choose a conversation, or start a new one."),
        h("a", { class: "button primary", href: "#/new" }, "New chat")));
    }
    this.root.dataset.pane = pane;
    const from = this.lastChat;
    this.lastChat = chat ? decodeURIComponent(chat[1]) : null;
    this.list.setActive(this.lastChat);
    this.setTitle();
    if (this.view && this.view.focus) this.view.focus();
    else if (pane === "list") this.list.focus(from); // back where you were in the list
  }

  /** The window title: unread total first, so it shows in a tab strip. */
  setTitle() {
    const s = this.app.store;
    let unread = 0;
    for (const c of s.conversations.values()) unread += s.unread(c.id);
    const base = this.view && this.view.title ? `${this.view.title} · hubbub` : "hubbub";
    document.title = unread ? `(${unread}) ${base}` : base;
  }

  destroy() {
    this.offTitle();
    window.removeEventListener("hashchange", this.onHash);
    document.removeEventListener("keydown", this.onKey);
    this.offStatus();
    if (this.view && this.view.destroy) this.view.destroy();
    this.list.destroy();
    const el = document.getElementById("status");
    el.hidden = true;
  }
}
