// Editors' 评审轮次 pages: add/remove rubric rows, live rubric total, show the later-round
// section only for 复评/终评, confirm buttons (data-confirm). Everything works without JS:
// blank rubric rows are rendered by the server and emptied rows are ignored.

function renumber(tbody) {
  // WTForms FieldList names rows criteria-0-name, criteria-1-name, ...; keep them dense.
  [...tbody.querySelectorAll("tr.rubric-row")].forEach((tr, i) => {
    tr.querySelectorAll("input").forEach((input) => {
      input.name = input.name.replace(/^criteria-\d+-/, `criteria-${i}-`);
      input.id = input.name;
    });
  });
}

function updateTotal(table) {
  const out = document.getElementById("rubric-total");
  if (!out) return;
  let total = 0;
  table.querySelectorAll("input[name$='-max_points']").forEach((input) => {
    const v = parseFloat(input.value);
    if (!Number.isNaN(v)) total += v;
  });
  out.textContent = `${Math.round(total * 10) / 10} 分`;
  out.classList.toggle("error", total > 100);
}

function setupRubric() {
  const table = document.getElementById("rubric");
  if (!table) return;
  const tbody = table.querySelector("tbody");
  document.querySelectorAll(".js-only").forEach((el) => { el.hidden = false; });
  table.addEventListener("click", (event) => {
    const button = event.target.closest(".remove-row");
    if (!button) return;
    const rows = tbody.querySelectorAll("tr.rubric-row");
    const row = button.closest("tr");
    if (rows.length <= 1) {
      row.querySelectorAll("input").forEach((input) => { input.value = ""; });
    } else {
      row.remove();
    }
    renumber(tbody);
    updateTotal(table);
  });
  table.addEventListener("input", () => updateTotal(table));
  const add = document.getElementById("add-row");
  if (add) {
    add.addEventListener("click", () => {
      const template = tbody.querySelector("tr.rubric-row:last-child");
      const row = template.cloneNode(true);
      row.classList.remove("has-error");
      row.querySelectorAll("input").forEach((input) => { input.value = ""; });
      row.querySelectorAll(".error").forEach((el) => el.remove());
      tbody.appendChild(row);
      renumber(tbody);
      row.querySelector("input").focus();
    });
  }
  updateTotal(table);
}

function setupKind() {
  const section = document.getElementById("later-round");
  const radios = document.querySelectorAll("input[name='kind']");
  if (!section || !radios.length) return;
  const perEntry = document.querySelector("input[name='jurors_per_entry']");
  const sync = () => {
    const kind = document.querySelector("input[name='kind']:checked")?.value;
    section.hidden = kind === "preliminary";
  };
  radios.forEach((r) => r.addEventListener("change", () => {
    sync();
    const kind = r.value;
    const name = document.querySelector("input[name='name']");
    const labels = { preliminary: "初评", second: "复评", final: "终评" };
    if (name && Object.values(labels).includes(name.value.trim())) name.value = labels[kind];
    if (perEntry && kind === "final" && perEntry.value === "3") perEntry.value = "";
  }));
  sync();
}

function setupConfirm() {
  document.querySelectorAll("form[data-confirm]").forEach((form) => {
    form.addEventListener("submit", (event) => {
      if (!window.confirm(form.dataset.confirm)) event.preventDefault();
    });
  });
}

function setupCopy() {
  document.querySelectorAll("[data-copy]").forEach((button) => {
    button.hidden = false;
    button.addEventListener("click", async () => {
      const source = document.getElementById(button.dataset.copy);
      try {
        await navigator.clipboard.writeText(source.value ?? source.textContent);
        button.textContent = "已复制";
      } catch {
        source.select?.();
        button.textContent = "请按 Ctrl+C 复制";
      }
    });
  });
}

setupRubric();
setupKind();
setupConfirm();
setupCopy();
