// Dragging a bar on the plan page's Gantt moves the task: on release, the task gets a "start no earlier than"
// constraint on the day it was dropped on (what MS Project does when a bar is dragged). The task table and the edit
// form are the keyboard way to do the same.
const chart = document.querySelector("svg.gantt-chart");
const form = document.getElementById("move-form");
if (chart && form) {
  const dayWidth = parseFloat(chart.dataset.dayWidth);
  const status = document.getElementById("drag-status");
  let drag = null;

  const toSvgX = (event) => {
    const point = chart.createSVGPoint();
    point.x = event.clientX;
    point.y = event.clientY;
    return point.matrixTransform(chart.getScreenCTM().inverse()).x;
  };
  const addDays = (iso, days) => {
    const date = new Date(iso + "T00:00:00Z");
    date.setUTCDate(date.getUTCDate() + days);
    return date.toISOString().slice(0, 10);
  };

  chart.addEventListener("pointerdown", (event) => {
    const bar = event.target.closest("rect.bar[data-task]");
    if (!bar || event.button !== 0) return;
    event.preventDefault();
    bar.setPointerCapture(event.pointerId);
    drag = { bar, startX: toSvgX(event), days: 0 };
    bar.classList.add("dragging");
  });
  chart.addEventListener("pointermove", (event) => {
    if (!drag) return;
    const dx = toSvgX(event) - drag.startX;
    drag.days = Math.round(dx / dayWidth);
    drag.bar.setAttribute("transform", `translate(${drag.days * dayWidth} 0)`);
    if (status) status.textContent = drag.days === 0 ? "" : `Start ${addDays(drag.bar.dataset.start, drag.days)}`;
  });
  const finish = async () => {
    if (!drag) return;
    const { bar, days } = drag;
    drag = null;
    bar.classList.remove("dragging");
    if (days === 0) { bar.removeAttribute("transform"); return; }
    const body = new URLSearchParams(new FormData(form));
    body.set("task", bar.dataset.task);
    body.set("startsOn", addDays(bar.dataset.start, days));
    if (status) status.textContent = "Saving…";
    const response = await fetch(form.action, { method: "POST", body, credentials: "same-origin" });
    if (response.ok && response.redirected) {
      window.location.assign(response.url);
    } else {
      bar.removeAttribute("transform");
      if (status) status.textContent = response.status === 409
        ? "Someone else changed this plan meanwhile: reload to see it, then drag again."
        : "The task could not be moved there.";
    }
  };
  chart.addEventListener("pointerup", finish);
  chart.addEventListener("pointercancel", () => { if (drag) { drag.bar.removeAttribute("transform"); drag = null; } });
}
