// End-to-end encryption of direct chats, in the browser only (WebCrypto).
//
// Each browser (device) makes one ECDH P-256 key pair; the private key is
// non-extractable and stays in this device's IndexedDB. The public key is
// published with `crypto/keys` PublishPublicKey {key_id, public_key (base64 of
// the raw point), algorithm "ECDH-P256"}; peers' keys are fetched with
// GET /v1/users/{id}/keys (and updated by PublicKeyReceived events).
//
// A message is readable on every device of both people (Signal's model of
// one copy per device, with one shared body):
//   K       = a random AES-256-GCM key for this message
//   body    = AES-GCM(K, 12-byte nonce, JSON {v:1, text, cid, ttl?},
//                     additional data "<conversation_id>|<sender_id>")
//   wrap(R) = AES-GCM(W, 12-byte nonce, K) for each device key R of the peer
//             and of the sender (the newest MAX_KEYS of each), where
//             W = HKDF-SHA256(ECDH(sender private, R), salt "hubbub-e2e-v1",
//                             info "<sender kid>|<R kid>")
// sent as SendEncryptedMessage {ciphertext: base64 of JSON {"c": body,
// "k": {<kid>: nonce+wrap}}, nonce (base64), algorithm "P256-HKDF-AES256GCM",
// key_id: the sender's kid}. The additional data stops the server replaying a
// message into another chat or under another sender. `cid` is a client id:
// SendEncryptedMessage has no idempotency key, so a resend after a lost reply
// is deduplicated by the clients on (sender, cid).

export const MESSAGE_ALG = "P256-HKDF-AES256GCM";
export const KEY_ALG = "ECDH-P256";
const CURVE = { name: "ECDH", namedCurve: "P-256" };
const MAX_KEYS = 8; // device keys per person a message is wrapped for (the newest)
const enc = new TextEncoder();
const dec = new TextDecoder();

export function b64(bytes) {
  let s = "";
  const u = new Uint8Array(bytes);
  for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
  return btoa(s);
}

export function unb64(text) {
  const s = atob(text);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

export class DecryptError extends Error {}

export class E2E {
  constructor(store, api) {
    this.store = store;
    this.api = api;
    this.derived = new Map(); // "<sender kid>|<recipient kid>" -> wrap key W
    this.imported = new Map(); // kid -> imported public key
    this.fetching = new Map(); // user id -> Promise
    this.published = false;
  }

  /** WebCrypto exists only in secure contexts (https, or http on localhost). */
  get available() { return Boolean(globalThis.crypto && crypto.subtle); }

  /** This device's current key pair, made on first use (once, however many ask at once). */
  ownKey() {
    if (!this.making) this.making = this.makeOwnKey().catch((e) => { this.making = null; throw e; });
    return this.making;
  }

  async makeOwnKey() {
    let newest = null;
    for (const k of this.store.keys.values()) if (!newest || k.created > newest.created) newest = k;
    if (newest) return newest;
    const pair = await crypto.subtle.generateKey(CURVE, false, ["deriveBits"]);
    const raw = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
    const digest = new Uint8Array(await crypto.subtle.digest("SHA-256", raw));
    const kid = "p256-" + Array.from(digest.slice(0, 12), (x) => x.toString(16).padStart(2, "0")).join("");
    const key = { kid, privateKey: pair.privateKey, publicKey: b64(raw), created: Date.now() };
    this.store.putKey(key);
    return key;
  }

  /** Publish (idempotent: same key_id and material) so peers can write to us. */
  async publish(socket) {
    const key = await this.ownKey();
    this.published = false;
    await socket.request("crypto/keys", "PublishPublicKey", {
      user_id: this.store.me.user_id, key_id: key.kid, public_key: key.publicKey, algorithm: KEY_ALG,
    });
    this.store.putPeerKey({
      key_id: key.kid, user_id: this.store.me.user_id, public_key: key.publicKey,
      algorithm: KEY_ALG, ts: Date.now(),
    });
    this.published = true;
    this.store.changed("keys");
    // Our other devices' keys, so that what we send is readable there too.
    await this.fetchKeys(this.store.me.user_id);
    return key;
  }

  notePeerKey(data) {
    if (!data || data.algorithm !== KEY_ALG || !data.key_id || !data.public_key) return;
    this.store.putPeerKey({
      key_id: data.key_id, user_id: data.user_id, public_key: data.public_key,
      algorithm: data.algorithm, ts: Date.parse(data.timestamp) || Date.now(),
    });
  }

  async fetchKeys(userId) {
    if (this.fetching.has(userId)) return this.fetching.get(userId);
    const p = (async () => {
      try {
        for (const k of await this.api.keys(userId)) this.notePeerKey(k);
      } finally {
        this.fetching.delete(userId);
      }
    })();
    this.fetching.set(userId, p);
    return p;
  }

  /** The peer's newest ECDH-P256 key: from the cache, else fetched. */
  async peerKey(userId, { refresh = false } = {}) {
    const newest = () => {
      let best = null;
      for (const k of this.store.peerKeys.values()) {
        if (k.user_id === userId && k.algorithm === KEY_ALG && (!best || k.ts > best.ts)) best = k;
      }
      return best;
    };
    if (refresh || !newest()) {
      try { await this.fetchKeys(userId); } catch { /* offline: use what we have */ }
    }
    return newest();
  }

  async keyById(userId, kid) {
    let k = this.store.peerKeys.get(kid);
    if (!k) {
      await this.fetchKeys(userId);
      k = this.store.peerKeys.get(kid);
    }
    if (!k || k.user_id !== userId) throw new DecryptError("unknown key");
    return k;
  }

  /** The newest published keys of a user (this device's own included for us). */
  keysOf(userId) {
    return [...this.store.peerKeys.values()]
      .filter((k) => k.user_id === userId && k.algorithm === KEY_ALG)
      .sort((a, b) => b.ts - a.ts)
      .slice(0, MAX_KEYS);
  }

  /**
   * W for (sender kid, recipient kid) = `id`, from our private key and the
   * other side's public key: the same W whichever of the two computes it.
   */
  async wrapKey(privateKey, id, other) {
    if (this.derived.has(id)) return this.derived.get(id);
    let pub = this.imported.get(other.key_id);
    if (!pub) {
      pub = await crypto.subtle.importKey("raw", unb64(other.public_key), CURVE, false, []);
      this.imported.set(other.key_id, pub);
    }
    const secret = await crypto.subtle.deriveBits({ name: "ECDH", public: pub }, privateKey, 256);
    const hkdf = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
    const key = await crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: enc.encode("hubbub-e2e-v1"), info: enc.encode(id) },
      hkdf, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"],
    );
    this.derived.set(id, key);
    return key;
  }

  /** Encrypt `payload` (an object) for every device of `peerId` and of ours. */
  async encrypt(convId, peerId, payload) {
    const mine = await this.ownKey();
    if (!(await this.peerKey(peerId))) throw new Error("the other person has no encryption key yet");
    const me = this.store.me.user_id;
    const recipients = [...this.keysOf(peerId), ...this.keysOf(me)];
    if (!recipients.some((k) => k.key_id === mine.kid)) {
      recipients.push({ key_id: mine.kid, public_key: mine.publicKey }); // not listed yet
    }
    const raw = crypto.getRandomValues(new Uint8Array(32));
    const k = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["encrypt"]);
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const aad = enc.encode(`${convId}|${me}`);
    const body = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: aad }, k, enc.encode(JSON.stringify(payload)),
    );
    const wraps = {};
    for (const r of recipients) {
      const w = await this.wrapKey(mine.privateKey, `${mine.kid}|${r.key_id}`, r);
      const wn = crypto.getRandomValues(new Uint8Array(12));
      const ct = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv: wn }, w, raw));
      const both = new Uint8Array(12 + ct.length);
      both.set(wn); both.set(ct, 12);
      wraps[r.key_id] = b64(both);
    }
    const sealed = JSON.stringify({ c: b64(body), k: wraps });
    return { ciphertext: btoa(sealed), nonce: b64(nonce), algorithm: MESSAGE_ALG, key_id: mine.kid };
  }

  /** Decrypt an EncryptedMessageReceived's data; throws DecryptError. */
  async decrypt(d) {
    if (!this.available) throw new DecryptError("this browser context cannot decrypt (needs https)");
    if (d.algorithm !== MESSAGE_ALG) throw new DecryptError(`unsupported algorithm ${d.algorithm}`);
    let sealed;
    try { sealed = JSON.parse(atob(d.ciphertext)); } catch { throw new DecryptError("malformed"); }
    if (!sealed || typeof sealed.c !== "string" || !sealed.k) throw new DecryptError("malformed");
    const mineKid = Object.keys(sealed.k).find((kid) => this.store.keys.has(kid));
    if (!mineKid) throw new DecryptError("sent before this device was set up");
    const mine = this.store.keys.get(mineKid);
    const sender = await this.keyById(d.sender_id, String(d.key_id || ""));
    try {
      const w = await this.wrapKey(mine.privateKey, `${sender.key_id}|${mineKid}`, sender);
      const both = unb64(sealed.k[mineKid]);
      const raw = await crypto.subtle.decrypt({ name: "AES-GCM", iv: both.slice(0, 12) }, w, both.slice(12));
      const k = await crypto.subtle.importKey("raw", raw, "AES-GCM", false, ["decrypt"]);
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: unb64(d.nonce), additionalData: enc.encode(`${d.conversation_id}|${d.sender_id}`) },
        k, unb64(sealed.c),
      );
      return JSON.parse(dec.decode(plain));
    } catch {
      throw new DecryptError("could not be decrypted (tampered or wrong key)");
    }
  }
}
