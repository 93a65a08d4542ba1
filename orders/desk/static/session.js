// The signed-in desk: the staff secret, its store and role, in sessionStorage only (gone when the tab
// closes, never in a URL).

const SESSION_KEY = "winkelpunt.desk";

export let auth = load();

function load() {
  try {
    return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
  } catch {
    return null;
  }
}

export function save(value) {
  auth = value;
  if (value) sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
  else sessionStorage.removeItem(SESSION_KEY);
}

// What the page does when the API no longer takes the key (it signs out); set once by desk.js.
let keyRejected = () => {};

export function whenKeyRejected(callback) {
  keyRejected = callback;
}

// Answers whether `error` was the key being refused (and the page has signed out).
export function handleAuthFailure(error) {
  if (error.code === "unauthorized") {
    keyRejected();
    return true;
  }
  return false;
}
