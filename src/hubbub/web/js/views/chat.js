// One conversation: header (title, presence or last seen, encryption,
// block / leave), the messages with ticks and self-destruct countdowns, and
// the composer (Enter sends, Shift+Enter for a new line); reactions under
// messages (a picker of a few emoji per message) and poll cards (groups);
// replies (a quote above the text, the reply bar above the composer: replies.js).

import { fill, fmtRemaining, fmtTime, h, syncList, toast } from "../dom.js";
import { PACK_ID, sticker } from "../stickers.js";
import { Recorder, forwardForm, stickerPicker, voicePlayer, withMentions } from "./media.js";
import { makePollForm, renderPoll, togglePollForm, vote } from "./polls.js";
import { eventChanged, eventClicked, makeEventForm, renderEventCard, toggleEventForm } from "./calendar.js";
import { MembersPanel } from "./members.js";
import { goToOriginal, quoteButton, renderReply, replyBar, replyButton, snippet } from "./replies.js";

const TTLS = [
  ["", "Off"], ["10", "10 seconds"], ["60", "1 minute"], ["3600", "1 hour"], ["86400", "1 day"],
];
const TICKS = {
  pending: ["○", "sending"], sent: ["✓", "sent"], delivered: ["✓✓", "delivered"],
  read: ["✓✓", "read"], failed: ["!", "not sent"],
};
const RANK = { delivered: 1, read: 2, played: 2 };
const REACTIONS = [
  ["👍", "thumbs up"], ["❤️", "heart"], ["😂", "laughing"], ["😮", "surprised"], ["😢", "sad"], ["🎉", "party"],
];
const REACTION_NAMES = new Map(REACTIONS);
const PAGE = 200; // messages drawn at once; "Show earlier messages" adds more

export class ChatView {
  constructor(app, el, convId) {
    this.app = app;
    this.el = el;
    this.convId = convId;
    const s = app.store;
    this.heading = h("h2", { id: "chat-title", tabindex: "-1" });
    this.subtitle = h("p", { class: "chat-sub", id: "chat-presence" });
    this.security = h("p", { class: "chat-security", id: "chat-security" });
    this.keyList = h("p", { class: "key-list", id: "chat-keys" });
    this.verify = h("details", { class: "verify", id: "chat-verify", hidden: true },
      h("summary", {}, "Verify encryption keys"),
      h("p", {}, "Compare these key ids with the other person's screen (in person or on a call); " +
        "a key you do not recognise may be a new device of theirs, or someone listening in."),
      this.keyList);
    this.info = h("p", { class: "chat-info", id: "chat-info" });
    this.typingNote = h("p", { class: "chat-typing", id: "chat-typing", "aria-live": "polite" });
    this.members = new MembersPanel(this);
    this.actions = h("div", { class: "chat-actions" });
    this.list = h("ol", {
      class: "messages", id: "messages", role: "log", "aria-live": "polite", "aria-relevant": "additions",
      "aria-labelledby": "chat-title", tabindex: "0",
    });
    this.input = h("textarea", {
      id: "composer-input", rows: "1", maxlength: "16000", placeholder: "Message",
      autocomplete: "off",
    });
    this.ttl = h("select", { id: "composer-ttl" },
      TTLS.map(([v, t]) => h("option", { value: v }, t)));
    this.sendButton = h("button", { type: "submit", class: "primary", id: "composer-send" }, "Send");
    this.note = h("p", { class: "composer-note", id: "composer-note", hidden: true });
    this.limit = PAGE;
    this.more = h("button", { type: "button", class: "more", hidden: true,
      onclick: () => { this.limit += PAGE; this.stick = false; this.render(); } }, "Show earlier messages");
    this.pollForm = makePollForm(this);
    this.eventForm = makeEventForm(this);
    this.recorder = new Recorder((audio) => this.run(() => this.app.sendVoice(this.convId, audio), null));
    this.stickers = stickerPicker((id) => {
      this.stickers.toggle(false);
      this.stick = true;
      this.run(() => this.app.sendSticker(this.convId, id, PACK_ID), null);
    });
    this.forwarding = null; // the message the forward form is for
    this.replying = null; // the message the composer's text will answer
    this.reply = replyBar(() => this.cancelReply());
    this.forwardForm = forwardForm(app, async (to, note) => {
      const m = this.forwarding;
      await this.app.forward(m.id, this.convId, to, note);
      this.closeForward();
      toast("Forwarded.");
    }, () => this.closeForward());
    this.form = h("form", { class: "composer", "aria-label": "Write a message" },
      h("label", { for: "composer-input", class: "visually-hidden" }, "Message"),
      this.input,
      h("label", { for: "composer-ttl", class: "ttl-label" }, h("span", { class: "icon icon-timer", "aria-hidden": "true" }),
        h("span", { class: "visually-hidden" }, "Disappearing message timer")),
      this.ttl,
      this.stickers.opener,
      this.recorder.button,
      this.recorder.status,
      this.sendButton);
    fill(el, h("div", { class: "chat" },
      h("header", { class: "chat-header" },
        h("a", { href: "#/", class: "back", "aria-label": "Back to chats" }, "←"),
        h("div", { class: "chat-head-text" }, this.heading, this.subtitle, this.typingNote, this.info),
        this.actions),
      this.security,
      this.verify,
      this.members.el,
      this.more,
      this.list,
      this.note,
      this.pollForm,
      this.eventForm,
      this.forwardForm,
      this.stickers.panel,
      this.reply.el,
      this.form));

    this.input.value = app.drafts.get(convId) || "";
    this.form.addEventListener("submit", (ev) => { ev.preventDefault(); this.submit(); });
    this.input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); this.submit(); }
    });
    // Escape drops the reply first (the chat stays open); a second one leaves it.
    for (const el of [this.form, this.reply.el]) {
      el.addEventListener("keydown", (ev) => {
        if (ev.key === "Escape" && this.replying && !ev.defaultPrevented) { ev.preventDefault(); this.cancelReply(); }
      });
    }
    this.input.addEventListener("input", () => app.typing.composing(convId, this.input.value));
    this.pickerFor = null; // the message whose reaction picker is open
    this.list.addEventListener("click", (ev) => this.clicked(ev));
    this.list.addEventListener("change", (ev) => {
      const li = ev.target.closest("li.event");
      const m = li && this.app.store.messages.get(li.dataset.id);
      if (m) eventChanged(this, ev.target, m);
    });
    this.list.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && this.pickerFor) {
        ev.preventDefault(); // the picker closes; the chat stays open
        this.closePicker(true);
      }
    });
    this.offs = ["messages", "conversations", "users", "presence", "blocks"].map(
      (t) => s.on(t, () => this.render()));
    this.offs.push(s.on("typing", () => this.showTyping()));
    this.tick = setInterval(() => { this.countdowns(); this.recheckKey(); }, 1000);
    app.openConv = convId;
    const conv = s.conversations.get(convId);
    if (!conv) app.loadConversation(convId).then(() => this.render());
    else {
      this.keyChecked = Date.now();
      app.checkSecurity(conv).catch(() => {});
      app.learnUsers(conv.members.map((m) => m.user_id), { refresh: true });
    }
    this.stick = true;
    this.list.addEventListener("scroll", () => {
      this.stick = this.list.scrollTop + this.list.clientHeight >= this.list.scrollHeight - 40;
    });
    this.render();
    app.markRead();
  }

  get title() {
    return this.app.store.title(this.app.store.conversations.get(this.convId)) || "Conversation";
  }

  focus() { this.input.focus(); }

  submit() {
    const text = this.input.value.trim();
    if (!text || this.input.disabled) return;
    const ttl = Number(this.ttl.value) || null;
    this.app.send(this.convId, text, ttl, this.replying ? this.replying.id : null);
    this.app.typing.stop(this.convId);
    this.input.value = "";
    if (this.replying) this.cancelReply();
    this.stick = true;
    this.input.focus();
  }

  status(m, conv) {
    if (m.state === "pending" || m.state === "failed") return m.state;
    const others = conv.members.map((x) => x.user_id).filter((u) => u !== this.app.me.user_id);
    if (!others.length) return "sent";
    const r = m.rcpt || {};
    const min = Math.min(...others.map((u) => RANK[r[u]] || 0));
    return min >= 2 ? "read" : min >= 1 ? "delivered" : "sent";
  }

  render() {
    const s = this.app.store;
    const conv = s.conversations.get(this.convId);
    if (!conv) {
      this.heading.textContent = "Conversation";
      this.subtitle.textContent = "Not available on this device.";
      return;
    }
    this.heading.textContent = this.title;
    const peer = s.peerOf(conv);
    const me = this.app.me.user_id;
    if (peer) {
      const p = s.presence.get(peer);
      const u = s.users.get(peer);
      const seen = p ? p.last_seen_at : u && u.last_seen_at; // presence, when known, decides
      this.subtitle.textContent = p && p.status === "online" ? "online"
        : seen ? `last seen ${fmtTime(Date.parse(seen))}` : "";
      this.info.textContent = (u && u.info_text) || "";
    } else {
      this.subtitle.textContent = conv.left ? (conv.removed ? "You were removed from this group" : "You left this group")
        : `${conv.members.length} members: ${conv.members.map((m) => s.userName(m.user_id)).join(", ")}`;
      this.info.textContent = "";
    }
    const secure = this.app.security(conv) === "e2e";
    this.security.textContent = secure
      ? "End-to-end encrypted: only the two of you can read these messages."
      : conv.kind === "direct"
        ? (this.app.e2e.available ? "Not end-to-end encrypted: the other person has no encryption key yet."
          : "Not end-to-end encrypted: this page needs https (or localhost) for encryption.")
        : "Group messages are not end-to-end encrypted.";
    this.security.dataset.secure = secure ? "yes" : "no";
    this.verify.hidden = !secure;
    if (secure) {
      const ids = (u) => this.app.e2e.keysOf(u).map((k) => k.key_id).join(", ") || "none";
      this.keyList.textContent = `${s.userName(peer)}: ${ids(peer)}. You: ${ids(me)}.`;
    }
    this.showTyping();
    this.renderActions(conv, peer);
    this.members.render(conv);
    const blocked = peer && s.blocked.has(peer);
    const frozen = conv.left || blocked;
    this.input.disabled = Boolean(frozen);
    this.sendButton.disabled = Boolean(frozen);
    this.ttl.disabled = Boolean(frozen);
    this.recorder.button.disabled = Boolean(frozen);
    this.stickers.opener.disabled = Boolean(frozen);
    this.note.hidden = !frozen;
    this.note.textContent = conv.left
      ? (conv.removed ? "You were removed from this group." : "You left this group.") : blocked ? "You blocked this person. Unblock them to write." : "";

    const all = s.messagesOf(this.convId);
    const msgs = all.length > this.limit ? all.slice(all.length - this.limit) : all;
    this.more.hidden = all.length <= this.limit;
    const atBottom = this.stick;
    syncList(this.list, msgs, (m) => m.id, (m) => {
      if (m.kind === "system") return h("li", { class: "system" });
      if (m.kind === "event") {
        return h("li", { class: "msg poll event" },
          h("span", { class: "sender" }), h("div", { class: "event-body" }));
      }
      if (m.kind === "poll") {
        return h("li", { class: "msg poll" },
          h("span", { class: "sender" }), h("div", { class: "poll-body" }),
          h("span", { class: "meta" }, h("time", { class: "time" })));
      }
      const li = h("li", { class: "msg" },
        h("span", { class: "sender" }),
        h("span", { class: "forwarded", hidden: true }),
        quoteButton(),
        m.voice ? voicePlayer(this.app, m) : h("span", { class: m.sticker ? "text sticker" : "text" }),
        h("span", { class: "meta" },
          h("span", { class: "countdown", "aria-hidden": "true" }),
          h("time", { class: "time" }),
          h("span", { class: "ticks" }),
          h("button", { type: "button", class: "react-open", "aria-label": "Add a reaction",
            "aria-haspopup": "true", "aria-expanded": "false", title: "React" }, "☺"),
          h("button", { type: "button", class: "forward-open", "aria-label": "Forward this message",
            "aria-controls": "forward-form", title: "Forward" }, "↪"),
          replyButton()),
        h("div", { class: "react-picker", role: "group", "aria-label": "Choose a reaction", hidden: true },
          REACTIONS.map(([emoji, name]) => h("button", {
            type: "button", class: "react-choice", "data-emoji": emoji, "aria-label": `React with ${name}`,
            "aria-pressed": "false",
          }, emoji))),
        h("div", { class: "reactions" }));
      return li;
    }, (li, m) => {
      li.dataset.id = m.id;
      if (m.kind === "system") { li.textContent = this.systemText(m); return; }
      const mine = m.sender === me;
      li.classList.toggle("mine", mine);
      li.classList.toggle("theirs", !mine);
      const sender = li.querySelector(".sender");
      sender.textContent = conv.kind === "group" && !mine ? s.userName(m.sender) : "";
      sender.hidden = !sender.textContent;
      if (m.kind === "event") {
        renderEventCard(this, li, m, conv);
        return;
      }
      if (m.kind === "poll") {
        li.querySelector(".time").textContent = fmtTime(m.ts);
        renderPoll(this, li, m, conv);
        return;
      }
      this.renderReactions(li, m);
      this.renderBody(li, m, conv);
      renderReply(this, li, m, conv);
      const time = li.querySelector(".time");
      time.textContent = fmtTime(m.ts);
      time.dateTime = new Date(m.ts).toISOString();
      li.dataset.expires = m.expiresAt ? String(m.expiresAt) : "";
      li.classList.toggle("ephemeral", Boolean(m.expiresAt || m.ttl));
      const ticks = li.querySelector(".ticks");
      if (mine) {
        const st = this.status(m, conv);
        const [glyph, label] = TICKS[st];
        ticks.dataset.status = st;
        ticks.replaceChildren(h("span", { "aria-hidden": "true" }, glyph),
          h("span", { class: "visually-hidden" }, label));
        if (st === "failed") {
          ticks.append(h("button", { type: "button", class: "retry", "data-id": m.id,
            title: m.error || "" }, "Retry"));
        }
      } else {
        ticks.replaceChildren();
        delete ticks.dataset.status;
      }
    });
    this.countdowns();
    if (atBottom) this.list.scrollTop = this.list.scrollHeight;
    this.app.markRead();
  }

  /** The message itself: text (with @mentions), a sticker, or a voice note; and its forward marks. */
  renderBody(li, m, conv) {
    const fwd = li.querySelector(".forwarded");
    fwd.hidden = !m.forwarded;
    fwd.textContent = m.forwarded ? (m.note ? `Forwarded · “${m.note}”` : "Forwarded") : "";
    li.querySelector(".forward-open").hidden = m.enc || m.undecryptable || m.id.startsWith("local:") ||
      Boolean(m.expiresAt || m.ttl) || Boolean(conv.left) || Boolean(m.deleted);
    this.markEdited(li, m);
    if (m.voice && !m.deleted) return; // the player is made once, with the message
    const text = li.querySelector(".text") || li.querySelector(".voice");
    const key = JSON.stringify([m.text, m.undecryptable, m.sticker, m.deleted]);
    if (!text || text.dataset.shown === key) return;
    text.dataset.shown = key;
    li.classList.toggle("deleted", Boolean(m.deleted));
    if (m.deleted) {
      text.replaceChildren("This message was deleted");
      text.removeAttribute("role");
      text.removeAttribute("aria-label");
    } else if (m.undecryptable) {
      text.textContent = `Encrypted message: ${m.undecryptable}`;
      li.classList.add("undecryptable");
    } else if (m.sticker) {
      const st = sticker(m.sticker.pack, m.sticker.id);
      text.textContent = st ? st.glyph : `[sticker ${m.sticker.pack}/${m.sticker.id}]`;
      text.setAttribute("role", "img");
      text.setAttribute("aria-label", `Sticker: ${st ? st.name : m.sticker.id}`);
    } else if (conv.kind === "group" && (m.text || "").includes("@")) {
      text.replaceChildren(...withMentions(m.text, this.app.me.username));
    } else {
      text.textContent = m.text;
    }
  }

  /** "edited" beside the time of a message changed elsewhere (MTChat or Symbia REST). */
  markEdited(li, m) {
    let mark = li.querySelector(".edited");
    if (!m.edited || m.deleted) { if (mark) mark.remove(); return; }
    if (mark) return;
    mark = h("span", { class: "edited", title: m.editedAt ? `edited ${fmtTime(m.editedAt)}` : "edited" }, "edited");
    li.querySelector(".time").before(mark);
  }

  /** "<name> is typing…" under the title (a polite live region: said once, not on every key). */
  showTyping() {
    const text = this.app.typing.text(this.convId);
    if (this.typingNote.textContent !== text) this.typingNote.textContent = text;
  }

  openForward(id) {
    const m = this.app.store.messages.get(id);
    if (!m) return;
    this.forwarding = m;
    this.forwardForm.open(m, this.convId);
  }

  closeForward() {
    const id = this.forwarding && this.forwarding.id;
    this.forwarding = null;
    this.forwardForm.hidden = true;
    const li = id && this.list.querySelector(`li[data-key="${CSS.escape(id)}"]`);
    if (li) li.querySelector(".forward-open").focus();
    else this.input.focus();
  }

  // -- replies -------------------------------------------------------------
  startReply(id) {
    const m = this.app.store.messages.get(id);
    if (!m || this.input.disabled) return;
    this.replying = m;
    const s = this.app.store;
    this.reply.who.textContent = m.sender === this.app.me.user_id ? "You" : s.userName(m.sender);
    this.reply.what.textContent = snippet(m);
    this.reply.el.setAttribute("aria-label", `Replying to ${this.reply.who.textContent}`);
    this.reply.el.hidden = false;
    this.input.setAttribute("aria-describedby", "reply-bar-text");
    this.input.focus();
  }

  cancelReply() {
    this.replying = null;
    this.reply.el.hidden = true;
    this.input.removeAttribute("aria-describedby");
    this.input.focus();
  }

  // -- reactions -----------------------------------------------------------
  renderReactions(li, m) {
    const me = this.app.me.user_id;
    const mineNow = (m.reactions || {})[me] || "";
    const canReact = !m.id.startsWith("local:") && !m.undecryptable && !m.deleted;
    const opener = li.querySelector(".react-open");
    opener.hidden = !canReact;
    const open = canReact && this.pickerFor === m.id;
    opener.setAttribute("aria-expanded", String(open));
    const picker = li.querySelector(".react-picker");
    picker.hidden = !open;
    for (const b of picker.children) b.setAttribute("aria-pressed", String(b.dataset.emoji === mineNow));
    const counts = new Map();
    for (const r of Object.values(m.reactions || {})) counts.set(r, (counts.get(r) || 0) + 1);
    const row = li.querySelector(".reactions");
    const key = JSON.stringify([...counts, mineNow, canReact]);
    if (row.dataset.shown === key) return;
    row.dataset.shown = key;
    const focused = row.contains(document.activeElement) ? document.activeElement.dataset.emoji : null;
    row.replaceChildren(...[...counts].map(([emoji, n]) => h("button", {
      type: "button", class: "reaction-chip", "data-emoji": emoji, "aria-pressed": String(emoji === mineNow),
      disabled: !canReact,
      "aria-label": `${REACTION_NAMES.get(emoji) || emoji}: ${n}${emoji === mineNow ? ", yours (press to remove)" : ""}`,
    }, h("span", { "aria-hidden": "true" }, emoji), h("span", { class: "count" }, String(n)))));
    if (focused) { const again = row.querySelector(`[data-emoji="${focused}"]`); if (again) again.focus(); }
  }

  closePicker(refocus) {
    const id = this.pickerFor;
    this.pickerFor = null;
    this.render();
    if (refocus && id) {
      const li = this.list.querySelector(`li[data-key="${CSS.escape(id)}"]`);
      if (li) li.querySelector(".react-open").focus();
    }
  }

  /** Choosing the reaction one already has takes it back (sent as ""). */
  toggleReaction(id, emoji) {
    const m = this.app.store.messages.get(id);
    if (!m) return;
    const current = (m.reactions || {})[this.app.me.user_id];
    this.run(() => this.app.react(id, current === emoji ? "" : emoji), null);
  }

  clicked(ev) {
    const button = ev.target.closest("button");
    if (!button) return;
    const li = button.closest("li.msg");
    const id = li && li.dataset.id;
    if (li && li.classList.contains("event")) {
      const m = this.app.store.messages.get(id);
      if (m) eventClicked(this, button, m);
      return;
    }
    if (button.classList.contains("retry")) this.app.retry(button.dataset.id);
    else if (button.classList.contains("forward-open")) this.openForward(id);
    else if (button.classList.contains("reply-open")) this.startReply(id);
    else if (button.classList.contains("quote")) goToOriginal(this, button.dataset.target);
    else if (button.classList.contains("react-open")) {
      if (this.pickerFor === id) { this.closePicker(true); return; }
      this.pickerFor = id;
      this.render();
      const first = li.querySelector(".react-choice");
      if (first) first.focus();
    } else if (button.classList.contains("react-choice")) {
      this.toggleReaction(id, button.dataset.emoji);
      this.closePicker(true);
    } else if (button.classList.contains("reaction-chip")) {
      this.toggleReaction(id, button.dataset.emoji);
    } else if (button.classList.contains("poll-option")) {
      vote(this, li.dataset.id, button.dataset.option);
    } else if (button.classList.contains("poll-close")) {
      const m = this.app.store.messages.get(id);
      if (m) this.run(() => this.app.closePoll(m.conv, m.poll.id), null); // the card says so
    }
  }

  /** A direct chat without the peer's key: look again every few seconds (they may publish one). */
  recheckKey() {
    const conv = this.app.store.conversations.get(this.convId);
    if (!conv || conv.kind !== "direct" || !this.app.e2e.available) return;
    if (this.app.security(conv) === "e2e" || Date.now() - (this.keyChecked || 0) < 5000) return;
    this.keyChecked = Date.now();
    this.app.checkSecurity(conv).catch(() => {});
  }

  systemText(m) {
    const who = this.app.store.userName(m.user);
    if (m.event === "created") return `${who} created the group “${m.name}”`;
    if (m.event === "left") return `${who} left`;
    if (m.event === "joined") return `${who} joined`;
    const whom = m.user === this.app.me.user_id ? "you" : who;
    if (m.event === "added") return `${this.app.store.userName(m.by)} added ${whom}`;
    if (m.event === "removed") return `${this.app.store.userName(m.by)} removed ${whom}`;
    if (m.event === "role") {
      const by = this.app.store.userName(m.by);
      return m.role === "admin" ? `${by} made ${whom} an admin` : `${by} made ${whom} a member`;
    }
    return m.text || "";
  }

  renderActions(conv, peer) {
    const s = this.app.store;
    const key = `${conv.kind}:${conv.left}:${peer && s.blocked.has(peer)}:${!!conv.pinned}:${!!conv.archived}`;
    if (this.actionsKey === key) return;
    this.actionsKey = key;
    const buttons = [];
    if (!conv.left) {
      // This user's own flags (the other members see nothing of them).
      const { pinned, archived } = conv;
      buttons.push(h("button", {
        type: "button", id: "pin-toggle", "aria-pressed": String(!!pinned),
        onclick: () => this.run(() => this.app.setPinned(conv.id, !pinned), pinned ? "Unpinned." : "Pinned."),
      }, pinned ? "Unpin" : "Pin"));
      buttons.push(h("button", {
        type: "button", id: "archive-toggle",
        onclick: () => this.run(() => this.app.setArchived(conv.id, !archived),
          archived ? "Moved out of the archive." : "Archived."),
      }, archived ? "Unarchive" : "Archive"));
    }
    if (peer) {
      const blocked = s.blocked.has(peer);
      buttons.push(h("button", {
        type: "button", id: "block-toggle",
        onclick: () => this.run(() => (blocked ? this.app.unblock(peer) : this.app.block(peer)),
          blocked ? "Unblocked." : "Blocked."),
      }, blocked ? "Unblock" : "Block"));
    } else if (!conv.left) {
      buttons.push(h("button", { type: "button", id: "new-poll", "aria-expanded": "false",
        "aria-controls": "poll-form", onclick: () => togglePollForm(this, this.pollForm.hidden) }, "New poll"));
      buttons.push(h("button", { type: "button", id: "new-event", "aria-expanded": "false",
        "aria-controls": "event-form", onclick: () => toggleEventForm(this, this.eventForm.hidden) }, "New event"));
      // Two steps instead of confirm(): the second press within 5 s leaves.
      const leave = h("button", { type: "button", id: "leave-group" }, "Leave group");
      let armed = 0;
      leave.addEventListener("click", () => {
        if (!armed) {
          leave.textContent = "Press again to leave";
          armed = setTimeout(() => { armed = 0; leave.textContent = "Leave group"; }, 5000);
          return;
        }
        clearTimeout(armed);
        this.run(() => this.app.leaveGroup(conv.id), "You left the group.");
      });
      buttons.push(leave);
    }
    this.actions.replaceChildren(...buttons);
  }

  async run(action, done) {
    try { await action(); if (done) toast(done); } catch (e) { toast(e.message || "That did not work."); }
  }

  countdowns() {
    const now = Date.now();
    for (const li of this.list.querySelectorAll("li.msg")) {
      const at = Number(li.dataset.expires);
      const el = li.querySelector(".countdown");
      if (!el) continue; // a poll
      if (!at) { el.textContent = ""; continue; }
      const left = at - now;
      el.textContent = left > 0 ? fmtRemaining(left) : "";
    }
  }

  destroy() {
    this.app.drafts.set(this.convId, this.input.value); // kept while the app runs
    this.app.typing.stop(this.convId);
    for (const off of this.offs) off();
    clearInterval(this.tick);
    if (this.recorder.rec) this.recorder.destroy();
    if (this.app.openConv === this.convId) this.app.openConv = null;
  }
}
