// The parts of a conversation that are not plain text: recording and playing
// voice notes, the sticker picker, the forward form, and @mentions in text.
// ChatView (chat.js) owns the layout; these build its pieces.

import { h, toast } from "../dom.js";
import { STICKERS } from "../stickers.js";

const MAX_RECORDING_MS = 5 * 60 * 1000;
const PREFERRED = ["audio/ogg;codecs=opus", "audio/webm;codecs=opus", "audio/webm", "audio/mp4"];

/** The first recording format this browser has (MediaRecorder picks its own otherwise). */
function recordingType() {
  if (typeof MediaRecorder === "undefined" || !MediaRecorder.isTypeSupported) return "";
  return PREFERRED.find((t) => MediaRecorder.isTypeSupported(t)) || "";
}

function base64(buffer) {
  const bytes = new Uint8Array(buffer);
  let s = "";
  for (let i = 0; i < bytes.length; i += 0x8000) s += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(s);
}

/**
 * The record button: press to record, press again to send, Escape cancels.
 * `onDone({payload, mime, durationMs})` gets the base64 audio.
 */
export class Recorder {
  constructor(onDone) {
    this.onDone = onDone;
    this.rec = null;
    this.cancelled = false;
    this.button = h("button", {
      type: "button", id: "composer-record", class: "record", "aria-pressed": "false",
      title: "Record a voice note",
    }, h("span", { "aria-hidden": "true" }, "🎤"), h("span", { class: "visually-hidden" }, "Record a voice note"));
    this.status = h("span", { class: "record-status", id: "record-status", role: "status" });
    this.button.addEventListener("click", () => (this.rec ? this.stop() : this.start()));
    this.button.addEventListener("keydown", (ev) => {
      if (ev.key === "Escape" && this.rec) { ev.preventDefault(); this.cancel(); }
    });
    this.available = Boolean(navigator.mediaDevices && navigator.mediaDevices.getUserMedia &&
      typeof MediaRecorder !== "undefined");
    this.button.hidden = !this.available;
  }

  async start() {
    let stream;
    try {
      stream = await navigator.mediaDevices.getUserMedia({ audio: true });
    } catch {
      toast("The microphone is not available.");
      return;
    }
    const type = recordingType();
    const rec = new MediaRecorder(stream, type ? { mimeType: type } : undefined);
    const chunks = [];
    this.rec = rec;
    this.cancelled = false;
    this.began = performance.now();
    rec.ondataavailable = (ev) => { if (ev.data && ev.data.size) chunks.push(ev.data); };
    rec.onstop = async () => {
      for (const t of stream.getTracks()) t.stop();
      clearInterval(this.clock);
      clearTimeout(this.limit);
      this.rec = null;
      this.show(false);
      if (this.cancelled || !chunks.length) return;
      const mime = (rec.mimeType || type || "audio/webm").split(";")[0];
      const blob = new Blob(chunks, { type: mime });
      const durationMs = Math.round(performance.now() - this.began);
      this.onDone({ payload: base64(await blob.arrayBuffer()), mime, durationMs });
    };
    rec.start(250);
    this.show(true);
    this.clock = setInterval(() => this.show(true), 500);
    this.limit = setTimeout(() => this.stop(), MAX_RECORDING_MS);
  }

  show(on) {
    this.button.setAttribute("aria-pressed", String(on));
    this.button.classList.toggle("recording", on);
    this.button.title = on ? "Send the voice note (Escape cancels)" : "Record a voice note";
    this.button.lastChild.textContent = on ? "Stop and send the voice note" : "Record a voice note";
    const secs = on ? Math.floor((performance.now() - this.began) / 1000) : 0;
    this.status.textContent = on ? `Recording ${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, "0")}` : "";
  }

  stop() { if (this.rec && this.rec.state !== "inactive") this.rec.stop(); }

  cancel() {
    this.cancelled = true;
    this.stop();
    toast("Voice note discarded.");
  }

  destroy() { this.cancel(); }
}

/** A voice note's player. The audio needs a signed URL (an <audio> sends no header), minted when shown. */
export function voicePlayer(app, m) {
  const audio = h("audio", { controls: true, preload: "none", class: "voice-audio" });
  const secs = Math.round((m.voice.durationMs || 0) / 1000);
  const label = `Voice note, ${Math.floor(secs / 60)}:${String(secs % 60).padStart(2, "0")}`;
  audio.setAttribute("aria-label", label);
  app.voiceUrl(m.voice.url).then((url) => { if (url) audio.src = url; }).catch(() => {});
  return h("span", { class: "voice" }, h("span", { class: "voice-label" }, label), audio);
}

/** The sticker picker under the composer. */
export function stickerPicker(onPick) {
  const panel = h("div", { class: "sticker-picker", id: "sticker-picker", role: "group",
    "aria-label": "Stickers", hidden: true },
  STICKERS.map(([id, glyph, name]) => h("button", {
    type: "button", class: "sticker-choice", "data-sticker": id, "aria-label": `Send sticker: ${name}`,
    onclick: () => onPick(id),
  }, glyph)));
  const opener = h("button", {
    type: "button", id: "composer-stickers", "aria-expanded": "false", "aria-controls": "sticker-picker",
    title: "Stickers",
  }, h("span", { "aria-hidden": "true" }, "🙂"), h("span", { class: "visually-hidden" }, "Stickers"));
  const toggle = (show) => {
    panel.hidden = !show;
    opener.setAttribute("aria-expanded", String(show));
    if (show) panel.querySelector("button").focus();
  };
  opener.addEventListener("click", () => toggle(panel.hidden));
  panel.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { ev.preventDefault(); toggle(false); opener.focus(); }
  });
  return { opener, panel, toggle };
}

/** The forward form: which conversation, and an optional note. */
export function forwardForm(app, onSubmit, onCancel) {
  const target = h("select", { id: "forward-target", required: true });
  const note = h("input", { id: "forward-note", maxlength: "1000", autocomplete: "off" });
  const error = h("p", { class: "form-error", role: "alert", id: "forward-error" });
  const what = h("p", { class: "forward-what", id: "forward-what" });
  const form = h("form", { class: "forward-form", id: "forward-form", hidden: true,
    "aria-labelledby": "forward-title" },
  h("h3", { id: "forward-title" }, "Forward message"), what,
  h("label", { for: "forward-target" }, "To"), target,
  h("label", { for: "forward-note" }, "Note (optional)"), note,
  error,
  h("p", { class: "poll-form-buttons" },
    h("button", { type: "submit", class: "primary", id: "forward-submit" }, "Forward"),
    h("button", { type: "button", id: "forward-cancel", onclick: () => onCancel() }, "Cancel")));
  form.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") { ev.preventDefault(); onCancel(); }
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    try {
      await onSubmit(target.value, note.value.trim());
      note.value = "";
    } catch (e) { error.textContent = e.message || "The message could not be forwarded."; }
  });
  /** Show the form for message `m` from conversation `fromId`. */
  form.open = (m, fromId) => {
    const s = app.store;
    const choices = [...s.conversations.values()]
      .filter((c) => !c.left && c.id !== fromId && app.security(c) !== "e2e") // no plaintext in an encrypted chat
      .sort((a, b) => s.title(a).localeCompare(s.title(b)));
    target.replaceChildren(...choices.map((c) => h("option", { value: c.id }, s.title(c))));
    what.textContent = m.sticker ? "A sticker" : m.voice ? "A voice note" : `“${(m.text || "").slice(0, 80)}”`;
    error.textContent = choices.length ? "" : "There is no other conversation to forward to.";
    form.hidden = false;
    target.focus();
  };
  return form;
}

const MENTION = /@([a-z0-9_.-]{1,64})/gi;

/** Text with each @username as its own span (text nodes only: nothing is parsed as HTML). */
export function withMentions(text, myName) {
  const out = [];
  let last = 0;
  for (const match of text.matchAll(MENTION)) {
    if (match.index > 0 && /[\w@]/.test(text[match.index - 1])) continue; // an e-mail address
    out.push(text.slice(last, match.index));
    const me = myName && match[1].toLowerCase() === myName.toLowerCase();
    out.push(h("span", { class: me ? "mention mention-me" : "mention" }, match[0]));
    last = match.index + match[0].length;
  }
  out.push(text.slice(last));
  return out.filter((x) => x !== "");
}
