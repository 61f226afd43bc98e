// Settings: what the server offers today. Profile info text (`profile/info-text`),
// who can see my online status (`user/presence-settings`, applied on change), password change, signed-in devices (GET/DELETE /v1/auth/tokens), blocked
// users (/v1/blocks), this device's encryption key, sign out.

import { fill, fmtTime, h, toast } from "../dom.js";

export class SettingsView {
  constructor(app, el) {
    this.app = app;
    this.el = el;
    this.title = "Settings";
    const s = app.store;
    const me = s.users.get(app.me.user_id) || {};

    this.infoText = h("input", { id: "info-text", maxlength: 256, value: me.info_text || "" });
    const profile = h("form", { class: "card", "aria-labelledby": "profile-title" },
      h("h2", { id: "profile-title" }, "Profile"),
      h("p", {}, "Signed in as ", h("strong", { id: "settings-username" }, app.me.username)),
      h("div", { class: "field" }, h("label", { for: "info-text" }, "About (shown to your contacts)"),
        this.infoText),
      h("button", { type: "submit", class: "primary", id: "info-save" }, "Save"));
    profile.addEventListener("submit", (ev) => {
      ev.preventDefault();
      this.run(() => app.setInfoText(this.infoText.value.trim()), "Profile saved.");
    });

    // A radio group (arrow keys move and apply, as native radios do); a custom
    // list set by another client shows as no choice checked here.
    const choices = [["everyone", "Everyone"], ["contacts", "My contacts"], ["nobody", "Nobody"]];
    this.visibility = choices.map(([value, label]) => {
      const input = h("input", { type: "radio", name: "presence-visibility", value,
        id: `presence-${value}` });
      input.addEventListener("change", () => {
        if (input.checked) this.run(() => app.setPresenceVisibility(value), "Privacy saved.");
      });
      return h("label", { class: "choice", for: `presence-${value}` }, input, ` ${label}`);
    });
    const privacy = h("section", { class: "card", "aria-labelledby": "privacy-title" },
      h("h2", { id: "privacy-title" }, "Privacy"),
      h("fieldset", { id: "presence-visibility" },
        h("legend", {}, "Who can see my online status"),
        ...this.visibility,
        h("p", { class: "hint" },
          "My contacts: people you have a direct chat with. Others see you as offline, with no last seen.")));

    const cur = h("input", { id: "pw-current", type: "password", autocomplete: "current-password", required: true });
    const next = h("input", { id: "pw-new", type: "password", autocomplete: "new-password", required: true });
    const pwError = h("p", { class: "form-error", role: "alert" });
    const password = h("form", { class: "card", "aria-labelledby": "pw-title" },
      h("h2", { id: "pw-title" }, "Password"),
      h("div", { class: "field" }, h("label", { for: "pw-current" }, "Current password"), cur),
      h("div", { class: "field" }, h("label", { for: "pw-new" }, "New password"), next),
      pwError,
      h("button", { type: "submit", class: "primary", id: "pw-save" }, "Change password"));
    password.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      pwError.textContent = "";
      try {
        await app.api.changePassword(cur.value, next.value);
        cur.value = ""; next.value = "";
        toast("Password changed. Your other devices are signed out.");
        this.loadDevices();
      } catch (e) {
        pwError.textContent = e.status === 403 ? "The current password is wrong." : e.message;
      }
    });

    this.devices = h("ul", { class: "rows", id: "devices" });
    this.blocks = h("ul", { class: "rows", id: "blocked-users" });
    this.keyInfo = h("p", { id: "key-info" });
    fill(el, h("div", { class: "page settings" },
      h("header", { class: "page-header" },
        h("a", { href: "#/", class: "back", "aria-label": "Back to chats" }, "←"),
        h("h2", { class: "page-title", id: "settings-title", tabindex: "-1" }, "Settings")),
      profile,
      privacy,
      h("section", { class: "card", "aria-labelledby": "devices-title" },
        h("h2", { id: "devices-title" }, "Signed-in devices"), this.devices),
      h("section", { class: "card", "aria-labelledby": "blocked-title" },
        h("h2", { id: "blocked-title" }, "Blocked users"), this.blocks),
      h("section", { class: "card", "aria-labelledby": "e2e-title" },
        h("h2", { id: "e2e-title" }, "Encryption"), this.keyInfo),
      password,
      this.adminLink = h("section", { class: "card", hidden: true },
        h("a", { href: "#/admin", class: "button", id: "open-admin" }, "Server administration")),
      h("section", { class: "card" },
        h("button", { type: "button", class: "danger", id: "sign-out",
          onclick: () => app.signOut() }, "Sign out"))));
    this.offs = [s.on("blocks", () => this.renderBlocks()), s.on("users", () => this.renderBlocks()),
      s.on("keys", () => this.renderKey()), s.on("settings", () => this.renderPrivacy())];
    this.loadDevices();
    app.isAdmin().then((yes) => { this.adminLink.hidden = !yes; });
    this.renderBlocks();
    this.renderKey();
    this.renderPrivacy();
  }

  renderPrivacy() {
    const current = this.app.store.presenceVisibility;
    for (const label of this.visibility) {
      const input = label.querySelector("input");
      input.checked = input.value === current;
    }
  }

  focus() { this.el.querySelector("#settings-title").focus(); }

  async run(action, done) {
    try { await action(); toast(done); } catch (e) { toast(e.message || "That did not work."); }
  }

  async loadDevices() {
    let list;
    try { list = await this.app.api.devices(); } catch (e) {
      this.devices.replaceChildren(h("li", {}, "Not available offline."));
      return;
    }
    this.devices.replaceChildren(...list.map((d) => h("li", { class: "row" },
      h("span", {},
        h("strong", {}, d.device_id), d.current ? " (this device)" : "",
        h("br"),
        h("small", {}, "signed in ", fmtTime(Date.parse(d.created_at)),
          d.last_used_at ? `, last used ${fmtTime(Date.parse(d.last_used_at))}` : "")),
      d.current ? null : h("button", {
        type: "button", class: "revoke", "aria-label": `Sign out ${d.device_id}`,
        onclick: () => this.run(async () => {
          await this.app.api.revokeDevice(d.token_id);
          await this.loadDevices();
        }, "Device signed out."),
      }, "Sign out"))));
  }

  renderBlocks() {
    const s = this.app.store;
    const ids = [...s.blocked];
    this.app.learnUsers(ids);
    if (!ids.length) { this.blocks.replaceChildren(h("li", {}, "You block no one.")); return; }
    this.blocks.replaceChildren(...ids.map((id) => h("li", { class: "row" },
      h("span", {}, s.userName(id)),
      h("button", {
        type: "button", "aria-label": `Unblock ${s.userName(id)}`,
        onclick: () => this.run(() => this.app.unblock(id), "Unblocked."),
      }, "Unblock"))));
  }

  async renderKey() {
    if (!this.app.e2e.available) {
      this.keyInfo.textContent = "Encryption needs this page on https (or localhost).";
      return;
    }
    const k = await this.app.e2e.ownKey();
    const state = this.app.e2e.published ? "published" : "not published yet (offline?)";
    this.keyInfo.textContent = `This device's key: ${k.kid} (${state}). Direct chats are ` +
      "end-to-end encrypted for each of your devices and theirs; messages sent before this " +
      "device was signed in cannot be read here.";
    this.keyInfo.dataset.published = this.app.e2e.published ? "yes" : "no";
  }

  destroy() { for (const off of this.offs) off(); }
}
