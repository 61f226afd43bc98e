// The `/ws` connection (spec 000 frames, docs/protocol.md):
//
//   connect -> {"type":"Authenticate","data":{token,device_id}} -> Authenticated{head_seq}
//   request(channel, type, data) -> {"id": "w12", ...}; the one reply has "ref": "w12"
//   every other server frame -> onFrame(frame)
//
// It reconnects by itself with exponential backoff and jitter (0.5 s doubling
// up to 30 s), at once when the browser says it is back online, and not at all
// while the browser says it is offline. Close code 4401 means the token was
// revoked (signed out elsewhere): no retry, onRevoked().

const MAX_BACKOFF_MS = 30_000;
const REQUEST_TIMEOUT_MS = 20_000;

export class SocketError extends Error {
  constructor(code, message, path) {
    super(message || code);
    this.code = code;
    this.path = path;
  }
}

export class Socket {
  constructor({ token, deviceId, onFrame, onAuthenticated, onState, onRevoked }) {
    this.token = token;
    this.deviceId = deviceId;
    this.onFrame = onFrame;
    this.onAuthenticated = onAuthenticated;
    this.onState = onState || (() => {});
    this.onRevoked = onRevoked || (() => {});
    this.ws = null;
    this.state = "idle"; // idle | connecting | online | offline | closed
    this.attempt = 0;
    this.timer = 0;
    this.nextId = 1;
    this.pending = new Map(); // id -> {resolve, reject, timer}
    this.stopped = false;
    this._online = () => this.reconnectNow();
    this._offline = () => this.drop("browser offline");
    window.addEventListener("online", this._online);
    window.addEventListener("offline", this._offline);
  }

  url() {
    const proto = location.protocol === "https:" ? "wss:" : "ws:";
    return `${proto}//${location.host}/ws`;
  }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    this.onState(state);
  }

  start() {
    this.stopped = false;
    if (navigator.onLine === false) { this.setState("offline"); return; }
    this.open();
  }

  open() {
    clearTimeout(this.timer);
    if (this.stopped || this.ws) return;
    this.setState("connecting");
    const ws = new WebSocket(this.url());
    this.ws = ws;
    ws.onopen = () => {
      ws.send(JSON.stringify({
        id: "auth", type: "Authenticate",
        data: { token: this.token, device_id: this.deviceId },
      }));
    };
    ws.onmessage = (ev) => this.receive(ws, ev.data);
    ws.onclose = (ev) => this.closed(ws, ev.code);
    ws.onerror = () => {}; // onclose follows and decides
  }

  receive(ws, raw) {
    if (ws !== this.ws) return;
    let frame;
    try { frame = JSON.parse(raw); } catch { return; }
    if (frame.type === "Authenticated") {
      this.attempt = 0;
      this.setState("online");
      this.onAuthenticated(frame.data);
      return;
    }
    if (frame.ref !== undefined && frame.ref !== null) {
      const p = this.pending.get(frame.ref);
      if (p) {
        this.pending.delete(frame.ref);
        clearTimeout(p.timer);
        if (frame.type === "Error") {
          const d = frame.data || {};
          p.reject(new SocketError(d.code, d.message, d.path));
        } else p.resolve(frame);
      }
      return;
    }
    this.onFrame(frame);
  }

  closed(ws, code) {
    if (ws !== this.ws) return;
    this.ws = null;
    this.failPending("offline", "connection lost");
    if (code === 4401) {
      this.stopped = true;
      this.setState("closed");
      this.onRevoked();
      return;
    }
    if (this.stopped) { this.setState("closed"); return; }
    if (navigator.onLine === false) { this.setState("offline"); return; }
    this.setState("offline");
    const base = Math.min(MAX_BACKOFF_MS, 500 * 2 ** this.attempt);
    this.attempt += 1;
    const delay = base / 2 + Math.random() * (base / 2);
    this.timer = setTimeout(() => this.open(), delay);
  }

  failPending(code, message) {
    for (const [id, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new SocketError(code, message));
      this.pending.delete(id);
    }
  }

  /** Close now and let the backoff (or the `online` event) reconnect. */
  drop(reason) {
    const ws = this.ws;
    if (!ws) { if (!this.stopped) this.setState("offline"); return; }
    this.closed(ws, 1000);
    try { ws.close(1000, reason); } catch { /* already closed */ }
  }

  reconnectNow() {
    if (this.stopped) return;
    this.attempt = 0;
    if (!this.ws) this.open();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.timer);
    window.removeEventListener("online", this._online);
    window.removeEventListener("offline", this._offline);
    const ws = this.ws;
    this.ws = null;
    this.failPending("closed", "signed out");
    if (ws) try { ws.close(1000, "bye"); } catch { /* ignore */ }
    this.setState("closed");
  }

  get online() { return this.state === "online"; }

  /** Send a frame with an id and wait for its one reply (rejects on Error). */
  request(channel, type, data) {
    if (!this.ws || this.state !== "online") {
      return Promise.reject(new SocketError("offline", "not connected"));
    }
    const id = `w${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(id);
        reject(new SocketError("timeout", "no reply from the server"));
      }, REQUEST_TIMEOUT_MS);
      this.pending.set(id, { resolve, reject, timer });
      this.ws.send(JSON.stringify({ id, channel, type, data }));
    });
  }
}
