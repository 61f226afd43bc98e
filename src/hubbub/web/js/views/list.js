// The conversation list: pinned chats first (with a pin mark), then newest
// activity first; last message, unread count, encryption and presence marks;
// archived chats in a collapsed "Archived" section with their count (a new
// message brings one back: the server says so with `archived: false`); a
// search box over titles and the text of cached messages (searched here, in
// the browser: ciphertext never leaves it). Pin and archive are this user's
// own, set from the chat's header.

import { fmtTime, h, syncList } from "../dom.js";

export class ConversationList {
  constructor(app, el) {
    this.app = app;
    this.el = el;
    this.active = null;
    this.query = "";
    const s = app.store;
    this.search = h("input", {
      id: "chat-search", type: "search", placeholder: "Search", autocomplete: "off",
    });
    this.search.addEventListener("input", () => { this.query = this.search.value; this.render(); });
    this.ul = h("ul", { class: "conversations", id: "conversation-list" });
    this.archivedOpen = false;
    this.archivedCount = h("span", { class: "badge muted", id: "archived-count" });
    this.archivedToggle = h("button", {
      type: "button", class: "archived-toggle", id: "archived-toggle",
      "aria-expanded": "false", "aria-controls": "archived-list",
      onclick: () => { this.archivedOpen = !this.archivedOpen; this.render(); },
    }, h("span", { class: "archived-text" }, "Archived"), this.archivedCount);
    this.archivedUl = h("ul", { class: "conversations archived", id: "archived-list", hidden: true,
      "aria-label": "Archived chats" });
    this.emptyNote = h("p", { class: "hint", hidden: true });
    this.newsCount = h("span", { class: "badge", id: "announcements-count", hidden: true });
    this.news = h("a", { class: "news-link", href: "#/announcements", id: "open-announcements" },
      h("span", { "aria-hidden": "true" }, "📣 "), h("span", { class: "news-text" }, "Announcements"), this.newsCount);
    el.append(
      h("header", { class: "bar" },
        h("h1", { class: "brand" }, "hubbub"),
        h("span", { class: "me", id: "me-name" }, s.me.username),
        h("a", { class: "button", href: "#/new", id: "new-chat" }, "New chat"),
        h("a", { class: "button", href: "#/settings", id: "open-settings" }, "Settings")),
      h("div", { class: "search" },
        h("label", { for: "chat-search", class: "visually-hidden" }, "Search chats and messages"),
        this.search),
      this.news,
      this.archivedToggle,
      this.archivedUl,
      this.ul,
      this.emptyNote,
    );
    this.offs = ["conversations", "users", "presence", "blocks", "typing"].map((t) => s.on(t, () => this.render()));
    this.offs.push(s.on("messages", () => this.renderNews()));
    this.render();
  }

  setActive(id) { this.active = id; this.render(); }

  /** Focus a conversation's link (the one just left), else the search box. */
  focus(convId) {
    const link = convId && this.el.querySelector(`a[href="#/c/${CSS.escape(encodeURIComponent(convId))}"]`);
    (link && link.offsetParent !== null ? link : this.search).focus();
  }

  items() {
    const s = this.app.store;
    const q = this.query.trim().toLowerCase();
    const out = [];
    for (const c of s.conversations.values()) {
      const last = s.lastMessage(c.id);
      const title = s.title(c);
      let hit = null;
      if (q) {
        if (!title.toLowerCase().includes(q)) {
          hit = [...s.messagesOf(c.id)].reverse().find((m) => m.kind === "msg" && (m.text || "").toLowerCase().includes(q));
          if (!hit) continue;
        }
      }
      out.push({ c, last, title, hit, at: last ? last.ts : (c.created || 0) });
    }
    out.sort((a, b) => (!!b.c.pinned - !!a.c.pinned) || b.at - a.at);
    return out;
  }

  render() {
    const all = this.items();
    const archived = all.filter((i) => i.c.archived);
    const items = all.filter((i) => !i.c.archived);
    this.drawList(this.ul, items);
    this.drawList(this.archivedUl, archived);
    // While searching, matching archived chats show too (the section opens).
    const open = archived.length > 0 && (this.archivedOpen || !!this.query.trim());
    this.archivedToggle.hidden = archived.length === 0;
    this.archivedToggle.setAttribute("aria-expanded", String(open));
    this.archivedToggle.setAttribute("aria-label", `Archived chats, ${archived.length}`);
    this.archivedCount.textContent = String(archived.length);
    this.archivedUl.hidden = !open;
    this.renderNews();
    this.emptyNote.hidden = all.length > 0;
    this.emptyNote.textContent = this.query ? "Nothing matches your search." : "No conversations yet. Start one with “New chat”.";
  }

  drawList(ul, items) {
    const s = this.app.store;
    syncList(ul, items, (i) => i.c.id, () => {
      const li = h("li", { class: "conversation" });
      li.append(h("a", { class: "conv-link" },
        h("span", { class: "avatar", "aria-hidden": "true" }),
        h("span", { class: "conv-main" },
          h("span", { class: "conv-top" },
            h("span", { class: "conv-name" },
              h("span", { class: "conv-pin", "aria-hidden": "true", title: "pinned" }, "📌"),
              h("span", { class: "icon icon-lock conv-lock", "aria-hidden": "true", title: "end-to-end encrypted" }),
              h("span", { class: "conv-title" })),
            h("span", { class: "conv-time" })),
          h("span", { class: "conv-bottom" },
            h("span", { class: "conv-last" }),
            h("span", { class: "badge mentioned", title: "You were mentioned" }, "@"),
            h("span", { class: "badge unread" })))));
      return li;
    }, (li, { c, last, title, hit, at }) => {
      const a = li.firstChild;
      a.href = `#/c/${encodeURIComponent(c.id)}`;
      if (c.id === this.active) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
      const peer = s.peerOf(c);
      const online = peer && s.presence.get(peer)?.status === "online";
      const secure = this.app.security(c) === "e2e";
      const avatar = a.querySelector(".avatar");
      avatar.textContent = (title || "?").slice(0, 1).toUpperCase();
      avatar.dataset.online = online ? "yes" : "no";
      a.querySelector(".conv-title").textContent = title;
      a.querySelector(".conv-lock").hidden = !secure;
      a.querySelector(".conv-pin").hidden = !c.pinned;
      li.classList.toggle("pinned", !!c.pinned);
      a.querySelector(".conv-time").textContent = at ? fmtTime(at) : "";
      const shown = hit || last;
      let preview = c.left ? (c.removed ? "You were removed from this group" : "You left this group") : c.kind === "group" ? "Group" : "No messages yet";
      if (shown) {
        const who = c.kind === "group" && shown.sender ? `${s.userName(shown.sender)}: ` : "";
        preview = who + (shown.undecryptable ? "Encrypted message" : shown.sticker ? "Sticker"
          : shown.voice ? "Voice note" : shown.text);
      }
      const typing = !hit && !c.left && this.app.typing.text(c.id); // instead of the last message, meanwhile
      if (typing) preview = typing;
      else if (shown && shown.deleted) preview = `${preview}This message was deleted`;
      a.querySelector(".conv-last").textContent = preview;
      const unread = s.unread(c.id);
      const badge = a.querySelector(".unread");
      badge.textContent = unread ? String(unread) : "";
      badge.hidden = !unread;
      const mentioned = (c.mentions || []).length > 0;
      a.querySelector(".mentioned").hidden = !mentioned;
      const label = [title, c.pinned ? "pinned" : null, c.archived ? "archived" : null,
        secure ? "end-to-end encrypted" : null, online ? "online" : null,
        unread ? `${unread} unread` : null, mentioned ? "you were mentioned" : null, shown ? `last message: ${preview}` : null]
        .filter(Boolean).join(", ");
      a.setAttribute("aria-label", label);
    });
  }

  renderNews() {
    const n = this.app.unseenBroadcasts();
    this.newsCount.textContent = n ? String(n) : "";
    this.newsCount.hidden = !n;
    this.news.setAttribute("aria-label", n ? `Announcements, ${n} new` : "Announcements");
  }

  destroy() { for (const off of this.offs) off(); }
}
