// Sync dashboard: reads the Coordinator's HTTP API every few seconds and renders it with DOM calls
// (textContent only, so a job name or a record never becomes markup). Changing calls send the API
// key kept in sessionStorage (Coordinator__ApiKey); without one the Coordinator accepts them from
// loopback only.
"use strict";

const keyStorage = "sync.apiKey";
const refreshInterval = 5000;
const activeStates = ["Extracting", "Loading"];
const view = { job: null, run: null, timer: 0 };

function apiKey() {
  return sessionStorage.getItem(keyStorage) || "";
}

async function api(path, options = {}) {
  // X-Sync-Client: the Coordinator takes changes only with a header a cross-site form cannot send.
  const headers = { Accept: "application/json", "X-Sync-Client": "dashboard", ...(options.headers || {}) };
  if (apiKey()) {
    headers["X-Api-Key"] = apiKey();
  }
  const response = await fetch(path, { ...options, headers });
  const text = await response.text();
  const body = text ? JSON.parse(text) : null;
  if (!response.ok) {
    const title = body && body.title ? body.title : `${response.status} ${response.statusText}`;
    throw new Error(body && body.detail ? `${title} ${body.detail}` : title);
  }
  return body;
}

function post(path, body) {
  return api(path, {
    method: "POST",
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) {
    node.textContent = String(text);
  }
  if (className) {
    node.className = className;
  }
  return node;
}

function cell(row, text, className) {
  const td = el("td", text, className);
  row.appendChild(td);
  return td;
}

function badge(text, className) {
  return el("span", text, `badge ${className || text}`);
}

function button(text, onClick, className) {
  const b = el("button", text, className);
  b.type = "button";
  b.addEventListener("click", onClick);
  return b;
}

function number(value) {
  return value === null || value === undefined ? "—" : Number(value).toLocaleString("en-US");
}

function time(value) {
  return value ? new Date(value).toLocaleString("sv-SE") : "—";
}

function duration(ms) {
  if (ms === null || ms === undefined) {
    return "—";
  }
  const seconds = ms / 1000;
  if (seconds < 60) {
    return `${seconds.toFixed(1)} s`;
  }
  if (seconds < 3600) {
    return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  }
  if (seconds < 86400) {
    return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
  }
  return `${Math.floor(seconds / 86400)} d ${Math.round((seconds % 86400) / 3600)} h`;
}

function rowsPerSecond(run) {
  return run.durationMs ? run.processed / Math.max(run.durationMs / 1000, 0.001) : null;
}

function say(text, isError) {
  const message = document.getElementById("message");
  message.textContent = text;
  message.className = isError ? "error" : "";
  message.hidden = !text;
}

async function act(label, call) {
  try {
    const result = await call();
    say(`${label}: done${result && result.runId ? ` (run ${result.runId})` : ""}.`);
  } catch (error) {
    say(`${label}: ${error.message}`, true);
  }
  await refresh();
}

function replaceRows(tableId, rows) {
  const body = document.querySelector(`#${tableId} tbody`);
  body.replaceChildren(...rows);
}

function renderJobs(jobs) {
  if (!view.job && jobs.length > 0) {
    view.job = jobs[0].name;
  }
  replaceRows("jobs", jobs.map((job) => {
    const row = el("tr");
    row.dataset.job = job.name;
    if (job.name === view.job) {
      row.className = "selected";
    }
    cell(row, null, "name").appendChild(button(job.name, () => selectJob(job.name), "link"));
    if (job.valid === false) {
      renderInvalidJob(row, job);
      return row;
    }
    const last = job.lastRun;
    const running = last && activeStates.includes(last.state);
    const state = cell(row, null, "state");
    state.appendChild(badge(running ? "running" : "idle", running ? "running" : "idle"));
    if (job.paused) {
      state.append(" ", badge("paused"));
    }
    const schedule = cell(row, job.schedule || "manual", "schedule");
    if (job.nextRun) {
      schedule.title = `next run ${time(job.nextRun)} (this browser's time; schedules are in UTC)`;
    }
    const lastCell = cell(row, null, "last-run");
    if (last) {
      lastCell.append(badge(last.state), " ", time(last.startedAt));
    } else {
      lastCell.textContent = "never";
    }
    cell(row, last ? number(last.processed) : "—", "num rows");
    const watermark = job.lastSync ? time(job.lastSync) : job.watermark || "—";
    const mark = cell(row, watermark.length > 40 ? `${watermark.slice(0, 40)}…` : watermark, "watermark");
    mark.title = job.watermark || "";
    cell(row, job.lastSync ? duration(Date.now() - new Date(job.lastSync).getTime()) : "—", "lag");
    const verified = cell(row, null, "verified");
    const check = job.lastVerification;
    if (check) {
      verified.append(badge(check.outcome), " ", time(check.verifiedAt));
      verified.title = check.reason || `${number(check.mismatched)} key(s) differ`;
    } else {
      verified.textContent = "never";
    }
    const actions = cell(row, null, "actions");
    actions.appendChild(button("Run now", () => act(`Run ${job.name}`, () => post(`/api/jobs/${encodeURIComponent(job.name)}/runs`))));
    actions.appendChild(button("Verify", () => act(`Verify ${job.name}`, () => post(`/api/jobs/${encodeURIComponent(job.name)}/verify`))));
    actions.appendChild(job.paused
      ? button("Resume", () => act(`Resume ${job.name}`, () => post(`/api/jobs/${encodeURIComponent(job.name)}/resume`)))
      : button("Pause", () => act(`Pause ${job.name}`, () => post(`/api/jobs/${encodeURIComponent(job.name)}/pause`))));
    return row;
  }));
}

// A job file with errors: its job does not run, and the row lists every error (file:line:column: field: message. Fix: …).
function renderInvalidJob(row, job) {
  row.classList.add("invalid");
  cell(row, null, "state").appendChild(badge("invalid"));
  cell(row, "—", "schedule");
  const errors = cell(row, null, "errors");
  errors.colSpan = 6;
  errors.appendChild(el("p", `${job.file}: this job does not run until the file is fixed and the Coordinator restarted.`));
  const list = el("ul");
  for (const error of job.errors) {
    list.appendChild(el("li", error.text));
  }
  errors.appendChild(list);
}

function renderRuns(runs) {
  document.getElementById("runs-job").textContent = view.job || "—";
  replaceRows("runs", runs.map((run) => {
    const row = el("tr");
    row.dataset.run = run.runId;
    if (run.runId === view.run) {
      row.className = "selected";
    }
    row.addEventListener("click", () => selectRun(run.runId));
    cell(row, time(run.startedAt));
    cell(row, run.trigger);
    cell(row).appendChild(badge(run.state));
    cell(row, `${run.loadedBatches}/${run.expectedBatches ?? "?"}`, "num");
    cell(row, number(run.processed), "num rows");
    cell(row, number(run.inserted), "num");
    cell(row, number(run.updated), "num");
    cell(row, number(run.skipped), "num");
    cell(row, number(run.errors), "num");
    cell(row, duration(run.durationMs), "num");
    const rate = rowsPerSecond(run);
    cell(row, rate === null ? "—" : number(Math.round(rate)), "num");
    return row;
  }));
  drawThroughput(runs.slice().reverse());
}

function svg(tag, attributes, text) {
  const node = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [name, value] of Object.entries(attributes)) {
    node.setAttribute(name, String(value));
  }
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}

function drawThroughput(runs) {
  const chart = document.getElementById("throughput");
  const width = 720, height = 180, left = 56, bottom = 22, top = 12;
  const rates = runs.map((run) => rowsPerSecond(run) || 0);
  const max = Math.max(1, ...rates);
  const nodes = [
    svg("line", { class: "axis", x1: left, y1: top, x2: left, y2: height - bottom }),
    svg("line", { class: "axis", x1: left, y1: height - bottom, x2: width - 4, y2: height - bottom }),
    svg("text", { x: left - 6, y: top + 8, "text-anchor": "end" }, number(Math.round(max))),
    svg("text", { x: left - 6, y: height - bottom, "text-anchor": "end" }, "0"),
  ];
  if (runs.length === 0) {
    nodes.push(svg("text", { x: left + 12, y: height / 2 }, "no runs yet"));
  }
  const slot = (width - left - 8) / Math.max(runs.length, 1);
  runs.forEach((run, i) => {
    const barHeight = ((height - top - bottom) * rates[i]) / max;
    const bar = svg("rect", {
      class: `bar ${run.state}`,
      x: left + 4 + i * slot,
      y: height - bottom - barHeight,
      width: Math.min(48, Math.max(2, slot - 6)),
      height: Math.max(barHeight, 1),
    });
    bar.appendChild(svg("title", {}, `${time(run.startedAt)}: ${number(Math.round(rates[i]))} rows/s, ${number(run.processed)} rows (${run.state})`));
    nodes.push(bar);
  });
  nodes.push(svg("text", { x: width - 6, y: height - 6, "text-anchor": "end" }, "rows/s per run"));
  chart.replaceChildren(...nodes);
}

async function renderRunDetail() {
  const detail = document.getElementById("run-detail");
  if (!view.run) {
    detail.hidden = true;
    return;
  }
  const metrics = await api(`/api/runs/${view.run}/metrics`);
  const heading = el("h3", `Run ${metrics.run.runId}: ${number(metrics.batches)} batches, ${number(metrics.batchRows)} rows, ${number(metrics.rowsPerSecond)} rows/s`);
  const table = el("table");
  const head = el("tr");
  for (const name of ["Batch", "Rows", "Inserted", "Updated", "Skipped", "Failed", "Loaded at"]) {
    head.appendChild(el("th", name, name === "Loaded at" ? "" : "num"));
  }
  table.appendChild(el("thead")).appendChild(head);
  const body = table.appendChild(el("tbody"));
  for (const batch of metrics.batchDetails.slice(0, 200)) {
    const row = body.appendChild(el("tr"));
    for (const value of [batch.batchSeq, batch.rows, batch.inserted, batch.updated, batch.skipped, batch.failed]) {
      cell(row, number(value), "num");
    }
    cell(row, time(batch.loadedAt));
  }
  const parts = [heading, table];
  if (metrics.run.failureReason) {
    parts.splice(1, 0, el("p", metrics.run.failureReason, "error"));
  }
  detail.replaceChildren(...parts);
  detail.hidden = false;
}

function renderDeadLetters(letters) {
  replaceRows("dead-letters", letters.map((letter) => {
    const row = el("tr");
    row.dataset.deadLetter = letter.id;
    cell(row, letter.id, "num");
    cell(row, letter.jobName);
    cell(row, letter.kind);
    cell(row, letter.stage);
    cell(row).appendChild(badge(letter.status));
    cell(row, letter.attempts, "num");
    cell(row, letter.error, "error");
    const record = letter.record === null || letter.record === undefined ? "" : JSON.stringify(letter.record);
    const recordCell = cell(row, record.length > 160 ? `${record.slice(0, 160)}…` : record, "record");
    recordCell.title = record;
    cell(row, time(letter.createdAt));
    const actions = cell(row, null, "actions");
    if (letter.status === "pending" && letter.kind === "record") {
      actions.appendChild(button("Replay", () => act(`Replay dead letter ${letter.id}`,
        () => post(`/api/jobs/${encodeURIComponent(letter.jobName)}/dead-letters/replay`, { ids: [letter.id] })), "replay"));
    } else if (letter.status === "pending" && letter.queue) {
      actions.appendChild(button("Replay queue", () => act(`Replay ${letter.queue}_error`,
        () => post(`/api/error-queues/${encodeURIComponent(letter.queue)}/replay`)), "replay"));
    }
    return row;
  }));
}

function deadLetterQuery() {
  const query = new URLSearchParams({ limit: "200" });
  const status = document.getElementById("dl-status").value;
  if (status) {
    query.set("status", status);
  }
  if (document.getElementById("dl-selected").checked && view.job) {
    query.set("job", view.job);
  }
  return `/api/dead-letters?${query}`;
}

async function refresh() {
  clearTimeout(view.timer);
  try {
    const jobs = await api("/api/jobs");
    renderJobs(jobs);
    const [runs, letters] = await Promise.all([
      view.job ? api(`/api/jobs/${encodeURIComponent(view.job)}/runs?limit=30`) : Promise.resolve([]),
      api(deadLetterQuery()),
    ]);
    renderRuns(runs);
    renderDeadLetters(letters);
    await renderRunDetail();
    document.getElementById("updated").textContent = `updated ${new Date().toLocaleTimeString("sv-SE")}`;
    document.body.dataset.refreshed = String(Number(document.body.dataset.refreshed || 0) + 1);
  } catch (error) {
    say(`Could not read the API: ${error.message}`, true);
  }
  view.timer = setTimeout(refresh, refreshInterval);
}

function selectJob(name) {
  view.job = name;
  view.run = null;
  refresh();
}

function selectRun(runId) {
  view.run = view.run === runId ? null : runId;
  refresh();
}

function showKeyState() {
  document.getElementById("key-state").textContent = apiKey() ? "key set for this tab" : "no key";
}

document.getElementById("key-form").addEventListener("submit", (event) => {
  event.preventDefault();
  const input = document.getElementById("api-key");
  sessionStorage.setItem(keyStorage, input.value);
  input.value = "";
  showKeyState();
  say("");
  refresh();
});
document.getElementById("forget-key").addEventListener("click", () => {
  sessionStorage.removeItem(keyStorage);
  showKeyState();
});
document.getElementById("dl-status").addEventListener("change", refresh);
document.getElementById("dl-selected").addEventListener("change", refresh);
showKeyState();
refresh();
