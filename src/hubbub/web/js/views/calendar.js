// Group events (`group/events*`) in a group chat: a card per event in the
// timeline (when, where, who is going, your answer, your reminder) and the
// form that creates or edits one. Edits carry the version the card shows; a
// stale one is refused by the server with the current version, and the form
// says so (someone else changed it first).

import { fmtTime, h, toast } from "../dom.js";

const RSVPS = [["going", "Going"], ["maybe", "Maybe"], ["not_going", "Can't go"]];
const REMINDERS = [["", "No reminder"], ["0", "When it starts"], ["900", "15 minutes before"],
  ["3600", "1 hour before"], ["86400", "1 day before"]];

/** `<input type="datetime-local">` value <-> epoch ms, in the browser's time zone. */
function localValue(ms) {
  const d = new Date(ms - new Date(ms).getTimezoneOffset() * 60000);
  return d.toISOString().slice(0, 16);
}

export function makeEventForm(view) {
  const field = (id, label, input) => [h("label", { for: id }, label), input];
  const title = h("input", { id: "event-title", maxlength: "256", required: true, autocomplete: "off" });
  const start = h("input", { id: "event-start", type: "datetime-local", required: true });
  const end = h("input", { id: "event-end", type: "datetime-local" });
  const where = h("input", { id: "event-location", maxlength: "512", autocomplete: "off" });
  const desc = h("textarea", { id: "event-description", maxlength: "4000", rows: "2" });
  const error = h("p", { class: "form-error", role: "alert", id: "event-error" });
  const heading = h("h3", { id: "event-form-title" }, "New event");
  const form = h("form", { class: "poll-form", id: "event-form", hidden: true, "aria-labelledby": "event-form-title" },
    heading, field("event-title", "Title", title), field("event-start", "Starts", start),
    field("event-end", "Ends (optional)", end), field("event-location", "Place (optional)", where),
    field("event-description", "Details (optional)", desc), error,
    h("p", { class: "poll-form-buttons" },
      h("button", { type: "submit", class: "primary", id: "event-submit" }, "Save event"),
      h("button", { type: "button", id: "event-cancel", onclick: () => toggleEventForm(view, false) }, "Cancel")));
  form.editing = null; // the event being edited, or null for a new one
  form.fill = (ev) => {
    form.editing = ev || null;
    heading.textContent = ev ? "Edit event" : "New event";
    title.value = ev ? ev.title : "";
    start.value = ev ? localValue(ev.start) : localValue(Date.now() + 3600_000);
    end.value = ev && ev.end ? localValue(ev.end) : "";
    where.value = (ev && ev.location) || "";
    desc.value = (ev && ev.description) || "";
    error.textContent = "";
  };
  form.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { ev.preventDefault(); toggleEventForm(view, false); }
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    if (!title.value.trim()) { error.textContent = "Give the event a title."; title.focus(); return; }
    const startMs = Date.parse(start.value);
    if (!start.value || Number.isNaN(startMs)) { error.textContent = "Choose when it starts."; start.focus(); return; }
    const fields = {
      title: title.value.trim(), start_time: new Date(startMs).toISOString(),
      end_time: end.value ? new Date(Date.parse(end.value)).toISOString() : undefined,
      location: where.value.trim() || undefined, description: desc.value.trim() || undefined,
    };
    try {
      await view.app.saveGroupEvent(view.convId, form.editing, fields);
      view.stick = !form.editing;
      toggleEventForm(view, false);
    } catch (e) { error.textContent = e.message || "The event could not be saved."; }
  });
  return form;
}

export function toggleEventForm(view, show, ev = null) {
  const form = view.eventForm;
  if (show) form.fill(ev);
  form.hidden = !show;
  const opener = view.actions.querySelector("#new-event");
  if (opener) opener.setAttribute("aria-expanded", String(show && !ev));
  if (show) form.querySelector("#event-title").focus();
  else if (opener) opener.focus();
}

/** May this user change the event: its organizer, or an owner or admin of the group. */
function mayEdit(view, ev, conv) {
  const me = view.app.me.user_id;
  const role = (conv.members.find((x) => x.user_id === me) || {}).role;
  return ev.organizer === me || role === "owner" || role === "admin";
}

export function renderEventCard(view, li, m, conv) {
  const s = view.app.store;
  const ev = m.event;
  const me = view.app.me.user_id;
  li.classList.toggle("cancelled", Boolean(ev.deleted));
  li.querySelector(".sender").textContent = ev.organizer === me ? "Your event" : `Event by ${s.userName(ev.organizer)}`;
  const body = li.querySelector(".event-body");
  const key = JSON.stringify([ev, conv.left, conv.members.length]);
  if (body.dataset.shown === key) return;
  body.dataset.shown = key;
  const focused = body.contains(document.activeElement) ? document.activeElement.id : null;
  const tid = `event-t-${ev.id}`;
  const counts = Object.fromEntries(RSVPS.map(([v]) => [v, 0]));
  for (const st of Object.values(ev.rsvps || {})) counts[st] = (counts[st] || 0) + 1;
  const mine = (ev.rsvps || {})[me] || "";
  const frozen = Boolean(ev.deleted || conv.left);
  const when = ev.start ? fmtTime(ev.start) + (ev.end ? ` – ${fmtTime(ev.end)}` : "") : "";
  const going = Object.entries(ev.rsvps || {}).filter(([, st]) => st === "going").map(([u]) => s.userName(u));
  const children = [
    h("p", { class: "poll-question", id: tid }, ev.title || "Event"),
    h("p", { class: "event-when" }, ev.deleted ? "Cancelled" : when),
    ev.location ? h("p", { class: "event-where" }, ev.location) : null,
    ev.description ? h("p", { class: "event-desc" }, ev.description) : null,
    h("p", { class: "event-going" }, going.length ? `Going: ${going.join(", ")}` : "Nobody has said they are going yet"),
  ];
  if (!frozen) {
    children.push(h("div", { class: "event-rsvp", role: "group", "aria-labelledby": tid },
      RSVPS.map(([value, label]) => h("button", {
        type: "button", class: "event-rsvp-choice", id: `rsvp-${ev.id}-${value}`, "data-rsvp": value,
        "aria-pressed": String(mine === value), "aria-label": `${label}: ${counts[value]}`,
      }, `${label} ${counts[value]}`))));
    const remind = h("select", { id: `remind-${ev.id}`, class: "event-remind" },
      // A reminder can be moved but not taken back (the server has no call for that).
      REMINDERS.map(([v, t]) => h("option", {
        value: v, selected: v === (ev.myReminder ?? ""), disabled: v === "" && ev.myReminder != null,
      }, t)));
    children.push(h("p", { class: "event-remind-row" },
      h("label", { for: `remind-${ev.id}` }, "Remind me"), remind));
    if (mayEdit(view, ev, conv)) {
      children.push(h("p", { class: "poll-form-buttons" },
        h("button", { type: "button", class: "event-edit", id: `edit-${ev.id}` }, "Edit event"),
        h("button", { type: "button", class: "event-delete", id: `delete-${ev.id}` }, "Cancel event")));
    }
  }
  body.replaceChildren(...children.filter(Boolean));
  if (focused) { const again = document.getElementById(focused); if (again) again.focus(); }
}

/** Clicks and changes inside event cards (delegated from the message list). */
export function eventClicked(view, button, m) {
  const ev = m.event;
  if (button.classList.contains("event-rsvp-choice")) {
    view.run(() => view.app.rsvpGroupEvent(m.conv, ev.id, button.dataset.rsvp), null);
  } else if (button.classList.contains("event-edit")) {
    toggleEventForm(view, true, ev);
  } else if (button.classList.contains("event-delete")) {
    view.run(() => view.app.deleteGroupEvent(m.conv, ev), "Event cancelled.");
  }
}

export function eventChanged(view, select, m) {
  if (!select.classList.contains("event-remind")) return;
  const ev = m.event;
  if (select.value === "") return;
  const before = Number(select.value);
  if (ev.start - before * 1000 <= Date.now()) {
    toast("That time has passed.");
    select.value = ev.myReminder ?? "";
    return;
  }
  view.run(() => view.app.remindGroupEvent(m.conv, ev, before), "Reminder set.");
}
