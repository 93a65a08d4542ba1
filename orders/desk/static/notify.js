// Telling the clerk something new came in: a short tone made with WebAudio (nothing to fetch: the page's
// policy allows no other origin, and a sound file would be one more thing to ship), and a count of what
// is new on the browser tab's title and on the desk's own tab.

import { $ } from "./dom.js";
import { t } from "./text.js";

// A new order rings once, low; an arrival twice, higher: a clerk at the shelves hears which it is.
const TONES = {
  order: [[660, 0]],
  arrival: [
    [880, 0],
    [1175, 0.18],
  ],
};
const TONE_SECONDS = 0.15;

let audio = null;

// Browsers let a page make sound only after the user touched it; the first tap or key (signing in, at
// the latest) wakes the audio up, so the tones of later events play.
export function prepareSound() {
  const wake = () => {
    try {
      audio ??= new AudioContext();
      if (audio.state === "suspended") audio.resume();
    } catch {
      audio = null; // no WebAudio here: the badge still says it
    }
  };
  for (const name of ["pointerdown", "keydown"]) document.addEventListener(name, wake, { passive: true });
}

export function chime(kind) {
  if (!audio) return;
  const start = audio.currentTime + 0.01;
  for (const [frequency, offset] of TONES[kind] || TONES.order) {
    const oscillator = audio.createOscillator();
    const gain = audio.createGain();
    oscillator.type = "sine";
    oscillator.frequency.value = frequency;
    // A quick rise and fall: no click at either end.
    gain.gain.setValueAtTime(0.0001, start + offset);
    gain.gain.exponentialRampToValueAtTime(0.3, start + offset + 0.02);
    gain.gain.exponentialRampToValueAtTime(0.0001, start + offset + TONE_SECONDS);
    oscillator.connect(gain).connect(audio.destination);
    oscillator.start(start + offset);
    oscillator.stop(start + offset + TONE_SECONDS + 0.02);
  }
}

// What came in that the clerk has not looked at yet, per desk tab ("pick", "arrivals", "transfers").
const unseen = { pick: 0, arrivals: 0, transfers: 0 };

export function addUnseen(tab) {
  unseen[tab] += 1;
  paintBadges();
}

export function markSeen(tab) {
  if (!unseen[tab]) return;
  unseen[tab] = 0;
  paintBadges();
}

export function clearUnseen() {
  for (const tab of Object.keys(unseen)) unseen[tab] = 0;
  paintBadges();
}

function paintBadges() {
  const total = Object.values(unseen).reduce((sum, count) => sum + count, 0);
  document.title = `${total ? `(${total}) ` : ""}${t("title")} · Winkelpunt`;
  for (const [tab, count] of Object.entries(unseen)) {
    const badge = $(`${tab}-new`);
    // "+2" on the tab itself, where room is short; said in full to a screen reader.
    badge.textContent = count ? `+${count}` : "";
    badge.setAttribute("aria-label", count ? t("newCount", { n: count }) : "");
    badge.hidden = !count;
  }
  // An installed desk (a home-screen app) shows it on its icon too, where the platform can.
  if (navigator.setAppBadge) (total ? navigator.setAppBadge(total) : navigator.clearAppBadge()).catch(() => {});
}
