// Replies: the "Reply" button of each message, the reply bar above the
// composer (the quoted message and a cancel button; Escape cancels), and the
// quote drawn above a reply's text, which scrolls to and focuses the original
// when this device has it.
//
// A reply carries the id of the message it answers (`reply_to_id`, a
// hubbub addition to SendChatMessageWithClientId and SendEncryptedMessage);
// the quote is drawn from this device's own copy of the original, so an
// encrypted one is quoted from its decrypted text and never sent again.

import { h } from "../dom.js";

const SNIPPET = 80; // characters of the original shown in a quote

/** A one-line description of a message, for a quote or the reply bar. */
export function snippet(m) {
  if (!m) return "Original message not available";
  if (m.undecryptable) return "Encrypted message";
  if (m.voice) return "Voice note";
  if (m.sticker) return "Sticker";
  const text = String(m.text || "").replace(/\s+/g, " ").trim();
  return text.length > SNIPPET ? `${text.slice(0, SNIPPET - 1)}…` : text;
}

/** The reply button of a message (its label names the sender: set by `renderReply`). */
export function replyButton() {
  return h("button", { type: "button", class: "reply-open", "aria-label": "Reply", title: "Reply",
    "aria-controls": "reply-bar" }, "↩");
}

/** The quote above a reply's text: a button that goes to the original. */
export function quoteButton() {
  return h("button", { type: "button", class: "quote", hidden: true },
    h("span", { class: "quote-sender" }), h("span", { class: "quote-text" }));
}

/** Above the composer while a reply is being written. */
export function replyBar(onCancel) {
  const who = h("span", { class: "reply-bar-sender" });
  const what = h("span", { class: "reply-bar-text", id: "reply-bar-text" });
  const cancel = h("button", { type: "button", class: "reply-cancel", id: "reply-cancel",
    "aria-label": "Cancel reply", title: "Cancel reply (Escape)", onclick: onCancel }, "✕");
  const el = h("div", { class: "reply-bar", id: "reply-bar", role: "group", "aria-label": "Replying to", hidden: true },
    h("p", { class: "reply-bar-quote" }, who, what), cancel);
  return { el, who, what, cancel };
}

/** Fill a message's reply button and quote. */
export function renderReply(view, li, m, conv) {
  const s = view.app.store;
  const button = li.querySelector(".reply-open");
  if (button) {
    button.hidden = m.id.startsWith("local:") || Boolean(conv.left);
    button.setAttribute("aria-label", `Reply to ${m.sender === view.app.me.user_id ? "yourself" : s.userName(m.sender)}`);
  }
  const quote = li.querySelector(".quote");
  if (!quote) return;
  quote.hidden = !m.replyTo;
  if (!m.replyTo) return;
  const original = s.messages.get(m.replyTo);
  const sender = original ? (original.sender === view.app.me.user_id ? "You" : s.userName(original.sender)) : "";
  quote.querySelector(".quote-sender").textContent = sender;
  quote.querySelector(".quote-text").textContent = snippet(original);
  quote.dataset.target = m.replyTo;
  quote.setAttribute("aria-disabled", String(!original));
  quote.setAttribute("aria-label", original
    ? `In reply to ${sender}: ${snippet(original)} (go to the original message)`
    : "In reply to a message not available here");
}

/** Scroll to the original of a quote and focus it (when it is drawn). */
export function goToOriginal(view, id) {
  let li = view.list.querySelector(`li[data-key="${CSS.escape(id)}"]`);
  if (!li && view.app.store.messages.has(id)) {
    view.limit = Number.MAX_SAFE_INTEGER; // it is older than the drawn page
    view.stick = false;
    view.render();
    li = view.list.querySelector(`li[data-key="${CSS.escape(id)}"]`);
  }
  if (!li) return;
  li.tabIndex = -1;
  li.scrollIntoView({ block: "center" });
  li.focus();
  li.classList.add("highlight");
  setTimeout(() => li.classList.remove("highlight"), 1500);
}
