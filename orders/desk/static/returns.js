// Returns at the counter: find a collected order (its QR code, scanned or typed, or its order number; a
// short code alone cannot name a collected order), choose what comes back and whether it goes back on
// the shelf, and send it with an Idempotency-Key that a retry of the same return reuses, so a double tap
// or a lost answer returns once.

import { api, sentence } from "./api.js";
import { formats } from "./clock.js";
import { $, el, lineText, message, stepper } from "./dom.js";
import { codeBody } from "./handover.js";
import { auth, handleAuthFailure } from "./session.js";
import { t } from "./text.js";

const REASONS = ["not_wanted", "wrong_item", "damaged", "other"];
// How far the page looks through the store's collected orders for an order number (see findCollected).
const MAX_PAGES = 50;

let shownSeq = 0;
// The return being sent: its key and the body it was made for. The same body again (a retry, a second
// tap) goes with the same key; anything else is a new return with a new key.
let pending = null;

export function resetReturns() {
  shownSeq += 1;
  pending = null;
  $("return-order").replaceChildren();
  message($("return-message"), "");
}

export async function findForReturn(input) {
  const text = (input || "").trim();
  const seq = ++shownSeq;
  pending = null;
  $("return-order").replaceChildren();
  message($("return-message"), "");
  if (!text) return message($("return-message"), t("enterCode"));
  $("return-find").disabled = true;
  try {
    const orderId = await orderIdOf(text);
    if (seq !== shownSeq || !orderId) return;
    const order = await findCollected(orderId);
    if (seq !== shownSeq) return;
    if (!order) return message($("return-message"), t("returnNotFound", { id: orderId }));
    showReturnForm(order);
  } catch (error) {
    if (handleAuthFailure(error)) return;
    if (seq === shownSeq) message($("return-message"), sentence(error));
  } finally {
    $("return-find").disabled = false;
  }
}

// The order number of what was typed: an order number as it is; a pickup code is checked with the
// server (verify refuses a collected order with `already_collected`, which proves the code genuine), and
// a QR code names its order (WPK1.<order_id>.<store>.<nonce>.<mac>); a short code does not.
async function orderIdOf(text) {
  if (/^ord_[A-Za-z0-9_-]+$/.test(text)) return text;
  try {
    await api("POST", "/pickups/verify", { json: codeBody(text) });
    message($("return-message"), t("returnNotCollected"));
    return null;
  } catch (error) {
    if (error.code !== "already_collected") throw error;
    const fromToken = /^WPK1\.([A-Za-z0-9_-]{1,64})\./i.exec(text)?.[1];
    const orderId = error.problem.order_id || fromToken;
    if (!orderId) message($("return-message"), t("returnNeedsOrderNumber"));
    return orderId || null;
  }
}

// The staff API has no "one order by its number": the store's collected orders are read page by page.
async function findCollected(orderId) {
  let cursor = null;
  for (let page = 0; page < MAX_PAGES; page += 1) {
    const query = new URLSearchParams([
      ["status", "collected"],
      ["limit", "200"],
    ]);
    if (cursor) query.set("cursor", cursor);
    const answer = await api("GET", `/stores/${encodeURIComponent(auth.store)}/orders?${query}`);
    const found = answer.items.find((order) => order.order_id === orderId);
    if (found) return found;
    cursor = answer.next_cursor;
    if (!cursor) return null;
  }
  return null;
}

function returnedSoFar(order) {
  const back = new Map();
  for (const entry of order.returns || []) {
    for (const line of entry.lines) back.set(line.sku, (back.get(line.sku) || 0) + line.quantity);
  }
  return back;
}

function showReturnForm(order, answered = false) {
  const back = returnedSoFar(order);
  const chosen = new Map();
  const submit = el("button", { type: "button", class: "primary", id: "return-submit" });
  const paint = () => {
    const n = [...chosen.values()].reduce((sum, q) => sum + q, 0);
    submit.disabled = n === 0;
    submit.textContent = t(n === 0 ? "returnNothing" : n === 1 ? "returnSubmitOne" : "returnSubmit", { n });
  };
  const rows = order.lines.map((line) => {
    const left = Math.max(0, (line.collected ?? 0) - (back.get(line.sku) || 0));
    chosen.set(line.sku, 0);
    if (left === 0) {
      return el("li", { class: "line none", "data-sku": line.sku }, lineText(line, line.collected ?? 0), el("span", { class: "of-ordered" }, t("nothingToReturn")));
    }
    const control = stepper({
      value: 0,
      max: left,
      minus: "−1",
      plus: "+1",
      minusLabel: t("returnOneLess", { name: line.name }),
      plusLabel: t("returnOneMore", { name: line.name }),
      describe: (n) => t("returnsOf", { n, of: left }),
      onChange: (n) => {
        chosen.set(line.sku, n);
        paint();
      },
    });
    return el("li", { class: "line", "data-sku": line.sku }, lineText(line, left), control.node);
  });
  const restock = el(
    "fieldset",
    { class: "restock" },
    el("legend", {}, t("restockQuestion")),
    ...[
      ["yes", "restockYes"],
      ["no", "restockNo"],
    ].map(([value, text]) =>
      el("label", { class: "choice" }, el("input", { type: "radio", name: "restock", value, checked: value === "yes" }), el("span", {}, t(text))),
    ),
  );
  const reason = el(
    "select",
    { id: "return-reason" },
    ...REASONS.map((value) => el("option", { value }, t(`reason_${value}`))),
  );
  // Damaged goods do not go back on the shelf, as a rule; the clerk can still say otherwise.
  reason.addEventListener("change", () => {
    const value = reason.value === "damaged" ? "no" : "yes";
    restock.querySelector(`input[value=${value}]`).checked = true;
  });
  const note = el("input", { id: "return-note", maxlength: "200", autocomplete: "off" });
  const answer = el("div", { id: "return-answer", "aria-live": "polite" });
  submit.addEventListener("click", () => {
    const lines = [...chosen].filter(([, q]) => q > 0).map(([sku, quantity]) => ({ sku, quantity }));
    const written = note.value.trim();
    const body = {
      lines,
      restock: restock.querySelector("input:checked").value === "yes",
      reason: written ? `${reason.value}: ${written}` : reason.value,
    };
    sendReturn(order, body, submit, answer);
  });
  paint();
  $("return-order").replaceChildren(
    el(
      "div",
      { class: "card return", "data-order-id": order.order_id },
      el("h2", {}, order.customer_name),
      el("p", { class: "meta order-number" }, t("orderNumberIs", { id: order.order_id })),
      collectedAt(order) ? el("p", { class: "meta" }, t("collectedOn", { when: collectedAt(order) })) : null,
      el("ul", { class: "lines return-lines" }, ...rows),
      restock,
      el("label", { for: "return-reason" }, t("reasonLabel")),
      reason,
      el("label", { for: "return-note" }, t("noteLabel")),
      note,
      submit,
      answer,
    ),
  );
  if (answered) answer.replaceChildren(...returnsDone(order));
}

function collectedAt(order) {
  const entry = (order.history || []).findLast((h) => h.status === "collected");
  return entry ? formats.when.format(new Date(entry.at)) : "";
}

async function sendReturn(order, body, button, answer) {
  if (button.disabled) return;
  const json = JSON.stringify(body);
  if (pending?.orderId !== order.order_id || pending.json !== json) {
    pending = { orderId: order.order_id, json, key: newKey() };
  }
  const { key } = pending;
  const seq = shownSeq;
  button.disabled = true;
  try {
    const returned = await api("POST", `/orders/${encodeURIComponent(order.order_id)}/returns`, {
      json: body,
      idempotencyKey: key,
    });
    if (seq !== shownSeq) return;
    pending = null;
    // The answer is the order with every return of it: the form starts again from what is left.
    showReturnForm({ ...order, ...returned, customer_name: returned.customer_name ?? order.customer_name }, true);
  } catch (error) {
    if (handleAuthFailure(error)) return;
    // The key stays: the same return sent again (after a lost answer) is taken once.
    if (seq === shownSeq) answer.replaceChildren(el("p", { class: "message refusal", role: "alert", "data-code": error.code }, sentence(error, "return")));
    button.disabled = false;
  }
}

function returnsDone(order) {
  const names = new Map(order.lines.map((line) => [line.sku, line.name]));
  return [
    el("p", { class: "message success", role: "status" }, t("returned")),
    el(
      "ol",
      { class: "returns" },
      ...(order.returns || []).map((entry) =>
        el(
          "li",
          { "data-return-id": entry.return_id },
          el("span", { class: "when" }, formats.when.format(new Date(entry.at))),
          " ",
          el("span", { class: "what" }, entry.lines.map((line) => `${line.quantity} × ${names.get(line.sku) || line.sku}`).join(", ")),
          " ",
          el("span", { class: "restocked" }, t(entry.restock ? "restocked" : "notRestocked")),
        ),
      ),
    ),
  ];
}

// 128 random bits; crypto.randomUUID exists only on https pages, getRandomValues everywhere.
function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return `desk-return-${[...bytes].map((b) => b.toString(16).padStart(2, "0")).join("")}`;
}
