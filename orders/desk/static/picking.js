// The pick list's cards: each line starts picked in full, "Short" takes one unit off per tap (the shelf
// held fewer), and Ready sends what was picked. The answer's shortages are shown for the clerk to tell
// the customer.

import { api, sentence } from "./api.js";
import { shortWhen } from "./clock.js";
import { $, bagLabel, el, lineText, message, stepper } from "./dom.js";
import { handleAuthFailure } from "./session.js";
import { missingUnits, shortageList } from "./shortages.js";
import { t } from "./text.js";

// What the clerk set per order and sku, kept across the list's refreshes (a refresh must not undo a
// short the clerk just tapped), and forgotten once the order leaves the list.
const picks = new Map();

export function forgetPicks(keep) {
  for (const orderId of [...picks.keys()]) if (!keep.has(orderId)) picks.delete(orderId);
}

function picked(order, line) {
  return picks.get(order.order_id)?.get(line.sku) ?? line.quantity;
}

function setPicked(order, line, value) {
  if (!picks.has(order.order_id)) picks.set(order.order_id, new Map());
  picks.get(order.order_id).set(line.sku, value);
}

export function pickCard(order, now, { fresh, afterReady }) {
  const readyBy = order.pickup?.ready_by ? Date.parse(order.pickup.ready_by) : null;
  const late = order.late === true || (readyBy !== null && readyBy < now);
  const button = el("button", { type: "button", class: "primary ready" });
  const summary = el("p", { class: "pick-summary", "aria-live": "polite" });
  const paint = () => {
    const ordered = order.lines.reduce((sum, line) => sum + line.quantity, 0);
    const found = order.lines.reduce((sum, line) => sum + picked(order, line), 0);
    const missing = ordered - found;
    button.textContent = found === 0 ? t("readyNone") : missing ? t("readyShort", { n: missing }) : t("ready");
    button.classList.toggle("reject", found === 0);
    summary.textContent = missing ? t("pickSummary", { found, ordered }) : "";
    summary.hidden = !missing;
  };
  button.addEventListener("click", () => markReady(order, button, afterReady));
  const card = el(
    "li",
    { class: fresh ? "card pick fresh" : "card pick", "data-order-id": order.order_id },
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
    el("ul", { class: "lines pick-lines" }, ...order.lines.map((line) => pickLine(order, line, paint))),
    summary,
    button,
  );
  paint();
  return card;
}

function pickLine(order, line, paint) {
  const control = stepper({
    value: picked(order, line),
    max: line.quantity,
    minus: t("short"),
    plus: "+1",
    minusLabel: t("shortOne", { name: line.name }),
    plusLabel: t("foundOne", { name: line.name }),
    describe: (n) => t("pickedOf", { n, of: line.quantity }),
    onChange: (n) => {
      setPicked(order, line, n);
      row.classList.toggle("short", n < line.quantity);
      paint();
    },
  });
  const row = el(
    "li",
    { class: picked(order, line) < line.quantity ? "line short" : "line", "data-sku": line.sku },
    lineText(line),
    control.node,
  );
  return row;
}

async function markReady(order, button, afterReady) {
  button.disabled = true;
  const lines = order.lines.map((line) => ({ sku: line.sku, picked: picked(order, line) }));
  try {
    const answer = await api("POST", `/orders/${encodeURIComponent(order.order_id)}/ready`, { json: { lines } });
    picks.delete(order.order_id);
    message($("pick-message"), "");
    showOutcome({ ...answer, customer_name: answer.customer_name ?? order.customer_name });
  } catch (error) {
    if (handleAuthFailure(error)) return;
    $("pick-notice").replaceChildren();
    $("pick-notice").hidden = true;
    message($("pick-message"), sentence(error, "ready"));
  } finally {
    button.disabled = false;
    await afterReady();
  }
}

// What became of the order: ready in full, ready with shortages (and where else the missing units are),
// or rejected because nothing was on the shelf.
function showOutcome(order) {
  const notice = $("pick-notice");
  const name = order.customer_name;
  const missing = missingUnits(order);
  let text;
  if (order.status === "rejected") text = t("rejectedShort", { name });
  else if (missing) text = t("markedReadyShort", { name, n: missing });
  else text = t("markedReady", { name });
  notice.className = order.status === "rejected" || missing ? "message warning" : "message success";
  notice.replaceChildren(...[el("p", { class: "outcome" }, text), shortageList(order)].filter(Boolean));
  notice.hidden = false;
}
