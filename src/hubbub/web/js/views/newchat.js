// Start a direct chat by username (REST /v1/conversations/direct) or create
// a group (`chat/groups` CreateGroup) with members named by username.

import { fill, h } from "../dom.js";

export function newChatView(app, el) {
  const dmName = h("input", {
    id: "direct-username", required: true, autocomplete: "off", autocapitalize: "none",
    spellcheck: "false", maxlength: 32,
  });
  const dmError = h("p", { class: "form-error", role: "alert" });
  const dmSubmit = h("button", { type: "submit", class: "primary", id: "direct-submit" }, "Start chat");
  const dm = h("form", { class: "card", "aria-labelledby": "new-direct-title" },
    h("h2", { id: "new-direct-title" }, "Start a chat"),
    h("div", { class: "field" }, h("label", { for: "direct-username" }, "Their username"), dmName),
    dmError, dmSubmit);
  dm.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    dmError.textContent = "";
    if (!dmName.value.trim()) { dmError.textContent = "Enter a username."; dmName.focus(); return; }
    dmSubmit.disabled = true;
    try {
      const id = await app.openDirect(dmName.value);
      location.hash = `#/c/${encodeURIComponent(id)}`;
    } catch (e) {
      dmError.textContent = e.message || "That did not work.";
      dmSubmit.disabled = false;
      dmName.focus();
    }
  });

  const gName = h("input", { id: "group-name", required: true, maxlength: 256, autocomplete: "off" });
  const gMembers = h("input", {
    id: "group-members", autocomplete: "off", autocapitalize: "none", spellcheck: "false",
    "aria-describedby": "group-members-hint",
  });
  const gError = h("p", { class: "form-error", role: "alert" });
  const gSubmit = h("button", { type: "submit", class: "primary", id: "group-submit" }, "Create group");
  const group = h("form", { class: "card", "aria-labelledby": "new-group-title" },
    h("h2", { id: "new-group-title" }, "New group"),
    h("div", { class: "field" }, h("label", { for: "group-name" }, "Group name"), gName),
    h("div", { class: "field" }, h("label", { for: "group-members" }, "Members"), gMembers,
      h("p", { class: "hint", id: "group-members-hint" }, "Usernames, separated by commas.")),
    gError, gSubmit);
  group.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    gError.textContent = "";
    const names = gMembers.value.split(",").map((x) => x.trim()).filter(Boolean);
    if (!gName.value.trim()) { gError.textContent = "Name the group."; gName.focus(); return; }
    if (!app.socket.online) { gError.textContent = "You are offline."; return; }
    gSubmit.disabled = true;
    try {
      const id = await app.createGroup(gName.value.trim(), names);
      location.hash = `#/c/${encodeURIComponent(id)}`;
    } catch (e) {
      gError.textContent = e.message || "That did not work.";
      gSubmit.disabled = false;
    }
  });

  fill(el, h("div", { class: "page" },
    h("header", { class: "page-header" },
      h("a", { href: "#/", class: "back", "aria-label": "Back to chats" }, "←"),
      h("h2", { class: "page-title" }, "New chat")),
    dm, group));
  return { title: "New chat", focus: () => dmName.focus() };
}
