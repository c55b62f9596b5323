/**
 * Speed of the upscaler models on the app's CPU runtime (onnxruntime-web, WASM, one thread, run in Node):
 * a 256 px face to 512 (x2) and to 1024 (x4), median of --runs after one warm-up.
 *   npx tsx tools/upscaler/bench-wasm.ts <model.onnx>... [--runs 3] [--side 256]
 */
import fs from 'node:fs';
import * as ort from 'onnxruntime-web';

ort.env.wasm.numThreads = 1;

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1]! : def;
}

async function main(): Promise<void> {
  const runs = Number(arg('runs', '3'));
  const side = Number(arg('side', '256'));
  const files = process.argv.slice(2).filter((a, i, all) => a.endsWith('.onnx') && !all[i - 1]?.startsWith('--'));
  const x = Float32Array.from({ length: 3 * side * side }, (_, i) => 0.5 + 0.4 * Math.sin(i * 0.013));
  for (const f of files) {
    const sess = await ort.InferenceSession.create(new Uint8Array(fs.readFileSync(f)), { executionProviders: ['wasm'] });
    const times: number[] = [];
    let dims: readonly number[] = [];
    for (let r = 0; r <= runs; r++) {
      const t0 = performance.now();
      const out = await sess.run({ input: new ort.Tensor('float32', x, [1, 3, side, side]) });
      const ms = performance.now() - t0;
      dims = out.output!.dims;
      if (r > 0) times.push(ms);
    }
    await sess.release();
    times.sort((a, b) => a - b);
    console.log(
      `${f}: ${side} -> ${dims[2]} px, median ${(times[Math.floor(times.length / 2)]! / 1000).toFixed(2)} s (runs ${times.map((t) => (t / 1000).toFixed(2)).join(', ')})`,
    );
  }
}

void main();
