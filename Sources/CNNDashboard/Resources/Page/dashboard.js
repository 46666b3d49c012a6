// CNNKit dashboard: reads the run's server-sent events (the `cnn train --json` events plus
// model, samples, snapshot and confusion messages) and draws them. No libraries, no network
// beyond this server.
"use strict";

const token = new URLSearchParams(location.search).get("token") || "";
const $ = (id) => document.getElementById(id);

const state = {
  start: null, model: null, samples: [], steps: [], smooth: [], epochs: [], rates: [],
  stats: {}, batchesPerEpoch: 1, live: false, paused: false, finished: false, lastBatch: null,
};

// MARK: - Stream

function connect() {
  const source = new EventSource("events?token=" + encodeURIComponent(token));
  source.onmessage = (message) => {
    let event;
    try { event = JSON.parse(message.data); } catch { return; }
    receive(event);
  };
  source.onerror = () => {
    if (source.readyState === EventSource.CLOSED) setStatus("disconnected", "disconnected (reload to retry)");
    else setStatus("disconnected", "reconnecting…");
  };
  source.onopen = () => { if (!state.start) setStatus("connecting", "connected, waiting for the run…"); };
}

function receive(event) {
  switch (event.event) {
    case "started": onStarted(event); break;
    case "batch": onBatch(event); break;
    case "epoch": onEpoch(event); break;
    case "finished": onFinished(event); break;
    case "control": onControl(event); break;
    case "model": onModel(event); break;
    case "samples": state.samples = event.samples; break;
    case "snapshot": onSnapshot(event); break;
    case "confusion": onConfusion(event); break;
  }
}

function onStarted(e) {
  // A log may hold several runs (a resume): each `started` begins the charts again.
  state.start = e; state.steps = []; state.smooth = []; state.epochs = []; state.rates = [];
  state.batchesPerEpoch = e.batches_per_epoch || 1; state.finished = false;
  state.rates.push({ x: 0, y: e.learning_rate });
  $("lr").value = e.learning_rate;
  $("model-name").textContent = `${e.model} · ${e.dataset || ""} · ${e.optimizer} · ${e.epochs} epochs of ${e.batches_per_epoch} steps`;
  setStatus("training", "training…");
  redraw();
}

function onBatch(e) {
  const x = (e.epoch - 1) * state.batchesPerEpoch + e.batch;
  const loss = Number(e.loss);
  state.steps.push({ x, y: loss });
  const previous = state.smooth.length ? state.smooth[state.smooth.length - 1].y : loss;
  const smoothed = Number.isFinite(loss) ? 0.95 * previous + 0.05 * loss : previous;
  state.smooth.push({ x, y: state.smooth.length ? smoothed : loss });
  state.lastBatch = e;
  if (!state.paused && performance.now() - lastRedraw > 150) setStatus("training",
    `epoch ${e.epoch}, step ${e.batch}/${e.batches} · loss ${loss.toFixed(4)} · ${Math.round(e.images_per_second).toLocaleString()} images/s`);
  redraw();
}

function onEpoch(e) {
  state.epochs.push(e);
  if (e.learning_rate) state.rates.push({ x: e.epoch * state.batchesPerEpoch, y: e.learning_rate });
  redraw();
}

function onFinished(e) {
  state.finished = true;
  const accuracy = e.test_accuracy == null ? "" : ` · test accuracy ${(100 * e.test_accuracy).toFixed(2)} %`;
  const why = e.stopped ? ` · stopped: ${e.message || e.stopped}` : "";
  setStatus("finished", `finished ${e.epochs} epochs in ${Number(e.total_seconds).toFixed(1)} s${accuracy}${why}`);
  $("controls").hidden = true;
  redraw();
}

function onControl(e) {
  if (e.action === "paused") { state.paused = true; setStatus("paused", `paused at epoch ${e.epoch}, step ${e.batch}`); }
  if (e.action === "resumed") { state.paused = false; setStatus("training", `resumed at epoch ${e.epoch}, step ${e.batch}`); }
  if (e.action === "learning_rate") {
    const x = (e.epoch - 1) * state.batchesPerEpoch + e.batch;
    state.rates.push({ x, y: e.previous_learning_rate }, { x, y: e.learning_rate });
    $("control-message").textContent = `learning rate set to ${e.learning_rate} at epoch ${e.epoch}, step ${e.batch}`;
  }
  $("pause").disabled = state.paused;
  $("resume").disabled = !state.paused;
  redraw();
}

function setStatus(kind, text) {
  $("status").dataset.state = kind;
  $("status").textContent = text;
}

// MARK: - Charts

// At most five redraws a second: the browser often shares the machine with the training.
let redrawPending = false, lastRedraw = 0;
function redraw() {
  if (redrawPending) return;
  redrawPending = true;
  setTimeout(() => requestAnimationFrame(() => {
    redrawPending = false;
    lastRedraw = performance.now();
    const lossCanvas = $("loss-chart");
    chart(lossCanvas, [
      { points: thin(state.steps, 1500), color: "#c7d2fe" },
      { points: thin(state.smooth, 1500), color: "#2563eb", width: 2 },
    ], { xLabel: "step" });
    lossCanvas.dataset.points = state.steps.length;
    const accuracyCanvas = $("accuracy-chart");
    chart(accuracyCanvas, [
      { points: state.epochs.map((e) => ({ x: e.epoch, y: e.train_accuracy })), color: "#f59e0b", width: 2, dots: true },
      { points: state.epochs.filter((e) => e.test_accuracy != null).map((e) => ({ x: e.epoch, y: e.test_accuracy })), color: "#2563eb", width: 2, dots: true },
    ], { xLabel: "epoch", percent: true, xMin: 0 });
    accuracyCanvas.dataset.points = state.epochs.length;
    const lrCanvas = $("lr-chart");
    const last = state.rates.length ? state.rates[state.rates.length - 1] : null;
    const rates = last && state.steps.length ? state.rates.concat([{ x: state.steps[state.steps.length - 1].x, y: last.y }]) : state.rates;
    chart(lrCanvas, [{ points: rates, color: "#7c3aed", width: 2 }], { xLabel: "step", xMin: 0 });
    lrCanvas.dataset.points = state.rates.length;
  }), Math.max(0, 200 - (performance.now() - lastRedraw)));
}

// At most `limit` points, keeping each bucket's extremes out of it: the mean of each bucket.
function thin(points, limit) {
  if (points.length <= limit) return points;
  const size = Math.ceil(points.length / limit), out = [];
  for (let i = 0; i < points.length; i += size) {
    let sum = 0, n = 0;
    for (let j = i; j < Math.min(points.length, i + size); j++) if (Number.isFinite(points[j].y)) { sum += points[j].y; n++; }
    if (n) out.push({ x: points[Math.min(points.length - 1, i + size - 1)].x, y: sum / n });
  }
  return out;
}

function chart(canvas, series, options) {
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  const left = 46, right = 8, top = 8, bottom = 22;
  ctx.clearRect(0, 0, w, h);
  const all = series.flatMap((s) => s.points).filter((p) => Number.isFinite(p.y));
  ctx.font = "10px system-ui, sans-serif";
  ctx.fillStyle = "#6b7280";
  if (!all.length) { ctx.fillText("waiting for data…", left, h / 2); return; }
  let xMin = options.xMin ?? Math.min(...all.map((p) => p.x)), xMax = Math.max(...all.map((p) => p.x));
  let yMin = Math.min(...all.map((p) => p.y)), yMax = Math.max(...all.map((p) => p.y));
  if (options.percent) { yMin = Math.max(0, Math.floor(yMin * 10) / 10); yMax = 1; }
  else if (yMin >= 0 && yMin < 0.3 * yMax) yMin = 0;
  if (xMax === xMin) xMax = xMin + 1;
  if (yMax === yMin) { yMax += Math.abs(yMax) * 0.1 || 1; yMin -= Math.abs(yMin) * 0.1; }
  const X = (x) => left + (x - xMin) / (xMax - xMin) * (w - left - right);
  const Y = (y) => top + (1 - (y - yMin) / (yMax - yMin)) * (h - top - bottom);
  ctx.strokeStyle = "#eef0f4"; ctx.lineWidth = 1;
  for (let i = 0; i <= 4; i++) {
    const y = yMin + (yMax - yMin) * i / 4, py = Math.round(Y(y)) + 0.5;
    ctx.beginPath(); ctx.moveTo(left, py); ctx.lineTo(w - right, py); ctx.stroke();
    ctx.fillText(options.percent ? `${Math.round(y * 100)}%` : formatNumber(y), 2, py + 3);
  }
  ctx.fillText(`${options.xLabel} ${formatNumber(xMax)}`, w - right - 70, h - 6);
  for (const s of series) {
    const points = s.points.filter((p) => Number.isFinite(p.y));
    if (!points.length) continue;
    ctx.strokeStyle = s.color; ctx.fillStyle = s.color; ctx.lineWidth = s.width || 1;
    ctx.beginPath();
    points.forEach((p, i) => (i ? ctx.lineTo(X(p.x), Y(p.y)) : ctx.moveTo(X(p.x), Y(p.y))));
    ctx.stroke();
    if (s.dots) for (const p of points) { ctx.beginPath(); ctx.arc(X(p.x), Y(p.y), 2.5, 0, 7); ctx.fill(); }
  }
}

function formatNumber(v) {
  const a = Math.abs(v);
  if (a !== 0 && (a < 0.01 || a >= 1e5)) return v.toExponential(2);
  return a >= 100 ? v.toFixed(0) : v.toFixed(a >= 10 ? 1 : 3);
}

// MARK: - The network

function onModel(m) {
  state.model = m;
  state.live = m.live;
  $("controls").hidden = !m.live || state.finished;
  $("network-note").textContent = `input ${m.input_shape.join("×")} · ${m.layers.reduce((a, l) => a + l.parameters, 0).toLocaleString()} parameters`;
  if (!state.start) $("model-name").textContent = m.model;
  const body = $("layers").tBodies[0];
  body.textContent = "";
  for (const layer of m.layers) {
    const row = body.insertRow();
    row.dataset.name = layer.name;
    row.insertCell().innerHTML = `${escapeHTML(layer.name)} <span class="kind">${escapeHTML(layer.kind)}</span>`;
    row.insertCell().textContent = layer.output_shape.join("×");
    row.insertCell().textContent = layer.parameters ? layer.parameters.toLocaleString() : "";
    row.insertCell().className = "activation";
  }
  $("draw-panel").hidden = !m.drawable;
}

function layerRow(name, kind, shape) {
  const body = $("layers").tBodies[0];
  for (const row of body.rows) if (row.dataset.name === name) return row;
  const row = body.insertRow();
  row.dataset.name = name;
  row.insertCell().innerHTML = `${escapeHTML(name)} <span class="kind">${escapeHTML(kind)}</span>`;
  row.insertCell().textContent = shape.join("×");
  row.insertCell();
  row.insertCell().className = "activation";
  return row;
}

function activationView(a) {
  if (a.image) {
    const img = document.createElement("img");
    img.className = "tiles"; img.alt = `${a.name} activations`; img.src = a.image;
    return img;
  }
  const box = document.createElement("div");
  box.className = "values";
  const values = a.values || [];
  const top = Math.max(1e-6, ...values.map(Math.abs));
  for (const v of values.slice(0, 128)) {
    const bar = document.createElement("span");
    bar.style.height = `${Math.max(1, Math.round(34 * Math.abs(v) / top))}px`;
    if (v < 0) bar.className = "neg";
    bar.title = v;
    box.appendChild(bar);
  }
  return box;
}

function onSnapshot(s) {
  for (const a of s.activations) {
    const cell = layerRow(a.name, a.kind, a.shape).cells[3];
    cell.replaceChildren(activationView(a));
  }
  if (state.samples.length) {
    const first = state.samples[0];
    $("input-sample").innerHTML = `<img alt="input" src="${first.image}"> the test image whose activations are shown (label ${escapeHTML(className(first.label))})`;
  }
  if (s.filters) {
    $("filters-name").textContent = `${s.filters.name} ${s.filters.shape.join("×")}`;
    const img = document.createElement("img");
    img.alt = "filters"; img.src = s.filters.image;
    $("filters").replaceChildren(img);
  }
  showStatistics(s.statistics);
  showPredictions(s.predictions);
}

function showStatistics(list) {
  if (!list.length) return;
  const body = $("stats").tBodies[0];
  for (const p of list) {
    const history = state.stats[p.name] || (state.stats[p.name] = { w: [], g: [], u: [] });
    history.w.push(p.weight_std); history.g.push(p.gradient_std); history.u.push(p.update_ratio);
    for (const k of ["w", "g", "u"]) if (history[k].length > 120) history[k].shift();
    let row = [...body.rows].find((r) => r.dataset.name === p.name);
    if (!row) {
      row = body.insertRow(); row.dataset.name = p.name;
      row.insertCell().textContent = p.name;
      for (let i = 0; i < 3; i++) { const c = row.insertCell(); const cv = document.createElement("canvas"); cv.width = 60; cv.height = 16; c.append(cv, document.createElement("span")); }
    }
    [["w", p.weight_std], ["g", p.gradient_std], ["u", p.update_ratio]].forEach(([k, v], i) => {
      const cell = row.cells[i + 1];
      sparkline(cell.firstChild, history[k]);
      cell.lastChild.textContent = formatNumber(v);
    });
  }
}

function sparkline(canvas, values) {
  const ctx = canvas.getContext("2d"), w = canvas.width, h = canvas.height;
  ctx.clearRect(0, 0, w, h);
  const finite = values.filter(Number.isFinite);
  if (finite.length < 2) return;
  const lo = Math.min(...finite), hi = Math.max(...finite), span = hi - lo || 1;
  ctx.strokeStyle = "#2563eb"; ctx.lineWidth = 1; ctx.beginPath();
  values.forEach((v, i) => {
    const x = i / (values.length - 1) * (w - 2) + 1, y = h - 1 - (v - lo) / span * (h - 2);
    i ? ctx.lineTo(x, y) : ctx.moveTo(x, y);
  });
  ctx.stroke();
}

function className(label) {
  const names = state.model ? state.model.class_names : null;
  return names && names[label] != null ? names[label] : String(label);
}

function showPredictions(list) {
  const grid = $("predictions");
  const images = new Map(state.samples.map((s) => [s.index, s.image]));
  grid.replaceChildren(...list.map((p) => {
    const cell = document.createElement("div");
    const right = p.top[0] === p.label;
    cell.className = "cell " + (right ? "right" : "wrong");
    cell.title = `label ${className(p.label)}`;
    const img = document.createElement("img");
    img.alt = `test image ${p.index}`; img.src = images.get(p.index) || "";
    const top = document.createElement("div");
    top.className = "top";
    top.innerHTML = p.top.map((c, i) =>
      `<div class="bar ${c === p.label ? "right" : (i === 0 ? "wrong" : "")}"><i style="width:${Math.round(100 * p.probabilities[i])}%"></i><b>${escapeHTML(className(c))} ${(100 * p.probabilities[i]).toFixed(0)}%</b></div>`).join("");
    cell.append(img, top);
    return cell;
  }));
}

function onConfusion(c) {
  $("confusion-note").textContent = `after epoch ${c.epoch}, ${c.images.toLocaleString()} test images; rows: actual, columns: predicted`;
  const table = document.createElement("table");
  const head = table.createTHead().insertRow();
  head.insertCell().textContent = "";
  for (const name of c.class_names) { const th = document.createElement("th"); th.textContent = name; head.appendChild(th); }
  const body = table.createTBody();
  c.counts.forEach((row, actual) => {
    const total = row.reduce((a, b) => a + b, 0) || 1;
    const tr = body.insertRow();
    const th = document.createElement("th"); th.textContent = c.class_names[actual]; tr.appendChild(th);
    row.forEach((count, predicted) => {
      const td = tr.insertCell();
      td.textContent = count || "";
      const share = count / total;
      td.style.background = actual === predicted ? `rgba(37, 99, 235, ${share})` : `rgba(220, 38, 38, ${Math.min(1, 3 * share)})`;
      if (share > 0.55) td.style.color = "#fff";
    });
  });
  $("confusion").replaceChildren(table);
}

function escapeHTML(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

// MARK: - Controls

async function post(path, body) {
  const response = await fetch(path, { method: "POST", headers: { "X-Dashboard-Token": token }, body: body ?? "" });
  if (!response.ok) throw new Error(`${response.status} ${(await response.text()).trim()}`);
  return response;
}

function control(path, body, message) {
  post(path, body).then(() => { if (message) $("control-message").textContent = message; })
    .catch((error) => { $("control-message").textContent = `refused: ${error.message}`; });
}

$("pause").onclick = () => control("control/pause", null, "pausing before the next step…");
$("resume").onclick = () => control("control/resume", null, "");
$("stop").onclick = () => {
  const where = state.model && state.model.checkpoint ? `, saving ${state.model.checkpoint}` : " (no --checkpoint: nothing is saved)";
  if (confirm(`Stop at the end of this epoch${where}?`)) control("control/stop", null, `stopping at the end of the epoch${where}`);
};
$("set-lr").onclick = () => {
  const rate = Number($("lr").value);
  if (!(rate > 0)) { $("control-message").textContent = "a learning rate is a positive number"; return; }
  control("control/learning-rate", String(rate), `learning rate ${rate} from the next step…`);
};

// MARK: - Drawing

const pad = $("draw");
const padContext = pad.getContext("2d");
let drawing = false, lastPoint = null, pending = false, again = false;

function clearPad() { padContext.fillStyle = "#000"; padContext.fillRect(0, 0, pad.width, pad.height); $("draw-result").textContent = ""; $("draw-activations").textContent = ""; }
clearPad();
$("clear").onclick = clearPad;

function point(event) {
  const r = pad.getBoundingClientRect();
  return { x: (event.clientX - r.left) * pad.width / r.width, y: (event.clientY - r.top) * pad.height / r.height };
}
pad.addEventListener("pointerdown", (e) => { drawing = true; lastPoint = point(e); pad.setPointerCapture(e.pointerId); stroke(lastPoint); });
pad.addEventListener("pointermove", (e) => { if (drawing) stroke(point(e)); });
pad.addEventListener("pointerup", () => { drawing = false; lastPoint = null; sendDrawing(); });

function stroke(p) {
  padContext.strokeStyle = "#fff"; padContext.lineWidth = 16; padContext.lineCap = "round";
  padContext.beginPath(); padContext.moveTo(lastPoint.x, lastPoint.y); padContext.lineTo(p.x, p.y); padContext.stroke();
  lastPoint = p;
  sendDrawing();
}

// The drawing as MNIST is made: the ink's bounding box scaled into 20×20, centred in 28×28.
function drawingPixels() {
  const data = padContext.getImageData(0, 0, pad.width, pad.height).data;
  let x0 = pad.width, y0 = pad.height, x1 = -1, y1 = -1;
  for (let y = 0; y < pad.height; y++) for (let x = 0; x < pad.width; x++) if (data[(y * pad.width + x) * 4] > 20) {
    x0 = Math.min(x0, x); x1 = Math.max(x1, x); y0 = Math.min(y0, y); y1 = Math.max(y1, y);
  }
  if (x1 < 0) return null;
  const side = Math.max(x1 - x0, y1 - y0) + 1, small = document.createElement("canvas");
  small.width = 28; small.height = 28;
  const ctx = small.getContext("2d");
  ctx.fillStyle = "#000"; ctx.fillRect(0, 0, 28, 28);
  ctx.imageSmoothingEnabled = true; ctx.imageSmoothingQuality = "high";
  const scale = 20 / side, w = (x1 - x0 + 1) * scale, h = (y1 - y0 + 1) * scale;
  ctx.drawImage(pad, x0, y0, x1 - x0 + 1, y1 - y0 + 1, (28 - w) / 2, (28 - h) / 2, w, h);
  const pixels = ctx.getImageData(0, 0, 28, 28).data, out = [];
  for (let i = 0; i < 28 * 28; i++) out.push(pixels[i * 4] / 255);
  return out;
}

// One request at a time; a drawing made meanwhile is sent when the answer comes.
function sendDrawing() {
  if (pending) { again = true; return; }
  const pixels = drawingPixels();
  if (!pixels) return;
  pending = true;
  post("predict", JSON.stringify(pixels)).then((r) => r.json()).then(showDrawing)
    .catch((error) => { $("draw-result").textContent = `refused: ${error.message}`; })
    .finally(() => { pending = false; if (again) { again = false; sendDrawing(); } });
}

function showDrawing(result) {
  const order = result.probabilities.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0]).slice(0, 3);
  $("draw-result").innerHTML = order.map(([p, i], rank) =>
    `<div class="bar ${rank === 0 ? "right" : ""}"><i style="width:${Math.round(100 * p)}%"></i><b>${escapeHTML(className(i))} ${(100 * p).toFixed(1)}%</b></div>`).join("");
  $("draw-activations").replaceChildren(...result.activations.filter((a) => a.image).map((a) => activationView(a)));
}

connect();
