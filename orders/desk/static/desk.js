// The pickup desk: a thin client of /staff/v1. No framework, no build step, nothing from elsewhere: ES
// modules, each a part of the page (text, clock, dom, session, api, the live feed, the lists, picking,
// arrivals, hand-over, returns, camera), started here.
// The staff secret lives in sessionStorage only: it goes when the tab closes, and is never in a URL.

import { api, sentence } from "./api.js";
import { anyoneComing, forgetArrivals, refreshArrivals } from "./arrivals.js";
import { startCamera, stopCamera } from "./camera.js";
import { useTimeZone } from "./clock.js";
import { $, message, show } from "./dom.js";
import { startEvents, stopEvents } from "./events.js";
import { lookUp, onHandedOver, onTakeReturn, setResult } from "./handover.js";
import {
  forgetOrders,
  markFresh,
  onHandOverCode,
  refresh,
  setLive,
  startRefreshing,
  stopRefreshing,
} from "./lists.js";
import { addUnseen, chime, clearUnseen, markSeen, prepareSound } from "./notify.js";
import { findForReturn, resetReturns } from "./returns.js";
import { auth, handleAuthFailure, save, whenKeyRejected } from "./session.js";
import { t, translatePage } from "./text.js";
import { anyTransfers, forgetTransfers, receiveByCode, refreshTransfers } from "./transfers.js";

const TABS = ["arrivals", "handover", "pick", "waiting", "transfers"];
let selected = "handover";

// ------------------------------------------------------------------------------------------ views

function showSignIn(text) {
  stopRefreshing();
  stopEvents();
  stopCamera();
  show($("desk"), false);
  show($("sign-out"), false);
  show($("live"), false);
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
  show($("live"), true);
  $("store").textContent = auth.store;
  useTimeZone(auth.timezone);
  selectTab("handover");
  setLive(false);
  if (auth.timezone) refreshAll();
  else learnTimeZone(); // a session signed in before the page knew the store's zone
  startRefreshing(refreshAll);
  startEvents({ onEvent, onState, onRefused: handleAuthFailure });
}

async function learnTimeZone() {
  try {
    const counter = await api("GET", `/stores/${encodeURIComponent(auth.store)}`);
    save({ ...auth, timezone: counter.timezone });
    useTimeZone(counter.timezone);
  } catch (error) {
    if (handleAuthFailure(error)) return;
  }
  await refreshAll();
}

function refreshAll() {
  return Promise.all([refresh(), refreshArrivals(), refreshTransfers()]);
}

// "returns" is the hand-over tab's second screen: taking back, rather than handing over.
function selectTab(name) {
  selected = name;
  const tab = name === "returns" ? "handover" : name;
  for (const each of TABS) {
    $(`tab-${each}`).setAttribute("aria-selected", String(each === tab));
    show($(`panel-${each}`), each === name);
  }
  show($("panel-returns"), name === "returns");
  placeArrivalsTab();
  placeTransfersTab();
  seen();
  if (name === "handover") $("code").focus();
  else stopCamera();
  if (name === "returns") $("return-code").focus();
  if (name === "transfers") $("receive-code").focus();
}

// Whoever is waiting comes first: the Arrivals tab leads the row while anyone is on the list (and while
// the clerk is on it, so it does not vanish under their thumb).
function placeArrivalsTab() {
  show($("tab-arrivals"), anyoneComing() || selected === "arrivals");
}

// A store that ships and receives nothing never sees the tab; while it is selected it stays.
function placeTransfersTab() {
  show($("tab-transfers"), anyTransfers() || selected === "transfers");
}

function seen() {
  if (document.visibilityState !== "visible") return;
  if (selected === "pick" || selected === "arrivals" || selected === "transfers") markSeen(selected);
}

// ---------------------------------------------------------------------------------------- live feed

// One refresh at a time: events that arrive while one runs (a reconnect's backlog, a burst) make one more
// after it, not one each. No timer: the refresh starts as the event arrives.
let refreshing = null;
let again = false;

function refreshForEvent() {
  if (refreshing) {
    again = true;
    return;
  }
  refreshing = refreshAll().finally(() => {
    refreshing = null;
    if (again) {
      again = false;
      refreshForEvent();
    }
  });
}

function onEvent(event) {
  if (event.type === "order.reserved") {
    markFresh(event.order_id);
    ring("pick", "order");
  } else if (event.type === "order.arrival") {
    ring("arrivals", "arrival");
  } else if (event.type === "transfer.incoming") {
    ring("transfers", "order");
  }
  refreshForEvent();
}

function ring(tab, tone) {
  chime(tone);
  if (document.visibilityState !== "visible" || selected !== tab) addUnseen(tab);
}

function onState(live) {
  setLive(live);
  // Whatever happened while the feed was down (or before it opened) is read once now.
  if (live) refreshForEvent();
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
  stopEvents();
  forgetOrders();
  forgetArrivals();
  forgetTransfers();
  resetReturns();
  clearUnseen();
  save(null);
  setResult();
  showSignIn(text);
}

function handOverFromList(code) {
  selectTab("handover");
  lookUp(code, "list");
}

function openReturns(code) {
  resetReturns();
  selectTab("returns");
  if (code) {
    $("return-code").value = "";
    findForReturn(code);
  }
}

// ------------------------------------------------------------------------------------------ start

function start() {
  translatePage();
  prepareSound();
  whenKeyRejected(() => signOut(t("signed_out")));
  onHandOverCode(handOverFromList);
  onHandedOver(refreshAll);
  onTakeReturn(openReturns);
  $("sign-in-form").addEventListener("submit", signIn);
  $("sign-out").addEventListener("click", () => signOut(""));
  $("code-form").addEventListener("submit", (event) => {
    event.preventDefault();
    // Empty the field at once, so a scanner's next code starts in an empty field.
    const code = $("code").value;
    $("code").value = "";
    lookUp(code);
  });
  $("return-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("return-code").value;
    $("return-code").value = "";
    findForReturn(code);
  });
  $("returns-open").addEventListener("click", () => openReturns(""));
  $("returns-close").addEventListener("click", () => selectTab("handover"));
  $("camera-start").addEventListener("click", startCamera);
  $("camera-stop").addEventListener("click", stopCamera);
  for (const tab of TABS) $(`tab-${tab}`).addEventListener("click", () => selectTab(tab));
  document.addEventListener("arrivals-changed", placeArrivalsTab);
  document.addEventListener("transfers-changed", placeTransfersTab);
  $("receive-form").addEventListener("submit", (event) => {
    event.preventDefault();
    const code = $("receive-code").value;
    $("receive-code").value = "";
    receiveByCode(code);
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible" && auth) {
      refreshAll();
      seen();
    } else stopCamera();
  });
  if (auth?.secret && auth?.store) showDesk();
  else showSignIn("");
}

start();
