// The pickup desk: a thin client of /staff/v1. No framework, no build step, nothing from elsewhere: ES
// modules, each a part of the page (text, clock, dom, session, api, lists, handover, camera), started here.
// The staff secret lives in sessionStorage only: it goes when the tab closes, and is never in a URL.

import { api, sentence } from "./api.js";
import { startCamera, stopCamera } from "./camera.js";
import { useTimeZone } from "./clock.js";
import { $, message, show } from "./dom.js";
import { lookUp, setResult } from "./handover.js";
import { forgetOrders, onHandOverCode, refresh, startRefreshing, stopRefreshing } from "./lists.js";
import { auth, handleAuthFailure, save, whenKeyRejected } from "./session.js";
import { t, translatePage } from "./text.js";

// ------------------------------------------------------------------------------------------ views

function showSignIn(text) {
  stopRefreshing();
  stopCamera();
  show($("desk"), false);
  show($("sign-out"), false);
  $("store").textContent = "";
  show($("sign-in"), true);
  message($("sign-in-message"), text);
  $("secret").value = "";
  $("secret").focus();
}

function showDesk() {
  show($("sign-in"), false);
  show($("desk"), true);
  show($("sign-out"), true);
  $("store").textContent = auth.store;
  useTimeZone(auth.timezone);
  selectTab("handover");
  if (auth.timezone) refresh();
  else learnTimeZone(); // a session signed in before the page knew the store's zone
  startRefreshing();
}

async function learnTimeZone() {
  try {
    const counter = await api("GET", `/stores/${encodeURIComponent(auth.store)}`);
    save({ ...auth, timezone: counter.timezone });
    useTimeZone(counter.timezone);
  } catch (error) {
    if (handleAuthFailure(error)) return;
  }
  await refresh();
}

function selectTab(name) {
  for (const tab of ["handover", "pick", "waiting"]) {
    $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
    show($(`panel-${tab}`), tab === name);
  }
  if (name === "handover") $("code").focus();
  else stopCamera();
}

// ---------------------------------------------------------------------------------------- sign in

async function signIn(event) {
  event.preventDefault();
  const secret = $("secret").value.trim();
  if (!secret) return message($("sign-in-message"), t("enterSecret"));
  const button = $("sign-in-button");
  button.disabled = true;
  try {
    const me = await api("GET", "/me", { secret });
    let store = me.store_code;
    if (me.role === "admin") {
      // An admin key may stand at any counter, so it has to say which one.
      show($("store-field"), true);
      store = $("store-code").value.trim();
      if (!store) {
        message($("sign-in-message"), t("enterStore"));
        $("store-code").focus();
        return;
      }
    }
    // Also how an admin's store code is checked: an unknown one is a 404 store_not_found.
    const counter = await api("GET", `/stores/${encodeURIComponent(store)}`, { secret });
    save({ secret, store: counter.code, role: me.role, timezone: counter.timezone });
    message($("sign-in-message"), "");
    showDesk();
  } catch (error) {
    message($("sign-in-message"), sentence(error));
  } finally {
    button.disabled = false;
  }
}

function signOut(text) {
  forgetOrders();
  save(null);
  setResult();
  showSignIn(text);
}

function handOverFromList(code) {
  selectTab("handover");
  lookUp(code, "list");
}

// ------------------------------------------------------------------------------------------ start

function start() {
  translatePage();
  whenKeyRejected(() => signOut(t("signed_out")));
  onHandOverCode(handOverFromList);
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut(""));
  $("code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    // Empty the field at once, so a scanner's next code starts in an empty field.
    const code = $("code").value;
    $("code").value = "";
    lookUp(code);
  });
  $("camera-start").addEventListener("click", startCamera);
  $("camera-stop").addEventListener("click", stopCamera);
  for (const tab of ["handover", "pick", "waiting"]) {
    $(`tab-${tab}`).addEventListener("click", () => selectTab(tab));
  }
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && auth) refresh();
    else stopCamera();
  });
  if (auth?.secret && auth?.store) showDesk();
  else showSignIn("");
}

start();
