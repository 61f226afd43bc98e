// Typing indicators (`chat/typing`, docs/web-client.md). Ephemeral on both
// sides: never in IndexedDB, never in the feed (no seq), so a reload or a
// reconnect starts with none.
//
//   Out: SetTyping{typing: true} when the composer gets text, renewed at most
//   every RENEW_MS while typing goes on (under the server's 6 s expiry, so
//   the indicator does not flicker); typing: false when the composer is
//   emptied, the message is sent or the chat is left. A user who just stops
//   typing sends nothing: the server lapses the indicator on its own.
//   In: TypingStarted / TypingStopped, and a message from that member, set
//   and clear "<name> is typing…"; each indicator also ends on a local timer
//   at its expiry, in case the stop never comes (a lost connection).

const RENEW_MS = 3000;
const DEFAULT_TTL_MS = 6000;

export class Typing {
  constructor(app) {
    this.app = app;
    this.others = new Map(); // conversation id -> Map(user id -> timer)
    this.mine = new Map(); // conversation id -> when SetTyping true was last sent
  }

  // -- this user -------------------------------------------------------------
  /** The composer of `convId` now holds `text`: start, renew or stop. */
  composing(convId, text) {
    if (!text.trim()) { this.stop(convId); return; }
    const last = this.mine.get(convId);
    if (last !== undefined && Date.now() - last < RENEW_MS) return;
    this.mine.set(convId, Date.now());
    this.tell(convId, true);
  }

  /** Sent, emptied or left: stop, if a start was sent. */
  stop(convId) {
    if (!this.mine.has(convId)) return;
    this.mine.delete(convId);
    this.tell(convId, false);
  }

  tell(convId, typing) {
    const socket = this.app.socket;
    if (!socket || !socket.online) return; // the server lapses what it had
    socket.request("chat/typing", "SetTyping", { conversation_id: convId, typing }).catch(() => {
      if (typing) this.mine.delete(convId); // refused or lost: try again on the next key
    });
  }

  // -- the other members ----------------------------------------------------
  started(d) {
    if (!d.conversation_id || !d.user_id || d.user_id === this.app.me.user_id) return;
    // The server's lifetime, counted on this clock (the two clocks may differ).
    const ttl = Date.parse(d.expires_at) - Date.parse(d.timestamp);
    const ms = Number.isFinite(ttl) && ttl > 0 ? Math.min(ttl, 60_000) : DEFAULT_TTL_MS;
    let of = this.others.get(d.conversation_id);
    if (!of) { of = new Map(); this.others.set(d.conversation_id, of); }
    clearTimeout(of.get(d.user_id));
    of.set(d.user_id, setTimeout(() => this.stopped(d.conversation_id, d.user_id), ms));
    this.app.store.changed("typing");
  }

  /** TypingStopped, the member's message, or the local expiry (repeats do nothing). */
  stopped(convId, userId) {
    const of = this.others.get(convId);
    if (!of || !of.has(userId)) return;
    clearTimeout(of.get(userId));
    of.delete(userId);
    if (!of.size) this.others.delete(convId);
    this.app.store.changed("typing");
  }

  /** Who is typing in a conversation now (user ids). */
  who(convId) {
    return [...(this.others.get(convId) || new Map()).keys()];
  }

  /** "Bob is typing…", "Bob and Carol are typing…", "3 people are typing…", or "". */
  text(convId) {
    const names = this.who(convId).map((u) => this.app.store.userName(u));
    if (!names.length) return "";
    if (names.length === 1) return `${names[0]} is typing…`;
    if (names.length === 2) return `${names[0]} and ${names[1]} are typing…`;
    return `${names.length} people are typing…`;
  }

  clear() {
    for (const of of this.others.values()) for (const t of of.values()) clearTimeout(t);
    this.others.clear();
    this.mine.clear();
  }
}
