// The "Transfers" tab: goods travelling between stores for click-and-collect orders (API.md, "Every store
// a distribution point"). Outgoing: what this store picks and ships to another store's order ("Shipped").
// Incoming: what is on its way here, received by scanning the order's QR code or typing the transfer id;
// the units then wait, reserved, with the order. From GET /stores/{code}/transfers; the tab shows, as
// Arrivals does, whenever there is anything on it.

import { api, sentence } from "./api.js";
import { shortWhen } from "./clock.js";
import { $, el, lineText, message, show } from "./dom.js";
import { auth, handleAuthFailure } from "./session.js";
import { t } from "./text.js";

let seq = 0;
let outgoing = [];
let incoming = [];

export function forgetTransfers() {
  seq += 1;
  outgoing = [];
  incoming = [];
  paint();
}

export async function refreshTransfers() {
  if (!auth) return;
  const mine = ++seq;
  const store = encodeURIComponent(auth.store);
  try {
    const [out, into] = await Promise.all([
      api("GET", `/stores/${store}/transfers?direction=outgoing&status=planned`),
      api("GET", `/stores/${store}/transfers?direction=incoming`),
    ]);
    if (mine !== seq) return;
    outgoing = (out.items || []).filter((transfer) => transfer.status === "planned");
    incoming = (into.items || []).filter((transfer) => transfer.status !== "received");
    paint();
  } catch (error) {
    // A blip: the tab keeps what it showed; the live state says the rest.
    handleAuthFailure(error);
  }
}

// Whether there is anything to ship or receive: the tab's place in the row depends on it (desk.js).
export function anyTransfers() {
  return outgoing.length > 0 || incoming.length > 0;
}

// How many need this store's hands now: to ship, and arrived to receive.
function toDo() {
  return outgoing.length + incoming.filter((transfer) => transfer.status === "shipped").length;
}

function paint() {
  const now = Date.now();
  $("transfers-count").textContent = String(toDo());
  $("outgoing-list").replaceChildren(...outgoing.map((transfer) => outgoingCard(transfer, now)));
  $("incoming-list").replaceChildren(...incoming.map((transfer) => incomingCard(transfer, now)));
  show($("outgoing-heading"), outgoing.length > 0);
  show($("incoming-heading"), incoming.length > 0);
  show($("transfers-empty"), !anyTransfers());
  document.dispatchEvent(new CustomEvent("transfers-changed"));
}

function lines(transfer) {
  return el("ul", { class: "lines" }, ...(transfer.lines || []).map((line) => el("li", {}, lineText(line))));
}

function outgoingCard(transfer, now) {
  const order = transfer.order || {};
  const ship = el("button", { type: "button", class: "primary ship" }, t("ship"));
  ship.addEventListener("click", () => act(transfer, "ship", ship));
  return el(
    "li",
    { class: "card transfer outgoing", "data-transfer-id": transfer.transfer_id },
    el("h2", {}, t("shipTo", { store: order.store_code || transfer.to_store || "?" })),
    el("p", { class: "meta" }, t("forCustomer", { customer: order.customer_name || "", order: order.order_id || "" })),
    transfer.eta ? el("p", { class: "meta eta" }, t("arrivesThere", { time: shortWhen(Date.parse(transfer.eta), now) })) : null,
    lines(transfer),
    el("p", { class: "meta transfer-id" }, transfer.transfer_id),
    ship,
  );
}

function incomingCard(transfer, now) {
  const order = transfer.order || {};
  const shipped = transfer.status === "shipped";
  return el(
    "li",
    {
      class: `card transfer incoming ${shipped ? "shipped" : "planned"}`,
      "data-transfer-id": transfer.transfer_id,
    },
    el("h2", {}, t("fromStore", { store: transfer.from_store })),
    el("p", { class: "meta" }, t("forCustomer", { customer: order.customer_name || "", order: order.order_id || "" })),
    el(
      "p",
      { class: "transfer-state" },
      shipped ? t("onItsWay") : t("notShippedYet"),
      transfer.eta ? ` · ${t("expected", { time: shortWhen(Date.parse(transfer.eta), now) })}` : "",
    ),
    lines(transfer),
    el("p", { class: "meta transfer-id" }, transfer.transfer_id),
  );
}

// What the clerk scanned or typed: the transfer's id, or the QR code of the order it travels for
// (`WPK1.<order_id>.<store>.<nonce>.<mac>`; the server checks the code itself when the order is handed
// over, here it only says which parcel this is).
function findIncoming(text) {
  const typed = text.trim();
  if (!typed) return null;
  const byId = incoming.find((transfer) => transfer.transfer_id.toLowerCase() === typed.toLowerCase());
  if (byId) return byId;
  const parts = typed.split(".");
  const orderId = parts.length === 5 && parts[0] === "WPK1" ? parts[1] : typed;
  return incoming.find((transfer) => transfer.order?.order_id === orderId) || null;
}

export async function receiveByCode(text) {
  message($("transfer-message"), "");
  message($("transfer-notice"), "");
  let transfer = findIncoming(text);
  if (!transfer) {
    await refreshTransfers(); // it may have shipped since the list was read
    transfer = findIncoming(text);
  }
  if (!transfer) return message($("transfer-message"), t("noSuchTransfer"));
  await act(transfer, "receive");
}

async function act(transfer, action, button) {
  if (button) button.disabled = true;
  message($("transfer-message"), "");
  try {
    await api("POST", `/transfers/${encodeURIComponent(transfer.transfer_id)}/${action}`);
    const order = transfer.order || {};
    message(
      $("transfer-notice"),
      action === "ship"
        ? t("shippedNotice", { id: transfer.transfer_id, store: order.store_code || transfer.to_store || "?" })
        : t("receivedNotice", { customer: order.customer_name || "", order: order.order_id || "" }),
    );
    await refreshTransfers();
  } catch (error) {
    if (handleAuthFailure(error)) return;
    message($("transfer-message"), error.code === "invalid_transition" ? t(`${action}Refused`) : sentence(error));
  } finally {
    if (button) button.disabled = false;
  }
}
