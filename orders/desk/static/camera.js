// Scanning with the camera: frames go to /pickups/scan (the server reads the QR code), and the first code
// found is looked up as if it had been typed.

import { api } from "./api.js";
import { $, el, show } from "./dom.js";
import { isBusy, lookUp, setResult, showRefusal } from "./handover.js";
import { handleAuthFailure } from "./session.js";
import { t } from "./text.js";

// A few frames a second is plenty for a code held still, and leaves the network and server alone.
const SCAN_INTERVAL_MS = 300;
const FRAME_LONG_SIDE = 800;

let stream = null;
let scanTimer = null;
let scanning = false;

export async function startCamera() {
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

export function stopCamera() {
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
  if (scanning || isBusy() || !stream || video.readyState < 2 || !video.videoWidth) return;
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
