// Building and showing the page's elements.

export const $ = (id) => document.getElementById(id);

export function el(tag, attributes, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes || {})) {
    if (name === "class") node.className = value;
    else if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value);
  }
  for (const child of children) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

export function lineList(lines) {
  return el(
    "ul",
    { class: "lines" },
    ...lines.map((line) =>
      el(
        "li",
        {},
        el("span", { class: "qty" }, `${line.quantity} ×`),
        " ",
        el("span", { class: "name" }, line.name),
        el("span", { class: "sku" }, line.sku),
      ),
    ),
  );
}

export function show(node, visible) {
  node.hidden = !visible;
}

export function message(node, text) {
  node.textContent = text || "";
  show(node, Boolean(text));
}
