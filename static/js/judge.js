// Juror scoring page: zoom/pan, live total, draft autosave, keyboard.
// The page works without this file: the form posts normally and the image fits the window.
import Panzoom from "../vendor/panzoom-4.6.2/panzoom.es.js";

const form = document.getElementById("score-form");
const csrf = document.querySelector('meta[name="csrf-token"]')?.content || "";
const statusEl = document.getElementById("save-status");
const totalEl = document.getElementById("total");
const inputs = form ? [...form.querySelectorAll("input.judge-points")] : [];
const comment = form ? form.querySelector("textarea[name=comment]") : null;
const editable = form && !form.querySelector("fieldset").disabled;
const AUTOSAVE_DELAY_MS = 900;

// ---------------------------------------------------------------- viewer
const viewer = document.getElementById("viewer");
const poster = document.getElementById("poster");
let panzoom = null;

function setupViewer() {
  if (!viewer || !poster) return;
  panzoom = Panzoom(poster, { maxScale: 8, minScale: 1, step: 0.35, panOnlyWhenZoomed: true,
    cursor: "grab" });
  viewer.addEventListener("wheel", (e) => panzoom.zoomWithWheel(e));
  viewer.addEventListener("dblclick", (e) => {
    if (panzoom.getScale() > 1.05) panzoom.reset();
    else panzoom.zoomToPoint(3, e);
  });
  document.querySelectorAll("[data-zoom]").forEach((btn) => {
    btn.hidden = false;
    btn.addEventListener("click", () => zoom(btn.dataset.zoom));
  });
  document.querySelector(".judge-zoom-hint")?.removeAttribute("hidden");
}

function zoom(how) {
  if (!panzoom) return;
  if (how === "in") panzoom.zoomIn();
  else if (how === "out") panzoom.zoomOut();
  else panzoom.reset();
}

// ---------------------------------------------------------------- points
function checkPoints(input) {
  // Same rule as contest.judging.parse_points: empty, or 0..max in steps of 0.5.
  const raw = input.value.trim();
  const max = Number(input.dataset.max);
  const name = input.dataset.criterion;
  if (input.validity.badInput) return `“${name}”的得分应在0～${max}分之间（当前：无效数字）`;
  if (raw === "") return "";
  const n = Number(raw.replace("，", ".").replace(",", "."));
  if (!Number.isFinite(n) || n < 0 || n > max) return `“${name}”的得分应在0～${max}分之间（当前：${raw}）`;
  if (n * 2 !== Math.floor(n * 2)) return `“${name}”的得分只能是整数或半分（当前：${raw}）`;
  return "";
}

function showError(input, message) {
  const box = form.querySelector(`[data-error-for="${input.name}"]`);
  if (box) box.textContent = message;
  input.closest(".judge-crit")?.classList.toggle("has-error", Boolean(message));
  input.setAttribute("aria-invalid", message ? "true" : "false");
}

function updateTotal() {
  let total = 0;
  let ok = true;
  for (const input of inputs) {
    const message = checkPoints(input);
    showError(input, message);
    if (message) ok = false;
    else if (input.value.trim() !== "") total += Number(input.value.replace("，", ".").replace(",", "."));
  }
  if (totalEl) totalEl.textContent = String(Math.round(total * 2) / 2);
  return ok;
}

// ---------------------------------------------------------------- saving
let dirty = false;
let timer = null;
let inflight = null;

function setStatus(text, isError = false) {
  if (!statusEl) return;
  statusEl.textContent = text;
  statusEl.classList.toggle("err", isError);
}

async function save() {
  clearTimeout(timer);
  if (!editable) return true;
  if (inflight) await inflight.catch(() => {});
  if (!dirty) return true;
  if (!updateTotal()) {
    setStatus("有评分项需要修改，尚未保存", true);
    return false;
  }
  const body = new FormData(form);
  body.set("save", "1");
  dirty = false;
  setStatus("正在保存…");
  inflight = fetch(window.location.pathname, {
    method: "POST", body, credentials: "same-origin",
    headers: { "X-CSRFToken": csrf, "X-Requested-With": "fetch", Accept: "application/json" },
  });
  try {
    const res = await inflight;
    const data = await res.json().catch(() => ({ ok: false, message: "保存失败，请重试" }));
    if (!data.ok) {
      dirty = true;
      for (const [name, errs] of Object.entries(data.errors || {})) {
        const input = form.querySelector(`[name="${name}"]`);
        if (input && input.classList.contains("judge-points")) showError(input, errs.join(""));
      }
      setStatus(data.message || "保存失败，请重试", true);
      return false;
    }
    setStatus(`已保存 ${data.saved_at}${data.complete ? "" : "（尚未评完所有评分项）"}`);
    const pos = document.querySelector(".judge-pos");
    if (pos) pos.textContent = pos.textContent.replace(/已评 \d+ \/ \d+/, `已评 ${data.scored} / ${data.assigned}`);
    return true;
  } catch (err) {
    dirty = true;
    setStatus("网络异常，尚未保存；请检查网络后按 Ctrl+S 重试", true);
    return false;
  } finally {
    inflight = null;
  }
}

function scheduleSave() {
  dirty = true;
  setStatus("有未保存的修改");
  clearTimeout(timer);
  timer = setTimeout(save, AUTOSAVE_DELAY_MS);
}

async function go(url) {
  if (!url) return;
  if (await save()) window.location.assign(url);
}

// ---------------------------------------------------------------- keyboard
function isTyping(el) {
  return el && (el.tagName === "TEXTAREA" || (el.tagName === "INPUT" && el.type !== "checkbox"));
}

function onKey(e) {
  if (!form) return;
  if ((e.ctrlKey || e.metaKey) && e.key.toLowerCase() === "s") {
    e.preventDefault();
    dirty = dirty || editable;
    save();
    return;
  }
  if (e.key === "PageDown" && !e.altKey) {
    e.preventDefault();
    go(form.dataset.nextUrl || form.dataset.queueUrl);
    return;
  }
  if (e.key === "PageUp" && !e.altKey) {
    e.preventDefault();
    go(form.dataset.prevUrl);
    return;
  }
  const target = e.target;
  if (e.key === "Enter" && target.classList?.contains("judge-points")) {
    e.preventDefault();  // Enter would submit the form; here it moves on
    const i = inputs.indexOf(target);
    if (i >= 0 && i + 1 < inputs.length) inputs[i + 1].focus();
    else comment?.focus();
    inputs[i + 1]?.select?.();
    return;
  }
  if (e.key === "Escape" && isTyping(target)) {
    target.blur();
    return;
  }
  if (!isTyping(target) && !e.ctrlKey && !e.metaKey && !e.altKey) {
    if (e.key === "+" || e.key === "=") zoom("in");
    else if (e.key === "-" || e.key === "_") zoom("out");
    else if (e.key === "0") zoom("reset");
  }
}

// ---------------------------------------------------------------- wiring
setupViewer();
if (form) {
  updateTotal();
  for (const input of [...inputs, comment].filter(Boolean)) {
    input.addEventListener("input", () => { updateTotal(); scheduleSave(); });
    input.addEventListener("blur", () => { if (dirty) save(); });
  }
  document.addEventListener("keydown", onKey);
  document.querySelectorAll("[data-nav]").forEach((a) => {
    a.addEventListener("click", (e) => {
      if (!dirty) return;
      e.preventDefault();
      go(a.href);
    });
  });
  window.addEventListener("pagehide", () => {
    if (!dirty || !editable) return;
    // last resort: the form data carries its own CSRF token, so a beacon can save it
    const body = new FormData(form);
    body.set("save", "1");
    navigator.sendBeacon(window.location.pathname, body);
  });
  inputs[0]?.select?.();
}
