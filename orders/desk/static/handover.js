// Handing an order over: a code (typed, scanned by a hardware scanner, read by the camera, or from the
// waiting list) is verified, the order shown, and one button confirms.

import { api, sentence } from "./api.js";
import { $, el, lineList } from "./dom.js";
import { refresh } from "./lists.js";
import { auth, handleAuthFailure } from "./session.js";
import { t } from "./text.js";

let pendingCode = null; // the code of the order on screen, sent again to confirm
let busy = false;
// Whether the last code came from the field (hand or hardware scanner) rather than the camera or the
// waiting list: only then does the field get the focus back, so a phone's keyboard does not pop up.
let typed = true;

export function isBusy() {
  return busy;
}

function codeBody(code) {
  // A short code only means something at one store; an admin key has to say which.
  return auth.role === "admin" ? { code, store_code: auth.store } : { code };
}

// #result shows one thing at a time; each change takes a number, so an answer that arrives after the
// clerk moved on (scanned the next customer, pressed Cancel) never paints over what is there now.
let resultSeq = 0;
// A code that came in while another was being looked up (a fast scanner): the newest one is looked up
// next rather than dropped.
let queued = null;

export function setResult(...nodes) {
  resultSeq += 1;
  $("result").replaceChildren(...nodes);
  return resultSeq;
}

// `source`: "typed" (the field: by hand or a hardware scanner), "camera", or "list" (the waiting list's
// button, when the customer has no code to show).
export async function lookUp(code, source = "typed") {
  code = (code || "").trim();
  typed = source === "typed";
  if (!code) {
    setResult(el("p", { class: "message refusal", role: "alert" }, t("enterCode")));
    return;
  }
  if (busy) {
    queued = { code, source };
    return;
  }
  busy = true;
  // The order or refusal on screen is not the answer to this code: clear it at once.
  const seq = setResult();
  try {
    const order = await api("POST", "/pickups/verify", { json: codeBody(code) });
    if (seq !== resultSeq) return;
    pendingCode = code;
    showHandOver(order, source);
  } catch (error) {
    if (handleAuthFailure(error)) return;
    if (seq === resultSeq) showRefusal(error);
  } finally {
    busy = false;
    const next = queued;
    queued = null;
    if (next && auth) await lookUp(next.code, next.source);
  }
}

export function showRefusal(error) {
  pendingCode = null;
  setResult(el("p", { class: "message refusal", role: "alert", "data-code": error.code }, sentence(error)));
  focusField();
}

function focusField() {
  if (typed) $("code").focus();
}

function showHandOver(order, source) {
  const confirmButton = el(
    "button",
    { type: "button", class: "confirm", id: "confirm", onclick: () => confirmHandOver(confirmButton) },
    t("handOver", { name: order.customer_name }),
  );
  setResult(
    el(
      "div",
      { class: "card hand-over", "data-order-id": order.order_id },
      el("h2", {}, order.customer_name),
      source === "list" ? el("p", { class: "message warning", role: "note" }, t("noShopperCode")) : null,
      el("p", { class: "meta" }, t("checkLines")),
      lineList(order.lines),
      confirmButton,
      el("button", { type: "button", class: "secondary", id: "hand-over-close", onclick: clearHandOver }, t("close")),
    ),
  );
  // Never focus the confirm button: a hardware scanner's next Enter would hand this order over.
  $("result").scrollIntoView({ block: "nearest" });
}

function clearHandOver() {
  pendingCode = null;
  setResult();
  focusField();
}

async function confirmHandOver(button) {
  if (!pendingCode) return;
  const code = pendingCode;
  const seq = resultSeq;
  button.disabled = true;
  try {
    const order = await api("POST", "/pickups/confirm", { json: codeBody(code) });
    refresh();
    if (seq !== resultSeq) return;
    pendingCode = null;
    setResult(el("p", { class: "message success", role: "status" }, t("handedOver", { name: order.customer_name })));
    focusField();
  } catch (error) {
    if (handleAuthFailure(error)) return;
    if (seq === resultSeq) showRefusal(error);
  }
}
