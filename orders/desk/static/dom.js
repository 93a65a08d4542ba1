// Building and showing the page's elements, and the pieces several screens share: the bag's label, an
// order's lines, and the two-button stepper a clerk sets a count with.

import { t } from "./text.js";

export const $ = (id) => document.getElementById(id);

export function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined && child !== false) node.append(child);
  }
  return node;
}

// One line's text: "2 × Koffiebonen 1 kg KOFFIE".
export function lineText(line, count = line.quantity) {
  return el(
    "span",
    { class: "line-text" },
    el("span", { class: "qty" }, `${count} ×`),
    " ",
    el("span", { class: "name" }, line.name),
    el("span", { class: "sku" }, line.sku),
  );
}

// An order's lines as the shelf or the counter reads them; once picked, the count is what was picked.
export function lineList(lines) {
  return el(
    "ul",
    { class: "lines" },
    ...lines.map((line) => {
      const count = line.picked ?? line.quantity;
      return el(
        "li",
        { "data-sku": line.sku },
        lineText(line, count),
        count !== line.quantity
          ? el("span", { class: "of-ordered" }, t("ofOrdered", { n: line.quantity }))
          : null,
      );
    }),
  );
}

// What the clerk writes on the bag, and reads off it at the counter.
export function bagLabel(order) {
  return el(
    "dl",
    { class: "label" },
    order.pickup?.code
      ? el("div", {}, el("dt", {}, t("shortCode")), el("dd", { class: "short-code" }, order.pickup.code))
      : null,
    el("div", {}, el("dt", {}, t("orderNumber")), el("dd", { class: "order-number" }, order.order_id)),
  );
}

// [minus] value [plus], between `min` and `max`; big buttons, as a thumb at the counter needs.
export function stepper({ value, min = 0, max, minus, plus, minusLabel, plusLabel, describe, onChange }) {
  let current = value;
  const shown = el("output", { class: "step-value", "aria-live": "polite" });
  const down = el("button", { type: "button", class: "step-down", "aria-label": minusLabel }, minus);
  const up = el("button", { type: "button", class: "step-up", "aria-label": plusLabel }, plus);
  const node = el("div", { class: "stepper" }, down, shown, up);
  const paint = () => {
    shown.textContent = describe(current);
    down.disabled = current <= min;
    up.disabled = current >= max;
    node.dataset.value = String(current);
  };
  const step = (by) => {
    const next = Math.min(max, Math.max(min, current + by));
    if (next === current) return;
    current = next;
    paint();
    onChange(current);
  };
  down.addEventListener("click", () => step(-1));
  up.addEventListener("click", () => step(1));
  paint();
  return {
    node,
    set(value) {
      current = Math.min(max, Math.max(min, value));
      paint();
    },
  };
}

export function show(node, visible) {
  node.hidden = !visible;
}

export function message(node, text) {
  node.textContent = text || "";
  show(node, Boolean(text));
}
