// 评审结果: the notice page's print button (the browser's own print works without JS).
const button = document.getElementById("print-notice");
if (button) {
  button.addEventListener("click", () => window.print());
}
