// 公众号图文 preview: live character counts, the cover focus picker (click or arrow keys),
// fresh cover crops and a preview URL that keeps the settings. Without JS the same form
// works through its number inputs and the 更新预览 button.
const form = document.getElementById("wx-form");

// Python's check_title/check_digest: whitespace runs folded, ends stripped, code points.
const countOf = (text) => [...text.replace(/\s+/g, " ").trim()].length;

function keepUrl() {
  const params = new URLSearchParams(new FormData(form));
  history.replaceState(null, "", `${form.action}?${params}`);
}

if (form) {
  for (const counter of document.querySelectorAll("[data-count-for]")) {
    const input = form.elements[counter.dataset.countFor];
    const max = Number(counter.dataset.max);
    const mirrors = document.querySelectorAll(`[data-mirror="${counter.dataset.countFor}"]`);
    const update = () => {
      const n = countOf(input.value);
      counter.textContent = `${n}/${max}`;
      counter.classList.toggle("over", n > max);
      for (const m of mirrors) m.textContent = input.value;
    };
    input.addEventListener("input", update);
    update();
  }

  const cover = form.elements.cover;
  if (cover) cover.addEventListener("change", () => form.requestSubmit());

  const picker = document.querySelector(".wx-picker");
  if (picker) {
    const fx = form.elements.fx;
    const fy = form.elements.fy;
    const dot = picker.querySelector(".wx-dot");
    const width = Number(picker.dataset.width);
    const height = Number(picker.dataset.height);
    const ratios = Object.fromEntries(picker.dataset.ratios.split(",").map((pair) => {
      const [shape, ratio] = pair.split(":");
      return [shape, Number(ratio)];
    }));
    const clamp01 = (v) => Math.min(1, Math.max(0, v));
    const round3 = (v) => Math.round(v * 1000) / 1000;

    // contest/wechat.py crop_box: the largest crop of the ratio, centred on the focus as
    // far as the image allows.
    function cropBox(aspect, x, y) {
      let cw, ch;
      if (width / height >= aspect) {
        ch = height; cw = Math.min(width, Math.max(1, Math.round(height * aspect)));
      } else {
        cw = width; ch = Math.min(height, Math.max(1, Math.round(width / aspect)));
      }
      const left = Math.min(Math.max(0, Math.round(x * width - cw / 2)), width - cw);
      const top = Math.min(Math.max(0, Math.round(y * height - ch / 2)), height - ch);
      return [left / width, top / height, cw / width, ch / height];
    }

    function draw() {
      const x = clamp01(Number(fx.value) || 0);
      const y = clamp01(Number(fy.value) || 0);
      dot.style.left = `${x * 100}%`;
      dot.style.top = `${y * 100}%`;
      for (const frame of picker.querySelectorAll(".wx-frame")) {
        const [l, t, w, h] = cropBox(ratios[frame.dataset.shape], x, y);
        Object.assign(frame.style, { left: `${l * 100}%`, top: `${t * 100}%`,
          width: `${w * 100}%`, height: `${h * 100}%` });
      }
    }

    let timer = null;
    function refreshCovers() {
      clearTimeout(timer);
      timer = setTimeout(() => {
        const query = new URLSearchParams({ cover: cover.value, fx: fx.value, fy: fy.value });
        for (const img of document.querySelectorAll("img[data-cover-shape]")) {
          img.src = `${form.dataset.coverUrl.replace("SHAPE", img.dataset.coverShape)}?${query}`;
        }
        keepUrl();
      }, 150);
    }

    function moveTo(x, y) {
      fx.value = round3(clamp01(x));
      fy.value = round3(clamp01(y));
      draw();
      refreshCovers();
    }

    picker.addEventListener("click", (event) => {
      const r = picker.querySelector("img").getBoundingClientRect();
      moveTo((event.clientX - r.left) / r.width, (event.clientY - r.top) / r.height);
    });
    picker.addEventListener("keydown", (event) => {
      const step = event.shiftKey ? 0.1 : 0.02;
      const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step],
        ArrowDown: [0, step] };
      const move = moves[event.key];
      if (!move) return;
      event.preventDefault();
      moveTo(Number(fx.value) + move[0], Number(fy.value) + move[1]);
    });
    for (const input of [fx, fy]) {
      input.addEventListener("change", () => { draw(); refreshCovers(); });
    }
    // no draw() on load: the server placed the dot and frames at the focus in force (a
    // refused value stays in its input, beside its error, but is not used)
  }
}
