// hubbub's `/v1` REST API (GET /docs/openapi.json), nothing else.
// Errors are `{"error": {"code", "message", "path"?}}`; they become ApiError.

export class ApiError extends Error {
  constructor(status, code, message, path) {
    super(message || code || `HTTP ${status}`);
    this.status = status;
    this.code = code;
    this.path = path;
  }
}

export class Api {
  constructor(token = null) {
    this.token = token;
    /** Called with no argument when the server refuses our token (401). */
    this.onUnauthorized = null;
  }

  async call(method, path, body) {
    const headers = { Accept: "application/json" };
    if (body !== undefined) headers["Content-Type"] = "application/json";
    if (this.token) headers.Authorization = `Bearer ${this.token}`;
    let res;
    try {
      res = await fetch(path, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        credentials: "omit",
        cache: "no-store",
      });
    } catch (e) {
      throw new ApiError(0, "offline", "The server cannot be reached.");
    }
    if (res.status === 204) return null;
    let data = null;
    try { data = await res.json(); } catch { data = null; }
    if (!res.ok) {
      const err = (data && data.error) || {};
      if (res.status === 401 && this.token && this.onUnauthorized) this.onUnauthorized();
      throw new ApiError(res.status, err.code, err.message, err.path);
    }
    return data;
  }

  register(username, password, displayName, deviceId) {
    const body = { username, password, device_id: deviceId };
    if (displayName) body.display_name = displayName;
    return this.call("POST", "/v1/auth/register", body);
  }
  login(username, password, deviceId) {
    return this.call("POST", "/v1/auth/login", { username, password, device_id: deviceId });
  }
  logout() { return this.call("POST", "/v1/auth/logout"); }
  devices() { return this.call("GET", "/v1/auth/tokens"); }
  revokeDevice(tokenId) {
    return this.call("DELETE", `/v1/auth/tokens/${encodeURIComponent(tokenId)}`);
  }
  changePassword(current, next) {
    return this.call("POST", "/v1/auth/password", {
      current_password: current, new_password: next,
    });
  }
  user(id) { return this.call("GET", `/v1/users/${encodeURIComponent(id)}`); }
  async findUser(username) {
    const found = await this.call("GET", `/v1/users?username=${encodeURIComponent(username)}`);
    return found[0] || null;
  }
  keys(userId) { return this.call("GET", `/v1/users/${encodeURIComponent(userId)}/keys`); }
  conversations() { return this.call("GET", "/v1/conversations"); }
  conversation(id) { return this.call("GET", `/v1/conversations/${encodeURIComponent(id)}`); }
  /** Add a member to a group by username (its owner and admins; 200 if already one). */
  addMember(convId, username, role = "member") {
    return this.call("POST", `/v1/conversations/${encodeURIComponent(convId)}/members`, { username, role });
  }
  removeMember(convId, userId) {
    return this.call(
      "DELETE", `/v1/conversations/${encodeURIComponent(convId)}/members/${encodeURIComponent(userId)}`);
  }
  /** Make a member an admin or an admin a member (the group's owner only; 200 if unchanged). */
  setMemberRole(convId, userId, role) {
    return this.call(
      "PATCH", `/v1/conversations/${encodeURIComponent(convId)}/members/${encodeURIComponent(userId)}`, { role });
  }
  openDirect(userId) { return this.call("POST", "/v1/conversations/direct", { user_id: userId }); }
  /** A short-lived URL of a blob that works without a header (for <audio src>). */
  blobUrl(blobId) { return this.call("POST", `/v1/blobs/${encodeURIComponent(blobId)}/url`); }
  // broadcasts (/v1/broadcasts, /v1/broadcast-channels: publishing is for admins and publishers)
  channels() { return this.call("GET", "/v1/broadcast-channels"); }
  announce(body) { return this.call("POST", "/v1/broadcasts", body); }
  putChannel(id, title) {
    return this.call("PUT", `/v1/broadcast-channels/${encodeURIComponent(id)}`, { title });
  }
  publish(id, body) {
    return this.call("POST", `/v1/broadcast-channels/${encodeURIComponent(id)}/messages`, body);
  }
  // server administration (/v1/admin: 403 for everyone else)
  adminUsers(q) {
    return this.call("GET", `/v1/admin/users?limit=50${q ? `&q=${encodeURIComponent(q)}` : ""}`);
  }
  adminUserAction(id, action) {
    return this.call("POST", `/v1/admin/users/${encodeURIComponent(id)}/${action}`);
  }
  setAdmin(id, on) { return this.call(on ? "PUT" : "DELETE", `/v1/admin/users/${encodeURIComponent(id)}/admin`); }
  invites() { return this.call("GET", "/v1/admin/registration-tokens"); }
  createInvite(body) { return this.call("POST", "/v1/admin/registration-tokens", body); }
  revokeInvite(id) { return this.call("DELETE", `/v1/admin/registration-tokens/${encodeURIComponent(id)}`); }
  audit() { return this.call("GET", "/v1/admin/audit?limit=50"); }
  blocks() { return this.call("GET", "/v1/blocks"); }
  block(userId) { return this.call("PUT", `/v1/users/${encodeURIComponent(userId)}/block`); }
  unblock(userId) { return this.call("DELETE", `/v1/users/${encodeURIComponent(userId)}/block`); }
}
