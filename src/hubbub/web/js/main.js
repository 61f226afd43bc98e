// Entry point: the saved session decides between the sign-in screen and the
// messenger. Session (token, user id, device id) lives in localStorage; all
// else in the account's IndexedDB (store.js).

import { Api } from "./api.js";
import { App } from "./app.js";
import { uuid } from "./dom.js";
import { authView } from "./views/auth.js";
import { Shell } from "./views/shell.js";

const SESSION_KEY = "hubbub.session";
const DEVICE_KEY = "hubbub.device";

function deviceId() {
  let id = localStorage.getItem(DEVICE_KEY);
  if (!id) {
    id = `web-${uuid().slice(0, 16)}`;
    localStorage.setItem(DEVICE_KEY, id);
  }
  return id;
}

function savedSession() {
  try { return JSON.parse(localStorage.getItem(SESSION_KEY) || "null"); } catch { return null; }
}

let current = null; // {app, shell}

async function boot(notice) {
  const main = document.getElementById("main");
  if (current) { current.shell.destroy(); current = null; }
  const session = savedSession();
  if (!session) {
    document.title = "Sign in · hubbub";
    authView(main, new Api(), deviceId(), notice, (s) => {
      localStorage.setItem(SESSION_KEY, JSON.stringify(s));
      location.hash = "#/";
      boot();
    });
    return;
  }
  const app = new App(session, {
    onSignedOut: (message) => {
      localStorage.removeItem(SESSION_KEY);
      location.hash = "";
      boot(message);
    },
  });
  await app.start();
  if (app.gone) return; // signed out while starting (a revoked token): already on the sign-in page
  current = { app, shell: new Shell(app, main) };
}

if ("serviceWorker" in navigator) {
  // Offline start-up: the service worker keeps the app's own files (never API data).
  navigator.serviceWorker.register("/sw.js").catch(() => {});
}

boot();
