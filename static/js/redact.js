// Redaction editor: drag rectangles over the poster (mouse, pen or touch via Pointer
// Events), save them as fractions of the displayed image, see the rebuilt juror image.
// Without this script the page still lists and removes boxes and adds them in percent.

const MIN_FRACTION = 0.004; // smaller drags are treated as clicks (service minimum: 0.002)

const stage = document.getElementById("redact-stage");
const image = document.getElementById("redact-image");
const saveButton = document.getElementById("save-redactions");
const clearButton = document.getElementById("clear-pending");
const statusEl = document.getElementById("redact-status");
const jurorImage = document.getElementById("juror-image");
const savedList = document.getElementById("saved-list");
const csrfToken = document.querySelector("meta[name='csrf-token']")?.content ?? "";

let pending = []; // [{x, y, w, h, el}]
let drag = null; // {x0, y0, el, pointerId}

function clamp(v) { return Math.min(1, Math.max(0, v)); }

function fractionAt(event) {
  const box = image.getBoundingClientRect();
  return { x: clamp((event.clientX - box.left) / box.width),
           y: clamp((event.clientY - box.top) / box.height) };
}

function placeBox(el, r) {
  el.style.left = `${r.x * 100}%`;
  el.style.top = `${r.y * 100}%`;
  el.style.width = `${r.w * 100}%`;
  el.style.height = `${r.h * 100}%`;
}

function say(text, isError = false) {
  statusEl.textContent = text;
  statusEl.classList.toggle("error", isError);
}

function refreshButtons() {
  saveButton.disabled = pending.length === 0;
  clearButton.disabled = pending.length === 0;
  if (pending.length) say(`有 ${pending.length} 个新框未保存`);
}

function pct(v) { return (v * 100).toFixed(1); }

function renderSaved(state) {
  stage.querySelectorAll(".redact-box.saved").forEach((el) => el.remove());
  state.redactions.forEach((r, i) => {
    const el = document.createElement("div");
    el.className = "redact-box saved";
    el.innerHTML = `<span class="box-label">${i + 1}</span>`;
    placeBox(el, r);
    stage.appendChild(el);
  });
  savedList.replaceChildren();
  if (!state.redactions.length) {
    const li = document.createElement("li");
    li.className = "muted empty";
    li.textContent = "还没有遮挡区域。";
    savedList.appendChild(li);
  }
  state.redactions.forEach((r) => {
    const li = document.createElement("li");
    li.textContent = `左 ${pct(r.x)}%，上 ${pct(r.y)}%，宽 ${pct(r.w)}%，高 ${pct(r.h)}% `;
    const button = document.createElement("button");
    button.type = "button";
    button.className = "btn small danger";
    button.textContent = "移除";
    button.addEventListener("click", () => removeSaved(r.delete_url, button));
    li.appendChild(button);
    savedList.appendChild(li);
  });
  if (state.juror_image) {
    jurorImage.src = state.juror_image;
    jurorImage.hidden = false;
    document.getElementById("juror-image-missing")?.remove();
  }
}

async function post(url, body) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json",
               "X-CSRFToken": csrfToken },
    body: body === undefined ? "{}" : JSON.stringify(body),
  });
  let data = null;
  try { data = await response.json(); } catch { data = null; }
  if (!response.ok || !data || data.error) {
    throw new Error(data?.error || `保存失败（错误代码 ${response.status}），请刷新页面后重试`);
  }
  return data;
}

async function save() {
  if (!pending.length) return;
  saveButton.disabled = true;
  say("正在保存并重新生成评委图片…");
  try {
    const rects = pending.map(({ x, y, w, h }) => ({ x, y, w, h }));
    const state = await post(stage.dataset.saveUrl, { rects });
    pending.forEach((p) => p.el.remove());
    pending = [];
    renderSaved(state);
    refreshButtons();
    say("已保存，评委图片已更新");
  } catch (err) {
    saveButton.disabled = false;
    say(err.message, true);
  }
}

async function removeSaved(url, button) {
  if (!window.confirm("移除这个遮挡区域？评委图片将重新生成。")) return;
  button.disabled = true;
  try {
    renderSaved(await post(url));
    say("已移除，评委图片已更新");
  } catch (err) {
    button.disabled = false;
    say(err.message, true);
  }
}

function start(event) {
  if (event.button !== undefined && event.button !== 0) return;
  event.preventDefault();
  const p = fractionAt(event);
  const el = document.createElement("div");
  el.className = "redact-box pending";
  stage.appendChild(el);
  drag = { x0: p.x, y0: p.y, el, pointerId: event.pointerId };
  placeBox(el, { x: p.x, y: p.y, w: 0, h: 0 });
  stage.setPointerCapture?.(event.pointerId);
}

function rectOf(event) {
  const p = fractionAt(event);
  return { x: Math.min(drag.x0, p.x), y: Math.min(drag.y0, p.y),
           w: Math.abs(p.x - drag.x0), h: Math.abs(p.y - drag.y0) };
}

function move(event) {
  if (!drag || event.pointerId !== drag.pointerId) return;
  placeBox(drag.el, rectOf(event));
}

function end(event) {
  if (!drag || event.pointerId !== drag.pointerId) return;
  const r = rectOf(event);
  const { el } = drag;
  drag = null;
  if (r.w < MIN_FRACTION || r.h < MIN_FRACTION) {
    el.remove();
    return;
  }
  placeBox(el, r);
  pending.push({ ...r, el });
  el.innerHTML = `<span class="box-label">新${pending.length}</span>`;
  refreshButtons();
}

function cancel() {
  if (drag) { drag.el.remove(); drag = null; }
}

if (stage && image) {
  document.querySelectorAll(".js-only").forEach((el) => { el.hidden = false; });
  stage.addEventListener("pointerdown", start);
  stage.addEventListener("pointermove", move);
  stage.addEventListener("pointerup", end);
  stage.addEventListener("pointercancel", cancel);
  saveButton.addEventListener("click", save);
  clearButton.addEventListener("click", () => {
    pending.forEach((p) => p.el.remove());
    pending = [];
    refreshButtons();
    say("");
  });
  // Removing a saved box without leaving the page (the forms still work without JS).
  savedList.querySelectorAll("form.delete-redaction").forEach((form) => {
    const button = form.querySelector("button");
    button.type = "button";
    button.addEventListener("click", () => removeSaved(form.action, button));
  });
  window.addEventListener("beforeunload", (event) => {
    if (pending.length) event.preventDefault();
  });
}
