// What each server event does to the client state: one reducer per
// "<channel> <type>", the same whether the frame came live or inside a
// SyncResponse. Reducers are idempotent (keyed by message id, group id, ...),
// so an event applied twice changes nothing; `Store.fresh(seq)` filters
// repeats first anyway. A feature that adds an event adds its reducer here
// (docs/web-client.md).

import { DecryptError } from "./crypto.js";
import { toast } from "./dom.js";
import { BROADCASTS, payloadText } from "./views/announcements.js";

const ts = (iso) => (iso ? Date.parse(iso) : Date.now());

async function ensureConversation(app, convId) {
  if (!convId || app.store.conversations.has(convId)) return;
  await app.loadConversation(convId);
}

function expireLater(app, m) {
  if (m.expiresAt) app.scheduleExpiry(m.id, m.expiresAt);
}

/** Decrypt again what could not be decrypted before (a key arrived since). */
export async function retrySealed(app) {
  for (const m of [...app.store.messages.values()]) {
    if (!m.sealed) continue;
    await REDUCERS["chat/messages EncryptedMessageReceived"](app, {
      channel: "chat/messages", type: "EncryptedMessageReceived", seq: m.sealed.seq, data: m.sealed,
    });
  }
}

/** A poll's closed state and final results (from PollClosed or ClosePoll's Ack). */
export function closedPoll(app, d) {
  const results = d.final_results || [];
  const counts = Object.fromEntries(results.map((r) => [r.option_id, r.vote_count || 0]));
  const old = app.store.messages.get(`poll:${d.poll_id}`);
  const fields = { counts, closed: true, closedBy: d.closed_by, closedAt: ts(d.closed_at) };
  if (!(old && old.poll && old.poll.options.length)) {
    fields.options = results.map((r) => ({ option_id: r.option_id, text: r.text }));
  }
  app.store.putPoll(d.poll_id, d.conversation_id, fields);
}

/** A broadcast as an item of the announcements page (`broadcast` pseudo-conversation). */
function putBroadcast(app, f, d, fields) {
  const expiresAt = d.expires_at ? ts(d.expires_at) : null;
  if (expiresAt && expiresAt <= Date.now()) return;
  const id = `bc:${d.message_id}`;
  const fresh = !app.store.messages.has(id);
  app.store.putMessage({
    id, bid: d.message_id, conv: BROADCASTS, kind: "broadcast", sender: d.sender_id, seq: f.seq,
    ts: ts(d.timestamp), priority: d.priority || "normal", expiresAt, ...fields,
  });
  if (fresh && (d.priority === "high" || d.priority === "urgent") && Date.now() - ts(d.timestamp) < 60_000) {
    toast(`Announcement: ${d.title}`);
  }
}

/** The placeholder a deleted message leaves (as common messengers do); its text leaves IndexedDB too. */
function markDeleted(app, m, at) {
  app.store.putMessage({
    id: m.id, text: "", deleted: true, deletedAt: at, edited: false,
    reactions: {}, forwarded: false, note: "", voice: null, sticker: null,
  });
}

/**
 * A send read back as a tombstone: self-destructed (the message has an
 * expiry: it goes) or deleted by its sender (a placeholder, before the
 * ChatMessageDeleted that follows in the feed).
 */
function tombstoned(app, id) {
  const m = app.store.messages.get(id);
  if (m && !m.expiresAt && m.kind === "msg") markDeleted(app, m, m.deletedAt || Date.now());
  else app.store.removeMessage(id);
}

/** A forwarded copy says so, with the forwarder's note. */
function forwardMarks(d) {
  return d.forwarded ? { forwarded: true, note: d.note || "" } : {};
}

export const REDUCERS = {
  async "chat/stickers StickerMessageReceived"(app, f) {
    const d = f.data;
    if (d.deleted || !d.message_id) return;
    await ensureConversation(app, d.conversation_id);
    const m = app.store.putMessage({
      id: d.message_id, conv: d.conversation_id, sender: d.sender_id, seq: f.seq, ts: ts(d.timestamp),
      text: "", enc: false, state: "sent", kind: "msg",
      sticker: { id: d.sticker_id, pack: d.sticker_pack_id }, ...forwardMarks(d),
    });
    app.received(m);
  },

  async "chat/voice VoiceMessageReceived"(app, f) {
    const d = f.data;
    if (d.deleted || !d.message_id) return;
    await ensureConversation(app, d.conversation_id);
    const m = app.store.putMessage({
      id: d.message_id, conv: d.conversation_id, sender: d.sender_id, seq: f.seq, ts: ts(d.timestamp),
      text: "", enc: false, state: "sent", kind: "msg",
      voice: { url: d.audio_url, durationMs: d.duration_ms || 0, mime: d.mime_type }, ...forwardMarks(d),
    });
    app.received(m);
    app.voiceArrived(m);
  },

  async "chat/mentions MentionNotification"(app, f) {
    const d = f.data;
    await ensureConversation(app, d.conversation_id);
    const conv = app.store.conversations.get(d.conversation_id);
    if (!d.notification_id || d.mentioned_user_id !== app.store.me.user_id || !conv) return;
    const mentions = conv.mentions || [];
    if (mentions.includes(d.notification_id)) return;
    app.store.putConversation({ id: conv.id, mentions: [...mentions, d.notification_id] });
    app.ackMentions(conv.id);
  },

  async "chat/messages ChatMessageReceived"(app, f) {
    const d = f.data;
    if (d.deleted) { tombstoned(app, d.message_id); return; }
    await ensureConversation(app, d.conversation_id);
    const m = app.store.putMessage({
      id: d.message_id, conv: d.conversation_id, sender: d.sender_id, seq: f.seq,
      ts: ts(d.timestamp), text: d.content, type: d.type, enc: false, state: "sent",
      expiresAt: d.expires_at ? ts(d.expires_at) : null, kind: "msg", replyTo: d.reply_to_id || null,
      ...forwardMarks(d),
    });
    if (m.expiresAt && m.expiresAt <= Date.now()) { app.store.removeMessage(m.id); return; }
    expireLater(app, m);
    app.received(m);
  },

  async "chat/messages EncryptedMessageReceived"(app, f) {
    const d = f.data;
    if (d.deleted) { app.store.removeMessage(d.message_id); return; }
    await ensureConversation(app, d.conversation_id);
    if (app.store.messages.has(d.message_id) && !app.store.messages.get(d.message_id).undecryptable) {
      app.store.putMessage({ id: d.message_id, seq: f.seq });
      return;
    }
    const base = {
      id: d.message_id, conv: d.conversation_id, sender: d.sender_id, seq: f.seq,
      ts: ts(d.timestamp), enc: true, state: "sent", kind: "msg", type: d.type,
      replyTo: d.reply_to_id || null, // the link is the server's; the quote is our own copy
    };
    let payload;
    try {
      payload = await app.e2e.decrypt(d);
    } catch (e) {
      // Kept sealed: a key that could not be fetched (offline) may come later,
      // and App.retrySealed tries again after the next resume.
      const final = e instanceof DecryptError;
      app.store.putMessage({
        ...base, text: "", undecryptable: final ? e.message : "could not be decrypted yet",
        sealed: final ? null : { ...d, seq: f.seq },
      });
      return;
    }
    // A resend of one we already have (same sender, same client id): keep one.
    if (payload.cid) {
      for (const other of app.store.messages.values()) {
        if (other.id !== d.message_id && other.conv === d.conversation_id &&
            other.sender === d.sender_id && other.cid === payload.cid) return;
      }
    }
    const expiresAt = payload.ttl ? base.ts + payload.ttl * 1000 : null;
    if (expiresAt && expiresAt <= Date.now()) return; // disappeared while we were away
    const m = app.store.putMessage({
      ...base, text: String(payload.text ?? ""), cid: payload.cid, expiresAt, undecryptable: null,
      sealed: null,
    });
    expireLater(app, m);
    app.received(m);
  },

  "chat/acks EncryptedMessageAck"(app, f) {
    const d = f.data;
    app.store.addReceipt(d.message_id, d.user_id, d.status || "delivered");
  },

  "chat/messages/expired ChatMessageExpired"(app, f) {
    app.store.removeMessage(f.data.message_id);
  },

  // Edits and deletions come from MTChat or Symbia REST (/ws has no request
  // for them). Only a message this device has is changed: the send comes
  // first in the feed, and a deletion tombstones it (and its edits), so a
  // device that never had it never shows it, and one that had it already
  // shows the placeholder when the tombstone comes first (tombstoned()).
  "chat/messages ChatMessageEdited"(app, f) {
    const d = f.data;
    const m = !d.deleted && app.store.messages.get(d.message_id);
    if (!m || m.deleted) return;
    app.store.putMessage({ id: m.id, text: d.content ?? "", edited: true, editedAt: ts(d.edited_at) });
  },

  "chat/messages ChatMessageDeleted"(app, f) {
    const d = f.data;
    const m = app.store.messages.get(d.message_id);
    if (m) markDeleted(app, m, ts(d.deleted_at));
  },

  "chat/typing TypingStarted"(app, f) {
    app.typing.started(f.data);
  },

  "chat/typing TypingStopped"(app, f) {
    app.typing.stopped(f.data.conversation_id, f.data.user_id);
  },

  "chat/groups GroupCreated"(app, f) {
    const d = f.data;
    app.store.putConversation({
      id: d.group_id, kind: "group", name: d.name, creator_id: d.creator_id, created: ts(d.created_at),
      members: (d.member_ids || []).map((u) => ({
        user_id: u, role: u === d.creator_id ? "owner" : "member",
      })),
      left: false,
    });
    app.store.putMessage({
      id: `sys:${f.seq ?? d.group_id}`, conv: d.group_id, kind: "system", ts: ts(d.created_at),
      seq: f.seq, event: "created", user: d.creator_id, name: d.name,
    });
    app.learnUsers(d.member_ids || []);
  },

  "group/membership LeaveGroupAck"(app, f) {
    const d = f.data;
    const conv = app.store.conversations.get(d.group_id);
    if (!conv) return;
    if (d.user_id === app.store.me.user_id) {
      app.store.putConversation({ id: conv.id, left: true });
    } else {
      app.store.putConversation({
        id: conv.id, members: conv.members.filter((m) => m.user_id !== d.user_id),
      });
    }
    app.store.putMessage({
      id: `sys:${f.seq ?? d.user_id}`, conv: d.group_id, kind: "system", ts: ts(d.timestamp),
      seq: f.seq, event: "left", user: d.user_id,
    });
  },

  async "group/membership ConversationMemberJoined"(app, f) {
    const d = f.data;
    const me = app.store.me.user_id;
    if (d.user_id === me) {
      // Added (again): the group, with its members and roles, comes from the server.
      await app.loadConversation(d.conversation_id);
    } else {
      await ensureConversation(app, d.conversation_id);
    }
    const conv = app.store.conversations.get(d.conversation_id);
    if (!conv) return;
    if (d.user_id === me) app.store.putConversation({ id: conv.id, left: false, removed: false });
    if (!conv.members.some((m) => m.user_id === d.user_id)) {
      app.store.putConversation({
        id: conv.id, members: [...conv.members, { user_id: d.user_id, role: d.role || "member" }],
      });
    }
    app.learnUsers([d.user_id, d.added_by]);
    app.store.putMessage({
      id: `sys:${f.seq ?? `${d.user_id}:${d.timestamp}`}`, conv: conv.id, kind: "system", ts: ts(d.timestamp),
      seq: f.seq, event: d.added_by ? "added" : "joined", user: d.user_id, by: d.added_by,
    });
  },

  "group/membership ConversationMemberLeft"(app, f) {
    const d = f.data;
    const conv = app.store.conversations.get(d.conversation_id);
    if (!conv) return;
    if (d.user_id === app.store.me.user_id) {
      app.store.putConversation({ id: conv.id, left: true, removed: Boolean(d.removed_by) });
    } else {
      app.store.putConversation({
        id: conv.id, members: conv.members.filter((m) => m.user_id !== d.user_id),
      });
    }
    app.store.putMessage({
      id: `sys:${f.seq ?? `${d.user_id}:${d.timestamp}`}`, conv: conv.id, kind: "system", ts: ts(d.timestamp),
      seq: f.seq, event: d.removed_by ? "removed" : "left", user: d.user_id, by: d.removed_by,
    });
  },

  // Hubbub's: the owner made a member an admin or an admin a member (every
  // member's devices, live and from the feed; the server sends it only on a change).
  async "group/membership ConversationMemberRoleChanged"(app, f) {
    const d = f.data;
    await ensureConversation(app, d.conversation_id);
    if (!app.store.conversations.has(d.conversation_id)) return;
    app.applyRole(d.conversation_id, d.user_id, d.role);
    app.learnUsers([d.user_id, d.changed_by]);
    app.store.putMessage({
      id: `sys:${f.seq ?? `${d.user_id}:${d.timestamp}`}`, conv: d.conversation_id, kind: "system",
      ts: ts(d.timestamp), seq: f.seq, event: "role", user: d.user_id, by: d.changed_by, role: d.role,
    });
  },

  // Archive and pin are this user's own (the server sends them to no one
  // else); a new message in an archived chat brings `archived: false` too.
  "chat/archive ChatArchiveStatusChanged"(app, f) {
    const d = f.data;
    if (app.store.conversations.has(d.conversation_id)) {
      app.store.putConversation({ id: d.conversation_id, archived: !!d.archived });
    }
  },

  "chat/pins ChatPinnedUpdated"(app, f) {
    const d = f.data;
    if (app.store.conversations.has(d.conversation_id)) {
      app.store.putConversation({ id: d.conversation_id, pinned: !!d.pinned });
    }
  },

  "chat/reactions ReactionUpdated"(app, f) {
    const d = f.data;
    if (d.deleted || !d.user_id) return; // tombstoned with its self-destructed message
    app.store.setReaction(d.message_id, d.user_id, d.reaction);
  },

  async "chat/polls PollCreated"(app, f) {
    const d = f.data;
    if (!d.poll_id) return;
    await ensureConversation(app, d.conversation_id);
    // Counts and votes already applied (the creator's own Ack, or votes seen
    // first) are kept: only the poll's fixed fields come from this event.
    app.store.putPoll(d.poll_id, d.conversation_id, {
      question: d.question, options: d.options || [], multi: Boolean(d.multi_select),
      creator: d.creator_id, expiresAt: d.expires_at ? ts(d.expires_at) : null,
    }, { sender: d.creator_id, ts: ts(d.created_at), seq: f.seq });
  },

  "chat/polls/votes PollVoteUpdated"(app, f) {
    const d = f.data;
    if (!d.poll_id || !d.option_id) return;
    const old = app.store.messages.get(`poll:${d.poll_id}`);
    const poll = (old && old.poll) || { counts: {}, mine: [] };
    const before = poll.counts[d.option_id] || 0;
    const counts = { ...poll.counts, [d.option_id]: d.vote_count };
    let mine = poll.mine;
    // One event per option whose count changed: from this device's point of
    // view our own vote went up (chosen) or down (withdrawn) there.
    if (d.voter_id === app.store.me.user_id && d.vote_count !== before) {
      mine = d.vote_count > before ? [...new Set([...mine, d.option_id])]
        : mine.filter((o) => o !== d.option_id);
    }
    app.store.putPoll(d.poll_id, d.conversation_id, { counts, mine });
  },

  "chat/polls/status PollClosed"(app, f) {
    closedPoll(app, f.data);
  },

  async "group/events GroupEventUpdated"(app, f) {
    const d = f.data;
    if (!d.event_id) return;
    await ensureConversation(app, d.group_id);
    const fresh = !app.store.messages.has(`event:${d.event_id}`);
    app.store.putGroupEvent(d.event_id, d.group_id, {
      title: d.title, description: d.description || "", location: d.location || "",
      start: ts(d.start_time), end: d.end_time ? ts(d.end_time) : null, organizer: d.organizer_id,
      version: d.version, deleted: false,
    }, fresh ? { sender: d.organizer_id, ts: ts(d.updated_at), seq: f.seq } : {});
  },

  "group/events GroupEventDeleted"(app, f) {
    const d = f.data;
    if (d.event_id) app.store.putGroupEvent(d.event_id, d.group_id, { deleted: true });
  },

  "group/events/rsvp GroupEventRsvpUpdated"(app, f) {
    const d = f.data;
    if (!d.event_id || !d.user_id) return;
    const item = app.store.messages.get(`event:${d.event_id}`);
    const rsvps = { ...((item && item.event.rsvps) || {}), [d.user_id]: d.status };
    app.store.putGroupEvent(d.event_id, d.group_id, { rsvps });
  },

  "group/events/reminders GroupEventReminder"(app, f) {
    const d = f.data;
    // Shown when it fires, not when a new device reads an old one from the feed.
    if (Date.now() - ts(d.reminder_time) > 10 * 60_000) return;
    toast(`Reminder: “${d.title}” starts ${new Date(ts(d.start_time)).toLocaleString()}.`);
  },

  "broadcast/messages BroadcastMessageReceived"(app, f) {
    const d = f.data;
    if (!d.message_id || d.deleted) return;
    putBroadcast(app, f, d, { title: d.title, text: d.content || "" });
  },

  "broadcast/{channel_id} BroadcastMessage"(app, f) {
    const d = f.data;
    if (!d.message_id || d.deleted) return;
    putBroadcast(app, f, d, { title: d.title, text: payloadText(d.payload), channel: d.channel_id });
  },

  "crypto/keys PublicKeyReceived"(app, f) {
    app.e2e.notePeerKey(f.data);
    app.store.changed("conversations");
  },

  "profile/info-text ProfileInfoTextUpdated"(app, f) {
    const d = f.data;
    if (d.user_id) app.store.putUser({ user_id: d.user_id, info_text: d.info_text || "" });
  },

  "user/presence PresenceStatusUpdated"(app, f) {
    const d = f.data;
    app.store.setPresence(d.user_id, d.status, d.last_seen_at);
  },

  "user/presence-settings PresenceVisibilityUpdated"(app, f) {
    const d = f.data;
    if (d.user_id !== app.me.user_id) return;
    app.store.setPresenceVisibility(d.visibility, d.allowed_user_ids || [], d.blocked_user_ids || []);
  },

  "user/notifications/preview/config NotificationPreviewConfigUpdated"(app, f) {
    app.store.setPreviewConfig(f.data);
  },

  "sync/changes SyncChangesReceived"(app, f) {
    // Pages we asked for with SyncAck are applied by App.resume; nothing here.
  },
};
