// The pick list ("To pick") and the waiting list ("Waiting"), read from the store's orders. The live feed
// (events.js) asks for a refresh when something happens; polling stays underneath, every REFRESH_MS while
// the feed is down and every LIVE_MS while it is up (another clerk's Ready or hand-over sends no event).

import { api, sentence } from "./api.js";
import { formats, timeLeft } from "./clock.js";
import { $, bagLabel, el, lineList, message, show } from "./dom.js";
import { forgetPicks, pickCard } from "./picking.js";
import { auth, handleAuthFailure } from "./session.js";
import { shortageList } from "./shortages.js";
import { t } from "./text.js";

const REFRESH_MS = 15000;
const LIVE_MS = 30000;
// A card that came in through the feed is marked new for this long.
const FRESH_MS = 120000;

let refreshTimer = null;
let polling = false;
let live = false;
let refreshAll = async () => {};
// Each refresh takes a number; an answer that a newer refresh (or a sign-out) overtook is dropped, so
// a slow response never paints an older list over a newer one.
let refreshSeq = 0;
let lastOrders = [];
const fresh = new Map(); // order_id -> until when its card is marked new

// What a waiting card's "Hand over <code>" button does; set once by desk.js.
let handOverCode = () => {};

export function onHandOverCode(callback) {
  handOverCode = callback;
}

export function handOverByCode(code) {
  handOverCode(code);
}

// `refresher`: what one round of polling refreshes (the lists and the arrivals).
export function startRefreshing(refresher) {
  refreshAll = refresher;
  polling = true;
  schedule();
}

export function stopRefreshing() {
  polling = false;
  if (refreshTimer !== null) clearTimeout(refreshTimer);
  refreshTimer = null;
}

export function setLive(isLive) {
  const changed = live !== isLive;
  live = isLive;
  for (const node of document.querySelectorAll(".live-state")) {
    node.textContent = t(live ? "liveOn" : "liveOff");
    node.classList.toggle("down", !live);
  }
  // The dot in the header, seen from every tab.
  $("live").dataset.live = String(live);
  $("live").setAttribute("aria-label", t(live ? "liveOn" : "liveOff"));
  $("live").title = t(live ? "liveOn" : "liveOff");
  if (changed && polling) schedule();
}

function schedule() {
  if (refreshTimer !== null) clearTimeout(refreshTimer);
  refreshTimer = setTimeout(async () => {
    refreshTimer = null;
    await refreshAll();
    if (polling && refreshTimer === null) schedule();
  }, live ? LIVE_MS : REFRESH_MS);
}

export function markFresh(orderId) {
  fresh.set(orderId, Date.now() + FRESH_MS);
}

// Signed out: any answer still on its way is dropped, and nothing of the store's orders stays on screen.
export function forgetOrders() {
  refreshSeq += 1;
  lastOrders = [];
  fresh.clear();
  forgetPicks(new Set());
  $("pick-list").replaceChildren();
  $("waiting-list").replaceChildren();
}

export async function refresh() {
  if (!auth) return;
  const seq = ++refreshSeq;
  try {
    const orders = [];
    let cursor = null;
    do {
      const query = new URLSearchParams([
        ["status", "reserved"],
        ["status", "ready_for_pickup"],
        ["limit", "200"],
      ]);
      if (cursor) query.set("cursor", cursor);
      const page = await api("GET", `/stores/${encodeURIComponent(auth.store)}/orders?${query}`);
      orders.push(...page.items);
      cursor = page.next_cursor;
    } while (cursor && orders.length < 2000);
    if (seq !== refreshSeq) return;
    lastOrders = orders;
    render();
    message($("pick-message"), "");
    const updated = formats.clockSeconds.format(new Date());
    for (const node of document.querySelectorAll(".updated-at")) node.textContent = updated;
  } catch (error) {
    if (seq !== refreshSeq) return;
    if (!handleAuthFailure(error)) message($("pick-message"), sentence(error));
  }
}

function render() {
  const now = Date.now();
  for (const [orderId, until] of fresh) if (until < now) fresh.delete(orderId);
  // The API answers oldest first, which is the order to pick in; late ones go first all the same.
  const toPick = lastOrders
    .filter((order) => order.status === "reserved")
    .sort((a, b) => Number(b.late === true) - Number(a.late === true));
  const waiting = lastOrders
    .filter((order) => order.status === "ready_for_pickup")
    .sort((a, b) => expiry(a) - expiry(b));
  forgetPicks(new Set(toPick.map((order) => order.order_id)));
  $("pick-count").textContent = String(toPick.length);
  $("waiting-count").textContent = String(waiting.length);
  const options = { afterReady: refreshAll };
  $("pick-list").replaceChildren(
    ...toPick.map((order) => pickCard(order, now, { ...options, fresh: fresh.has(order.order_id) })),
  );
  $("waiting-list").replaceChildren(...waiting.map((order) => waitingCard(order, now)));
  show($("pick-empty"), toPick.length === 0);
  show($("waiting-empty"), waiting.length === 0);
}

function expiry(order) {
  const at = order.pickup?.expires_at;
  return at ? Date.parse(at) : Number.MAX_SAFE_INTEGER;
}

function waitingCard(order, now) {
  const left = expiry(order) - now;
  const code = order.pickup?.code;
  return el(
    "li",
    { class: "card waiting", "data-order-id": order.order_id },
    el("h2", {}, order.customer_name),
    order.pickup_person
      ? el("p", { class: "meta collector" }, t("collectorIs", { name: order.pickup_person.name }))
      : null,
    bagLabel(order),
    el("p", { class: left < 3600000 ? "meta time-left soon" : "meta time-left" }, timeLeft(left)),
    lineList(order.lines),
    shortageList(order, now),
    // For a customer without their code (a flat phone): the order is looked up by its short code and
    // shown for the clerk to check, then confirmed there, as if the code had been typed.
    code
      ? el(
          "button",
          { type: "button", class: "secondary hand-over-code", onclick: () => handOverCode(code) },
          t("handOverCode", { code }),
        )
      : null,
  );
}
