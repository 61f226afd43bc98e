// Settings: what the server offers today. Profile info text (`profile/info-text`),
// who can see my online status (`user/presence-settings`, applied on change), what
// notification previews show (`user/notifications/preview/config`), password change, signed-in devices (GET/DELETE /v1/auth/tokens), blocked
// users (/v1/blocks), this device's encryption key, sign out.

import { fill, fmtTime, h, syncList, toast } from "../dom.js";

const MAX_LISTED = 256; // the server's bound on allowed_user_ids (core/presence_settings.py)

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

    // A radio group (arrow keys move and apply, as native radios do).
    // "Only these people" is the spec's `custom` rule: choosing it applies the
    // list below (the one stored, or no one yet), and each tick in the list
    // applies at once; a list set by another client shows here the same way.
    const choices = [["everyone", "Everyone"], ["contacts", "My contacts"], ["nobody", "Nobody"],
      ["custom", "Only these people"]];
    this.visibility = choices.map(([value, label]) => {
      const input = h("input", { type: "radio", name: "presence-visibility", value,
        id: `presence-${value}` });
      input.addEventListener("change", () => {
        if (!input.checked) return;
        const list = value === "custom" ? this.app.store.presenceAllowed : [];
        this.run(() => app.setPresenceVisibility(value, list), "Privacy saved.")
          .then(() => this.renderPrivacy()); // a refusal puts the stored choice back
      });
      return h("label", { class: "choice", for: `presence-${value}` }, input, ` ${label}`);
    });
    this.allowedSummary = h("p", { id: "presence-allowed-summary", "aria-live": "polite" });
    this.allowedList = h("ul", { class: "rows presence-people", id: "presence-allowed",
      "aria-labelledby": "presence-allowed-legend" });
    this.allowedList.addEventListener("change", (ev) => {
      const box = ev.target.closest("input[type=checkbox]");
      if (box) this.toggleAllowed(box.value, box.checked);
    });
    this.picker = h("fieldset", { id: "presence-custom-list", hidden: true },
      h("legend", { id: "presence-allowed-legend" }, "People who can see my online status"),
      this.allowedSummary, this.allowedList);
    const privacy = h("section", { class: "card", "aria-labelledby": "privacy-title" },
      h("h2", { id: "privacy-title" }, "Privacy"),
      h("fieldset", { id: "presence-visibility" },
        h("legend", {}, "Who can see my online status"),
        ...this.visibility,
        h("p", { class: "hint" },
          "My contacts: people you have a direct chat with. Only these people: those you choose, " +
          "among the people you share a chat with. Others see you as offline, with no last seen.")),
      this.picker);

    // Notification previews: each control applies its own field on change; the
    // state shown is the server's (read when Settings opens, then the feed).
    const check = (id, label, apply) => {
      const input = h("input", { type: "checkbox", id });
      input.addEventListener("change", () => this.run(() => apply(input.checked), "Previews saved."));
      return [input, h("label", { class: "choice", for: id }, input, ` ${label}`)];
    };
    const [sender, senderLabel] = check("preview-sender", "Show who sent it",
      (v) => app.setPreviewConfig({ show_sender: v }));
    const [body, bodyLabel] = check("preview-body", "Show the message text",
      (v) => app.setPreviewConfig({ show_body: v }));
    const length = h("input", { type: "number", id: "preview-length", min: 0, max: 1000, step: 1 });
    length.addEventListener("change", () => {
      const n = Math.round(Number(length.value));
      if (!Number.isFinite(n) || n < 0 || n > 1000) { toast("Choose 0 to 1000 characters."); return; }
      this.run(() => app.setPreviewConfig({ max_body_length: n }), "Previews saved.");
    });
    const kinds = [["direct", "Direct chats"], ["group", "Groups"], ["mention", "Mentions of me"],
      ["reaction", "Reactions"], ["broadcast", "Announcements"]];
    this.categories = kinds.map(([value, label]) => check(`preview-cat-${value}`, label, () =>
      app.setPreviewConfig({ allowed_categories: this.categories
        .filter(([input]) => input.checked).map(([input]) => input.value) })));
    this.categories.forEach(([input], i) => { input.value = kinds[i][0]; });
    this.preview = { sender, body, length };
    const previews = h("section", { class: "card", "aria-labelledby": "previews-title" },
      h("h2", { id: "previews-title" }, "Notification previews"),
      h("fieldset", { id: "preview-content" },
        h("legend", {}, "What a preview shows"), senderLabel, bodyLabel,
        h("div", { class: "field" },
          h("label", { for: "preview-length" }, "Longest text shown (characters)"), length)),
      h("fieldset", { id: "preview-categories" },
        h("legend", {}, "Show previews for"), ...this.categories.map(([, label]) => label)),
      h("p", { class: "hint" },
        "For apps that show notifications. Encrypted messages never show their text."));

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
      previews,
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
      s.on("keys", () => this.renderKey()),
      s.on("settings", () => { this.renderPrivacy(); this.renderPreviews(); }),
      s.on("users", () => this.renderPrivacy()), s.on("conversations", () => this.renderPrivacy())];
    this.loadDevices();
    app.isAdmin().then((yes) => { this.adminLink.hidden = !yes; });
    this.renderBlocks();
    this.renderKey();
    this.renderPrivacy();
    this.renderPreviews();
    app.setPreviewConfig({}).catch(() => {}); // the current config (offline: the last known)
  }

  renderPrivacy() {
    const s = this.app.store;
    const current = s.presenceVisibility;
    for (const label of this.visibility) {
      const input = label.querySelector("input");
      input.checked = input.value === current;
    }
    const custom = current === "custom";
    this.picker.hidden = !custom;
    if (!custom) return;
    const chosen = new Set(s.presenceAllowed);
    // The people one shares a chat with, and anyone chosen before (so they can be taken off).
    const ids = [...new Set([...s.presenceAllowed, ...this.app.contacts()])];
    this.app.learnUsers(ids);
    const people = ids.map((id) => ({ id, name: s.userName(id) }))
      .sort((a, b) => a.name.localeCompare(b.name));
    const names = people.filter((p) => chosen.has(p.id)).map((p) => p.name);
    this.allowedSummary.textContent = names.length
      ? `Can see it: ${names.join(", ")}.` : "No one can see it yet: tick the people who may.";
    if (!people.length) {
      this.allowedList.replaceChildren(h("li", {}, "You share no chat with anyone yet."));
      return;
    }
    if (!this.allowedList.querySelector("input")) this.allowedList.replaceChildren();
    const full = chosen.size >= MAX_LISTED;
    syncList(this.allowedList, people, (p) => p.id, (p) => {
      const id = `presence-allow-${p.id}`;
      return h("li", { class: "row" }, h("label", { class: "choice", for: id },
        h("input", { type: "checkbox", id, value: p.id }), h("span", {})));
    }, (li, p) => {
      const box = li.querySelector("input");
      box.checked = chosen.has(p.id);
      box.disabled = full && !box.checked;
      li.querySelector("span").textContent = ` ${p.name}`;
    });
  }

  toggleAllowed(userId, on) {
    const s = this.app.store;
    const next = s.presenceAllowed.filter((id) => id !== userId);
    if (on) next.push(userId);
    const who = s.userName(userId);
    this.run(() => this.app.setPresenceVisibility("custom", next),
      on ? `${who} can see your online status.` : `${who} no longer sees your online status.`)
      .then(() => this.renderPrivacy());
  }

  renderPreviews() {
    const c = this.app.store.previewConfig;
    const { sender, body, length } = this.preview;
    for (const input of [sender, body, length, ...this.categories.map(([i]) => i)]) {
      input.disabled = !c;
    }
    if (!c) return;
    sender.checked = c.show_sender;
    body.checked = c.show_body;
    if (document.activeElement !== length) length.value = String(c.max_body_length);
    for (const [input] of this.categories) input.checked = c.allowed_categories.includes(input.value);
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
