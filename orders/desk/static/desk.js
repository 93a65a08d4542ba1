// The pickup desk: a thin client of /staff/v1. No framework, no build step, nothing from elsewhere.
// The staff secret lives in sessionStorage only: it goes when the tab closes, and is never in a URL.
"use strict";

(() => {
  const API = "/staff/v1";
  const SESSION_KEY = "winkelpunt.desk";
  const REFRESH_MS = 15000;
  // A few frames a second is plenty for a code held still, and leaves the network and server alone.
  const SCAN_INTERVAL_MS = 300;
  const FRAME_LONG_SIDE = 800;

  const lang = (navigator.language || "en").toLowerCase().startsWith("nl") ? "nl" : "en";
  const TEXT = {
    en: {
      title: "Pickup desk",
      signOut: "Sign out",
      secretLabel: "Staff key",
      storeLabel: "Store code",
      signIn: "Sign in",
      tabHandover: "Hand over",
      tabPick: "To pick",
      tabWaiting: "Waiting",
      codeLabel: "Scan or type the pickup code",
      lookUp: "Look up",
      cameraStart: "Scan with camera",
      cameraStop: "Stop camera",
      cameraHint: "Hold the QR code in front of the camera.",
      pickEmpty: "Nothing to pick.",
      waitingEmpty: "No orders waiting.",
      updated: "Updated",
      ready: "Ready",
      readyBy: "Ready by {time}",
      readyLate: "Should have been ready at {time}",
      ordered: "Ordered {time}",
      timeLeft: "{left} left to collect",
      expiringNow: "Expires now",
      days: "{d} d {h} h",
      hours: "{h} h {m} min",
      minutes: "{m} min",
      handOver: "Hand over to {name}",
      handOverCode: "Hand over {code}",
      handedOver: "Handed over to {name}. Done.",
      close: "Close",
      shortCode: "Code",
      orderNumber: "Order",
      noShopperCode: "Without the customer's code: check their name, or an ID, before handing over.",
      checkLines: "Check the items, then hand over:",
      markedReady: "{name}: ready for pickup.",
      enterCode: "Type or scan a code first.",
      enterSecret: "Type the staff key first.",
      enterStore: "An admin key needs a store code: type the store's code.",
      // Every refusal of the contract, as a clerk would say it.
      invalid_code: "This is not a valid pickup code. Ask the customer to show the code in the app again.",
      wrong_store: "This order is for another store ({store}). It cannot be handed over here.",
      not_ready: "This order has not been picked yet. Pick it first and press Ready.",
      cancelled: "This order was cancelled. Do not hand anything over.",
      expired: "This order was not collected in time and has expired. Its items are back in stock.",
      already_collected: "This order was already collected on {when}.",
      already_collected_unknown: "This order was already collected.",
      rate_limited: "Too many attempts. Wait {seconds} seconds and try again.",
      invalid_transition: "This order cannot be marked ready: it is no longer waiting to be picked.",
      order_not_found: "This order no longer exists. The list is refreshed.",
      unauthorized: "This staff key is not valid. Check it and try again.",
      signed_out: "Your staff key no longer works. Sign in again.",
      forbidden: "This key is not for the pickup desk. Use a staff key of this store.",
      store_not_found: "There is no store with this code.",
      network: "No connection to the server. Check the network and try again.",
      camera: "The camera could not be started. Allow camera access, or type the code.",
      no_camera: "This device or browser cannot use a camera here. Type the code instead.",
      invalid_image: "The camera picture could not be read. Try again.",
      other: "Something went wrong ({code}). Try again.",
    },
    nl: {
      title: "Afhaalbalie",
      signOut: "Afmelden",
      secretLabel: "Personeelssleutel",
      storeLabel: "Winkelcode",
      signIn: "Aanmelden",
      tabHandover: "Meegeven",
      tabPick: "Te pakken",
      tabWaiting: "Klaar",
      codeLabel: "Scan of typ de afhaalcode",
      lookUp: "Opzoeken",
      cameraStart: "Scannen met camera",
      cameraStop: "Camera stoppen",
      cameraHint: "Houd de QR-code voor de camera.",
      pickEmpty: "Niets te pakken.",
      waitingEmpty: "Geen bestellingen klaar.",
      updated: "Bijgewerkt",
      ready: "Klaar",
      readyBy: "Klaar vóór {time}",
      readyLate: "Had klaar moeten zijn om {time}",
      ordered: "Besteld {time}",
      timeLeft: "Nog {left} om af te halen",
      expiringNow: "Verloopt nu",
      days: "{d} d {h} u",
      hours: "{h} u {m} min",
      minutes: "{m} min",
      handOver: "Meegeven aan {name}",
      handOverCode: "Meegeven {code}",
      handedOver: "Meegegeven aan {name}. Klaar.",
      close: "Sluiten",
      shortCode: "Code",
      orderNumber: "Bestelling",
      noShopperCode: "Zonder de code van de klant: controleer de naam, of een ID-bewijs, voordat je meegeeft.",
      checkLines: "Controleer de artikelen en geef ze mee:",
      markedReady: "{name}: klaar om af te halen.",
      enterCode: "Typ of scan eerst een code.",
      enterSecret: "Typ eerst de personeelssleutel.",
      enterStore: "Een beheerderssleutel heeft een winkelcode nodig: typ de code van de winkel.",
      invalid_code: "Dit is geen geldige afhaalcode. Vraag de klant de code in de app opnieuw te tonen.",
      wrong_store: "Deze bestelling is voor een andere winkel ({store}). Hij kan hier niet worden meegegeven.",
      not_ready: "Deze bestelling is nog niet gepakt. Pak hem eerst en druk op Klaar.",
      cancelled: "Deze bestelling is geannuleerd. Geef niets mee.",
      expired: "Deze bestelling is niet op tijd afgehaald en is verlopen. De artikelen zijn terug in de voorraad.",
      already_collected: "Deze bestelling is al afgehaald op {when}.",
      already_collected_unknown: "Deze bestelling is al afgehaald.",
      rate_limited: "Te veel pogingen. Wacht {seconds} seconden en probeer het opnieuw.",
      invalid_transition: "Deze bestelling kan niet op klaar: hij wacht niet meer om gepakt te worden.",
      order_not_found: "Deze bestelling bestaat niet meer. De lijst wordt bijgewerkt.",
      unauthorized: "Deze personeelssleutel is niet geldig. Controleer hem en probeer het opnieuw.",
      signed_out: "Je personeelssleutel werkt niet meer. Meld je opnieuw aan.",
      forbidden: "Deze sleutel is niet voor de afhaalbalie. Gebruik een personeelssleutel van deze winkel.",
      store_not_found: "Er is geen winkel met deze code.",
      network: "Geen verbinding met de server. Controleer het netwerk en probeer het opnieuw.",
      camera: "De camera kon niet starten. Geef toegang tot de camera, of typ de code.",
      no_camera: "Dit apparaat of deze browser kan hier geen camera gebruiken. Typ de code.",
      invalid_image: "Het camerabeeld kon niet worden gelezen. Probeer het opnieuw.",
      other: "Er ging iets mis ({code}). Probeer het opnieuw.",
    },
  };

  function t(key, values) {
    const template = TEXT[lang][key] ?? TEXT.en[key] ?? key;
    return template.replace(/\{(\w+)\}/g, (_, name) => String(values?.[name] ?? ""));
  }

  const $ = (id) => document.getElementById(id);
  const LOCALE = lang === "nl" ? "nl-NL" : "en-GB";

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

  let formats = timeFormats(undefined);

  function useTimeZone(timeZone) {
    try {
      formats = timeFormats(timeZone || undefined);
    } catch {
      formats = timeFormats(undefined); // a zone this browser does not know: its own is the best left
    }
  }

  // ------------------------------------------------------------------------------------------ state

  let auth = load();
  let refreshTimer = null;
  // Each refresh takes a number; an answer that a newer refresh (or a sign-out) overtook is dropped, so
  // a slow response never paints an older list over a newer one.
  let refreshSeq = 0;
  let lastOrders = [];
  let pendingCode = null; // the code of the order on screen, sent again to confirm
  let busy = false;
  // Whether the last code came from the field (hand or hardware scanner) rather than the camera or the
  // waiting list: only then does the field get the focus back, so a phone's keyboard does not pop up.
  let typed = true;

  function load() {
    try {
      return JSON.parse(sessionStorage.getItem(SESSION_KEY) || "null");
    } catch {
      return null;
    }
  }

  function save(value) {
    auth = value;
    if (value) sessionStorage.setItem(SESSION_KEY, JSON.stringify(value));
    else sessionStorage.removeItem(SESSION_KEY);
  }

  // -------------------------------------------------------------------------------------------- API

  class Refusal extends Error {
    constructor(code, problem, status) {
      super(code);
      this.code = code;
      this.problem = problem || {};
      this.status = status || 0;
    }
  }

  async function api(method, path, { json, blob, secret } = {}) {
    const headers = { Authorization: `Bearer ${secret ?? auth?.secret ?? ""}`, Accept: "application/json" };
    let body;
    if (blob) {
      headers["Content-Type"] = blob.type;
      body = blob;
    } else if (json !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(json);
    }
    let response;
    try {
      response = await fetch(API + path, { method, headers, body, cache: "no-store", credentials: "omit" });
    } catch {
      throw new Refusal("network");
    }
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new Refusal(data.code || `http_${response.status}`, data, response.status);
    return data;
  }

  // A refusal as one sentence a clerk can act on.
  function sentence(error) {
    const problem = error.problem || {};
    switch (error.code) {
      case "already_collected":
        return problem.collected_at
          ? t("already_collected", { when: formats.when.format(new Date(problem.collected_at)) })
          : t("already_collected_unknown");
      case "wrong_store":
        return t("wrong_store", { store: problem.store_code || "?" });
      case "rate_limited":
        return t("rate_limited", { seconds: problem.retry_after || 60 });
      case "invalid_code":
      case "not_ready":
      case "cancelled":
      case "expired":
      case "invalid_transition":
      case "order_not_found":
      case "unauthorized":
      case "forbidden":
      case "store_not_found":
      case "network":
      case "invalid_image":
        return t(error.code);
      case "validation_error":
        return t("invalid_code");
      default:
        return t("other", { code: error.code });
    }
  }

  // --------------------------------------------------------------------------------------- elements

  function el(tag, attributes, ...children) {
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

  function lineList(lines) {
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

  function show(node, visible) {
    node.hidden = !visible;
  }

  function message(node, text) {
    node.textContent = text || "";
    show(node, Boolean(text));
  }

  // ------------------------------------------------------------------------------------------ views

  function translatePage() {
    document.documentElement.lang = lang;
    document.title = `${t("title")} · Winkelpunt`;
    for (const node of document.querySelectorAll("[data-t]")) node.textContent = t(node.dataset.t);
  }

  function showSignIn(text) {
    stopRefreshing();
    stopCamera();
    show($("desk"), false);
    show($("sign-out"), false);
    $("store").textContent = "";
    show($("sign-in"), true);
    message($("sign-in-message"), text);
    $("secret").value = "";
    $("secret").focus();
  }

  function showDesk() {
    show($("sign-in"), false);
    show($("desk"), true);
    show($("sign-out"), true);
    $("store").textContent = auth.store;
    useTimeZone(auth.timezone);
    selectTab("handover");
    if (auth.timezone) refresh();
    else learnTimeZone(); // a session signed in before the page knew the store's zone
    refreshTimer = setInterval(refresh, REFRESH_MS);
  }

  async function learnTimeZone() {
    try {
      const counter = await api("GET", `/stores/${encodeURIComponent(auth.store)}`);
      save({ ...auth, timezone: counter.timezone });
      useTimeZone(counter.timezone);
    } catch (error) {
      if (handleAuthFailure(error)) return;
    }
    await refresh();
  }

  function stopRefreshing() {
    if (refreshTimer !== null) clearInterval(refreshTimer);
    refreshTimer = null;
  }

  function selectTab(name) {
    for (const tab of ["handover", "pick", "waiting"]) {
      $(`tab-${tab}`).setAttribute("aria-selected", String(tab === name));
      show($(`panel-${tab}`), tab === name);
    }
    if (name === "handover") $("code").focus();
    else stopCamera();
  }

  // ---------------------------------------------------------------------------------------- sign in

  async function signIn(event) {
    event.preventDefault();
    const secret = $("secret").value.trim();
    if (!secret) return message($("sign-in-message"), t("enterSecret"));
    const button = $("sign-in-button");
    button.disabled = true;
    try {
      const me = await api("GET", "/me", { secret });
      let store = me.store_code;
      if (me.role === "admin") {
        // An admin key may stand at any counter, so it has to say which one.
        show($("store-field"), true);
        store = $("store-code").value.trim();
        if (!store) {
          message($("sign-in-message"), t("enterStore"));
          $("store-code").focus();
          return;
        }
      }
      // Also how an admin's store code is checked: an unknown one is a 404 store_not_found.
      const counter = await api("GET", `/stores/${encodeURIComponent(store)}`, { secret });
      save({ secret, store: counter.code, role: me.role, timezone: counter.timezone });
      message($("sign-in-message"), "");
      showDesk();
    } catch (error) {
      message($("sign-in-message"), sentence(error));
    } finally {
      button.disabled = false;
    }
  }

  function signOut(text) {
    refreshSeq += 1;
    save(null);
    lastOrders = [];
    $("pick-list").replaceChildren();
    $("waiting-list").replaceChildren();
    setResult();
    showSignIn(text);
  }

  function handleAuthFailure(error) {
    if (error.code === "unauthorized") {
      signOut(t("signed_out"));
      return true;
    }
    return false;
  }

  // -------------------------------------------------------------------------------- pick and waiting

  async function refresh() {
    if (!auth) return;
    const seq = ++refreshSeq;
    try {
      const orders = [];
      let cursor = null;
      do {
        const query = new URLSearchParams([
          ["status", "reserved"],
          ["status", "ready_for_pickup"],
          ["limit", "200"],
        ]);
        if (cursor) query.set("cursor", cursor);
        const page = await api("GET", `/stores/${encodeURIComponent(auth.store)}/orders?${query}`);
        orders.push(...page.items);
        cursor = page.next_cursor;
      } while (cursor && orders.length < 2000);
      if (seq !== refreshSeq) return;
      lastOrders = orders;
      render();
      message($("pick-message"), "");
      const updated = formats.clockSeconds.format(new Date());
      for (const node of document.querySelectorAll(".updated-at")) node.textContent = updated;
    } catch (error) {
      if (seq !== refreshSeq) return;
      if (!handleAuthFailure(error)) message($("pick-message"), sentence(error));
    }
  }

  function render() {
    const now = Date.now();
    // The API answers oldest first, which is the order to pick in.
    const toPick = lastOrders.filter((order) => order.status === "reserved");
    const waiting = lastOrders
      .filter((order) => order.status === "ready_for_pickup")
      .sort((a, b) => expiry(a) - expiry(b));
    $("pick-count").textContent = String(toPick.length);
    $("waiting-count").textContent = String(waiting.length);
    $("pick-list").replaceChildren(...toPick.map((order) => pickCard(order, now)));
    $("waiting-list").replaceChildren(...waiting.map((order) => waitingCard(order, now)));
    show($("pick-empty"), toPick.length === 0);
    show($("waiting-empty"), waiting.length === 0);
  }

  function expiry(order) {
    const at = order.pickup?.expires_at;
    return at ? Date.parse(at) : Number.MAX_SAFE_INTEGER;
  }

  // What the clerk writes on the bag, and reads off it at the counter.
  function bagLabel(order) {
    return el(
      "dl",
      { class: "label" },
      order.pickup?.code
        ? el("div", {}, el("dt", {}, t("shortCode")), el("dd", { class: "short-code" }, order.pickup.code))
        : null,
      el("div", {}, el("dt", {}, t("orderNumber")), el("dd", { class: "order-number" }, order.order_id)),
    );
  }

  function pickCard(order, now) {
    const readyBy = order.pickup?.ready_by ? Date.parse(order.pickup.ready_by) : null;
    const late = readyBy !== null && readyBy < now;
    const button = el(
      "button",
      { type: "button", class: "primary ready", onclick: () => markReady(order, button) },
      t("ready"),
    );
    return el(
      "li",
      { class: "card pick", "data-order-id": order.order_id },
      el("h2", {}, order.customer_name),
      bagLabel(order),
      readyBy !== null
        ? el(
            "p",
            { class: late ? "meta ready-by late" : "meta ready-by" },
            t(late ? "readyLate" : "readyBy", { time: shortWhen(readyBy, now) }),
          )
        : null,
      el("p", { class: "meta" }, t("ordered", { time: shortWhen(Date.parse(order.created_at), now) })),
      lineList(order.lines),
      button,
    );
  }

  function waitingCard(order, now) {
    const left = expiry(order) - now;
    const code = order.pickup?.code;
    return el(
      "li",
      { class: "card waiting", "data-order-id": order.order_id },
      el("h2", {}, order.customer_name),
      bagLabel(order),
      el("p", { class: left < 3600000 ? "meta time-left soon" : "meta time-left" }, timeLeft(left)),
      lineList(order.lines),
      // For a customer without their code (a flat phone): the order is looked up by its short code and
      // shown for the clerk to check, then confirmed there, as if the code had been typed.
      code
        ? el(
            "button",
            { type: "button", class: "secondary hand-over-code", onclick: () => handOverFromList(code) },
            t("handOverCode", { code }),
          )
        : null,
    );
  }

  function handOverFromList(code) {
    selectTab("handover");
    lookUp(code, "list");
  }

  function shortWhen(ms, now) {
    const date = new Date(ms);
    // "Today" is the store's today, not the device's.
    const today = formats.day.format(new Date(now)) === formats.day.format(date);
    return today ? formats.clock.format(date) : formats.when.format(date);
  }

  function timeLeft(ms) {
    if (!Number.isFinite(ms) || ms >= Number.MAX_SAFE_INTEGER / 2) return "";
    if (ms <= 0) return t("expiringNow");
    const minutes = Math.floor(ms / 60000);
    const d = Math.floor(minutes / 1440);
    const h = Math.floor((minutes % 1440) / 60);
    const m = minutes % 60;
    const left = d > 0 ? t("days", { d, h }) : h > 0 ? t("hours", { h, m }) : t("minutes", { m });
    return t("timeLeft", { left });
  }

  async function markReady(order, button) {
    button.disabled = true;
    try {
      await api("POST", `/orders/${encodeURIComponent(order.order_id)}/ready`);
      message($("pick-message"), "");
      message($("pick-notice"), t("markedReady", { name: order.customer_name }));
    } catch (error) {
      if (handleAuthFailure(error)) return;
      message($("pick-notice"), "");
      message($("pick-message"), sentence(error));
    } finally {
      button.disabled = false;
      await refresh();
    }
  }

  // -------------------------------------------------------------------------------------- hand-over

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

  function setResult(...nodes) {
    resultSeq += 1;
    $("result").replaceChildren(...nodes);
    return resultSeq;
  }

  // `source`: "typed" (the field: by hand or a hardware scanner), "camera", or "list" (the waiting list's
  // button, when the customer has no code to show).
  async function lookUp(code, source = "typed") {
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

  function showRefusal(error) {
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

  // ----------------------------------------------------------------------------------------- camera

  let stream = null;
  let scanTimer = null;
  let scanning = false;

  async function startCamera() {
    if (!navigator.mediaDevices?.getUserMedia) {
      setResult(el("p", { class: "message refusal", role: "alert" }, t("no_camera")));
      return;
    }
    try {
      stream = await navigator.mediaDevices.getUserMedia({
        video: { facingMode: { ideal: "environment" }, width: { ideal: 1280 }, height: { ideal: 720 } },
        audio: false,
      });
    } catch {
      stream = null;
      setResult(el("p", { class: "message refusal", role: "alert" }, t("camera")));
      return;
    }
    const video = $("video");
    video.srcObject = stream;
    show($("camera"), true);
    show($("camera-start"), false);
    setResult();
    try {
      await video.play();
    } catch {
      // Autoplay of a muted inline video is allowed everywhere that matters; frames still arrive.
    }
    scanTimer = setInterval(scanFrame, SCAN_INTERVAL_MS);
  }

  function stopCamera() {
    if (scanTimer !== null) clearInterval(scanTimer);
    scanTimer = null;
    if (stream) for (const track of stream.getTracks()) track.stop();
    stream = null;
    const video = $("video");
    if (video) video.srcObject = null;
    show($("camera"), false);
    show($("camera-start"), true);
  }

  // One frame at a time, and only when the previous answer is in, so a slow network sends fewer.
  async function scanFrame() {
    const video = $("video");
    if (scanning || busy || !stream || video.readyState < 2 || !video.videoWidth) return;
    scanning = true;
    try {
      const scale = Math.min(1, FRAME_LONG_SIDE / Math.max(video.videoWidth, video.videoHeight));
      const canvas = document.createElement("canvas");
      canvas.width = Math.round(video.videoWidth * scale);
      canvas.height = Math.round(video.videoHeight * scale);
      canvas.getContext("2d").drawImage(video, 0, 0, canvas.width, canvas.height);
      const blob = await new Promise((resolve) => canvas.toBlob(resolve, "image/jpeg", 0.85));
      if (!blob || !stream) return;
      const answer = await api("POST", "/pickups/scan", { blob });
      if (answer.code && stream) {
        stopCamera();
        await lookUp(answer.code, "camera");
      }
    } catch (error) {
      if (handleAuthFailure(error)) return;
      if (error.code === "rate_limited" || error.code === "network") {
        stopCamera();
        showRefusal(error);
      }
      // A single unreadable frame is not worth a word: the next one is a moment away.
    } finally {
      scanning = false;
    }
  }

  // ------------------------------------------------------------------------------------------ start

  function start() {
    translatePage();
    $("sign-in-form").addEventListener("submit", signIn);
    $("sign-out").addEventListener("click", () => signOut(""));
    $("code-form").addEventListener("submit", (event) => {
      event.preventDefault();
      // Empty the field at once, so a scanner's next code starts in an empty field.
      const code = $("code").value;
      $("code").value = "";
      lookUp(code);
    });
    $("camera-start").addEventListener("click", startCamera);
    $("camera-stop").addEventListener("click", stopCamera);
    for (const tab of ["handover", "pick", "waiting"]) {
      $(`tab-${tab}`).addEventListener("click", () => selectTab(tab));
    }
    document.addEventListener("visibilitychange", () => {
      if (document.visibilityState === "visible" && auth) refresh();
      else stopCamera();
    });
    if (auth?.secret && auth?.store) showDesk();
    else showSignIn("");
  }

  start();
})();
