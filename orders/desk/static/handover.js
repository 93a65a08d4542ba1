// Handing an order over: a code (typed, scanned by a hardware scanner, read by the camera, or from the
// waiting list) is verified, the order shown with what the customer takes and how the collector was
// checked (handover_form.js), and one button confirms.

import { api, sentence } from "./api.js";
import { $, el } from "./dom.js";
import { collectorName, handOverForm } from "./handover_form.js";
import { auth, handleAuthFailure } from "./session.js";
import { t } from "./text.js";

let pendingCode = null; // the code of the order on screen, sent again to confirm
let busy = false;
// Whether the last code came from the field (hand or hardware scanner) rather than the camera or the
// waiting list: only then does the field get the focus back, so a phone's keyboard does not pop up.
let typed = true;
let afterChange = () => {}; // what a hand-over refreshes (the lists); set once by desk.js
let takeReturn = () => {}; // opens the returns screen for a code; set once by desk.js

export function isBusy() {
  return busy;
}

export function onHandedOver(callback) {
  afterChange = callback;
}

export function onTakeReturn(callback) {
  takeReturn = callback;
}

export function codeBody(code) {
  // A short code only means something at one store; an admin key has to say which.
  return auth.role === "admin" ? { code, store_code: auth.store } : { code };
}

// #result shows one thing at a time; each change takes a number, so an answer that arrives after the
// clerk moved on (scanned the next customer, pressed Close) never paints over what is there now.
let resultSeq = 0;
// A code that came in while another was being looked up (a fast scanner): the newest one is looked up
// next rather than dropped.
let queued = null;

export function setResult(...nodes) {
  resultSeq += 1;
  $("result").replaceChildren(...nodes.filter(Boolean));
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
    showHandOver(order, code, source);
  } catch (error) {
    if (handleAuthFailure(error)) return;
    if (seq === resultSeq) showRefusal(error, code);
  } finally {
    busy = false;
    const next = queued;
    queued = null;
    if (next && auth) await lookUp(next.code, next.source);
  }
}

// `code`: what was looked up; an order already collected offers to take a return of it.
export function showRefusal(error, code) {
  pendingCode = null;
  setResult(
    el("p", { class: "message refusal", role: "alert", "data-code": error.code }, sentence(error)),
    error.code === "already_collected" && code
      ? el("button", { type: "button", class: "secondary", id: "take-return", onclick: () => takeReturn(code) }, t("returnTake"))
      : null,
  );
  focusField();
}

function focusField() {
  if (typed) $("code").focus();
}

function showHandOver(order, code, source) {
  const name = collectorName(order);
  const confirmButton = el("button", { type: "button", class: "confirm", id: "confirm" });
  const paint = () => {
    const { taken, picked } = form.read();
    confirmButton.disabled = taken === 0;
    confirmButton.textContent =
      taken === 0
        ? t("nothingTaken")
        : taken === picked
          ? t("handOver", { name })
          : t("handOverSome", { n: taken, of: picked, name });
  };
  const form = handOverForm(order, { code, source, onChange: () => paint() });
  confirmButton.addEventListener("click", () => confirmHandOver(confirmButton, form, name));
  paint();
  setResult(
    el(
      "div",
      { class: "card hand-over", "data-order-id": order.order_id },
      source === "list" ? el("p", { class: "message warning", role: "note" }, t("noShopperCode")) : null,
      form.node,
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

async function confirmHandOver(button, form, name) {
  if (!pendingCode) return;
  const code = pendingCode;
  const seq = resultSeq;
  const { lines, verification, taken, picked } = form.read();
  if (taken === 0) return;
  button.disabled = true;
  try {
    await api("POST", "/pickups/confirm", { json: { ...codeBody(code), lines, verification } });
    afterChange();
    if (seq !== resultSeq) return;
    pendingCode = null;
    const text =
      taken === picked
        ? t("handedOver", { name })
        : t("handedOverSome", { name, n: taken, of: picked, back: picked - taken });
    setResult(el("p", { class: "message success", role: "status" }, text));
    focusField();
  } catch (error) {
    if (handleAuthFailure(error)) return;
    if (seq === resultSeq) showRefusal(error, code);
  }
}
