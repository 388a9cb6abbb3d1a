// Classify a drawn or uploaded image with an ONNX model exported by deepgrad.
// The model takes raw pixels in [0, 1], shape (batch, 1, 28, 28): the run's normalisation is
// part of the graph, so this page only has to turn an image into 784 grey levels.
"use strict";

const FASHION_MNIST = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
  "Sneaker", "Bag", "Ankle boot"];
const SIDE = 28;

const $ = (id) => document.getElementById(id);
const draw = $("draw");
const pen = draw.getContext("2d");
const small = $("small").getContext("2d", {willReadFrequently: true});
let session = null;
let classes = FASHION_MNIST;
let count = 0;

function clear() {
  pen.fillStyle = "#000";
  pen.fillRect(0, 0, draw.width, draw.height);
}

// 784 grey levels in [0, 1] from any image source, scaled to 28 x 28; a light background
// (dark ink on paper, a photo of a shirt on a table) is inverted to the data set's dark one.
function pixels(source) {
  small.imageSmoothingEnabled = true;
  small.imageSmoothingQuality = "high";
  small.fillStyle = "#000";
  small.fillRect(0, 0, SIDE, SIDE);
  small.drawImage(source, 0, 0, SIDE, SIDE);
  const rgba = small.getImageData(0, 0, SIDE, SIDE).data;
  const x = new Float32Array(SIDE * SIDE);
  for (let i = 0; i < x.length; i++) {
    x[i] = (rgba[4 * i] + rgba[4 * i + 1] + rgba[4 * i + 2]) / (3 * 255);
  }
  let border = 0;
  for (let k = 0; k < SIDE; k++) {
    border += x[k] + x[(SIDE - 1) * SIDE + k] + x[k * SIDE] + x[k * SIDE + SIDE - 1];
  }
  if (border / (4 * SIDE) > 0.5) {
    for (let i = 0; i < x.length; i++) x[i] = 1 - x[i];
    const img = small.createImageData(SIDE, SIDE);
    for (let i = 0; i < x.length; i++) {
      img.data.fill(Math.round(255 * x[i]), 4 * i, 4 * i + 3);
      img.data[4 * i + 3] = 255;
    }
    small.putImageData(img, 0, 0);
  }
  return x;
}

function softmax(logits) {
  const m = Math.max(...logits);
  const e = logits.map((v) => Math.exp(v - m));
  const s = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / s);
}

async function classify(source) {
  if (!session) return;
  const x = pixels(source);
  const input = new ort.Tensor("float32", x, [1, 1, SIDE, SIDE]);
  const out = await session.run({[session.inputNames[0]]: input});
  const logits = Array.from(out[session.outputNames[0]].data);
  const p = softmax(logits);
  const order = p.map((v, i) => i).sort((a, b) => p[b] - p[a]);
  $("prediction").textContent = classes[order[0]];
  $("top").innerHTML = order.slice(0, 3)
    .map((i) => `<li>${classes[i]}: ${(100 * p[i]).toFixed(1)}%</li>`).join("");
  window.lastInput = Array.from(x);  // for the page's test: the exact input the model saw
  window.lastLogits = logits;
  document.body.dataset.count = String(++count);
}

function position(e) {
  const r = draw.getBoundingClientRect();
  return [(e.clientX - r.left) * draw.width / r.width, (e.clientY - r.top) * draw.height / r.height];
}

let drawing = false;
draw.addEventListener("pointerdown", (e) => {
  drawing = true;
  pen.beginPath();
  pen.moveTo(...position(e));
});
draw.addEventListener("pointermove", (e) => {
  if (!drawing) return;
  pen.strokeStyle = "#fff";
  pen.lineWidth = 22;
  pen.lineCap = pen.lineJoin = "round";
  pen.lineTo(...position(e));
  pen.stroke();
});
window.addEventListener("pointerup", () => {
  if (drawing) { drawing = false; classify(draw); }
});
$("clear").onclick = () => { clear(); $("prediction").textContent = "–"; $("top").innerHTML = ""; };
$("upload").addEventListener("change", (e) => {
  const file = e.target.files[0];
  if (!file) return;
  const img = new Image();
  img.onload = () => {
    pen.imageSmoothingEnabled = false;
    pen.drawImage(img, 0, 0, draw.width, draw.height);
    classify(img);
    URL.revokeObjectURL(img.src);
  };
  img.src = URL.createObjectURL(file);
});

async function init() {
  clear();
  ort.env.wasm.numThreads = 1;  // threads would need cross-origin isolation headers
  ort.env.wasm.wasmPaths = new URL("node_modules/onnxruntime-web/dist/", location.href).href;
  try {
    const r = await fetch("classes.json");
    if (r.ok) classes = await r.json();
  } catch (err) { /* keep Fashion-MNIST's names */ }
  try {
    session = await ort.InferenceSession.create("model.onnx", {executionProviders: ["wasm"]});
    $("status").textContent = "Model loaded: draw or upload an image.";
    document.body.dataset.ready = "1";
  } catch (err) {
    $("status").textContent = `Could not load model.onnx (${err}). Export one first, see README.md.`;
    document.body.dataset.ready = "error";
  }
}
init();
