// Times as the counter reads them: in the store's own zone, whatever zone the device is set to.

import { LOCALE, t } from "./text.js";

// Every time on the page is the store's wall-clock time, whatever zone the phone or counter PC is set
// to: "ready by 14:05" must mean 14:05 at this counter.
function timeFormats(timeZone) {
  const format = (options) => new Intl.DateTimeFormat(LOCALE, { ...options, timeZone });
  return {
    when: format({ dateStyle: "medium", timeStyle: "short" }),
    clock: format({ timeStyle: "short" }),
    clockSeconds: format({ timeStyle: "medium" }),
    day: format({ year: "numeric", month: "2-digit", day: "2-digit" }),
  };
}

export let formats = timeFormats(undefined);

export function useTimeZone(timeZone) {
  try {
    formats = timeFormats(timeZone || undefined);
  } catch {
    formats = timeFormats(undefined); // a zone this browser does not know: its own is the best left
  }
}

export function shortWhen(ms, now) {
  const date = new Date(ms);
  // "Today" is the store's today, not the device's.
  const today = formats.day.format(new Date(now)) === formats.day.format(date);
  return today ? formats.clock.format(date) : formats.when.format(date);
}

export function timeLeft(ms) {
  if (!Number.isFinite(ms) || ms >= Number.MAX_SAFE_INTEGER / 2) return "";
  if (ms <= 0) return t("expiringNow");
  const minutes = Math.floor(ms / 60000);
  const d = Math.floor(minutes / 1440);
  const h = Math.floor((minutes % 1440) / 60);
  const m = minutes % 60;
  const left = d > 0 ? t("days", { d, h }) : h > 0 ? t("hours", { h, m }) : t("minutes", { m });
  return t("timeLeft", { left });
}
