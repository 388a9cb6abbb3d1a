// deepgrad Playground page: controls, a WebSocket to this tab's training session, and the views.
// The server trains with deepgrad and sends frames; this script only draws them and sends the
// settings the learner picks (the server checks every value and answers with an error if need be).
"use strict";

const COLORS = ["#f59322", "#0877bd", "#2ca02c", "#9467bd", "#d62728",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];
const NEG = [245, 147, 34];   // orange: negative values, class 0
const POS = [8, 119, 189];    // blue: positive values, class 1
const ACT_NAMES = {relu: "relu", tanh: "tanh", sigmoid: "σ", linear: "", leaky_relu: "leaky_relu",
                   elu: "elu", gelu: "gelu", silu: "silu", softplus: "softplus"};
const NODE = 34;              // thumbnail size in pixels
const NODE_GAP = 12;

const state = {
  ws: null, sessionId: null, options: null, config: null, frame: null, points: null,
  pendingFrame: null, pendingConfigs: 0, fatal: false, layoutKey: "", running: false, lastEpoch: 0,
  seq: 0,  // number of the latest play/pause/step/reset sent; frames echo the last one applied
};

const $ = (id) => document.getElementById(id);

function hexRgb(hex) {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}
const PALETTE = COLORS.map(hexRgb);

function b64bytes(s) {
  const bin = atob(s);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

function fmt(v, digits = 3) {
  if (v === null || v === undefined || Number.isNaN(v)) return "NaN";
  return String(parseFloat(Number(v).toPrecision(digits)));
}

// A value in [-1, 1] as a colour: orange for negative, white at 0, blue for positive.
function diverging(t, maxAlpha = 1) {
  const a = Math.min(Math.abs(t), 1) * maxAlpha;
  const c = t < 0 ? NEG : POS;
  return [255 + (c[0] - 255) * a, 255 + (c[1] - 255) * a, 255 + (c[2] - 255) * a];
}

// ---------- messages ----------

function showBanner(text, kind = "error") {
  const b = $("banner");
  b.className = "banner " + kind;
  $("banner-text").textContent = text;
  b.hidden = false;
  clearTimeout(showBanner.timer);
  if (kind !== "fatal") showBanner.timer = setTimeout(() => { b.hidden = true; }, 12000);
}

function send(type, extra = {}) {
  if (!state.ws || state.ws.readyState !== WebSocket.OPEN) {
    if (!state.fatal) showBanner("Not connected to the server; reload the page.", "fatal");
    return;
  }
  state.ws.send(JSON.stringify({type, ...extra}));
}

function sendConfig(update) {
  // Show the change at once, so quick successive clicks build on each other; the server
  // answers with the settings it accepted, or with an error and the settings still in force.
  applyConfig({...state.config, ...update});
  state.pendingConfigs += 1;
  send("config", {config: update});
}

function connect() {
  const proto = location.protocol === "https:" ? "wss" : "ws";
  const ws = new WebSocket(`${proto}://${location.host}/ws`);
  state.ws = ws;
  ws.onmessage = (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    const handler = HANDLERS[msg.type];
    if (handler) handler(msg);
  };
  ws.onclose = () => {
    document.body.classList.add("disconnected");
    if (!state.fatal) {
      state.fatal = true;
      showBanner("The connection to the playground server closed. Reload the page to start again.",
                 "fatal");
    }
  };
}

const HANDLERS = {
  hello(msg) {
    state.sessionId = msg.session_id;
    state.options = msg.options;
    $("export-script").href = `/api/sessions/${msg.session_id}/export/script.py`;
    $("export-weights").href = `/api/sessions/${msg.session_id}/export/model.safetensors`;
    $("export-onnx").href = `/api/sessions/${msg.session_id}/export/model.onnx`;
    applyConfig(msg.config);
    document.body.dataset.session = msg.session_id;
  },
  config(msg) {
    // Replies come in order; while newer changes are on their way, the page already shows them.
    state.pendingConfigs = Math.max(0, state.pendingConfigs - 1);
    if (state.pendingConfigs === 0) applyConfig(msg.config);
  },
  points(msg) {
    state.points = msg;
    drawPoints();
    drawLegend();
  },
  frame(msg) {
    state.pendingFrame = msg;
    requestAnimationFrame(renderPending);
  },
  pong() {},
  error(msg) {
    if (msg.fatal) state.fatal = true;
    showBanner(msg.message, msg.fatal ? "fatal" : "error");
    if (msg.config) {
      state.pendingConfigs = Math.max(0, state.pendingConfigs - 1);
      // Put the rejected control back (later changes still on their way are re-sent as a whole).
      if (state.pendingConfigs === 0) applyConfig(msg.config, true);
    }
  },
  warning(msg) { showBanner(msg.message, "warning"); },
};

// ---------- controls ----------

function applyConfig(c, force = false) {
  state.config = c;
  for (const id of ["lr", "reg_rate", "batch_size", "seed", "activation", "optimizer",
                    "regularization", "train_ratio", "noise"]) {
    const el = $(id);
    if (force || document.activeElement !== el || el.type === "range" || el.tagName === "SELECT") {
      el.value = c[id];
    }
  }
  $("n_classes").value = String(c.n_classes);
  $("train_ratio-value").textContent = c.train_ratio;
  $("noise-value").textContent = c.noise;
  $("classes-row").hidden = c.dataset !== "spiral";
  $("noise").disabled = c.dataset === "csv";
  $("reg_rate").disabled = c.regularization === "none";
  for (const b of document.querySelectorAll(".dataset")) {
    b.classList.toggle("selected", b.dataset.dataset === c.dataset);
  }
  const regression = c.dataset === "csv"
    ? Boolean(state.points && state.points.task === "regression")
    : Boolean(state.options && state.options.regression_datasets.includes(c.dataset));
  $("problem").textContent = regression ? "Regression" : "Classification";
  $("n-layers").textContent = c.hidden.length;
  $("add-layer").disabled = c.hidden.length >= 6;
  $("remove-layer").disabled = c.hidden.length <= 0;
  layoutNetwork();
}

function numberOrRaw(el) {
  // Send what was typed; the server explains what is wrong with a bad value.
  const v = el.value.trim();
  if (v === "") return v;
  const n = Number(v);
  return Number.isNaN(n) ? v : n;
}

function bindControls() {
  $("play").onclick = () => runCommand(state.running ? "pause" : "play");
  $("step").onclick = () => runCommand("step");
  $("reset").onclick = () => runCommand("reset");
  $("banner-close").onclick = () => { $("banner").hidden = true; };
  for (const id of ["lr", "reg_rate", "batch_size", "seed"]) {
    $(id).addEventListener("change", (e) => sendConfig({[id]: numberOrRaw(e.target)}));
  }
  for (const id of ["activation", "optimizer", "regularization"]) {
    $(id).addEventListener("change", (e) => {
      const update = {[id]: e.target.value};
      if (id === "regularization" && e.target.value !== "none" && state.config.reg_rate === 0) {
        update.reg_rate = 0.001;
      }
      sendConfig(update);
    });
  }
  $("n_classes").addEventListener("change", (e) => sendConfig({n_classes: Number(e.target.value)}));
  for (const id of ["train_ratio", "noise"]) {
    $(id).addEventListener("input", (e) => { $(id + "-value").textContent = e.target.value; });
    $(id).addEventListener("change", (e) => sendConfig({[id]: Number(e.target.value)}));
  }
  $("regenerate").onclick = () => sendConfig({seed: Math.floor(Math.random() * 100000)});
  for (const b of document.querySelectorAll(".dataset")) {
    b.onclick = () => sendConfig({dataset: b.dataset.dataset});
  }
  $("add-layer").onclick = () => {
    const hidden = state.config.hidden.slice();
    if (hidden.length >= 6) return;
    hidden.push(hidden.length ? hidden[hidden.length - 1] : 4);
    sendConfig({hidden});
  };
  $("remove-layer").onclick = () => {
    const hidden = state.config.hidden.slice(0, -1);
    sendConfig({hidden});
  };
  $("csv-file").addEventListener("change", uploadCsv);
  $("show-test").addEventListener("change", drawPoints);
  for (const a of [$("export-script"), $("export-weights"), $("export-onnx")]) {
    a.addEventListener("click", (e) => { if (!state.sessionId) e.preventDefault(); });
  }
}

const ICONS = {
  play: '<svg viewBox="0 0 16 16" width="18" height="18"><path d="M4 2l10 6-10 6z" fill="currentColor"/></svg>',
  pause: '<svg viewBox="0 0 16 16" width="18" height="18"><path d="M3 2h4v12H3zM9 2h4v12H9z" fill="currentColor"/></svg>',
};

function runCommand(type) {
  state.running = type === "play";
  updatePlayButton();
  state.seq += 1;
  send(type, {seq: state.seq});
}

function updatePlayButton() {
  const b = $("play");
  const label = state.running ? "pause" : "play";
  // Replace the icon only when it changes: a click whose mousedown landed on an icon that a
  // frame then replaced would never reach the button.
  if (b.dataset.icon === label) return;
  b.dataset.icon = label;
  b.innerHTML = ICONS[label];
  b.classList.toggle("playing", state.running);
  b.setAttribute("aria-label", label);
}

async function uploadCsv(e) {
  const file = e.target.files[0];
  e.target.value = "";
  if (!file || !state.sessionId) return;
  const limit = state.options.limits.csv_bytes;
  if (file.size > limit) {
    showBanner(`${file.name} is ${file.size.toLocaleString()} bytes; the limit is ` +
               `${limit.toLocaleString()} bytes.`);
    return;
  }
  const body = new FormData();
  body.append("file", file);
  try {
    const r = await fetch(`/api/sessions/${state.sessionId}/csv`, {method: "POST", body});
    const data = await r.json();
    if (!r.ok) { showBanner(`${file.name}: ${data.error}`); return; }
    const kind = data.task === "regression" ? "regression" : `${data.classes.length} classes`;
    $("csv-info").textContent = `${file.name}: ${data.rows} rows, ${kind}`;
    document.querySelector('.dataset[data-dataset="csv"]').disabled = false;
    applyConfig(data.config);
  } catch (err) {
    showBanner(`Upload failed: ${err}`);
  }
}

// ---------- the network view ----------

function toggleFeature(f) {
  const features = state.config.features.slice();
  const i = features.indexOf(f);
  if (i >= 0) features.splice(i, 1); else features.push(f);
  sendConfig({features});
}

function changeNeurons(layer, delta) {
  const hidden = state.config.hidden.slice();
  hidden[layer] += delta;
  sendConfig({hidden});  // 0 or 9 neurons: the server explains the range
}

// Positions of every node: column 0 = all features (active or not), then hidden layers, output.
function layoutNetwork() {
  const c = state.config;
  if (!c || !state.options) return;
  const nOut = state.frame ? state.frame.layer_names[state.frame.layer_names.length - 1].length : 1;
  const key = JSON.stringify([c.features, c.hidden, nOut]);
  if (key === state.layoutKey) return;
  state.layoutKey = key;
  const net = $("network");
  const width = net.clientWidth;
  const allFeatures = state.options.choices.features;
  const cols = [allFeatures.length, ...c.hidden, nOut];
  const left = 70;
  const right = width - NODE - 14;
  const xs = cols.map((_, i) => left + (right - left) * (cols.length > 1 ? i / (cols.length - 1) : 0));
  const top = 44;
  const pos = cols.map((n, i) => Array.from({length: n}, (_, j) => [xs[i], top + j * (NODE + NODE_GAP)]));
  state.layout = {pos, cols};
  const maxRows = Math.max(...cols);
  net.style.height = `${top + maxRows * (NODE + NODE_GAP) + 10}px`;

  const nodes = $("nodes");
  // Feature column: click a node (or its label) to switch the feature on or off. A feature's
  // controls are kept while its state is unchanged: a rebuild for another reason (the first
  // frame's number of outputs, a resize) that replaced them between a press and its release
  // would swallow that click.
  const kept = new Set();
  const controls = state.featureControls || (state.featureControls = new Map());
  allFeatures.forEach((f, j) => {
    const [x, y] = pos[0][j];
    const active = c.features.includes(f);
    let ctl = controls.get(f);
    if (!ctl || ctl.active !== active || !nodes.contains(ctl.el)) {
      const el = nodeElement(x, y, active ? "feature active" : "feature", `f:${f}`);
      el.title = `${state.options.feature_labels[f]}: click to ${active ? "remove" : "add"}`;
      el.onclick = () => toggleFeature(f);
      const label = document.createElement("label");
      label.className = "feature-label";
      const box = document.createElement("input");
      box.type = "checkbox";
      box.checked = active;
      box.dataset.feature = f;
      box.onchange = () => toggleFeature(f);
      label.append(box, document.createTextNode(state.options.feature_labels[f]));
      if (ctl) { ctl.label.remove(); ctl.el.remove(); }
      ctl = {active, el, label};
      controls.set(f, ctl);
      nodes.append(label, el);
      drawFeatureThumb(el.querySelector("canvas"), f);
    }
    ctl.el.style.left = `${x}px`;
    ctl.el.style.top = `${y}px`;
    ctl.label.style.left = `${x - 64}px`;
    ctl.label.style.top = `${y + NODE / 2 - 9}px`;
    kept.add(ctl.el).add(ctl.label);
  });
  // A layer's +/- buttons are kept too, for the same reason: quick clicks on "+" each redraw
  // the view, and so may a reply or a resize between one click's press and its release.
  const layerControls = state.layerControls || (state.layerControls = []);
  layerControls.splice(c.hidden.length).forEach((ctl) => ctl.remove());
  c.hidden.forEach((n, li) => {
    let ctl = layerControls[li];
    if (!ctl || !nodes.contains(ctl)) {
      ctl = document.createElement("div");
      ctl.className = "layer-ctl";
      ctl.innerHTML = `<button class="round tiny" data-layer="${li}" data-delta="1" aria-label="add neuron">+</button>` +
        `<button class="round tiny" data-layer="${li}" data-delta="-1" aria-label="remove neuron">&minus;</button>` +
        `<div class="layer-size"></div>`;
      for (const b of ctl.querySelectorAll("button")) {
        b.onclick = () => changeNeurons(li, Number(b.dataset.delta));
      }
      layerControls[li] = ctl;
      nodes.append(ctl);
    }
    ctl.style.left = `${xs[li + 1] + NODE / 2 - 40}px`;
    ctl.querySelector(".layer-size").textContent = `${n} neuron${n === 1 ? "" : "s"}`;
    kept.add(ctl);
  });
  for (const child of [...nodes.children]) if (!kept.has(child)) child.remove();
  c.hidden.forEach((n, li) => {
    pos[li + 1].forEach(([x, y], j) => {
      nodes.append(nodeElement(x, y, "hidden", `h:${li + 1}:${j}`));
    });
  });
  pos[pos.length - 1].forEach(([x, y], j) => {
    nodes.append(nodeElement(x, y, "output", `o:${j}`));
  });
  const head = document.createElement("div");
  head.className = "out-head";
  head.style.left = `${xs[xs.length - 1] - 10}px`;
  head.textContent = "output";
  nodes.append(head);
  buildLinks();
  if (state.frame) renderNetwork(state.frame);
}

function nodeElement(x, y, cls, id) {
  const el = document.createElement("div");
  el.className = "node " + cls;
  el.style.left = `${x}px`;
  el.style.top = `${y}px`;
  el.dataset.node = id;
  const cv = document.createElement("canvas");
  cv.width = 16;
  cv.height = 16;
  el.append(cv);
  el.addEventListener("mousemove", (e) => showNodeTip(e, id));
  el.addEventListener("mouseleave", hideTip);
  return el;
}

// The column of node (layer l, index j) in the layout: features are laid out all of them.
function nodePos(layer, j) {
  const c = state.config;
  if (layer === 0) return state.layout.pos[0][state.options.choices.features.indexOf(c.features[j])];
  return state.layout.pos[layer][j];
}

function buildLinks() {
  const svg = $("links");
  svg.innerHTML = "";
  const c = state.config;
  const sizes = [c.features.length, ...c.hidden, state.layout.cols[state.layout.cols.length - 1]];
  state.links = [];
  for (let l = 1; l < sizes.length; l++) {
    for (let j = 0; j < sizes[l]; j++) {
      for (let i = 0; i < sizes[l - 1]; i++) {
        const [x0, y0] = nodePos(l - 1, i);
        const [x1, y1] = nodePos(l, j);
        const sx = x0 + NODE, sy = y0 + NODE / 2, ex = x1, ey = y1 + NODE / 2;
        const mx = (sx + ex) / 2;
        const d = `M${sx},${sy} C${mx},${sy} ${mx},${ey} ${ex},${ey}`;
        const path = document.createElementNS("http://www.w3.org/2000/svg", "path");
        path.setAttribute("d", d);
        path.setAttribute("class", "link");
        const hit = document.createElementNS("http://www.w3.org/2000/svg", "path");
        hit.setAttribute("d", d);
        hit.setAttribute("class", "link-hit");
        hit.addEventListener("mousemove", (e) => showLinkTip(e, l, i, j));
        hit.addEventListener("mouseleave", hideTip);
        svg.append(path);
        svg.append(hit);
        state.links.push({path, l, i, j});
      }
    }
  }
}

function drawFeatureThumb(canvas, f) {
  // Inactive features are previewed here; active ones are drawn from the server's frame.
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(16, 16);
  const dom = state.points ? state.points.domain : [-6, 6, -6, 6];
  const fns = {x1: (a) => a, x2: (a, b) => b, x1sq: (a) => a * a, x2sq: (a, b) => b * b,
               x1x2: (a, b) => a * b, sinx1: (a) => Math.sin(a), sinx2: (a, b) => Math.sin(b)};
  const vals = [];
  for (let r = 0; r < 16; r++) {
    for (let c = 0; c < 16; c++) {
      const x1 = dom[0] + (c + 0.5) / 16 * (dom[1] - dom[0]);
      const x2 = dom[3] - (r + 0.5) / 16 * (dom[3] - dom[2]);
      vals.push(fns[f](x1, x2));
    }
  }
  const m = Math.max(...vals.map(Math.abs)) || 1;
  vals.forEach((v, k) => {
    const [r, g, b] = diverging(v / m);
    img.data.set([r, g, b, 255], k * 4);
  });
  ctx.putImageData(img, 0, 0);
}

function drawThumb(canvas, img64, size) {
  const bytes = b64bytes(img64);
  if (canvas.width !== size) { canvas.width = size; canvas.height = size; }
  const ctx = canvas.getContext("2d");
  const img = ctx.createImageData(size, size);
  for (let k = 0; k < bytes.length; k++) {
    const [r, g, b] = diverging(bytes[k] / 127.5 - 1);
    img.data[k * 4] = r; img.data[k * 4 + 1] = g; img.data[k * 4 + 2] = b; img.data[k * 4 + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

function renderNetwork(f) {
  const t = f.thumb_size;
  // Input features (active ones), hidden neurons, outputs.
  f.neurons[0].forEach((n, j) => {
    const el = document.querySelector(`[data-node="f:${f.config.features[j]}"] canvas`);
    if (el) drawThumb(el, n.img, t);
  });
  for (let l = 1; l < f.neurons.length - 1; l++) {
    f.neurons[l].forEach((n, j) => {
      const el = document.querySelector(`[data-node="h:${l}:${j}"] canvas`);
      if (el) drawThumb(el, n.img, t);
    });
  }
  f.neurons[f.neurons.length - 1].forEach((n, j) => {
    const el = document.querySelector(`[data-node="o:${j}"] canvas`);
    if (el) drawThumb(el, n.img, t);
  });
  let maxW = 0;
  for (const W of f.weights) for (const row of W) for (const w of row) maxW = Math.max(maxW, Math.abs(w || 0));
  const scale = maxW > 0 ? 6 / Math.max(maxW, 1) : 1;
  for (const link of state.links || []) {
    const W = f.weights[link.l - 1];
    const w = W && W[link.j] ? W[link.j][link.i] : null;
    if (w === null || w === undefined) continue;
    // Style properties, not attributes: the style sheet's defaults would win over attributes.
    link.path.style.stroke = w >= 0 ? COLORS[1] : COLORS[0];
    link.path.style.strokeWidth = Math.max(0.4, Math.min(Math.abs(w) * scale, 7)).toFixed(2);
    link.path.dataset.weight = w;
  }
}

function term(w, name, first) {
  const sign = w < 0 ? "−" : "+";
  const mag = fmt(Math.abs(w));
  if (first) return `${w < 0 ? "−" : ""}${mag}·${name}`;
  return ` ${sign} ${mag}·${name}`;
}

// "h2_1 = tanh(0.53·h1_1 − 1.2·h1_2 + 0.1)" for node j of layer l (l >= 1).
function formula(f, l, j) {
  const W = f.weights[l - 1][j];
  const b = f.biases[l - 1][j];
  const names = f.layer_names[l - 1];
  let inner = W.map((w, i) => term(w, names[i], i === 0)).join("");
  inner += ` ${b < 0 ? "−" : "+"} ${fmt(Math.abs(b))}`;
  const name = f.layer_names[l][j];
  const last = l === f.layer_names.length - 1;
  if (last) {
    return f.task === "classification"
      ? `${name} = ${inner}   (logit of class ${j}; the colour shows the largest)`
      : `${name} = ${inner}`;
  }
  const act = ACT_NAMES[f.activation];
  return act ? `${name} = ${act}(${inner})` : `${name} = ${inner}`;
}

function showTip(e, text) {
  const tip = $("tooltip");
  tip.textContent = text;
  tip.hidden = false;
  tip.style.left = `${e.clientX + 14}px`;
  tip.style.top = `${e.clientY + 14}px`;
}

function hideTip() { $("tooltip").hidden = true; }

function showNodeTip(e, id) {
  const f = state.frame;
  if (!f) return;
  const parts = id.split(":");
  if (parts[0] === "f") {
    const j = f.config.features.indexOf(parts[1]);
    const label = state.options.feature_labels[parts[1]];
    showTip(e, j < 0 ? `${label} (not used: click to add)` : `${label}: an input of the network`);
    return;
  }
  const l = parts[0] === "h" ? Number(parts[1]) : f.layer_names.length - 1;
  const j = Number(parts[parts.length - 1]);
  if (!f.weights[l - 1] || !f.weights[l - 1][j]) return;
  const n = f.neurons[l] && f.neurons[l][j];
  const range = n ? `\nthumbnail colour range: ±${fmt(n.scale)}` : "";
  showTip(e, formula(f, l, j) + range);
}

function showLinkTip(e, l, i, j) {
  const f = state.frame;
  if (!f || !f.weights[l - 1] || !f.weights[l - 1][j]) return;
  const w = f.weights[l - 1][j][i];
  const from = f.layer_names[l - 1][i];
  const to = f.layer_names[l][j];
  showTip(e, `weight ${from} → ${to}: ${fmt(w, 4)}\n${formula(f, l, j)}`);
}

// ---------- output views ----------

function renderPending() {
  const f = state.pendingFrame;
  if (!f) return;
  state.pendingFrame = null;
  state.frame = f;
  // A frame sent before the server applied the latest click must not undo it on the button.
  if (f.seq >= state.seq) state.running = f.running;
  updatePlayButton();
  const nOut = f.layer_names[f.layer_names.length - 1].length;
  if (state.layout && state.layout.cols[state.layout.cols.length - 1] !== nOut) layoutNetwork();
  $("epoch").textContent = String(f.epoch).padStart(6, "0").replace(/(\d{3})(\d{3})$/, "$1,$2");
  $("test-loss").textContent = fmt(f.test_loss);
  $("train-loss").textContent = fmt(f.train_loss);
  $("test-acc").textContent = f.test_accuracy === null ? "" : `(accuracy ${fmt(f.test_accuracy)})`;
  $("train-acc").textContent = f.train_accuracy === null ? "" : `(accuracy ${fmt(f.train_accuracy)})`;
  drawBoundary(f);
  drawLossChart(f.history);
  renderNetwork(f);
}

function drawBoundary(f) {
  const b = f.boundary;
  // Paint the grid cell by cell on a small canvas, then scale it up smoothly onto the view.
  const grid = state.gridCanvas || (state.gridCanvas = document.createElement("canvas"));
  if (grid.width !== b.size) { grid.width = b.size; grid.height = b.size; }
  const ctx = grid.getContext("2d");
  const img = ctx.createImageData(b.size, b.size);
  const n = b.size * b.size;
  if (b.cls) {
    const cls = b64bytes(b.cls), conf = b64bytes(b.conf);
    const k = Math.max(f.n_classes, 2);
    for (let p = 0; p < n; p++) {
      // alpha grows from the chance level 1/k (no preference) to certainty.
      const t = Math.max(0, (conf[p] / 255 - 1 / k) / (1 - 1 / k));
      const a = 0.15 + 0.5 * t;  // light enough for same-coloured points to stand out
      const c = PALETTE[cls[p] % PALETTE.length];
      img.data[p * 4] = 255 + (c[0] - 255) * a;
      img.data[p * 4 + 1] = 255 + (c[1] - 255) * a;
      img.data[p * 4 + 2] = 255 + (c[2] - 255) * a;
      img.data[p * 4 + 3] = 255;
    }
  } else {
    const v = b64bytes(b.value);
    for (let p = 0; p < n; p++) {
      const [r, g, bl] = diverging(v[p] / 127.5 - 1, 0.65);
      img.data.set([r, g, bl, 255], p * 4);
    }
  }
  ctx.putImageData(img, 0, 0);
  const view = $("boundary").getContext("2d");
  view.imageSmoothingEnabled = true;
  view.imageSmoothingQuality = "high";
  view.drawImage(grid, 0, 0, view.canvas.width, view.canvas.height);
  state.boundaryDomain = b.domain;
}

function drawPoints() {
  const p = state.points;
  const canvas = $("points");
  const ctx = canvas.getContext("2d");
  ctx.clearRect(0, 0, canvas.width, canvas.height);
  if (!p) return;
  const [x1lo, x1hi, x2lo, x2hi] = p.domain;
  const W = canvas.width, H = canvas.height;
  const draw = (set, stroke) => {
    const xs = set.x, ys = set.y;
    for (let i = 0; i < ys.length; i++) {
      const px = (xs[2 * i] - x1lo) / (x1hi - x1lo) * W;
      const py = (x2hi - xs[2 * i + 1]) / (x2hi - x2lo) * H;
      let color;
      if (p.task === "classification") color = COLORS[ys[i] % COLORS.length];
      else { const [r, g, b] = diverging(ys[i] / p.target_scale); color = `rgb(${r},${g},${b})`; }
      ctx.beginPath();
      ctx.arc(px, py, ys.length > 2000 ? 2.2 : 3.6, 0, 2 * Math.PI);
      ctx.fillStyle = color;
      ctx.fill();
      ctx.lineWidth = 1;
      ctx.strokeStyle = stroke;
      ctx.stroke();
    }
  };
  // Regression targets near 0 are white: a faint dark ring keeps those points visible.
  draw(p.train, p.task === "classification" ? "#ffffff" : "rgba(0,0,0,0.3)");
  if ($("show-test").checked) draw(p.test, "#000000");
  for (const f of state.options ? state.options.choices.features : []) {
    const el = document.querySelector(`[data-node="f:${f}"] canvas`);
    if (el && !(state.config && state.config.features.includes(f))) drawFeatureThumb(el, f);
  }
}

function drawLegend() {
  const p = state.points;
  const el = $("legend");
  el.innerHTML = "";
  if (!p) return;
  const [x1lo, x1hi, x2lo, x2hi] = p.domain.map((v) => fmt(v, 2));
  const axes = document.createElement("div");
  axes.className = "axes";
  axes.textContent = `x1 ∈ [${x1lo}, ${x1hi}], x2 ∈ [${x2lo}, ${x2hi}]`;
  if (p.task === "classification") {
    p.class_names.forEach((name, i) => {
      const s = document.createElement("span");
      s.className = "swatch";
      s.innerHTML = `<i style="background:${COLORS[i % COLORS.length]}"></i>class ${name}`;
      el.append(s);
    });
  } else {
    const s = document.createElement("span");
    s.className = "swatch";
    s.innerHTML = `<i style="background:${COLORS[0]}"></i>−${fmt(p.target_scale, 2)} ` +
      `<i style="background:#fff"></i>0 <i style="background:${COLORS[1]}"></i>+${fmt(p.target_scale, 2)}`;
    el.append(s);
  }
  el.append(axes);
}

function drawLossChart(h) {
  const canvas = $("loss-chart");
  const ctx = canvas.getContext("2d");
  const W = canvas.width, H = canvas.height;
  ctx.clearRect(0, 0, W, H);
  const n = h.epoch.length;
  if (n < 2) return;
  const vals = h.train.concat(h.test).filter((v) => v !== null && Number.isFinite(v));
  const ymax = Math.max(...vals, 1e-6);
  const e0 = h.epoch[0], e1 = h.epoch[n - 1];
  const line = (ys, color) => {
    ctx.beginPath();
    let started = false;
    for (let i = 0; i < n; i++) {
      if (ys[i] === null) continue;
      const x = (h.epoch[i] - e0) / Math.max(e1 - e0, 1) * (W - 2) + 1;
      const y = H - 2 - ys[i] / ymax * (H - 6);
      if (started) ctx.lineTo(x, y); else { ctx.moveTo(x, y); started = true; }
    }
    ctx.strokeStyle = color;
    ctx.lineWidth = 1.5;
    ctx.stroke();
  };
  line(h.train, "#999999");
  line(h.test, "#222222");
}

// ---------- dataset buttons ----------

function drawDatasetIcons() {
  // Small sketches of each data set (drawn here; the real points come from the server).
  let seed = 7;
  const rnd = () => { seed = (seed * 16807) % 2147483647; return seed / 2147483647; };
  const sketches = {
    circle: (i) => { const r = i % 2 ? rnd() * 0.45 : 0.65 + rnd() * 0.3; const a = rnd() * 6.283;
      return [r * Math.cos(a), r * Math.sin(a), i % 2]; },
    xor: () => { const x = rnd() * 2 - 1, y = rnd() * 2 - 1; return [x, y, x * y >= 0 ? 1 : 0]; },
    gauss: (i) => { const c = i % 2 ? 0.45 : -0.45; return [c + (rnd() - 0.5) * 0.6, c + (rnd() - 0.5) * 0.6, i % 2]; },
    spiral: (i) => { const t = (i >> 1) / 40; const a = 1.75 * t * 6.283 + Math.PI * (i % 2);
      return [t * Math.sin(a) * 0.95, t * Math.cos(a) * 0.95, i % 2]; },
    moons: (i) => { const t = rnd() * Math.PI; return i % 2
      ? [(1 - Math.cos(t)) * 0.6 - 0.3, (0.5 - Math.sin(t)) * 0.6 - 0.05, 1]
      : [Math.cos(t) * 0.6 - 0.3, Math.sin(t) * 0.6 - 0.05, 0]; },
    plane: () => { const x = rnd() * 2 - 1, y = rnd() * 2 - 1; return [x, y, (x + y) / 2]; },
    multi_gauss: () => { const x = rnd() * 2 - 1, y = rnd() * 2 - 1;
      return [x, y, Math.sin(x * 4) * Math.cos(y * 3)]; },
  };
  for (const btn of document.querySelectorAll(".dataset")) {
    const name = btn.dataset.dataset;
    const ctx = btn.querySelector("canvas").getContext("2d");
    ctx.fillStyle = "#fafafa";
    ctx.fillRect(0, 0, 40, 40);
    if (!sketches[name]) {
      ctx.fillStyle = "#999";
      ctx.font = "bold 18px sans-serif";
      ctx.textAlign = "center";
      ctx.fillText("?", 20, 27);
      continue;
    }
    for (let i = 0; i < 80; i++) {
      const [x, y, v] = sketches[name](i);
      const regression = name === "plane" || name === "multi_gauss";
      const [r, g, b] = regression ? diverging(v) : (v ? POS : NEG);
      ctx.fillStyle = `rgb(${r},${g},${b})`;
      ctx.beginPath();
      ctx.arc(20 + x * 18, 20 - y * 18, 1.6, 0, 6.283);
      ctx.fill();
    }
  }
}

window.addEventListener("resize", () => { state.layoutKey = ""; layoutNetwork(); });

async function init() {
  try {
    state.options = await (await fetch("/api/options")).json();
  } catch (e) {
    showBanner("Cannot reach the playground server.", "fatal");
    return;
  }
  bindControls();
  drawDatasetIcons();
  updatePlayButton();
  connect();
}

init();
