// node ort_run.js MODEL.onnx DIR OPT_LEVEL
// Runs ONNX Runtime (CPU) on DIR/inputs.json (name, shape, float32 .bin file per input) and
// writes each output as DIR/ort_<name>.bin plus DIR/ort_outputs.json (names and shapes).
// OPT_LEVEL: 'disabled' runs the QDQ graph node by node; 'all' lets ORT fuse it into its
// integer kernels. onnxruntime-node is found through NODE_PATH.
'use strict';
const fs = require('fs');
const path = require('path');
const ort = require('onnxruntime-node');

async function main() {
  const [model, dir, level] = process.argv.slice(2);
  const session = await ort.InferenceSession.create(model, {
    executionProviders: ['cpu'], intraOpNumThreads: 1, graphOptimizationLevel: level || 'disabled',
  });
  const inputs = JSON.parse(fs.readFileSync(path.join(dir, 'inputs.json'), 'utf8'));
  const feeds = {};
  for (const input of inputs) {
    const buf = fs.readFileSync(path.join(dir, input.file));
    const data = new Float32Array(buf.buffer, buf.byteOffset, buf.length / 4);
    feeds[input.name] = new ort.Tensor('float32', Float32Array.from(data), input.shape);
  }
  const results = await session.run(feeds);
  const written = [];
  for (const name of session.outputNames) {
    const t = results[name];
    const file = `ort_${written.length}.bin`;
    fs.writeFileSync(path.join(dir, file), Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
    written.push({ name, shape: t.dims, type: t.type, file });
  }
  fs.writeFileSync(path.join(dir, 'ort_outputs.json'), JSON.stringify(written));
  console.log(`onnxruntime ${ort.env.versions ? ort.env.versions.common : ''} ran ${model} (${level})`);
}

main().catch((e) => {
  console.error(`ort_run.js: ${e.message}`);
  process.exit(2);
});
