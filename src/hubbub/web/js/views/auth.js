// Sign in / create an account (POST /v1/auth/login, /v1/auth/register).

import { fill, h } from "../dom.js";

export function authView(main, api, deviceId, notice, onSession) {
  let mode = "login";
  const error = h("p", { class: "form-error", role: "alert", id: "auth-error" });
  const username = h("input", {
    id: "auth-username", name: "username", autocomplete: "username", required: true,
    minlength: 3, maxlength: 32, autocapitalize: "none", spellcheck: "false",
  });
  const password = h("input", {
    id: "auth-password", name: "password", type: "password", required: true, maxlength: 1024,
    autocomplete: "current-password",
  });
  const display = h("input", {
    id: "auth-display", name: "display_name", maxlength: 128, autocomplete: "nickname",
  });
  const displayRow = h("div", { class: "field", hidden: true },
    h("label", { for: "auth-display" }, "Display name (optional)"), display);
  const submit = h("button", { type: "submit", class: "primary", id: "auth-submit" }, "Sign in");
  const tabLogin = h("button", { type: "button", class: "tab", "aria-pressed": "true" }, "Sign in");
  const tabRegister = h("button", { type: "button", class: "tab", "aria-pressed": "false" },
    "Create account");
  const heading = h("h1", { id: "auth-title" }, "Sign in to hubbub");

  function setMode(m) {
    mode = m;
    const reg = m === "register";
    tabLogin.setAttribute("aria-pressed", String(!reg));
    tabRegister.setAttribute("aria-pressed", String(reg));
    displayRow.hidden = !reg;
    submit.textContent = reg ? "Create account" : "Sign in";
    heading.textContent = reg ? "Create a hubbub account" : "Sign in to hubbub";
    password.autocomplete = reg ? "new-password" : "current-password";
    error.textContent = "";
  }
  tabLogin.addEventListener("click", () => setMode("login"));
  tabRegister.addEventListener("click", () => setMode("register"));

  const form = h("form", { class: "auth-form", "aria-labelledby": "auth-title", novalidate: true },
    heading,
    notice ? h("p", { class: "notice", role: "status" }, notice) : null,
    h("div", { class: "tabs", role: "group", "aria-label": "Choose" }, tabLogin, tabRegister),
    h("div", { class: "field" }, h("label", { for: "auth-username" }, "Username"), username),
    h("div", { class: "field" }, h("label", { for: "auth-password" }, "Password"), password),
    displayRow,
    error,
    submit,
  );
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    error.textContent = "";
    if (!username.value.trim() || !password.value) {
      error.textContent = "Enter a username and a password.";
      (username.value.trim() ? password : username).focus();
      return;
    }
    submit.disabled = true;
    try {
      const name = username.value.trim();
      const r = mode === "register"
        ? await api.register(name, password.value, display.value.trim(), deviceId)
        : await api.login(name, password.value, deviceId);
      onSession({ user_id: r.user_id, token: r.token, device_id: deviceId, username: name.toLowerCase() });
    } catch (e) {
      error.textContent = e.status === 401 ? "Wrong username or password."
        : e.status === 409 ? "That username is taken."
          : e.message || "Something went wrong.";
      submit.disabled = false;
    }
  });
  fill(main, h("div", { class: "auth" }, form));
  username.focus();
}
