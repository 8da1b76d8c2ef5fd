// node ort_latency.js MODEL.onnx THREADS RUNS WARMUP
// Times ONNX Runtime (onnxruntime-node, CPU execution provider) on one model with random inputs
// in [-1, 1) and prints one line like kestrel_cpu_latency:
//   "onnxruntime 1.30.0 cpu threads=N runs=N median_ms=.. mean_ms=.. p90_ms=.. min_ms=.."
// Found through NODE_PATH (bench/peers/cpu_peers.sh installs the package under the build folder).
'use strict';
const ort = require('onnxruntime-node');
const { performance } = require('perf_hooks');

async function main() {
  const [model, threadsArg, runsArg, warmupArg] = process.argv.slice(2);
  if (!model) {
    console.error('usage: node ort_latency.js MODEL.onnx [THREADS] [RUNS] [WARMUP]');
    process.exit(2);
  }
  const threads = Number(threadsArg || 1), runs = Number(runsArg || 100), warmup = Number(warmupArg || 10);
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  });
  // Random inputs of the model's static shapes (dynamic dims: 1).
  const feeds = {};
  let seed = 1;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2147483648) / 1073741824) - 1;
  for (const name of session.inputNames) {
    const meta = session.inputMetadata ? session.inputMetadata.find((m) => m.name === name) : null;
    let dims = meta && meta.shape ? meta.shape.map((d) => (typeof d === 'number' && d > 0 ? d : 1)) : null;
    if (!dims) throw new Error(`no static shape for input ${name}`);
    const n = dims.reduce((a, b) => a * b, 1);
    const data = new Float32Array(n);
    for (let i = 0; i < n; ++i) data[i] = random();
    feeds[name] = new ort.Tensor('float32', data, dims);
  }
  for (let i = 0; i < warmup; ++i) await session.run(feeds);
  const ms = [];
  for (let i = 0; i < runs; ++i) {
    const start = performance.now();
    await session.run(feeds);
    ms.push(performance.now() - start);
  }
  const sorted = [...ms].sort((a, b) => a - b);
  const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
  const p90 = sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.9))];
  const version = require('onnxruntime-node/package.json').version;
  console.log(`onnxruntime ${version} cpu threads=${threads} runs=${runs} median_ms=${sorted[Math.floor(sorted.length / 2)].toFixed(3)} ` +
              `mean_ms=${mean.toFixed(3)} p90_ms=${p90.toFixed(3)} min_ms=${sorted[0].toFixed(3)}`);
}

main().catch((e) => {
  console.error(`ort_latency: ${e.message}`);
  process.exit(1);
});
