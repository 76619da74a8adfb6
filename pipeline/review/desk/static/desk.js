// The queue with the keyboard (progressive: without this script the forms post and the page reloads).
// J / K: next / previous finding; Space: play or pause its clip; Y: uphold; N: overturn;
// U: undo the last verdict given here (a new verdict that restores the finding's previous status).
(function () {
  "use strict";
  const table = document.getElementById("queue");
  if (!table) return;
  const rows = () => Array.from(table.querySelectorAll("tr[data-event]"));
  const undo = [];
  let current = 0;

  function select(i) {
    const all = rows();
    if (!all.length) return;
    current = Math.max(0, Math.min(i, all.length - 1));
    all.forEach((row, j) => row.classList.toggle("current", j === current));
    all[current].scrollIntoView({ block: "nearest" });
  }

  function playOrPause(row) {
    const clip = row.querySelector("audio");
    if (!clip) return;
    table.querySelectorAll("audio").forEach((other) => { if (other !== clip) other.pause(); });
    if (clip.paused) clip.play(); else clip.pause();
  }

  async function decide(row, verdict) {
    const form = row.querySelector("form");
    const data = new FormData(form);
    data.set("verdict", verdict);
    const cell = row.querySelector(".status");
    const answer = await fetch(form.action, {
      method: "POST", body: data, credentials: "same-origin", headers: { Accept: "application/json" },
    });
    if (!answer.ok) {
      cell.textContent = "提交失败：" + (answer.status === 403 ? "请刷新页面" : answer.status);
      return null;
    }
    const outcome = await answer.json();
    cell.className = "status " + outcome.status;
    cell.textContent = outcome.status_name + (outcome.scorecards_updated ? "" : "（得分待重算）");
    row.dataset.status = outcome.status;
    return outcome;
  }

  async function give(row, verdict) {
    const before = row.dataset.status;
    if (await decide(row, verdict)) undo.push({ row: row, before: before });
  }

  table.addEventListener("submit", (event) => {
    event.preventDefault();
    const row = event.target.closest("tr");
    const verdict = event.submitter ? event.submitter.value : "upheld";
    select(rows().indexOf(row));
    give(row, verdict);
  });
  table.addEventListener("click", (event) => {
    const row = event.target.closest("tr[data-event]");
    if (row && !event.target.closest("button")) select(rows().indexOf(row));
  });
  document.addEventListener("keydown", async (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.target.closest && event.target.closest("input, select, textarea")) return;
    const row = rows()[current];
    if (!row) return;
    const key = event.key.toLowerCase();
    if (key === "j") select(current + 1);
    else if (key === "k") select(current - 1);
    else if (key === " ") playOrPause(row);
    else if (key === "y" || key === "n") {
      event.preventDefault();
      const clip = row.querySelector("audio");
      if (clip) clip.pause();
      await give(row, key === "y" ? "upheld" : "overturned");
      select(current + 1);
      return;
    } else if (key === "u") {
      const last = undo.pop();
      if (last) {
        await decide(last.row, last.before === "open" ? "reopened" : last.before);
        select(rows().indexOf(last.row));
      }
    } else return;
    event.preventDefault();
  });
  select(0);
})();

// The call page in sync: the whole call's player, the timeline (a click seeks; a red line follows
// the audio), each finding's "hear it in the call" button, and the transcript (the row being
// spoken is highlighted; a click on a row plays from there).
(function () {
  "use strict";
  const player = document.getElementById("call-audio");
  if (!player) return;
  const timeline = document.querySelector("svg.timeline");
  const rows = Array.from(document.querySelectorAll("#transcript tr[data-start]"));

  function playFrom(seconds) {
    document.querySelectorAll("audio").forEach((other) => { if (other !== player) other.pause(); });
    player.currentTime = Math.max(0, seconds);
    player.play();
  }

  if (timeline) {
    const left = Number(timeline.dataset.left), right = Number(timeline.dataset.right);
    const duration = Number(timeline.dataset.duration);
    const head = timeline.querySelector("line.playhead");
    timeline.addEventListener("click", (event) => {
      const box = timeline.getBoundingClientRect();
      const x = (event.clientX - box.left) * (timeline.viewBox.baseVal.width / box.width);
      if (x < left || x > right) return;
      const finding = event.target.closest("rect.finding");
      playFrom(finding ? Number(finding.dataset.start) : ((x - left) / (right - left)) * duration);
    });
    player.addEventListener("timeupdate", () => {
      const x = left + (right - left) * Math.min(1, player.currentTime / duration);
      head.setAttribute("x1", x); head.setAttribute("x2", x);
    });
  }
  document.querySelectorAll("button.seek").forEach((button) => {
    button.addEventListener("click", () => playFrom(Number(button.dataset.seek)));
  });
  rows.forEach((row) => row.addEventListener("click", () => playFrom(Number(row.dataset.start))));
  player.addEventListener("timeupdate", () => {
    const now = player.currentTime;
    rows.forEach((row) => {
      row.classList.toggle("speaking", now >= Number(row.dataset.start) && now < Number(row.dataset.end));
    });
  });
})();
