// Client state: an in-memory model, written through to IndexedDB so the app
// opens (and reads) offline with what it had. One database per account
// (`hubbub-<user_id>`), deleted on sign-out.
//
//   meta           key/value: cursor (last fully synced seq), seen seqs above it
//   conversations  {id, kind, name, members: [{user_id, role}], left, removed}
//   messages       {id, conv, sender, seq, ts, text, enc, state, cid, expiresAt, rcpt, my,
//                   reactions: {user_id: emoji}, replyTo: message id, ...}; a poll is an item of kind "poll"
//                   (id "poll:<poll_id>") with {poll: {question, options, counts, mine, ...}};
//                   a group event one of kind "event" (id "event:<event_id>") with
//                   {event: {title, start, end, location, description, version, rsvps, ...}}
//   users          {user_id, username, display_name, info_text, last_seen_at}
//   keys           this device's own key pairs (non-extractable private keys)
//   peerkeys       other users' public keys {key_id, user_id, public_key, algorithm}
//
// Views subscribe to topics ("conversations", "messages", "users", "presence",
// "connection", "blocks"); changes made in one task are delivered once.

const STORES = ["meta", "conversations", "messages", "users", "keys", "peerkeys"];
const KEYS = {
  meta: "k", conversations: "id", messages: "id", users: "user_id", keys: "kid",
  peerkeys: "key_id",
};

function req(r) {
  return new Promise((resolve, reject) => {
    r.onsuccess = () => resolve(r.result);
    r.onerror = () => reject(r.error);
  });
}

function applyReactions(current, change) {
  const out = { ...(current || {}) };
  for (const [user, r] of Object.entries(change)) {
    if (r) out[user] = r; else delete out[user];
  }
  return out;
}

export function dbName(userId) { return `hubbub-${userId}`; }

export async function deleteDatabase(userId) {
  try { await req(indexedDB.deleteDatabase(dbName(userId))); } catch { /* blocked: ignore */ }
}

async function openDb(userId) {
  const open = indexedDB.open(dbName(userId), 1);
  open.onupgradeneeded = () => {
    const db = open.result;
    for (const name of STORES) {
      if (!db.objectStoreNames.contains(name)) db.createObjectStore(name, { keyPath: KEYS[name] });
    }
  };
  return req(open);
}

export class Store {
  constructor(me) {
    this.me = me; // {user_id, username, token, device_id}
    this.db = null;
    this.cursor = 0;
    this.seen = new Set(); // seqs above the cursor already applied
    this.conversations = new Map();
    this.messages = new Map();
    this.users = new Map();
    this.presence = new Map(); // user_id -> {status, last_seen_at}
    this.blocked = new Set();
    this.presenceVisibility = "everyone"; // until the feed says otherwise
    this.previewConfig = null; // `user/notifications/preview/config`, once read or announced
    this.presenceAllowed = []; // user ids, for "custom" (Only these people)
    this.presenceBlocked = []; // never these, whatever the rule (set by another client)
    this.keys = new Map();
    this.peerKeys = new Map();
    this.connection = "idle";
    this.listeners = new Map();
    this.dirty = new Set();
    this.scheduled = false;
    this.writes = Promise.resolve();
    this.pendingReceipts = new Map(); // message id -> {user_id: status}, before the message
    this.pendingReactions = new Map(); // message id -> {user_id: emoji|null}, before the message
    this.seenTimer = 0;
    this.byConv = new Map(); // conversation id -> Map(message id -> message)
    this.sorted = new Map(); // conversation id -> sorted array, until it changes
  }

  index(m, add) {
    let of = this.byConv.get(m.conv);
    if (!of) { of = new Map(); this.byConv.set(m.conv, of); }
    if (add) of.set(m.id, m); else of.delete(m.id);
    this.sorted.delete(m.conv);
  }

  async open() {
    this.db = await openDb(this.me.user_id);
    const all = async (name) => req(this.db.transaction(name).objectStore(name).getAll());
    for (const m of await all("meta")) {
      if (m.k === "cursor") this.cursor = m.v;
      if (m.k === "seen") this.seen = new Set(m.v);
      if (m.k === "blocked") this.blocked = new Set(m.v);
      if (m.k === "presenceVisibility") this.presenceVisibility = m.v;
      if (m.k === "previewConfig") this.previewConfig = m.v;
      if (m.k === "presenceLists") [this.presenceAllowed, this.presenceBlocked] = m.v;
    }
    for (const c of await all("conversations")) this.conversations.set(c.id, c);
    for (const m of await all("messages")) { this.messages.set(m.id, m); this.index(m, true); }
    for (const u of await all("users")) this.users.set(u.user_id, u);
    for (const k of await all("keys")) this.keys.set(k.kid, k);
    for (const k of await all("peerkeys")) this.peerKeys.set(k.key_id, k);
  }

  close() { if (this.db) this.db.close(); this.db = null; }

  // -- persistence (write-behind, in order) ---------------------------------
  put(name, value) {
    const db = this.db;
    if (!db) return;
    this.writes = this.writes.then(() => new Promise((resolve) => {
      try {
        const tx = db.transaction(name, "readwrite");
        tx.objectStore(name).put(value);
        tx.oncomplete = resolve;
        tx.onerror = resolve;
        tx.onabort = resolve;
      } catch { resolve(); }
    }));
  }

  del(name, key) {
    const db = this.db;
    if (!db) return;
    this.writes = this.writes.then(() => new Promise((resolve) => {
      try {
        const tx = db.transaction(name, "readwrite");
        tx.objectStore(name).delete(key);
        tx.oncomplete = resolve;
        tx.onerror = resolve;
        tx.onabort = resolve;
      } catch { resolve(); }
    }));
  }

  flushed() { return this.writes; }

  // -- change notification --------------------------------------------------
  on(topic, fn) {
    if (!this.listeners.has(topic)) this.listeners.set(topic, new Set());
    this.listeners.get(topic).add(fn);
    return () => this.listeners.get(topic).delete(fn);
  }

  changed(topic) {
    this.dirty.add(topic);
    if (this.scheduled) return;
    this.scheduled = true;
    queueMicrotask(() => {
      this.scheduled = false;
      const topics = [...this.dirty];
      this.dirty.clear();
      const called = new Set();
      for (const t of topics) {
        for (const fn of this.listeners.get(t) || []) {
          if (called.has(fn)) continue;
          called.add(fn);
          try { fn(topics); } catch (e) { console.error(e); }
        }
      }
    });
  }

  // -- change feed position -------------------------------------------------
  /** True the first time a seq is seen (events at or below the cursor are old). */
  fresh(seq) {
    if (seq === undefined || seq === null) return true;
    if (seq <= this.cursor || this.seen.has(seq)) return false;
    this.seen.add(seq);
    this.saveSeen();
    return true;
  }

  saveSeen() {
    if (this.seenTimer) return;
    this.seenTimer = setTimeout(() => {
      this.seenTimer = 0;
      this.put("meta", { k: "seen", v: [...this.seen] });
    }, 300);
  }

  /** Everything up to `seq` has been applied (a sync page ended there). */
  advance(seq) {
    if (seq <= this.cursor) return;
    this.cursor = seq;
    for (const s of this.seen) if (s <= seq) this.seen.delete(s);
    this.put("meta", { k: "cursor", v: seq });
    this.saveSeen();
  }

  // -- conversations --------------------------------------------------------
  putConversation(c) {
    const old = this.conversations.get(c.id);
    const merged = { ...old, ...c };
    this.conversations.set(c.id, merged);
    this.put("conversations", merged);
    this.changed("conversations");
    return merged;
  }

  peerOf(conv) {
    if (!conv || conv.kind !== "direct") return null;
    const other = conv.members.find((m) => m.user_id !== this.me.user_id);
    return other ? other.user_id : null;
  }

  title(conv) {
    if (!conv) return "";
    if (conv.kind === "direct") {
      const peer = this.peerOf(conv);
      return this.userName(peer);
    }
    return conv.name || "Group";
  }

  userName(id) {
    if (!id) return "";
    if (id === this.me.user_id) return "You";
    const u = this.users.get(id);
    return u ? (u.display_name || u.username) : "…";
  }

  // -- messages -------------------------------------------------------------
  putMessage(m) {
    const old = this.messages.get(m.id);
    const merged = { ...old, ...m };
    const early = this.pendingReceipts.get(m.id);
    if (early) {
      merged.rcpt = { ...(merged.rcpt || {}), ...early };
      this.pendingReceipts.delete(m.id);
    }
    const reacted = this.pendingReactions.get(m.id);
    if (reacted) {
      merged.reactions = applyReactions(merged.reactions, reacted);
      this.pendingReactions.delete(m.id);
    }
    if (old) this.index(old, false);
    this.messages.set(m.id, merged);
    this.index(merged, true);
    this.put("messages", merged);
    this.changed("messages");
    this.changed("conversations");
    return merged;
  }

  removeMessage(id) {
    const m = this.messages.get(id);
    if (!m) return;
    this.index(m, false);
    this.messages.delete(id);
    this.del("messages", id);
    this.changed("messages");
    this.changed("conversations");
  }

  /** Replace a pending local message with the server's id once acknowledged. */
  renameMessage(localId, serverId, fields) {
    const m = this.messages.get(localId);
    if (!m) return;
    this.index(m, false);
    this.messages.delete(localId);
    this.del("messages", localId);
    this.putMessage({ ...m, ...fields, id: serverId });
  }

  /** A conversation's messages, oldest first (a shared array: do not modify it). */
  messagesOf(convId) {
    let out = this.sorted.get(convId);
    if (out) return out;
    out = [...(this.byConv.get(convId) || new Map()).values()];
    out.sort((a, b) => (a.ts - b.ts) || ((a.seq || Infinity) - (b.seq || Infinity)));
    this.sorted.set(convId, out);
    return out;
  }

  lastMessage(convId) {
    const list = this.messagesOf(convId);
    for (let i = list.length - 1; i >= 0; i--) if (list[i].kind !== "system") return list[i];
    return null;
  }

  /** Messages of others not yet read here, after the last one we sent (we saw those). */
  unread(convId) {
    const list = this.messagesOf(convId);
    let n = 0;
    for (const m of list) {
      if (m.kind === "system") continue;
      if (m.sender === this.me.user_id) n = 0;
      else if (m.kind === "msg" && m.my !== "read") n += 1;
    }
    return n;
  }

  addReceipt(messageId, userId, status) {
    const rank = { delivered: 1, read: 2, played: 3 };
    const m = this.messages.get(messageId);
    if (!m) {
      const early = this.pendingReceipts.get(messageId) || {};
      if ((rank[status] || 0) > (rank[early[userId]] || 0)) early[userId] = status;
      this.pendingReceipts.set(messageId, early);
      return;
    }
    const rcpt = { ...(m.rcpt || {}) };
    if ((rank[status] || 0) <= (rank[rcpt[userId]] || 0)) return;
    rcpt[userId] = status;
    this.putMessage({ id: messageId, rcpt });
  }

  /** One user's reaction to a message now (null or "" removed it); kept until the message arrives. */
  setReaction(messageId, userId, reaction) {
    const change = { [userId]: reaction || null };
    const m = this.messages.get(messageId);
    if (!m) {
      this.pendingReactions.set(messageId, { ...this.pendingReactions.get(messageId), ...change });
      return;
    }
    this.putMessage({ id: messageId, reactions: applyReactions(m.reactions, change) });
  }

  /** Merge fields into a poll item (created on first sight, whatever event came first). */
  putPoll(pollId, convId, fields, item = {}) {
    const id = `poll:${pollId}`;
    const old = this.messages.get(id);
    const poll = { id: pollId, counts: {}, mine: [], options: [], ...(old && old.poll), ...fields };
    return this.putMessage({
      ...(old ? {} : { kind: "poll", conv: convId, ts: Date.now() }), ...item, id, poll,
      text: poll.question ? `Poll: ${poll.question}` : "Poll",
    });
  }

  /** Merge fields into a group event's item (`event:<event_id>`, a card in the group's timeline). */
  putGroupEvent(eventId, convId, fields, item = {}) {
    const id = `event:${eventId}`;
    const old = this.messages.get(id);
    const ev = { id: eventId, rsvps: {}, ...(old && old.event), ...fields };
    return this.putMessage({
      ...(old ? {} : { kind: "event", conv: convId, ts: Date.now() }), ...item, id, event: ev,
      text: ev.title ? `Event: ${ev.title}` : "Event",
    });
  }

  // -- users, presence, blocks ----------------------------------------------
  putUser(u) {
    const merged = { ...this.users.get(u.user_id), ...u };
    this.users.set(u.user_id, merged);
    this.put("users", merged);
    this.changed("users");
    this.changed("conversations");
  }

  setPresence(userId, status, lastSeen) {
    this.presence.set(userId, { status, last_seen_at: lastSeen });
    // Offline with no last seen: hidden by their privacy setting, so the
    // last seen known from before is forgotten too.
    if ((lastSeen || status === "offline") && this.users.has(userId)) {
      this.putUser({ user_id: userId, last_seen_at: lastSeen || null });
    }
    this.changed("presence");
  }

  /** Who sees this user's online status (`user/presence-settings`), as last known. */
  setPresenceVisibility(visibility, allowed = [], blocked = []) {
    this.presenceVisibility = visibility;
    this.presenceAllowed = [...allowed];
    this.presenceBlocked = [...blocked];
    this.put("meta", { k: "presenceVisibility", v: visibility });
    this.put("meta", { k: "presenceLists", v: [this.presenceAllowed, this.presenceBlocked] });
    this.changed("settings");
  }

  /** What notification previews show (the server's config); an older version is ignored. */
  setPreviewConfig(config) {
    const had = this.previewConfig;
    if (had && Number(had.config_version) > Number(config.config_version)) return;
    this.previewConfig = {
      config_version: config.config_version, show_sender: config.show_sender,
      show_body: config.show_body, max_body_length: config.max_body_length,
      allowed_categories: [...config.allowed_categories],
    };
    this.put("meta", { k: "previewConfig", v: this.previewConfig });
    this.changed("settings");
  }

  setBlocked(ids) {
    this.blocked = new Set(ids);
    this.put("meta", { k: "blocked", v: [...this.blocked] });
    this.changed("blocks");
    this.changed("conversations");
  }

  setConnection(state) {
    this.connection = state;
    this.changed("connection");
  }

  // -- keys -----------------------------------------------------------------
  putKey(k) { this.keys.set(k.kid, k); this.put("keys", k); }
  putPeerKey(k) { this.peerKeys.set(k.key_id, k); this.put("peerkeys", k); }
}
