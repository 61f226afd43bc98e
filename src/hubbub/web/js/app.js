// The signed-in client: REST + /ws + the local store, and the rules a client
// follows (docs/web-client.md):
//
//   Authenticated -> resume: SyncRequest from the cursor, page by page, each
//   change through its reducer (events.js), cursor = to_sequence; SyncAck.
//   Live frames go through the same reducers; Store.fresh(seq) drops repeats.
//   Sends wait in an outbox (IndexedDB) until acknowledged, and are resent
//   after a reconnect with the same client id (idempotent on the server for
//   plaintext, deduplicated by the clients for ciphertext).
//   Receipts: "delivered" when a message from someone else arrives, "read"
//   when its conversation is open and the page visible, paced under the
//   server's rate limit.

import { Api } from "./api.js";
import { E2E } from "./crypto.js";
import { uuid } from "./dom.js";
import { REDUCERS, closedPoll, retrySealed } from "./events.js";
import { Store, deleteDatabase } from "./store.js";
import { BROADCASTS } from "./views/announcements.js";
import { Typing } from "./typing.js";
import { Socket } from "./ws.js";

const RECEIPTS_PER_SECOND = 20;
const RETRYABLE = new Set(["offline", "timeout", "unavailable", "rate_limited", "closed", "internal"]);
const STATUS_RANK = { delivered: 1, read: 2, played: 3 };
const SERVER_EXPIRY_GRACE_MS = 5000;
const RETRY_MS = 2000;
const CHECKPOINT_EVERY = 300; // live events above the cursor before a quiet resume

/** Log what is a defect; a lost connection is not (the resume after the reconnect redoes it). */
function report(e) {
  if (!(e && RETRYABLE.has(e.code))) console.error(e);
}

export class App {
  constructor(session, { onSignedOut }) {
    this.me = session;
    this.api = new Api(session.token);
    this.store = new Store(session);
    this.e2e = new E2E(this.store, this.api);
    this.onSignedOut = onSignedOut;
    this.socket = null;
    this.chain = Promise.resolve(); // frames are applied one at a time, in arrival order
    this.expiry = new Map();
    this.receiptQueue = new Map(); // message id -> status
    this.receiptTimer = 0;
    this.sending = false;
    this.openConv = null;
    this.api.onUnauthorized = () => this.signedOutElsewhere();
    this.userFetches = new Map();
    this.gone = false;
    this.drafts = new Map(); // conversation id -> unsent text
    this.syncing = null; // the resume in progress
    this.typing = new Typing(this); // indicators, both ways (ephemeral)
  }

  async start() {
    await this.store.open();
    for (const m of this.store.messages.values()) {
      if (m.expiresAt) {
        if (m.expiresAt <= Date.now()) this.store.removeMessage(m.id);
        else this.scheduleExpiry(m.id, m.expiresAt);
      }
    }
    this.socket = new Socket({
      token: this.me.token,
      deviceId: this.me.device_id,
      onFrame: (f) => this.enqueue(f),
      onAuthenticated: () => this.connected(),
      onState: (s) => this.store.setConnection(s),
      onRevoked: () => this.signedOutElsewhere(),
    });
    this.socket.start();
    this.refresh().catch(() => {});
    document.addEventListener("visibilitychange", () => this.markRead());
  }

  // -- REST state -----------------------------------------------------------
  async refresh() {
    const [convs, blocks, me] = await Promise.all([
      this.api.conversations(), this.api.blocks(), this.api.user(this.me.user_id),
    ]);
    const listed = new Set();
    for (const c of convs) {
      listed.add(c.conversation_id);
      this.putServerConversation(c);
    }
    for (const c of this.store.conversations.values()) {
      if (c.kind === "group" && !listed.has(c.id) && !c.left) {
        this.store.putConversation({ id: c.id, left: true });
      }
    }
    this.store.setBlocked(blocks.map((b) => b.user_id));
    this.store.putUser(me);
    this.learnUsers(blocks.map((b) => b.user_id));
  }

  putServerConversation(c) {
    const conv = this.store.putConversation({
      id: c.conversation_id, kind: c.kind, name: c.name, creator_id: c.creator_id,
      created: Date.parse(c.created_at), members: c.members, left: false, removed: false,
      archived: !!c.archived, pinned: !!c.pinned,
    });
    this.learnUsers(c.members.map((m) => m.user_id));
    return conv;
  }

  async loadConversation(id) {
    try {
      this.putServerConversation(await this.api.conversation(id));
    } catch { /* not ours (any more), or offline */ }
  }

  learnUsers(ids, { refresh = false } = {}) {
    for (const id of ids) {
      if (!id || (!refresh && this.store.users.has(id)) || this.userFetches.has(id)) continue;
      const p = this.api.user(id)
        .then((u) => this.store.putUser(u))
        .catch(() => {})
        .finally(() => this.userFetches.delete(id));
      this.userFetches.set(id, p);
    }
  }

  // -- the feed -------------------------------------------------------------
  enqueue(frame) {
    this.chain = this.chain.then(() => this.apply(frame)).catch(report);
    return this.chain;
  }

  async apply(frame) {
    if (!this.store.fresh(frame.seq)) return;
    if (frame.seq && this.store.seen.size > CHECKPOINT_EVERY && !this.syncing) {
      // Many live events since the last sync: a quiet resume moves the cursor
      // past them, so the set of seqs seen above it stays small.
      setTimeout(() => this.resume().catch(report), 0);
    }
    // A named broadcast channel's frames come on `broadcast/<channel_id>`.
    const channel = frame.type === "BroadcastMessage" ? "broadcast/{channel_id}" : frame.channel;
    const reducer = REDUCERS[`${channel} ${frame.type}`];
    if (reducer) await reducer(this, frame);
  }

  async connected() {
    try {
      await this.resume();
    } catch (e) {
      report(e);
      return;
    }
    if (this.e2e.available) {
      this.e2e.publish(this.socket).catch(report);
      this.chain = this.chain.then(() => retrySealed(this)).catch(report);
    }
    this.flushOutbox();
    this.queuePendingReceipts();
    this.markRead();
  }

  async resume() {
    if (this.syncing) return this.syncing;
    this.syncing = this.resumePages().finally(() => { this.syncing = null; });
    return this.syncing;
  }

  async resumePages() {
    let since = this.store.cursor;
    for (;;) {
      const reply = await this.socket.request("sync/request", "SyncRequest", {
        request_id: uuid(), since_sequence: since,
      });
      const d = reply.data;
      for (const change of d.changes || []) this.enqueue(change);
      await this.chain;
      since = Math.max(since, d.to_sequence || 0);
      this.store.advance(since);
      if (!d.has_more) break;
    }
    this.socket.request("sync/changes", "SyncAck", { sequence: since }).catch(() => {});
  }

  // -- sending --------------------------------------------------------------
  /** How a conversation's messages are sent: "e2e", or "plain" (groups, peers without a key). */
  security(conv) {
    if (!conv || conv.kind !== "direct" || !this.e2e.available) return "plain";
    const peer = this.store.peerOf(conv);
    for (const k of this.store.peerKeys.values()) {
      if (k.user_id === peer && k.algorithm === "ECDH-P256") return "e2e";
    }
    return "plain";
  }

  async checkSecurity(conv) {
    const peer = this.store.peerOf(conv);
    if (peer && this.e2e.available) {
      await this.e2e.peerKey(peer, { refresh: true });
      this.store.changed("conversations");
    }
  }

  /** `replyTo`: the id of the message this one answers (its `reply_to_id`), or null. */
  send(convId, text, ttlSeconds, replyTo = null) {
    const conv = this.store.conversations.get(convId);
    if (!conv) return;
    const cid = uuid();
    this.store.putMessage({
      id: `local:${cid}`, conv: convId, sender: this.me.user_id, ts: Date.now(), text,
      enc: this.security(conv) === "e2e", state: "pending", cid, ttl: ttlSeconds || null,
      kind: "msg", rcpt: {}, replyTo: replyTo || null,
    });
    this.flushOutbox();
  }

  retry(localId) {
    const m = this.store.messages.get(localId);
    if (m && m.state === "failed") {
      this.store.putMessage({ id: localId, state: "pending", error: null });
      this.flushOutbox();
    }
  }

  async flushOutbox() {
    if (this.sending || !this.socket || !this.socket.online) return;
    this.sending = true;
    try {
      for (;;) {
        const pending = [...this.store.messages.values()]
          .filter((m) => m.state === "pending" && m.id.startsWith("local:"))
          .sort((a, b) => a.ts - b.ts);
        if (!pending.length || !this.socket.online) break;
        const ok = await this.sendOne(pending[0]);
        if (!ok) {
          // Still connected (rate limited, a busy server): try again shortly;
          // after a disconnect the next resume sends it.
          if (this.socket.online) setTimeout(() => this.flushOutbox(), RETRY_MS);
          break;
        }
      }
    } finally {
      this.sending = false;
    }
  }

  async sendOne(m) {
    const conv = this.store.conversations.get(m.conv);
    try {
      if (!m.enc && conv && conv.kind === "direct" && this.e2e.available) {
        // The peer may have published a key since the chat was opened: never
        // send in the clear what could go encrypted.
        if (await this.e2e.peerKey(this.store.peerOf(conv), { refresh: true })) {
          m = this.store.putMessage({ id: m.id, enc: true });
        }
      }
      if (m.enc) {
        const peer = this.store.peerOf(conv);
        const payload = { v: 1, text: m.text, cid: m.cid };
        if (m.ttl) payload.ttl = m.ttl;
        const sealed = await this.e2e.encrypt(m.conv, peer, payload);
        const frame = { conversation_id: m.conv, type: "text", ...sealed };
        if (m.replyTo) frame.reply_to_id = m.replyTo;
        const reply = await this.socket.request("chat/messages", "SendEncryptedMessage", frame);
        const at = Date.parse(reply.data.timestamp) || m.ts;
        this.store.renameMessage(m.id, reply.data.ids.message_id, {
          state: "sent", seq: reply.data.seq, ts: at,
          expiresAt: m.ttl ? at + m.ttl * 1000 : null,
        });
        if (m.ttl) this.scheduleExpiry(reply.data.ids.message_id, at + m.ttl * 1000);
      } else {
        const data = { client_message_id: m.cid, conversation_id: m.conv, content: m.text, type: "text" };
        if (m.ttl) { data.self_destruct = true; data.ttl_seconds = m.ttl; }
        if (m.replyTo) data.reply_to_id = m.replyTo;
        const reply = await this.socket.request("chat/messages/ack", "SendChatMessageWithClientId", data);
        const d = reply.data;
        const expiresAt = d.expires_at ? Date.parse(d.expires_at) : null;
        this.store.renameMessage(m.id, d.message_id, {
          state: "sent", ts: Date.parse(d.timestamp) || m.ts, expiresAt,
        });
        if (expiresAt) this.scheduleExpiry(d.message_id, expiresAt);
      }
      return true;
    } catch (e) {
      if (RETRYABLE.has(e.code)) return false; // stays pending; resent after reconnect
      this.store.putMessage({ id: m.id, state: "failed", error: e.message || String(e) });
      return true;
    }
  }

  // -- receipts -------------------------------------------------------------
  received(m) {
    this.typing.stopped(m.conv, m.sender); // their message ends their "typing…"
    if (m.kind !== "msg" || m.sender === this.me.user_id || m.my) return;
    this.queueReceipt(m.id, this.isReadable(m.conv) ? "read" : "delivered");
  }

  isReadable(convId) {
    return this.openConv === convId && document.visibilityState === "visible";
  }

  queueReceipt(id, status) {
    const m = this.store.messages.get(id);
    if (!m || (STATUS_RANK[m.my] || 0) >= STATUS_RANK[status]) return;
    const queued = this.receiptQueue.get(id);
    if ((STATUS_RANK[queued] || 0) >= STATUS_RANK[status]) return;
    this.receiptQueue.set(id, status);
    this.pumpReceipts();
  }

  queuePendingReceipts() {
    for (const m of this.store.messages.values()) {
      if (m.kind === "msg" && m.sender !== this.me.user_id && !m.my && !m.id.startsWith("local:")) {
        this.queueReceipt(m.id, this.isReadable(m.conv) ? "read" : "delivered");
      }
    }
    this.pumpReceipts();
  }

  markRead() {
    const conv = this.openConv;
    if (!conv || document.visibilityState !== "visible") return;
    this.ackMentions(conv);
    for (const m of this.store.messagesOf(conv)) {
      if (m.kind === "msg" && m.sender !== this.me.user_id && m.my !== "read") {
        this.queueReceipt(m.id, "read");
      }
    }
  }

  pumpReceipts() {
    if (this.receiptTimer || !this.socket || !this.socket.online) return;
    const entry = this.receiptQueue.entries().next();
    if (entry.done) return;
    const [id, status] = entry.value;
    this.receiptQueue.delete(id);
    const m = this.store.messages.get(id);
    this.receiptTimer = setTimeout(() => { this.receiptTimer = 0; this.pumpReceipts(); },
      1000 / RECEIPTS_PER_SECOND);
    if (!m) return;
    this.socket.request("chat/acks", "SendEncryptedAck", {
      message_id: id, conversation_id: m.conv, status,
    }).then(() => {
      const cur = this.store.messages.get(id);
      if (cur && (STATUS_RANK[cur.my] || 0) < STATUS_RANK[status]) {
        this.store.putMessage({ id, my: status });
      }
    }).catch((e) => {
      if (RETRYABLE.has(e.code)) { // again shortly, or after the next resume
        if (this.socket.online) setTimeout(() => this.queueReceipt(id, status), RETRY_MS);
        return;
      }
      this.store.putMessage({ id, my: status }); // gone or frozen: never ask again
    });
  }

  // -- self-destruct --------------------------------------------------------
  /**
   * Remove a self-destructing message when its time comes. Encrypted ones are
   * the clients' to delete, at `expiresAt`; plaintext ones the server erases
   * and announces (ChatMessageExpired), so here they only go after a grace
   * period, for when that event cannot arrive (offline).
   */
  scheduleExpiry(id, at) {
    clearTimeout(this.expiry.get(id));
    const m = this.store.messages.get(id);
    const due = m && !m.enc ? at + SERVER_EXPIRY_GRACE_MS : at;
    const delay = Math.max(0, Math.min(due - Date.now(), 2 ** 31 - 1));
    this.expiry.set(id, setTimeout(() => {
      this.expiry.delete(id);
      const cur = this.store.messages.get(id);
      if (cur && cur.expiresAt && cur.expiresAt <= Date.now() + 50) this.store.removeMessage(id);
    }, delay));
  }

  // -- actions used by the views -------------------------------------------
  async openDirect(username) {
    const user = await this.api.findUser(username.trim().toLowerCase());
    if (!user) throw new Error(`No user named “${username}”.`);
    if (user.user_id === this.me.user_id) throw new Error("That is you.");
    this.store.putUser(user);
    const { conversation_id } = await this.api.openDirect(user.user_id);
    await this.loadConversation(conversation_id);
    return conversation_id;
  }

  async createGroup(name, usernames) {
    const ids = [];
    for (const raw of usernames) {
      const user = await this.api.findUser(raw.trim().toLowerCase());
      if (!user) throw new Error(`No user named “${raw.trim()}”.`);
      this.store.putUser(user);
      if (user.user_id !== this.me.user_id) ids.push(user.user_id);
    }
    const client_request_id = uuid();
    const reply = await this.socket.request("chat/groups", "CreateGroup", {
      name, member_ids: ids, client_request_id,
    });
    const gid = reply.data.group_id;
    this.socket.request("chat/groups/ack", "AcknowledgeGroupCreate", {
      client_request_id, received_at: new Date().toISOString(),
    }).catch(() => {});
    if (!this.store.conversations.has(gid)) await this.loadConversation(gid);
    return gid;
  }

  /** Add someone to a group by username; the members list comes back from the server. */
  async addMember(gid, username) {
    const added = await this.api.addMember(gid, username.trim().toLowerCase());
    const conv = this.store.conversations.get(gid);
    if (conv && !conv.members.some((m) => m.user_id === added.user_id)) {
      this.store.putConversation({ id: gid, members: [...conv.members, { user_id: added.user_id, role: added.role }] });
    }
    this.learnUsers([added.user_id]);
  }

  async removeMember(gid, userId) {
    await this.api.removeMember(gid, userId);
    const conv = this.store.conversations.get(gid);
    if (conv) {
      this.store.putConversation({ id: gid, members: conv.members.filter((m) => m.user_id !== userId) });
    }
  }

  /** The owner changes a member's role; other devices follow `ConversationMemberRoleChanged`. */
  async setMemberRole(gid, userId, role) {
    const changed = await this.api.setMemberRole(gid, userId, role);
    this.applyRole(gid, changed.user_id, changed.role);
  }

  applyRole(gid, userId, role) {
    const conv = this.store.conversations.get(gid);
    if (!conv || !conv.members.some((m) => m.user_id === userId && m.role !== role)) return;
    this.store.putConversation({
      id: gid, members: conv.members.map((m) => (m.user_id === userId ? { ...m, role } : m)),
    });
  }

  async leaveGroup(gid) {
    await this.socket.request("group/membership", "LeaveGroup", { group_id: gid, request_id: uuid() });
    this.store.putConversation({ id: gid, left: true });
  }

  /** Archive or unarchive for this user (`chat/archive`); every device of theirs follows
   * from `ChatArchiveStatusChanged`, this one at once from the ack. */
  async setArchived(convId, archived) {
    await this.socket.request("chat/archive", "SetChatArchiveStatus", {
      conversation_id: convId, archived, request_id: uuid(),
    });
    this.store.putConversation({ id: convId, archived });
  }

  /** Pin or unpin for this user (`chat/pins`): at most 10, the server says so past that. */
  async setPinned(convId, pinned) {
    await this.socket.request("chat/pins", "SetChatPinned", {
      conversation_id: convId, pinned, request_id: uuid(),
    });
    this.store.putConversation({ id: convId, pinned });
  }

  /** Set (or with "" remove) this user's one reaction to a message. */
  async react(messageId, reaction) {
    await this.socket.request("chat/reactions", "AddReaction", { message_id: messageId, reaction });
    // The server tells the other members; this connection learns it from the reply.
    this.store.setReaction(messageId, this.me.user_id, reaction);
  }

  async createPoll(convId, question, options, multi, closesInS = 0) {
    const expiresAt = closesInS > 0 ? Date.now() + closesInS * 1000 : null;
    const reply = await this.socket.request("chat/polls", "CreatePoll", {
      conversation_id: convId, question, options, multi_select: multi,
      ...(expiresAt ? { expires_at: new Date(expiresAt).toISOString() } : {}),
    });
    // PollCreated goes to everyone but this connection: the poll is made from the reply.
    this.store.putPoll(reply.data.ids.poll_id, convId, {
      question, options: reply.data.options, multi, creator: this.me.user_id, expiresAt,
    }, { sender: this.me.user_id, ts: Date.now() });
  }

  async votePoll(convId, pollId, optionIds) {
    const reply = await this.socket.request("chat/polls/votes", "VotePoll", {
      poll_id: pollId, conversation_id: convId, selected_option_ids: optionIds,
    });
    const got = reply.data.counts || {};
    const item = this.store.messages.get(`poll:${pollId}`);
    const ids = new Set([...Object.keys(got), ...((item && item.poll.options) || []).map((o) => o.option_id)]);
    const counts = Object.fromEntries([...ids].map((o) => [o, got[o] || 0])); // an option at 0 may be left out
    this.store.putPoll(pollId, convId, { counts, mine: optionIds });
  }

  async closePoll(convId, pollId) {
    const reply = await this.socket.request("chat/polls/status", "ClosePoll", {
      poll_id: pollId, conversation_id: convId,
    });
    closedPoll(this, { ...reply.data, poll_id: pollId, conversation_id: convId });
  }

  // -- voice notes, stickers, forwards, mentions ---------------------------
  /**
   * Voice notes and stickers are sent at once, not through the outbox (a
   * recording is too big to keep for a retry); their own copy comes back in
   * this user's feed, which the resume after the reply reads.
   */
  async sendVoice(convId, { payload, mime, durationMs }) {
    const reply = await this.socket.request("chat/voice", "SendVoiceMessage", {
      conversation_id: convId, audio_payload: payload, mime_type: mime, duration_ms: durationMs,
      client_message_id: uuid(),
    });
    if (reply.data.status === "rejected") throw new Error(`Voice note refused: ${reply.data.reason}`);
    await this.resume();
  }

  async sendSticker(convId, stickerId, packId) {
    await this.socket.request("chat/stickers", "SendStickerMessage", {
      conversation_id: convId, sticker_id: stickerId, sticker_pack_id: packId, client_message_id: uuid(),
    });
    await this.resume();
  }

  async forward(messageId, fromId, toId, note) {
    const reply = await this.socket.request("chat/forward", "ForwardMessage", {
      original_message_id: messageId, from_conversation_id: fromId, to_conversation_id: toId,
      note: note || undefined,
    });
    if (reply.data.status !== "forwarded") throw new Error(reply.data.reason || "Not forwarded.");
    await this.resume();
  }

  /** A playable URL of a voice note's audio (`/v1/blobs/{id}`), signed, cached until near its expiry. */
  async voiceUrl(path) {
    const id = String(path || "").split("/").pop();
    if (!id) return null;
    this.blobUrls = this.blobUrls || new Map();
    const cached = this.blobUrls.get(id);
    if (cached && cached.until > Date.now()) return cached.url;
    const { url, expires_at: exp } = await this.api.blobUrl(id);
    this.blobUrls.set(id, { url, until: Date.parse(exp) - 30_000 });
    return url;
  }

  /** Tell the sender a voice note arrived (VoiceMessageDelivered), once per message. */
  voiceArrived(m) {
    if (m.sender === this.me.user_id || m.voiceAcked || !this.socket) return;
    this.store.putMessage({ id: m.id, voiceAcked: true });
    this.socket.request("chat/voice/ack", "VoiceMessageDelivered", {
      message_id: m.id, conversation_id: m.conv, received_at: new Date().toISOString(),
    }).catch(() => {});
  }

  /** Mentions of this user in a conversation, acknowledged when it is open and seen. */
  ackMentions(convId) {
    const conv = this.store.conversations.get(convId);
    if (!conv || !(conv.mentions || []).length || !this.isReadable(convId) || !this.socket) return;
    const ids = conv.mentions;
    this.store.putConversation({ id: convId, mentions: [] });
    for (const id of ids) {
      this.socket.request("chat/mentions", "AcknowledgeMention", {
        notification_id: id, ack_timestamp: new Date().toISOString(),
      }).catch(() => {});
    }
  }

  // -- broadcasts and administration ---------------------------------------
  async setSubscription(channelId, on) {
    await this.socket.request(`broadcast/${channelId}`, on ? "Subscribe" : "Unsubscribe", {});
  }

  /** Whether this account is a server admin: `/v1/admin` answers it (403 for others), asked once. */
  async isAdmin() {
    if (this.adminKnown === undefined) {
      this.adminKnown = this.api.adminUsers("").then(() => true, (e) => (e.status === 403 ? false : undefined));
    }
    const known = await this.adminKnown;
    if (known === undefined) this.adminKnown = undefined; // offline: ask again next time
    return Boolean(known);
  }

  /** Acknowledge what the announcements page shows (once each). */
  ackBroadcasts() {
    if (!this.socket || !this.socket.online) return;
    for (const m of this.store.messagesOf(BROADCASTS)) {
      if (m.channel) { // channel posts have no acknowledgement in the spec: seen here
        if (!m.seen) this.store.putMessage({ id: m.id, seen: true });
        continue;
      }
      if (m.acked) continue;
      this.store.putMessage({ id: m.id, acked: true });
      this.socket.request("broadcast/messages", "AcknowledgeBroadcastMessage", {
        message_id: m.bid, received_at: new Date(m.ts).toISOString(), status: "read",
      }).catch(() => this.store.putMessage({ id: m.id, acked: false }));
    }
  }

  /** Announcements not yet seen on this device. */
  unseenBroadcasts() {
    return this.store.messagesOf(BROADCASTS).filter((m) => !m.acked && !m.seen &&
      (!m.expiresAt || m.expiresAt > Date.now())).length;
  }

  // -- group events ---------------------------------------------------------
  /** Create (`editing` null) or update an event; the server's version check makes a stale edit fail. */
  async saveGroupEvent(convId, editing, fields) {
    const reply = await this.socket.request("group/events", "UpsertGroupEvent", {
      group_id: convId, request_id: uuid(), ...fields,
      ...(editing ? { event_id: editing.id, expected_version: editing.version } : {}),
    });
    const d = reply.data;
    await this.resume(); // the event itself comes from the feed (not pushed to this connection)
    if (d.status === "conflict") {
      throw new Error("Someone changed this event first: the card now shows their version.");
    }
    if (d.status === "rejected") throw new Error(d.reason || "Not saved.");
  }

  async deleteGroupEvent(convId, ev) {
    const reply = await this.socket.request("group/events/ack", "DeleteGroupEvent", {
      group_id: convId, event_id: ev.id, expected_version: ev.version, request_id: uuid(),
    });
    await this.resume();
    if (reply.data.status === "conflict") throw new Error("Someone changed this event first.");
  }

  async rsvpGroupEvent(convId, eventId, status) {
    await this.socket.request("group/events/rsvp", "SetGroupEventRsvp", {
      group_id: convId, event_id: eventId, status, request_id: uuid(),
    });
    const item = this.store.messages.get(`event:${eventId}`);
    const rsvps = { ...((item && item.event.rsvps) || {}), [this.me.user_id]: status };
    this.store.putGroupEvent(eventId, convId, { rsvps });
  }

  /** This user's reminder, `beforeSeconds` before the start (kept on this device: the server tells no one). */
  async remindGroupEvent(convId, ev, beforeSeconds) {
    await this.socket.request("group/events/reminders", "SetGroupEventReminder", {
      group_id: convId, event_id: ev.id, request_id: uuid(),
      reminder_time: new Date(ev.start - beforeSeconds * 1000).toISOString(),
    });
    this.store.putGroupEvent(ev.id, convId, { myReminder: String(beforeSeconds) });
  }

  async setInfoText(text) {
    await this.socket.request("profile/info-text", "UpdateProfileInfoText", {
      user_id: this.me.user_id, info_text: text,
    });
    this.store.putUser({ user_id: this.me.user_id, info_text: text });
  }

  /**
   * Who sees this user's online status and last seen: everyone, contacts,
   * nobody, or custom (only `allowed`). The deny list another client may have
   * set is sent back as it is, since the request replaces it.
   */
  async setPresenceVisibility(visibility, allowed = []) {
    const data = { visibility, blocked_user_ids: this.store.presenceBlocked };
    if (visibility === "custom") data.allowed_user_ids = allowed;
    const reply = await this.socket.request("user/presence-settings", "UpdatePresenceVisibility", data);
    const d = reply.data;
    this.store.setPresenceVisibility(d.visibility, d.allowed_user_ids || [], d.blocked_user_ids || []);
  }

  /** People this user shares a chat with (the custom online-status list picks from them). */
  contacts() {
    const me = this.me.user_id;
    const ids = new Set();
    for (const c of this.store.conversations.values()) {
      if (c.left) continue;
      for (const m of c.members || []) if (m.user_id !== me) ids.add(m.user_id);
    }
    return [...ids];
  }

  /** Change what notification previews show: only the fields given ({} reads the config). */
  async setPreviewConfig(fields) {
    const reply = await this.socket.request("user/notifications/preview/config",
      "UpdateNotificationPreviewConfig", fields);
    this.store.setPreviewConfig(reply.data);
  }

  async block(userId) {
    await this.api.block(userId);
    this.store.setBlocked([...this.store.blocked, userId]);
  }

  async unblock(userId) {
    await this.api.unblock(userId);
    this.store.setBlocked([...this.store.blocked].filter((u) => u !== userId));
  }

  // -- leaving --------------------------------------------------------------
  async wipe() {
    if (this.socket) this.socket.stop();
    for (const t of this.expiry.values()) clearTimeout(t);
    this.typing.clear();
    clearTimeout(this.receiptTimer);
    this.store.close();
    await deleteDatabase(this.me.user_id);
  }

  async signOut() {
    this.gone = true;
    try { await this.api.logout(); } catch { /* offline: the token dies with the wipe */ }
    await this.wipe();
    this.onSignedOut("You are signed out.");
  }

  async signedOutElsewhere() {
    if (this.gone) return;
    this.gone = true;
    await this.wipe();
    this.onSignedOut("This device was signed out. Sign in again to continue.");
  }
}
