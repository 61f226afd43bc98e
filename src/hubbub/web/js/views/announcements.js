// Announcements: what the server broadcasts (`broadcast/messages`) and the
// named channels a user subscribes to (`broadcast/{channel_id}`), newest
// first; each one is acknowledged (`AcknowledgeBroadcastMessage`) when this
// page shows it. Server admins (and a channel's publishers) also publish
// here, over REST; the server decides who may (403 otherwise).

import { fill, fmtTime, h, toast } from "../dom.js";

export const BROADCASTS = "broadcast"; // the pseudo-conversation broadcast items are kept under

const PRIORITIES = ["low", "normal", "high", "urgent"];

export function payloadText(payload) {
  if (!payload || typeof payload !== "object") return "";
  if (typeof payload.text === "string") return payload.text;
  const keys = Object.keys(payload);
  return keys.length ? JSON.stringify(payload, null, 2) : "";
}

export class AnnouncementsView {
  constructor(app, el) {
    this.app = app;
    this.el = el;
    this.title = "Announcements";
    this.list = h("ol", { class: "rows announcements", id: "announcements" });
    this.channels = h("ul", { class: "rows", id: "broadcast-channels" });
    this.publish = h("div", { id: "publish" });
    fill(el, h("div", { class: "page" },
      h("header", { class: "page-header" },
        h("a", { href: "#/", class: "back", "aria-label": "Back to chats" }, "←"),
        h("h2", { class: "page-title", id: "announcements-title", tabindex: "-1" }, "Announcements")),
      h("section", { class: "card", "aria-labelledby": "received-title" },
        h("h2", { id: "received-title" }, "Received"), this.list),
      h("section", { class: "card", "aria-labelledby": "channels-title" },
        h("h2", { id: "channels-title" }, "Channels"),
        h("p", { class: "hint" }, "Subscribe to a channel to receive what is posted there, on every device."),
        this.channels),
      this.publish));
    this.offs = [app.store.on("messages", () => this.render())];
    this.render();
    this.loadChannels();
  }

  focus() { this.el.querySelector("#announcements-title").focus(); }

  render() {
    const items = this.app.store.messagesOf(BROADCASTS)
      .filter((m) => !m.expiresAt || m.expiresAt > Date.now()).reverse(); // (filter copied the list)
    if (!items.length) {
      this.list.replaceChildren(h("li", {}, "Nothing yet."));
      return;
    }
    this.list.replaceChildren(...items.map((m) => h("li", { class: `announcement priority-${m.priority || "normal"}` },
      h("p", { class: "announcement-head" },
        h("strong", {}, m.title || "Announcement"),
        m.priority && m.priority !== "normal" ? h("span", { class: "priority" }, m.priority) : null),
      m.text ? h("p", { class: "announcement-text" }, m.text) : null,
      h("p", { class: "hint" }, [m.channel ? `#${this.channelTitle(m.channel)}` : "to everyone",
        fmtTime(m.ts), m.expiresAt ? `until ${fmtTime(m.expiresAt)}` : null].filter(Boolean).join(" · ")))));
    this.app.ackBroadcasts();
  }

  channelTitle(id) { return (this.app.channelTitles && this.app.channelTitles.get(id)) || id; }

  async loadChannels() {
    let list;
    try { list = await this.app.api.channels(); } catch {
      this.channels.replaceChildren(h("li", {}, "Not available offline."));
      return;
    }
    this.app.channelTitles = new Map(list.map((c) => [c.channel_id, c.title]));
    this.render();
    this.channels.replaceChildren(...(list.length ? list.map((c) => h("li", { class: "row" },
      h("span", {}, h("strong", {}, c.title), " ", h("small", {}, `#${c.channel_id}`)),
      h("button", {
        type: "button", class: "subscribe", "aria-pressed": String(Boolean(c.subscribed)),
        "aria-label": `${c.subscribed ? "Unsubscribe from" : "Subscribe to"} ${c.title}`,
        onclick: () => this.run(async () => {
          await this.app.setSubscription(c.channel_id, !c.subscribed);
          await this.loadChannels();
        }, c.subscribed ? "Unsubscribed." : "Subscribed."),
      }, c.subscribed ? "Subscribed" : "Subscribe"))) : [h("li", {}, "No channels yet.")]));
    if (await this.app.isAdmin()) this.renderPublish(list);
  }

  /** Forms for server admins: an announcement, a new channel, a post to a channel. */
  renderPublish(channels) {
    const title = h("input", { id: "announce-title", maxlength: "200", required: true, autocomplete: "off" });
    const text = h("textarea", { id: "announce-content", maxlength: "10000", rows: "3", required: true });
    const priority = h("select", { id: "announce-priority" },
      PRIORITIES.map((p) => h("option", { value: p, selected: p === "normal" }, p)));
    const segment = h("input", { id: "announce-segment", value: "all", maxlength: "64", autocomplete: "off" });
    const announce = h("form", { class: "card", "aria-labelledby": "announce-h" },
      h("h2", { id: "announce-h" }, "Publish an announcement"),
      h("div", { class: "field" }, h("label", { for: "announce-title" }, "Title"), title),
      h("div", { class: "field" }, h("label", { for: "announce-content" }, "Text"), text),
      h("div", { class: "field" }, h("label", { for: "announce-priority" }, "Priority"), priority),
      h("div", { class: "field" }, h("label", { for: "announce-segment" }, "To (all, admins, or a segment)"), segment),
      h("button", { type: "submit", class: "primary", id: "announce-submit" }, "Publish"));
    announce.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.run(async () => {
        await this.app.api.announce({ title: title.value.trim(), content: text.value.trim(),
          priority: priority.value, segment: segment.value.trim() || "all" });
        title.value = ""; text.value = "";
      }, "Published.");
    });
    const cid = h("input", { id: "channel-id", maxlength: "32", required: true, autocomplete: "off",
      pattern: "[a-z0-9][a-z0-9_\\-]*" }); // as the server's CHANNEL_ID
    const ctitle = h("input", { id: "channel-title", maxlength: "200", required: true, autocomplete: "off" });
    const create = h("form", { class: "card", "aria-labelledby": "channel-h" },
      h("h2", { id: "channel-h" }, "New channel"),
      h("div", { class: "field" }, h("label", { for: "channel-id" }, "Channel id (lower case, digits, - _)"), cid),
      h("div", { class: "field" }, h("label", { for: "channel-title" }, "Title"), ctitle),
      h("button", { type: "submit", class: "primary", id: "channel-submit" }, "Create channel"));
    create.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.run(async () => {
        await this.app.api.putChannel(cid.value.trim(), ctitle.value.trim());
        cid.value = ""; ctitle.value = "";
        await this.loadChannels();
      }, "Channel created.");
    });
    const forms = [announce, create];
    if (channels.length) {
      const which = h("select", { id: "post-channel" },
        channels.map((c) => h("option", { value: c.channel_id }, c.title)));
      const ptitle = h("input", { id: "post-title", maxlength: "200", required: true, autocomplete: "off" });
      const ptext = h("textarea", { id: "post-text", maxlength: "10000", rows: "2" });
      const post = h("form", { class: "card", "aria-labelledby": "post-h" },
        h("h2", { id: "post-h" }, "Post to a channel"),
        h("div", { class: "field" }, h("label", { for: "post-channel" }, "Channel"), which),
        h("div", { class: "field" }, h("label", { for: "post-title" }, "Title"), ptitle),
        h("div", { class: "field" }, h("label", { for: "post-text" }, "Text"), ptext),
        h("button", { type: "submit", class: "primary", id: "post-submit" }, "Post"));
      post.addEventListener("submit", (ev) => {
        ev.preventDefault();
        this.run(async () => {
          await this.app.api.publish(which.value, { title: ptitle.value.trim(),
            payload: ptext.value.trim() ? { text: ptext.value.trim() } : {} });
          ptitle.value = ""; ptext.value = "";
        }, "Posted.");
      });
      forms.push(post);
    }
    this.publish.replaceChildren(...forms);
  }

  async run(action, done) {
    try { await action(); toast(done); } catch (e) { toast(e.message || "That did not work."); }
  }

  destroy() { for (const off of this.offs) off(); }
}
