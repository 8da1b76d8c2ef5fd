// node ort_node_server.js MODEL_DIR THREADS
// ONNX Runtime (onnxruntime-node, CPU execution provider) for a Python client on a machine
// without ONNX Runtime's Python package (bench/peers/ort_node_session.py starts it). It loads
// MODEL_DIR/smat_template.onnx and MODEL_DIR/smat_track.onnx once and answers requests on
// stdin/stdout, each message a 4-byte little-endian length, a JSON header of that length, then
// the float32 tensors it lists, back to back:
//   request  {"model": "smat_track", "inputs": [{"name": "z", "dims": [1, 128, 32, 32]}, ...]}
//   response {"outputs": [{"name": ..., "dims": [...]}, ...], "ms": inference milliseconds}
// or {"error": "..."} with no tensors. Found through NODE_PATH (cpu_peers.sh installs the package).
'use strict';
const ort = require('onnxruntime-node');
const path = require('path');
const { performance } = require('perf_hooks');

function frame(header, tensors) {
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(4);
  length.writeUInt32LE(json.length);
  const parts = [length, json];
  for (const t of tensors) parts.push(Buffer.from(t.buffer, t.byteOffset, t.byteLength));
  process.stdout.write(Buffer.concat(parts));
}

async function main() {
  const [modelDir, threadsArg] = process.argv.slice(2);
  if (!modelDir) {
    console.error('usage: node ort_node_server.js MODEL_DIR [THREADS]');
    process.exit(2);
  }
  const options = {
    executionProviders: ['cpu'], intraOpNumThreads: Number(threadsArg || 0), interOpNumThreads: 1,
    executionMode: 'sequential', graphOptimizationLevel: 'all',
  };
  const sessions = {};
  for (const name of ['smat_template', 'smat_track'])
    sessions[name] = await ort.InferenceSession.create(path.join(modelDir, `${name}.onnx`), options);
  frame({ ready: true, version: require('onnxruntime-node/package.json').version }, []);

  let pending = Buffer.alloc(0);
  let busy = false;
  // One request at a time: the client waits for each answer before it sends the next.
  async function serve() {
    if (busy || pending.length < 4) return;
    const headerLength = pending.readUInt32LE(0);
    if (pending.length < 4 + headerLength) return;
    const header = JSON.parse(pending.subarray(4, 4 + headerLength).toString());
    const sizes = header.inputs.map((i) => 4 * i.dims.reduce((a, b) => a * b, 1));
    const total = 4 + headerLength + sizes.reduce((a, b) => a + b, 0);
    if (pending.length < total) return;
    busy = true;
    const feeds = {};
    let offset = 4 + headerLength;
    header.inputs.forEach((input, i) => {
      const bytes = Buffer.from(pending.subarray(offset, offset + sizes[i]));  // aligned copy
      feeds[input.name] = new ort.Tensor('float32', new Float32Array(bytes.buffer, bytes.byteOffset, sizes[i] / 4),
                                         input.dims);
      offset += sizes[i];
    });
    pending = pending.subarray(total);
    try {
      const session = sessions[header.model];
      if (!session) throw new Error(`no model '${header.model}'`);
      const start = performance.now();
      const results = await session.run(feeds);
      const ms = performance.now() - start;
      const outputs = session.outputNames.map((name) => results[name]);
      frame({ outputs: session.outputNames.map((name, i) => ({ name, dims: outputs[i].dims })), ms },
            outputs.map((t) => t.data));
    } catch (e) {
      frame({ error: String(e && e.message ? e.message : e) }, []);
    }
    busy = false;
    setImmediate(serve);
  }
  process.stdin.on('data', (chunk) => { pending = Buffer.concat([pending, chunk]); serve(); });
  process.stdin.on('end', () => process.exit(0));
}

main().catch((e) => { console.error(`ort_node_server: ${e.message}`); process.exit(1); });
