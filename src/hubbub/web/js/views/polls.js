// Poll cards and the new-poll form of a group chat (ChatView, chat.js):
// single or multi select, live counts, closing by the creator or an admin.

import { h } from "../dom.js";

const MAX_POLL_OPTIONS = 12;
const CLOSES = [[0, "When I close it"], [3600, "In 1 hour"], [86400, "In 1 day"], [604800, "In 1 week"]];

/** A result bar; its width through CSSOM (the CSP refuses style attributes). */
function bar(pct) {
  const el = h("span", { class: "poll-bar", "aria-hidden": "true" });
  el.style.width = `${pct}%`;
  return el;
}

export function makePollForm(view) {
  const question = h("input", { id: "poll-question", maxlength: "300", required: true, autocomplete: "off" });
  const options = h("ol", { class: "poll-form-options", id: "poll-form-options" });
  const multi = h("input", { type: "checkbox", id: "poll-multi" });
  // The server closes the poll at `expires_at` (a durable timer); durations,
  // not a clock time, so no time zone can be got wrong.
  const closes = h("select", { id: "poll-closes" }, CLOSES.map(([s, text]) => h("option", { value: String(s) }, text)));
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
    h("p", {}, h("label", { for: "poll-closes" }, "Closes"), " ", closes),
    error,
    h("p", { class: "poll-form-buttons" },
      h("button", { type: "submit", class: "primary", id: "poll-submit" }, "Create poll"),
      h("button", { type: "button", id: "poll-cancel", onclick: () => togglePollForm(view, false) }, "Cancel")));
  const reset = () => {
    question.value = ""; multi.checked = false; closes.value = "0"; error.textContent = "";
    options.replaceChildren(); addOption(); addOption();
  };
  reset();
  form.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { ev.preventDefault(); togglePollForm(view, false); }
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const texts = [...options.querySelectorAll("input")].map((i) => i.value.trim()).filter(Boolean);
    if (!question.value.trim()) { error.textContent = "Write a question."; question.focus(); return; }
    if (texts.length < 2) { error.textContent = "Give at least two options."; return; }
    try {
      await view.app.createPoll(view.convId, question.value.trim(), texts, multi.checked, Number(closes.value));
      reset();
      view.stick = true;
      togglePollForm(view, false);
    } catch (e) { error.textContent = e.message || "The poll could not be created."; }
  });
  return form;
}

/** "14:05" today, else "Tue 14:05" within a week, else the date. */
function closesText(ms) {
  const when = new Date(ms);
  const time = when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" });
  const days = (ms - Date.now()) / 86400000;
  if (when.toDateString() === new Date().toDateString()) return `at ${time}`;
  if (days < 6) return `${when.toLocaleDateString([], { weekday: "short" })} ${time}`;
  return when.toLocaleDateString();
}

export function togglePollForm(view, show) {
  view.pollForm.hidden = !show;
  const opener = view.actions.querySelector("#new-poll");
  if (opener) opener.setAttribute("aria-expanded", String(show));
  if (show) view.pollForm.querySelector("#poll-question").focus();
  else if (opener) opener.focus();
}

export function vote(view, itemId, optionId) {
  const m = view.app.store.messages.get(itemId);
  if (!m || m.poll.closed) return;
  const mine = m.poll.mine || [];
  let next;
  if (m.poll.multi) next = mine.includes(optionId) ? mine.filter((o) => o !== optionId) : [...mine, optionId];
  else next = mine.includes(optionId) ? [] : [optionId]; // the chosen one again withdraws the vote
  view.run(() => view.app.votePoll(m.conv, m.poll.id, next), null);
}

export function renderPoll(view, li, m, conv) {
  const s = view.app.store;
  const me = view.app.me.user_id;
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
      : `${p.multi ? "Choose any" : "Choose one"} · ${total} ${total === 1 ? "vote" : "votes"}`
        + (p.expiresAt ? ` · closes ${closesText(p.expiresAt)}` : "")),
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
