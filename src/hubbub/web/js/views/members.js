// A group's members panel (under the chat header): who is in it and their
// role; for the owner and admins an "Add member" form (by username) and a
// Remove button per member they may remove (the server checks the same
// rules: admins remove members, only the owner removes admins, nobody
// removes the owner; leaving yourself is "Leave group"). The owner also
// gets "Make admin" / "Make member" per other member (PATCH .../members/
// {user_id}; every member's list follows ConversationMemberRoleChanged). A <details>
// element, so it opens with Enter or Space and keeps its state across renders.

import { h, syncList } from "../dom.js";

const MANAGERS = new Set(["owner", "admin"]);
const ROLE_LABEL = { owner: "owner", admin: "admin" };

/** May `myRole` remove a member whose role is `role`? (as core/group_members.py) */
function removable(myRole, role) {
  if (!MANAGERS.has(myRole) || role === "owner") return false;
  return role !== "admin" || myRole === "owner";
}

export class MembersPanel {
  constructor(view) {
    this.view = view;
    this.app = view.app;
    this.summary = h("summary", { id: "members-summary" }, "Members");
    this.list = h("ul", { class: "member-list", id: "member-list", "aria-labelledby": "members-summary" });
    this.input = h("input", {
      id: "add-member-input", type: "text", autocomplete: "off", autocapitalize: "none",
      spellcheck: "false", maxlength: "64", required: true,
    });
    this.form = h("form", { class: "add-member", id: "add-member-form", "aria-label": "Add a member" },
      h("label", { for: "add-member-input" }, "Add member by username"),
      h("div", { class: "add-member-row" }, this.input,
        h("button", { type: "submit", id: "add-member-submit" }, "Add member")));
    this.form.addEventListener("submit", (ev) => { ev.preventDefault(); this.add(); });
    this.list.addEventListener("click", (ev) => {
      const button = ev.target.closest("button.member-remove");
      if (button) this.remove(button.dataset.user, button);
      const role = ev.target.closest("button.member-role-change");
      if (role) this.setRole(role.dataset.user, role.dataset.role, role);
    });
    this.el = h("details", { class: "members", id: "chat-members", hidden: true },
      this.summary, this.list, this.form);
  }

  async add() {
    const name = this.input.value.trim();
    if (!name) return;
    const conv = this.view.convId;
    await this.view.run(async () => {
      await this.app.addMember(conv, name);
      this.input.value = "";
    }, `${name} was added.`);
    this.input.focus();
  }

  async remove(userId, button) {
    const who = this.app.store.userName(userId);
    button.disabled = true;
    await this.view.run(() => this.app.removeMember(this.view.convId, userId), `${who} was removed.`);
    this.summary.focus(); // the button is gone with its row
  }

  async setRole(userId, role, button) {
    const who = this.app.store.userName(userId);
    button.disabled = true;
    const said = role === "admin" ? `${who} is now an admin.` : `${who} is now a member.`;
    await this.view.run(() => this.app.setMemberRole(this.view.convId, userId, role), said);
    button.disabled = false;
    // The row stays (its button now offers the other role): keep the focus on it.
    const again = this.list.querySelector(`button.member-role-change[data-user="${CSS.escape(userId)}"]`);
    if (again) again.focus();
  }

  render(conv) {
    const s = this.app.store;
    const me = this.app.me.user_id;
    const show = conv.kind === "group" && !conv.left;
    this.el.hidden = !show;
    if (!show) return;
    const members = [...conv.members].sort((a, b) =>
      (a.role === "owner" ? 0 : a.role === "admin" ? 1 : 2) - (b.role === "owner" ? 0 : b.role === "admin" ? 1 : 2)
      || s.userName(a.user_id).localeCompare(s.userName(b.user_id)));
    const mine = (conv.members.find((m) => m.user_id === me) || {}).role || "member";
    this.summary.textContent = `Members (${members.length})`;
    this.form.hidden = !MANAGERS.has(mine);
    syncList(this.list, members, (m) => m.user_id, () =>
      h("li", { class: "member" }, h("span", { class: "member-name" }), h("span", { class: "member-role" })),
    (li, m) => {
      li.querySelector(".member-name").textContent = s.userName(m.user_id); // "You" for me
      li.querySelector(".member-role").textContent = ROLE_LABEL[m.role] || "";
      const can = m.user_id !== me && removable(mine, m.role);
      let button = li.querySelector("button.member-remove");
      if (can && !button) {
        button = h("button", { type: "button", class: "member-remove", dataset: { user: m.user_id } }, "Remove");
        li.append(button);
      } else if (!can && button) {
        button.remove();
        button = null;
      }
      if (button) button.setAttribute("aria-label", `Remove ${s.userName(m.user_id)} from the group`);
      this.renderRole(li, m, mine === "owner" && m.user_id !== me && m.role !== "owner");
    });
  }

  /** The owner's "Make admin" / "Make member" button of one row (before Remove). */
  renderRole(li, m, can) {
    let button = li.querySelector("button.member-role-change");
    if (!can) {
      if (button) button.remove();
      return;
    }
    if (!button) {
      button = h("button", { type: "button", class: "member-role-change", dataset: { user: m.user_id } });
      li.insertBefore(button, li.querySelector("button.member-remove"));
    }
    const next = m.role === "admin" ? "member" : "admin";
    const name = this.app.store.userName(m.user_id);
    button.dataset.role = next;
    button.textContent = next === "admin" ? "Make admin" : "Make member";
    button.setAttribute("aria-label", next === "admin" ? `Make ${name} an admin` : `Make ${name} a member`);
  }
}
