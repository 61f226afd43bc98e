// Server administration (`/v1/admin`, server admins only; the server refuses
// everyone else, this page is only hidden from them): find users and
// deactivate, reactivate, make or unmake admins; registration tokens
// (invitations) made, listed and revoked; the audit log's newest entries.

import { fill, fmtTime, h, toast } from "../dom.js";

export class AdminView {
  constructor(app, el) {
    this.app = app;
    this.el = el;
    this.title = "Administration";
    this.query = h("input", { id: "admin-user-q", type: "search", maxlength: "254", autocomplete: "off" });
    this.users = h("ul", { class: "rows", id: "admin-users" });
    this.invites = h("ul", { class: "rows", id: "admin-invites" });
    this.newToken = h("p", { class: "new-token", id: "admin-new-token", role: "status" });
    this.audit = h("ol", { class: "rows audit", id: "admin-audit" });
    const search = h("form", { class: "inline-form", role: "search" },
      h("label", { for: "admin-user-q" }, "Username, email or id starts with"), this.query,
      h("button", { type: "submit", id: "admin-user-search" }, "Find"));
    search.addEventListener("submit", (ev) => { ev.preventDefault(); this.loadUsers(); });
    fill(el, h("div", { class: "page admin" },
      h("header", { class: "page-header" },
        h("a", { href: "#/settings", class: "back", "aria-label": "Back to settings" }, "←"),
        h("h2", { class: "page-title", id: "admin-title", tabindex: "-1" }, "Administration")),
      h("section", { class: "card", "aria-labelledby": "admin-users-h" },
        h("h2", { id: "admin-users-h" }, "Users"), search, this.users),
      h("section", { class: "card", "aria-labelledby": "admin-invites-h" },
        h("h2", { id: "admin-invites-h" }, "Invitations"),
        h("p", { class: "hint" }, "A registration token lets one person create an account (when registration needs one)."),
        h("button", { type: "button", id: "admin-invite-create", onclick: () => this.createInvite() }, "New invitation"),
        this.newToken, this.invites),
      h("section", { class: "card", "aria-labelledby": "admin-audit-h" },
        h("h2", { id: "admin-audit-h" }, "Audit log"), this.audit)));
    this.loadUsers();
    this.loadInvites();
    this.loadAudit();
  }

  focus() { this.el.querySelector("#admin-title").focus(); }

  async run(action, done) {
    try { await action(); if (done) toast(done); } catch (e) { toast(e.message || "That did not work."); }
  }

  async loadUsers() {
    let page;
    try { page = await this.app.api.adminUsers(this.query.value.trim()); } catch (e) {
      this.users.replaceChildren(h("li", {}, e.status === 403 ? "Only server admins can see this." : e.message));
      return;
    }
    const me = this.app.me.user_id;
    this.users.replaceChildren(...page.users.map((u) => {
      const state = [u.is_admin ? "admin" : null, u.is_agent ? "agent" : null,
        u.deactivated_at ? "deactivated" : null].filter(Boolean).join(", ");
      const buttons = u.user_id === me ? [] : [
        h("button", { type: "button", class: "admin-active", "aria-label": `${u.deactivated_at ? "Reactivate" : "Deactivate"} ${u.username}`,
          onclick: () => this.run(async () => {
            await this.app.api.adminUserAction(u.user_id, u.deactivated_at ? "reactivate" : "deactivate");
            await this.loadUsers();
          }, u.deactivated_at ? "Reactivated." : "Deactivated: signed out everywhere.") },
        u.deactivated_at ? "Reactivate" : "Deactivate"),
        h("button", { type: "button", class: "admin-role", "aria-label": `${u.is_admin ? "Remove admin from" : "Make admin"} ${u.username}`,
          onclick: () => this.run(async () => {
            await this.app.api.setAdmin(u.user_id, !u.is_admin);
            await this.loadUsers();
          }, u.is_admin ? "No longer an admin." : "Now an admin.") },
        u.is_admin ? "Remove admin" : "Make admin"),
      ];
      return h("li", { class: "row admin-user", "data-username": u.username },
        h("span", {}, h("strong", {}, u.username), state ? ` (${state})` : "", h("br"),
          h("small", {}, `since ${fmtTime(Date.parse(u.created_at))}`)),
        h("span", { class: "row-buttons" }, buttons));
    }));
  }

  async loadInvites() {
    let list;
    try { list = await this.app.api.invites(); } catch { return; }
    const live = list.filter((i) => !i.revoked_at);
    this.invites.replaceChildren(...(live.length ? live.map((i) => h("li", { class: "row" },
      h("span", {}, `${i.uses}/${i.uses_allowed ?? "∞"} used`,
        i.expires_at ? `, expires ${fmtTime(Date.parse(i.expires_at))}` : ""),
      h("button", { type: "button", "aria-label": `Revoke invitation ${i.token_id}`,
        onclick: () => this.run(async () => {
          await this.app.api.revokeInvite(i.token_id);
          await this.loadInvites();
        }, "Invitation revoked.") }, "Revoke"))) : [h("li", {}, "No open invitations.")]));
  }

  async createInvite() {
    await this.run(async () => {
      const made = await this.app.api.createInvite({ uses_allowed: 1 });
      this.newToken.textContent = `New token (shown once): ${made.token}`;
      await this.loadInvites();
      await this.loadAudit();
    }, null);
  }

  async loadAudit() {
    let page;
    try { page = await this.app.api.audit(); } catch { return; }
    const s = this.app.store;
    const ids = page.entries.flatMap((e) => [e.actor_id, e.target_id]).filter(Boolean);
    this.app.learnUsers(ids);
    this.audit.replaceChildren(...page.entries.map((e) => h("li", { class: "row" },
      h("span", {}, h("strong", {}, e.action), " ",
        e.actor_id ? `by ${s.userName(e.actor_id)}` : "",
        e.target_id ? ` → ${s.userName(e.target_id)}` : ""),
      h("small", {}, fmtTime(Date.parse(e.at))))));
  }
}
