// End-to-end encryption of direct chats, in the browser only (WebCrypto).
//
// Each browser (device) makes one ECDH P-256 key pair; the private key is
// non-extractable and stays in this device's IndexedDB. The public key is
// published with `crypto/keys` PublishPublicKey {key_id, public_key (base64 of
// the raw point), algorithm "ECDH-P256"}; peers' keys are fetched with
// GET /v1/users/{id}/keys (and updated by PublicKeyReceived events).
//
// A message to a peer:
//   secret  = ECDH(my private key, peer's newest public key)      (same both ways)
//   key     = HKDF-SHA256(secret, salt "hubbub-e2e-v1", info "<kid1>|<kid2>" sorted) -> AES-256-GCM
//   payload = AES-GCM(key, 12-byte random nonce, JSON {v:1, text, cid, ttl?},
//                     additional data "<conversation_id>|<sender_id>")
// sent as SendEncryptedMessage {ciphertext, nonce (base64), algorithm
// "P256-HKDF-AES256GCM", key_id "<sender kid>><recipient kid>"}. Naming both
// keys lets the recipient and the sender's own device (same ECDH secret)
// decrypt; the additional data stops the server replaying it into another
// chat or under another sender. `cid` is a client id: SendEncryptedMessage
// has no idempotency key, so a resend after a lost reply is deduplicated
// by the clients on (sender, cid).

export const MESSAGE_ALG = "P256-HKDF-AES256GCM";
export const KEY_ALG = "ECDH-P256";
const CURVE = { name: "ECDH", namedCurve: "P-256" };
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
    this.derived = new Map(); // "<mykid>|<peerkid>" -> AES key
    this.imported = new Map(); // peer kid -> CryptoKey
    this.fetching = new Map(); // user id -> Promise
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
    await socket.request("crypto/keys", "PublishPublicKey", {
      user_id: this.store.me.user_id, key_id: key.kid, public_key: key.publicKey, algorithm: KEY_ALG,
    });
    this.store.putPeerKey({
      key_id: key.kid, user_id: this.store.me.user_id, public_key: key.publicKey,
      algorithm: KEY_ALG, ts: Date.now(),
    });
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

  async aesKey(myKid, peer) {
    const id = `${myKid}|${peer.key_id}`;
    if (this.derived.has(id)) return this.derived.get(id);
    const mine = this.store.keys.get(myKid);
    if (!mine) throw new DecryptError("made for another device");
    let pub = this.imported.get(peer.key_id);
    if (!pub) {
      pub = await crypto.subtle.importKey("raw", unb64(peer.public_key), CURVE, false, []);
      this.imported.set(peer.key_id, pub);
    }
    const secret = await crypto.subtle.deriveBits({ name: "ECDH", public: pub }, mine.privateKey, 256);
    const hkdf = await crypto.subtle.importKey("raw", secret, "HKDF", false, ["deriveKey"]);
    const info = [myKid, peer.key_id].sort().join("|");
    const key = await crypto.subtle.deriveKey(
      { name: "HKDF", hash: "SHA-256", salt: enc.encode("hubbub-e2e-v1"), info: enc.encode(info) },
      hkdf, { name: "AES-GCM", length: 256 }, false, ["encrypt", "decrypt"],
    );
    this.derived.set(id, key);
    return key;
  }

  /** Encrypt `payload` (an object) for `peerId` in conversation `convId`. */
  async encrypt(convId, peerId, payload) {
    const mine = await this.ownKey();
    const peer = await this.peerKey(peerId);
    if (!peer) throw new Error("the other person has no encryption key yet");
    const key = await this.aesKey(mine.kid, peer);
    const nonce = crypto.getRandomValues(new Uint8Array(12));
    const aad = enc.encode(`${convId}|${this.store.me.user_id}`);
    const ct = await crypto.subtle.encrypt(
      { name: "AES-GCM", iv: nonce, additionalData: aad }, key, enc.encode(JSON.stringify(payload)),
    );
    return {
      ciphertext: b64(ct), nonce: b64(nonce), algorithm: MESSAGE_ALG,
      key_id: `${mine.kid}>${peer.key_id}`,
    };
  }

  /** Decrypt an EncryptedMessageReceived's data; throws DecryptError. */
  async decrypt(d) {
    if (!this.available) throw new DecryptError("this browser context cannot decrypt (needs https)");
    if (d.algorithm !== MESSAGE_ALG) throw new DecryptError(`unsupported algorithm ${d.algorithm}`);
    const [senderKid, recipientKid] = String(d.key_id || "").split(">");
    if (!senderKid || !recipientKid) throw new DecryptError("malformed key id");
    const me = this.store.me.user_id;
    const conv = this.store.conversations.get(d.conversation_id);
    let myKid, peer;
    if (d.sender_id === me) {
      const peerId = this.store.peerOf(conv);
      if (!peerId) throw new DecryptError("unknown conversation");
      myKid = senderKid;
      peer = await this.keyById(peerId, recipientKid);
    } else {
      myKid = recipientKid;
      peer = await this.keyById(d.sender_id, senderKid);
    }
    const key = await this.aesKey(myKid, peer);
    try {
      const plain = await crypto.subtle.decrypt(
        { name: "AES-GCM", iv: unb64(d.nonce), additionalData: enc.encode(`${d.conversation_id}|${d.sender_id}`) },
        key, unb64(d.ciphertext),
      );
      return JSON.parse(dec.decode(plain));
    } catch {
      throw new DecryptError("could not be decrypted (tampered or wrong key)");
    }
  }
}
