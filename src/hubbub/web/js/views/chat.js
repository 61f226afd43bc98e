// One conversation: header (title, presence or last seen, encryption,
// block / leave), the messages with ticks and self-destruct countdowns, and
// the composer (Enter sends, Shift+Enter for a new line); reactions under
// messages (a picker of a few emoji per message) and poll cards (groups).

import { fill, fmtRemaining, fmtTime, h, syncList, toast } from "../dom.js";

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
const MAX_POLL_OPTIONS = 12;

/** A result bar; its width through CSSOM (the CSP refuses style attributes). */
function bar(pct) {
  const el = h("span", { class: "poll-bar", "aria-hidden": "true" });
  el.style.width = `${pct}%`;
  return el;
}
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
    this.pollForm = this.makePollForm();
    this.form = h("form", { class: "composer", "aria-label": "Write a message" },
      h("label", { for: "composer-input", class: "visually-hidden" }, "Message"),
      this.input,
      h("label", { for: "composer-ttl", class: "ttl-label" }, h("span", { class: "icon icon-timer", "aria-hidden": "true" }),
        h("span", { class: "visually-hidden" }, "Disappearing message timer")),
      this.ttl,
      this.sendButton);
    fill(el, h("div", { class: "chat" },
      h("header", { class: "chat-header" },
        h("a", { href: "#/", class: "back", "aria-label": "Back to chats" }, "←"),
        h("div", { class: "chat-head-text" }, this.heading, this.subtitle, this.info),
        this.actions),
      this.security,
      this.verify,
      this.more,
      this.list,
      this.note,
      this.pollForm,
      this.form));

    this.input.value = app.drafts.get(convId) || "";
    this.form.addEventListener("submit", (ev) => { ev.preventDefault(); this.submit(); });
    this.input.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) { ev.preventDefault(); this.submit(); }
    });
    this.pickerFor = null; // the message whose reaction picker is open
    this.list.addEventListener("click", (ev) => this.clicked(ev));
    this.list.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && this.pickerFor) {
        ev.preventDefault(); // the picker closes; the chat stays open
        this.closePicker(true);
      }
    });
    this.offs = ["messages", "conversations", "users", "presence", "blocks"].map(
      (t) => s.on(t, () => this.render()));
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
    this.app.send(this.convId, text, ttl);
    this.input.value = "";
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
      const seen = (p && p.last_seen_at) || (u && u.last_seen_at);
      this.subtitle.textContent = p && p.status === "online" ? "online"
        : seen ? `last seen ${fmtTime(Date.parse(seen))}` : "";
      this.info.textContent = (u && u.info_text) || "";
    } else {
      this.subtitle.textContent = conv.left ? "You left this group"
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
    this.renderActions(conv, peer);
    const blocked = peer && s.blocked.has(peer);
    const frozen = conv.left || blocked;
    this.input.disabled = Boolean(frozen);
    this.sendButton.disabled = Boolean(frozen);
    this.ttl.disabled = Boolean(frozen);
    this.note.hidden = !frozen;
    this.note.textContent = conv.left ? "You left this group." : blocked ? "You blocked this person. Unblock them to write." : "";

    const all = s.messagesOf(this.convId);
    const msgs = all.length > this.limit ? all.slice(all.length - this.limit) : all;
    this.more.hidden = all.length <= this.limit;
    const atBottom = this.stick;
    syncList(this.list, msgs, (m) => m.id, (m) => {
      if (m.kind === "system") return h("li", { class: "system" });
      if (m.kind === "poll") {
        return h("li", { class: "msg poll" },
          h("span", { class: "sender" }), h("div", { class: "poll-body" }),
          h("span", { class: "meta" }, h("time", { class: "time" })));
      }
      const li = h("li", { class: "msg" },
        h("span", { class: "sender" }),
        h("span", { class: "text" }),
        h("span", { class: "meta" },
          h("span", { class: "countdown", "aria-hidden": "true" }),
          h("time", { class: "time" }),
          h("span", { class: "ticks" }),
          h("button", { type: "button", class: "react-open", "aria-label": "Add a reaction",
            "aria-haspopup": "true", "aria-expanded": "false", title: "React" }, "☺")),
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
      if (m.kind === "poll") {
        li.querySelector(".time").textContent = fmtTime(m.ts);
        this.renderPoll(li, m, conv);
        return;
      }
      this.renderReactions(li, m);
      const text = li.querySelector(".text");
      if (m.undecryptable) {
        text.textContent = `Encrypted message: ${m.undecryptable}`;
        li.classList.add("undecryptable");
      } else {
        text.textContent = m.text;
      }
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

  // -- reactions -----------------------------------------------------------
  renderReactions(li, m) {
    const me = this.app.me.user_id;
    const mineNow = (m.reactions || {})[me] || "";
    const canReact = !m.id.startsWith("local:") && !m.undecryptable;
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
    if (button.classList.contains("retry")) this.app.retry(button.dataset.id);
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
      this.vote(li.dataset.id, button.dataset.option);
    } else if (button.classList.contains("poll-close")) {
      const m = this.app.store.messages.get(id);
      if (m) this.run(() => this.app.closePoll(m.conv, m.poll.id), null); // the card says so
    }
  }

  // -- polls ---------------------------------------------------------------
  makePollForm() {
    const question = h("input", { id: "poll-question", maxlength: "300", required: true, autocomplete: "off" });
    const options = h("ol", { class: "poll-form-options", id: "poll-form-options" });
    const multi = h("input", { type: "checkbox", id: "poll-multi" });
    const error = h("p", { class: "form-error", role: "alert", id: "poll-error" });
    let n = 0;
    const addOption = () => {
      n += 1;
      const id = `poll-option-${n}`;
      options.append(h("li", {},
        h("label", { for: id }, `Option ${options.children.length + 1}`),
        h("input", { id, class: "poll-option-input", maxlength: "100", autocomplete: "off" })));
      addButton.disabled = options.children.length >= MAX_POLL_OPTIONS;
    };
    const addButton = h("button", { type: "button", id: "poll-add-option", onclick: () => {
      addOption(); options.lastChild.querySelector("input").focus();
    } }, "Add option");
    const form = h("form", { class: "poll-form", id: "poll-form", hidden: true, "aria-labelledby": "poll-form-title" },
      h("h3", { id: "poll-form-title" }, "New poll"),
      h("label", { for: "poll-question" }, "Question"), question,
      options, addButton,
      h("p", { class: "check" }, multi, h("label", { for: "poll-multi" }, "Allow several answers")),
      error,
      h("p", { class: "poll-form-buttons" },
        h("button", { type: "submit", class: "primary", id: "poll-submit" }, "Create poll"),
        h("button", { type: "button", id: "poll-cancel", onclick: () => this.togglePollForm(false) }, "Cancel")));
    const reset = () => {
      question.value = ""; multi.checked = false; error.textContent = "";
      options.replaceChildren(); addOption(); addOption();
    };
    reset();
    form.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape") { ev.preventDefault(); this.togglePollForm(false); }
    });
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const texts = [...options.querySelectorAll("input")].map((i) => i.value.trim()).filter(Boolean);
      if (!question.value.trim()) { error.textContent = "Write a question."; question.focus(); return; }
      if (texts.length < 2) { error.textContent = "Give at least two options."; return; }
      try {
        await this.app.createPoll(this.convId, question.value.trim(), texts, multi.checked);
        reset();
        this.stick = true;
        this.togglePollForm(false);
      } catch (e) { error.textContent = e.message || "The poll could not be created."; }
    });
    return form;
  }

  togglePollForm(show) {
    this.pollForm.hidden = !show;
    const opener = this.actions.querySelector("#new-poll");
    if (opener) opener.setAttribute("aria-expanded", String(show));
    if (show) this.pollForm.querySelector("#poll-question").focus();
    else if (opener) opener.focus();
  }

  vote(itemId, optionId) {
    const m = this.app.store.messages.get(itemId);
    if (!m || m.poll.closed) return;
    const mine = m.poll.mine || [];
    let next;
    if (m.poll.multi) next = mine.includes(optionId) ? mine.filter((o) => o !== optionId) : [...mine, optionId];
    else next = mine.includes(optionId) ? [] : [optionId]; // the chosen one again withdraws the vote
    this.run(() => this.app.votePoll(m.conv, m.poll.id, next), null);
  }

  renderPoll(li, m, conv) {
    const s = this.app.store;
    const me = this.app.me.user_id;
    const p = m.poll;
    const mine = m.sender === me;
    li.classList.toggle("mine", mine);
    li.classList.toggle("theirs", !mine);
    li.classList.toggle("closed", Boolean(p.closed));
    const sender = li.querySelector(".sender");
    sender.textContent = mine ? "Your poll" : `Poll by ${s.userName(m.sender)}`;
    const body = li.querySelector(".poll-body");
    const key = JSON.stringify([p, conv.left]);
    if (body.dataset.shown === key) return;
    body.dataset.shown = key;
    const focused = body.contains(document.activeElement) ? document.activeElement.dataset.option : null;
    const total = Object.values(p.counts || {}).reduce((a, b) => a + b, 0);
    const qid = `poll-q-${p.id}`;
    // The server lets the creator close a poll, and a group's owner or admins.
    const role = (conv.members.find((x) => x.user_id === me) || {}).role;
    const canClose = !p.closed && !conv.left && (p.creator === me || role === "owner" || role === "admin");
    body.replaceChildren(
      h("p", { class: "poll-question", id: qid }, p.question || "Poll"),
      h("p", { class: "poll-state" }, p.closed ? `Closed · final results · ${total} ${total === 1 ? "vote" : "votes"}`
        : `${p.multi ? "Choose any" : "Choose one"} · ${total} ${total === 1 ? "vote" : "votes"}`),
      h("ul", { class: "poll-options", "aria-labelledby": qid }, (p.options || []).map((o) => {
        const n = (p.counts || {})[o.option_id] || 0;
        const chosen = (p.mine || []).includes(o.option_id);
        const pct = total ? Math.round((n / total) * 100) : 0;
        return h("li", {}, h("button", {
          type: "button", class: "poll-option", "data-option": o.option_id, "aria-pressed": String(chosen),
          disabled: Boolean(p.closed || conv.left),
          "aria-label": `${o.text}: ${n} ${n === 1 ? "vote" : "votes"}${chosen ? ", your vote" : ""}`,
        },
        bar(pct),
        h("span", { class: "poll-text" }, (chosen ? "✓ " : "") + o.text),
        h("span", { class: "poll-count" }, String(n))));
      })),
      ...(canClose ? [h("button", { type: "button", class: "poll-close" }, "Close poll")] : []));
    if (focused) { const again = body.querySelector(`[data-option="${focused}"]`); if (again) again.focus(); }
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
    return m.text || "";
  }

  renderActions(conv, peer) {
    const s = this.app.store;
    const key = `${conv.kind}:${conv.left}:${peer && s.blocked.has(peer)}`;
    if (this.actionsKey === key) return;
    this.actionsKey = key;
    const buttons = [];
    if (peer) {
      const blocked = s.blocked.has(peer);
      buttons.push(h("button", {
        type: "button", id: "block-toggle",
        onclick: () => this.run(() => (blocked ? this.app.unblock(peer) : this.app.block(peer)),
          blocked ? "Unblocked." : "Blocked."),
      }, blocked ? "Unblock" : "Block"));
    } else if (!conv.left) {
      buttons.push(h("button", { type: "button", id: "new-poll", "aria-expanded": "false",
        "aria-controls": "poll-form", onclick: () => this.togglePollForm(this.pollForm.hidden) }, "New poll"));
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
    for (const off of this.offs) off();
    clearInterval(this.tick);
    if (this.app.openConv === this.convId) this.app.openConv = null;
  }
}
