// The hand-over screen's form: who collects (the pickup person's name, large, when someone collects for
// the customer), each line with what the customer takes (untick or step down what they refuse), and how
// the collector was checked.

import { el, lineText, stepper } from "./dom.js";
import { shortageList } from "./shortages.js";
import { t } from "./text.js";

export const VERIFICATIONS = ["qr", "short_code", "id_checked", "pickup_person_named"];

// What fits how the code came in: a QR code (the camera, or a hardware scanner typing its content), a
// typed short code, or none at all (from the waiting list: the clerk checks an ID).
export function likelyVerification(code, source) {
  if (source === "camera") return "qr";
  if (source === "list") return "id_checked";
  return /^WPK1\./i.test((code || "").trim()) ? "qr" : "short_code";
}

export function collectorName(order) {
  return order.pickup_person?.name || order.customer_name;
}

// Builds the form for `order` (the verify answer); `onChange` runs whenever what is taken changes.
// Answers {node, read}, `read()` giving {lines, verification, taken, picked}.
export function handOverForm(order, { code, source, onChange }) {
  const takes = new Map();
  const rows = order.lines.map((line) => {
    const picked = line.picked ?? line.quantity;
    takes.set(line.sku, picked);
    return takeLine(line, picked, (n) => {
      takes.set(line.sku, n);
      onChange();
    });
  });
  const chosen = likelyVerification(code, source);
  const options = VERIFICATIONS.filter((v) => v !== "pickup_person_named" || order.pickup_person);
  const checks = el(
    "fieldset",
    { class: "verification" },
    el("legend", {}, t("verificationQuestion")),
    ...options.map((value) =>
      el(
        "label",
        { class: "choice" },
        el("input", { type: "radio", name: "verification", value, checked: value === chosen }),
        el("span", {}, t(`verification_${value}`)),
      ),
    ),
  );
  const node = el(
    "div",
    { class: "hand-over-form" },
    collector(order),
    shortageList(order),
    el("p", { class: "meta" }, t("checkLines")),
    el("ul", { class: "lines take-lines" }, ...rows),
    checks,
  );
  const read = () => {
    const lines = order.lines.map((line) => ({ sku: line.sku, quantity: takes.get(line.sku) }));
    const verification = checks.querySelector("input[name=verification]:checked")?.value || chosen;
    const taken = lines.reduce((sum, line) => sum + line.quantity, 0);
    const picked = order.lines.reduce((sum, line) => sum + (line.picked ?? line.quantity), 0);
    return { lines, verification, taken, picked };
  };
  return { node, read };
}

function collector(order) {
  if (!order.pickup_person) return el("h2", {}, order.customer_name);
  return el(
    "div",
    { class: "collector" },
    el("p", { class: "collector-label" }, t("pickupPersonLabel")),
    el("h2", { class: "pickup-person" }, order.pickup_person.name),
    el("p", { class: "collects-for" }, t("collectsFor", { customer: order.customer_name })),
  );
}

// A line the customer takes: a box to untick what they refuse, and for more than one unit a stepper.
function takeLine(line, picked, onChange) {
  if (picked === 0) {
    return el(
      "li",
      { class: "line none", "data-sku": line.sku },
      lineText(line, 0),
      el("span", { class: "of-ordered" }, t("notOnShelf")),
    );
  }
  const box = el("input", { type: "checkbox", class: "take", checked: true, "aria-label": t("takes", { name: line.name }) });
  let control = null;
  const row = el("li", { class: "line", "data-sku": line.sku });
  const set = (n) => {
    box.checked = n > 0;
    row.classList.toggle("refused", n === 0);
    row.classList.toggle("partly", n > 0 && n < picked);
    onChange(n);
  };
  box.addEventListener("change", () => {
    const n = box.checked ? picked : 0;
    control?.set(n);
    set(n);
  });
  if (picked > 1) {
    control = stepper({
      value: picked,
      max: picked,
      minus: "−1",
      plus: "+1",
      minusLabel: t("refuseOne", { name: line.name }),
      plusLabel: t("takeOne", { name: line.name }),
      describe: (n) => t("takesOf", { n, of: picked }),
      onChange: set,
    });
  }
  row.append(el("label", { class: "take-line" }, box, lineText(line, picked)));
  if (control) row.append(control.node);
  return row;
}
