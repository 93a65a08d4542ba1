// What the shelf did not hold: an order's shortages, each with the nearest stores that have the missing
// units, as the clerk tells the customer.

import { shortWhen } from "./clock.js";
import { el } from "./dom.js";
import { LOCALE, t } from "./text.js";

const KM = new Intl.NumberFormat(LOCALE, { maximumFractionDigits: 1 });

export function shortageList(order, now = Date.now()) {
  const shortages = order.shortages || [];
  if (shortages.length === 0) return null;
  const names = new Map((order.lines || []).map((line) => [line.sku, line.name]));
  return el(
    "ul",
    { class: "shortages" },
    ...shortages.map((shortage) =>
      el(
        "li",
        { "data-sku": shortage.sku },
        el(
          "span",
          { class: "missing" },
          t("missingLine", {
            n: shortage.requested - shortage.picked,
            name: names.get(shortage.sku) || shortage.sku,
            picked: shortage.picked,
            requested: shortage.requested,
          }),
        ),
        " ",
        el("span", { class: "alternatives" }, alternatives(shortage.alternatives || [], now)),
      ),
    ),
  );
}

function alternatives(stores, now) {
  if (stores.length === 0) return t("noAlternatives");
  const named = stores.slice(0, 3).map((store) => {
    const distance = KM.format(store.distance_km);
    return store.ready_by
      ? t("alternativeReady", { name: store.name, km: distance, time: shortWhen(Date.parse(store.ready_by), now) })
      : t("alternative", { name: store.name, km: distance });
  });
  return t("alternatives", { stores: named.join("; ") });
}

// How many units the shortages leave out, over all lines.
export function missingUnits(order) {
  return (order.shortages || []).reduce((sum, s) => sum + (s.requested - s.picked), 0);
}
