// The pick list ("To pick") and the waiting list ("Waiting"): refreshed every REFRESH_MS, each card with
// what the clerk writes on the bag.

import { api, sentence } from "./api.js";
import { formats, shortWhen, timeLeft } from "./clock.js";
import { $, el, lineList, message, show } from "./dom.js";
import { auth, handleAuthFailure } from "./session.js";
import { t } from "./text.js";

const REFRESH_MS = 15000;
let refreshTimer = null;
// Each refresh takes a number; an answer that a newer refresh (or a sign-out) overtook is dropped, so
// a slow response never paints an older list over a newer one.
let refreshSeq = 0;
let lastOrders = [];

// What a waiting card's "Hand over <code>" button does; set once by desk.js.
let handOverCode = () => {};

export function onHandOverCode(callback) {
  handOverCode = callback;
}

export function startRefreshing() {
  refreshTimer = setInterval(refresh, REFRESH_MS);
}

export function stopRefreshing() {
  if (refreshTimer !== null) clearInterval(refreshTimer);
  refreshTimer = null;
}

// Signed out: any answer still on its way is dropped, and nothing of the store's orders stays on screen.
export function forgetOrders() {
  refreshSeq += 1;
  lastOrders = [];
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
  // The API answers oldest first, which is the order to pick in.
  const toPick = lastOrders.filter((order) => order.status === "reserved");
  const waiting = lastOrders
    .filter((order) => order.status === "ready_for_pickup")
    .sort((a, b) => expiry(a) - expiry(b));
  $("pick-count").textContent = String(toPick.length);
  $("waiting-count").textContent = String(waiting.length);
  $("pick-list").replaceChildren(...toPick.map((order) => pickCard(order, now)));
  $("waiting-list").replaceChildren(...waiting.map((order) => waitingCard(order, now)));
  show($("pick-empty"), toPick.length === 0);
  show($("waiting-empty"), waiting.length === 0);
}

function expiry(order) {
  const at = order.pickup?.expires_at;
  return at ? Date.parse(at) : Number.MAX_SAFE_INTEGER;
}

// What the clerk writes on the bag, and reads off it at the counter.
function bagLabel(order) {
  return el(
    "dl",
    { class: "label" },
    order.pickup?.code
      ? el("div", {}, el("dt", {}, t("shortCode")), el("dd", { class: "short-code" }, order.pickup.code))
      : null,
    el("div", {}, el("dt", {}, t("orderNumber")), el("dd", { class: "order-number" }, order.order_id)),
  );
}

function pickCard(order, now) {
  const readyBy = order.pickup?.ready_by ? Date.parse(order.pickup.ready_by) : null;
  const late = readyBy !== null && readyBy < now;
  const button = el(
    "button",
    { type: "button", class: "primary ready", onclick: () => markReady(order, button) },
    t("ready"),
  );
  return el(
    "li",
    { class: "card pick", "data-order-id": order.order_id },
    el("h2", {}, order.customer_name),
    bagLabel(order),
    readyBy !== null
      ? el(
          "p",
          { class: late ? "meta ready-by late" : "meta ready-by" },
          t(late ? "readyLate" : "readyBy", { time: shortWhen(readyBy, now) }),
        )
      : null,
    el("p", { class: "meta" }, t("ordered", { time: shortWhen(Date.parse(order.created_at), now) })),
    lineList(order.lines),
    button,
  );
}

function waitingCard(order, now) {
  const left = expiry(order) - now;
  const code = order.pickup?.code;
  return el(
    "li",
    { class: "card waiting", "data-order-id": order.order_id },
    el("h2", {}, order.customer_name),
    bagLabel(order),
    el("p", { class: left < 3600000 ? "meta time-left soon" : "meta time-left" }, timeLeft(left)),
    lineList(order.lines),
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

async function markReady(order, button) {
  button.disabled = true;
  try {
    await api("POST", `/orders/${encodeURIComponent(order.order_id)}/ready`);
    message($("pick-message"), "");
    message($("pick-notice"), t("markedReady", { name: order.customer_name }));
  } catch (error) {
    if (handleAuthFailure(error)) return;
    message($("pick-notice"), "");
    message($("pick-message"), sentence(error));
  } finally {
    button.disabled = false;
    await refresh();
  }
}
