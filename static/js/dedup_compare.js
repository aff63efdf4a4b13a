// 查重对比 (templates/admin/dedup/pair.html): switch between the difference image, a slider
// ("卷帘"), a blink comparison and a fade of A against B aligned onto A. Without JavaScript the
// page shows the difference image and the aligned B side by side.
const root = document.querySelector("[data-dd-compare]");

if (root) {
  const modes = root.querySelector(".dd-modes");
  const views = root.querySelector(".dd-views");
  const diff = root.querySelector('[data-view="diff"]');
  const aligned = root.querySelector('[data-view="aligned"]');
  const stage = root.querySelector('[data-view="stage"]');
  const stack = stage.querySelector(".dd-stack");
  const over = stage.querySelector(".dd-over");
  const divider = stage.querySelector(".dd-divider");
  const range = stage.querySelector('input[type="range"]');
  const rangeLabel = stage.querySelector(".dd-range-label");
  let timer = null;
  let mode = "diff";

  const setSplit = (pct) => {
    over.style.clipPath = `inset(0 0 0 ${pct}%)`;
    divider.style.left = `${pct}%`;
  };

  const apply = () => {
    const v = Number(range.value);
    if (mode === "slider") setSplit(v);
    if (mode === "fade") over.style.opacity = String(v / 100);
  };

  const show = (next) => {
    mode = next;
    clearInterval(timer);
    timer = null;
    for (const b of modes.querySelectorAll("button")) {
      b.setAttribute("aria-pressed", String(b.dataset.mode === next));
    }
    diff.hidden = next !== "diff";
    aligned.hidden = true;
    stage.hidden = next === "diff";
    stage.classList.toggle("dd-blink", next === "blink");
    stage.classList.toggle("dd-fade", next === "fade");
    over.style.clipPath = "";
    over.style.opacity = "1";
    range.parentElement.hidden = next === "blink";
    if (next === "slider") {
      rangeLabel.textContent = "分界位置";
      range.value = "50";
    } else if (next === "fade") {
      rangeLabel.textContent = "B 的透明度";
      range.value = "50";
    } else if (next === "blink") {
      let showB = true;
      timer = setInterval(() => {
        showB = !showB;
        over.style.opacity = showB ? "1" : "0";
      }, 600);
    }
    apply();
  };

  // drag on the image to move the slider
  const dragTo = (event) => {
    if (mode !== "slider") return;
    const box = stack.getBoundingClientRect();
    const pct = Math.min(100, Math.max(0, ((event.clientX - box.left) / box.width) * 100));
    range.value = String(Math.round(pct));
    apply();
  };
  stack.addEventListener("pointerdown", (event) => {
    stack.setPointerCapture(event.pointerId);
    dragTo(event);
  });
  stack.addEventListener("pointermove", (event) => {
    if (stack.hasPointerCapture(event.pointerId)) dragTo(event);
  });
  range.addEventListener("input", apply);
  modes.addEventListener("click", (event) => {
    const button = event.target.closest("button[data-mode]");
    if (button) show(button.dataset.mode);
  });

  root.classList.add("dd-js");
  views.classList.add("dd-js");
  modes.hidden = false;
  show("diff");
}
