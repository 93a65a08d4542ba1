// The one way the page talks to /staff/v1, and a refusal as one sentence.

import { formats } from "./clock.js";
import { auth } from "./session.js";
import { t } from "./text.js";

const API = "/staff/v1";

class Refusal extends Error {
  constructor(code, problem, status) {
    super(code);
    this.code = code;
    this.problem = problem || {};
    this.status = status || 0;
  }
}

export async function api(method, path, { json, blob, secret, idempotencyKey } = {}) {
  const headers = { Authorization: `Bearer ${secret ?? auth?.secret ?? ""}`, Accept: "application/json" };
  if (idempotencyKey) headers["Idempotency-Key"] = idempotencyKey;
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

// A refusal as one sentence a clerk can act on. `context`: what was being done ("handover" looking up or
// handing over, "ready" marking picked, "return" taking a return), where one code means different things.
export function sentence(error, context = "handover") {
  const problem = error.problem || {};
  if (context === "return") {
    if (error.code === "invalid_transition") return t("returnNotCollected");
    // More than was collected and not yet returned, whatever slug the server gives that 422.
    if (error.status === 422 && !error.code.startsWith("idempotency")) return t("returnTooMany");
    if (error.code === "return_window_closed") return t("return_window_closed");
  }
  if (context === "ready" && error.code === "validation_error") return t("invalidPick");
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
      // At the counter: a malformed code, or what the customer takes refused (the order changed meanwhile).
      return (problem.errors || []).some((e) => String(e.field).includes("lines"))
        ? t("invalidHandOver")
        : t("invalid_code");
    default:
      return t("other", { code: error.code });
  }
}
