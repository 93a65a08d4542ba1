// The desk's live feed: GET /staff/v1/stores/{code}/events read with fetch() as a stream (the secret goes
// in the Authorization header, never in a URL), resumed with Last-Event-ID after a drop. While it is down
// the lists fall back to polling (lists.js); the page is told through `onState`.

import { auth } from "./session.js";
import { SseParser } from "./sse.js";

// The server sends a comment at least every 15 s: silence for much longer means a dead connection that
// TCP has not noticed yet (a sleeping laptop, a proxy that dropped it), so the page reconnects.
const SILENCE_MS = 40000;
const FIRST_RETRY_MS = 1000;
const MAX_RETRY_MS = 30000;
const LASTING_MS = 10000; // a stream open this long was working: its drop is not the server failing
const SEEN_IDS = 500;

let controller = null;
let retryTimer = null;
let generation = 0; // a stop() or a new start() retires every loop of an earlier one
let lastEventId = "";
let seen = [];
let handlers = { onEvent: () => {}, onState: () => {}, onRefused: () => {} };

// `onEvent({type, order_id, at, id})`, `onState(live)`, `onRefused(error)` (the key was refused).
export function startEvents(callbacks) {
  stopEvents();
  handlers = { ...handlers, ...callbacks };
  lastEventId = "";
  seen = [];
  const mine = ++generation;
  connect(mine, FIRST_RETRY_MS);
}

export function stopEvents() {
  generation += 1;
  if (retryTimer !== null) clearTimeout(retryTimer);
  retryTimer = null;
  controller?.abort();
  controller = null;
}

// `delay`: how long to wait before the next try if this one fails before the stream opens; it doubles
// while the server keeps failing, so a server in trouble is not hammered by every desk at once.
async function connect(mine, delay) {
  if (mine !== generation || !auth) return;
  const ownController = new AbortController();
  controller = ownController;
  let silence = null;
  const listen = () => {
    clearTimeout(silence);
    silence = setTimeout(() => ownController.abort(), SILENCE_MS);
  };
  const parser = new SseParser();
  let live = false;
  let openedAt = 0;
  let wait = delay;
  try {
    listen();
    const headers = { Authorization: `Bearer ${auth.secret}`, Accept: "text/event-stream" };
    if (lastEventId) headers["Last-Event-ID"] = lastEventId;
    const response = await fetch(`/staff/v1/stores/${encodeURIComponent(auth.store)}/events`, {
      headers,
      cache: "no-store",
      credentials: "omit",
      signal: ownController.signal,
    });
    if (response.status === 401) {
      wait = null; // the key is gone: the page signs out, nothing to reconnect
      if (mine === generation) handlers.onRefused({ code: "unauthorized" });
      return;
    }
    const type = response.headers.get("content-type") || "";
    if (!response.ok || !type.startsWith("text/event-stream") || !response.body) {
      // No stream here (an older server, a proxy's error page): polling carries on; ask again later.
      wait = MAX_RETRY_MS;
      return;
    }
    live = true;
    openedAt = Date.now();
    if (mine === generation) handlers.onState(true);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    for (;;) {
      const { value, done } = await reader.read();
      if (done || mine !== generation) break;
      listen();
      for (const frame of parser.feed(value)) deliver(frame);
      if (parser.lastEventId) lastEventId = parser.lastEventId;
    }
  } catch {
    // A network error or our own abort: the same as the stream ending.
  } finally {
    clearTimeout(silence);
    if (mine === generation && wait !== null) {
      handlers.onState(false);
      // A stream that was open a while and dropped is asked for again at once (after the server's
      // `retry:`); one that never opened, or closed as soon as it opened, waits longer each time.
      const lasted = live && Date.now() - openedAt >= LASTING_MS;
      const now = lasted ? (parser.retry ?? FIRST_RETRY_MS) : wait;
      const then = lasted ? FIRST_RETRY_MS * 2 : Math.min(wait * 2, MAX_RETRY_MS);
      retryTimer = setTimeout(() => connect(mine, then), jitter(Math.max(now, 250)));
    }
  }
}

function jitter(ms) {
  return ms * (0.8 + Math.random() * 0.4);
}

function deliver(frame) {
  let data;
  try {
    data = JSON.parse(frame.data);
  } catch {
    return; // not ours to understand
  }
  // After a resume the server starts after Last-Event-ID; an id seen before is dropped all the same, so
  // a replayed event never rings twice.
  if (frame.id) {
    if (seen.includes(frame.id)) return;
    seen.push(frame.id);
    if (seen.length > SEEN_IDS) seen = seen.slice(-SEEN_IDS);
  }
  handlers.onEvent({ ...data, type: data.type || frame.type, id: frame.id });
}
