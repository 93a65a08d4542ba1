// The "Arrivals" tab: shoppers who said they are here (longest waiting first, overdue ones marked) and
// those on the way (by eta), from GET /stores/{code}/arrivals. The tab shows, first in the row, whenever
// anyone is on the list.

import { api } from "./api.js";
import { shortWhen } from "./clock.js";
import { $, bagLabel, el, show } from "./dom.js";
import { handOverByCode } from "./lists.js";
import { auth, handleAuthFailure } from "./session.js";
import { t } from "./text.js";

let seq = 0;
let items = [];

export function forgetArrivals() {
  seq += 1;
  items = [];
  paint();
}

export async function refreshArrivals() {
  if (!auth) return;
  const mine = ++seq;
  try {
    const answer = await api("GET", `/stores/${encodeURIComponent(auth.store)}/arrivals`);
    if (mine !== seq) return;
    items = answer.items || [];
    paint();
  } catch (error) {
    // A server without arrivals yet, or a blip: the tab keeps what it showed; the lists say the rest.
    handleAuthFailure(error);
  }
}

// Whether anyone is on the list: the tab's place in the row depends on it (desk.js).
export function anyoneComing() {
  return items.length > 0;
}

function paint() {
  const now = Date.now();
  const arrived = items.filter((order) => order.arrival?.status === "arrived");
  const coming = items.filter((order) => order.arrival?.status !== "arrived");
  $("arrivals-count").textContent = String(items.length);
  $("arrivals-count").classList.toggle("urgent", arrived.some((order) => order.handover_overdue));
  $("arrived-list").replaceChildren(...arrived.map((order) => arrivalCard(order, now)));
  $("coming-list").replaceChildren(...coming.map((order) => arrivalCard(order, now)));
  show($("arrived-heading"), arrived.length > 0);
  show($("coming-heading"), coming.length > 0);
  show($("arrivals-empty"), items.length === 0);
  document.dispatchEvent(new CustomEvent("arrivals-changed"));
}

function arrivalCard(order, now) {
  const arrival = order.arrival || {};
  const overdue = arrival.status === "arrived" && order.handover_overdue === true;
  const code = order.pickup?.code;
  const ready = order.status === "ready_for_pickup";
  return el(
    "li",
    {
      class: `card arrival ${arrival.status === "arrived" ? "arrived" : "coming"}${overdue ? " overdue" : ""}`,
      "data-order-id": order.order_id,
    },
    el("h2", {}, order.pickup_person?.name || order.customer_name),
    order.pickup_person
      ? el("p", { class: "meta collects-for" }, t("collectsFor", { customer: order.customer_name }))
      : null,
    el("p", { class: "arrival-state" }, stateText(order, arrival, now)),
    place(arrival) ? el("p", { class: "meta where" }, place(arrival)) : null,
    bagLabel(order),
    ready
      ? null
      : el("p", { class: "message warning not-picked" }, t("notPickedYet")),
    ready && code
      ? el(
          "button",
          { type: "button", class: "secondary hand-over-code", onclick: () => handOverByCode(code) },
          t("handOverCode", { code }),
        )
      : null,
  );
}

function stateText(order, arrival, now) {
  if (arrival.status === "arrived") {
    const minutes = order.waiting_minutes ?? Math.max(0, Math.floor((now - Date.parse(arrival.at)) / 60000));
    return t(order.handover_overdue ? "waitingOverdue" : "waitingFor", { m: minutes });
  }
  return arrival.eta ? t("onTheWayEta", { time: shortWhen(Date.parse(arrival.eta), now) }) : t("onTheWay");
}

function place(arrival) {
  if (arrival.where === "curbside") return arrival.bay ? t("curbsideBay", { bay: arrival.bay }) : t("curbside");
  if (arrival.where === "counter") return t("atCounter");
  return "";
}
