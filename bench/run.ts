/**
 * npm run bench: per-step time of prior / posterior / restorer / identity / guidance+update, on
 * onnxruntime-node (CPU) and on WebGPU in headless Chromium, with a UNet of the official
 * architecture family at 128x128 and 256x256 (random weights). Writes bench/results/latest.json
 * and the table in docs/performance.md.
 *   npm run bench -- [--cpu-calls 3] [--gpu-sizes 128,256] [--gpu-calls 1] [--gpu-budget-s 900] [--skip-gpu]
 */
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium } from '@playwright/test';
import type { RunStats } from '../workers/api';
import { benchRequest } from './request';
import { createNodeEngine, REPO_ROOT } from '../cli/node-engine';

const args = process.argv.slice(2);
const opt = (name: string, def: string) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? (args[i + 1] ?? def) : def;
};
const CPU_CALLS = Number(opt('cpu-calls', '3'));
const GPU_SIZES = opt('gpu-sizes', '128,256').split(',').map(Number);
const GPU_CALLS = Number(opt('gpu-calls', '1'));
const GPU_BUDGET_S = Number(opt('gpu-budget-s', '900'));
const SKIP_GPU = args.includes('--skip-gpu');
const MANIFEST = path.join(REPO_ROOT, 'tests/fixtures/models/bench/manifest.json');
// the latent set: made by bench/make_latent_set.py (random 5.0M prior, the real TAEF2 decoder and its VJP)
const LATENT_DIR = path.join(REPO_ROOT, '.data/bench-latent');
const SKIP_LATENT = args.includes('--skip-latent');
const TASKS = ['blind', 'reference'] as const;

interface Row {
  device: string;
  size: number;
  task: string;
  calls: number;
  perCallMs: Record<string, number>;
  guidanceShareOfPrior: number;
  readbackElementsBetweenSteps: number;
  note?: string;
}

function summarise(device: string, size: number, task: string, stats: RunStats, note?: string): Row {
  const calls = stats.priorCalls;
  const perCallMs: Record<string, number> = {};
  for (const [k, v] of Object.entries(stats.phaseMs)) perCallMs[k] = v / calls;
  // guidance + update = the posterior graph, the identity chain and the guidance/update graph (latent sets: plus
  // the decoder, its VJP and the update graph)
  const guidance = ['posterior', 'guidance', 'identity', 'decoder', 'decoder-vjp', 'update'].reduce((a, k) => a + (perCallMs[k] ?? 0), 0);
  return {
    device,
    size,
    task,
    calls,
    perCallMs,
    guidanceShareOfPrior: guidance / (perCallMs.prior ?? 1),
    readbackElementsBetweenSteps: stats.readbackBytesBetweenSteps / 4,
    ...(note ? { note } : {}),
  };
}

async function cpu(): Promise<Row[]> {
  const rows: Row[] = [];
  for (const size of [128, 256]) {
    for (const task of TASKS) {
      const engine = await createNodeEngine({ models: MANIFEST, threads: 2 });
      await engine.restore(benchRequest(size, task), { profile: true, maxCalls: 1 }); // warm-up
      const res = await engine.restore(benchRequest(size, task), { profile: true, maxCalls: CPU_CALLS });
      rows.push(summarise('cpu (onnxruntime-node, 2 threads)', size, task, res.stats));
      await engine.dispose();
      process.stderr.write(`cpu ${size} ${task}: prior ${rows.at(-1)!.perCallMs.prior!.toFixed(0)} ms/call\n`);
    }
  }
  return rows;
}

interface LatentResult {
  rows: Row[];
  torch: Record<string, number>;
  fiftyStepBlindS: number;
  guidancePathMs: number;
  ratioToTorch: number;
}

/** The latent set on the CPU: per-phase times per call, a whole 50-step blind run, and PyTorch's times. */
async function cpuLatent(): Promise<LatentResult> {
  // the set once; PyTorch's timings in every run, next to the engine's
  const fresh = !existsSync(path.join(LATENT_DIR, 'manifest.json'));
  execFileSync(
    '/usr/bin/python3',
    ['-m', 'bench.make_latent_set', '--out', LATENT_DIR, '--threads', '2', ...(fresh ? [] : ['--times-only'])],
    { cwd: REPO_ROOT, stdio: 'inherit' },
  );
  const torch = JSON.parse(readFileSync(path.join(LATENT_DIR, 'torch-times.json'), 'utf8')) as Record<string, number>;
  const engine = await createNodeEngine({ models: path.join(LATENT_DIR, 'manifest.json'), threads: 2 });
  await engine.restore(benchRequest(256, 'blind'), { profile: true, maxCalls: 1 });
  const res = await engine.restore(benchRequest(256, 'blind'), { profile: true, maxCalls: CPU_CALLS });
  const row = summarise('cpu (onnxruntime-node, 2 threads), latent 32x32x32', 256, 'blind', res.stats);
  const t0 = performance.now();
  const full = await engine.restore(benchRequest(256, 'blind', 50));
  const fiftyStepBlindS = (performance.now() - t0) / 1000;
  await engine.dispose();
  const p = row.perCallMs;
  const guidancePathMs = ['decoder', 'decoder-vjp', 'guidance', 'update'].reduce((a, k) => a + (p[k] ?? 0), 0);
  process.stderr.write(
    `cpu latent 256 blind: prior ${p.prior?.toFixed(0)} ms, decoder ${p.decoder?.toFixed(0)} ms, vjp ${p['decoder-vjp']?.toFixed(0)} ms; 50 steps ${fiftyStepBlindS.toFixed(1)} s (${full.stats.priorCalls} calls)\n`,
  );
  const ratioToTorch = guidancePathMs / (torch.decoder_forward_autograd_vjp_ms ?? NaN);
  return { rows: [row], torch, fiftyStepBlindS, guidancePathMs, ratioToTorch };
}

async function startVite(port: number): Promise<() => void> {
  const child = spawn('npx', ['vite', '--port', String(port), '--strictPort'], {
    cwd: REPO_ROOT,
    env: { ...process.env, E2E: '1' },
    stdio: 'ignore',
    detached: true,
  });
  const url = `http://localhost:${port}/e2e/harness/engine.html`;
  for (let i = 0; i < 120; i++) {
    try {
      if ((await fetch(url)).ok) break;
    } catch {
      /* not up yet */
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  return () => {
    try {
      process.kill(-(child.pid as number));
    } catch {
      /* already gone */
    }
  };
}

async function webgpu(): Promise<{ rows: Row[]; memory: unknown[]; adapter?: string }> {
  const port = 5190 + Math.floor(Math.random() * 50);
  const stop = await startVite(port);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    args: ['--no-sandbox', '--enable-unsafe-webgpu', '--disable-quic'],
  });
  const rows: Row[] = [];
  const memory: unknown[] = [];
  let adapter: string | undefined;
  const started = Date.now();
  try {
    for (const size of GPU_SIZES) {
      for (const task of TASKS) {
        if ((Date.now() - started) / 1000 > GPU_BUDGET_S) {
          rows.push({
            device: 'webgpu',
            size,
            task,
            calls: 0,
            perCallMs: {},
            guidanceShareOfPrior: NaN,
            readbackElementsBetweenSteps: NaN,
            note: `skipped: over the ${GPU_BUDGET_S} s budget`,
          });
          continue;
        }
        const page = await browser.newPage();
        // count GPU buffer bytes: wrap createBuffer/destroy before any script runs
        await page.addInitScript(() => {
          type CreateBuffer = (d: { size: number }) => { destroy: () => void };
          const g = globalThis as unknown as { GPUDevice?: { prototype: { createBuffer: CreateBuffer } }; __gpuMem?: unknown };
          if (!g.GPUDevice) return;
          const live = new Map<object, number>();
          let bytes = 0;
          let peak = 0;
          const orig = g.GPUDevice.prototype.createBuffer;
          g.GPUDevice.prototype.createBuffer = function (this: unknown, desc: { size: number }) {
            const b = orig.call(this, desc);
            live.set(b, desc.size);
            bytes += desc.size;
            peak = Math.max(peak, bytes);
            const destroy = b.destroy.bind(b);
            b.destroy = () => {
              if (live.has(b)) {
                bytes -= live.get(b) as number;
                live.delete(b);
              }
              destroy();
            };
            return b;
          };
          g.__gpuMem = () => ({ bytes, peak, buffers: live.size });
        });
        await page.goto(`http://localhost:${port}/e2e/harness/engine.html`);
        await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
        const r = (await page.evaluate(
          ([m, s, t, c]) => (window as unknown as { __bench: (...a: unknown[]) => Promise<unknown> }).__bench(m, s, t, c, 0),
          ['/tests/fixtures/models/bench/manifest.json', size, task, GPU_CALLS] as const,
        )) as { caps: { adapter?: string }; stats: RunStats; live: number; gpu: unknown };
        adapter = r.caps.adapter;
        rows.push(summarise(`webgpu (${r.caps.adapter ?? '?'})`, size, task, r.stats, 'first calls include shader compilation'));
        memory.push({ size, task, liveTensorsAfterRun: r.live, gpuBufferBytes: r.gpu });
        process.stderr.write(`webgpu ${size} ${task}: prior ${rows.at(-1)!.perCallMs.prior!.toFixed(0)} ms/call\n`);
        await page.close();
      }
    }
    if (!SKIP_LATENT && existsSync(path.join(LATENT_DIR, 'manifest.json'))) {
      const page = await browser.newPage();
      await page.goto(`http://localhost:${port}/e2e/harness/engine.html`);
      await page.waitForFunction(() => document.getElementById('status')?.textContent === 'ready');
      const r = (await page.evaluate(
        ([m, c]) => (window as unknown as { __bench: (...a: unknown[]) => Promise<unknown> }).__bench(m, 256, 'blind', c, 0),
        ['/.data/bench-latent/manifest.json', GPU_CALLS] as const,
      )) as { caps: { adapter?: string }; stats: RunStats; live: number; gpu: unknown };
      rows.push(
        summarise(`webgpu (${r.caps.adapter ?? '?'}), latent 32x32x32`, 256, 'blind', r.stats, 'first calls include shader compilation'),
      );
      memory.push({ size: 256, task: 'blind (latent)', liveTensorsAfterRun: r.live, gpuBufferBytes: r.gpu });
      await page.close();
    }
  } finally {
    await browser.close();
    stop();
  }
  return { rows, memory, ...(adapter ? { adapter } : {}) };
}

function table(rows: Row[]): string {
  const head =
    '| device | size | task | calls | prior ms | restorer ms | identity ms | posterior ms | decoder ms | decoder VJP ms | guidance+update ms | guidance share of prior | readback elems between steps |\n|---|---|---|---|---|---|---|---|---|---|---|---|---|';
  const f = (v: number | undefined) => (v === undefined || Number.isNaN(v) ? '–' : v.toFixed(v < 10 ? 2 : 0));
  return [
    head,
    ...rows.map(
      (r) =>
        `| ${r.device} | ${r.size} | ${r.task} | ${r.calls} | ${f(r.perCallMs.prior)} | ${f(r.perCallMs.restorer)} | ${f(r.perCallMs.identity)} | ${f(r.perCallMs.posterior)} | ${f(r.perCallMs.decoder)} | ${f(r.perCallMs['decoder-vjp'])} | ${f((r.perCallMs.guidance ?? 0) + (r.perCallMs.update ?? 0))} | ${Number.isNaN(r.guidanceShareOfPrior) ? '–' : `${(r.guidanceShareOfPrior * 100).toFixed(2)} %`} | ${Number.isNaN(r.readbackElementsBetweenSteps) ? '–' : r.readbackElementsBetweenSteps} |${r.note ? ` ${r.note}` : ''}`,
    ),
  ].join('\n');
}

async function main(): Promise<void> {
  const latent = SKIP_LATENT ? null : await cpuLatent();
  const cpuRows = [...(await cpu()), ...(latent?.rows ?? [])];
  const gpu = SKIP_GPU ? { rows: [] as Row[], memory: [] as unknown[] } : await webgpu();
  const result = {
    date: new Date().toISOString(),
    machine: { cpus: os.cpus().length, model: os.cpus()[0]?.model, memGiB: Math.round(os.totalmem() / 2 ** 30) },
    model: 'tests/fixtures/models/bench (guided-diffusion UNet, 5.26M params, random weights)',
    rows: [...cpuRows, ...gpu.rows],
    gpuMemory: gpu.memory,
    latent: latent && {
      torch: latent.torch,
      fiftyStepBlindS: latent.fiftyStepBlindS,
      guidancePathMs: latent.guidancePathMs,
      ratioToTorch: latent.ratioToTorch,
    },
  };
  await mkdir(path.join(REPO_ROOT, 'bench/results'), { recursive: true });
  await writeFile(path.join(REPO_ROOT, 'bench/results/latest.json'), JSON.stringify(result, null, 1));
  const md = `# Performance

Generated by \`npm run bench\` on ${result.date} (${result.machine.cpus} CPUs, ${result.machine.model}).
Model: ${result.model}; respacing ddpm100; per sampler call (one prior call), averaged over the measured calls.
Each phase is fenced (the GPU queue is drained after it) so its time is its own; without fences the
phases overlap on the GPU and the total is lower.

${table(result.rows)}

Targets (issue 2): guidance + update <= 10 % of the prior's time per step; zero full-size readbacks per
step on WebGPU (the column above counts every element read back between steps; previews are off here);
GPU memory released after a run:

\`\`\`json
${JSON.stringify(result.gpuMemory, null, 1)}
\`\`\`
\`gpuBufferBytes\` counts the bytes of live GPUBuffers created through GPUDevice.createBuffer (wrapped
before the page loads): before the runtime starts, after loading the models, after the run, and after
engine.dispose(). onnxruntime-web keeps a pool of buffers for reuse while sessions live.

${latentSection(result.latent)}
The WebGPU rows come from headless Chromium's software adapter (SwiftShader), 20-70x slower than WASM on
this machine: they show where time goes, not what a real GPU does. Raw numbers: bench/results/latest.json.
`;
  await writeFile(path.join(REPO_ROOT, 'docs/performance.md'), md);
  process.stdout.write(`${table(result.rows)}\n`);
}

function latentSection(l: Omit<LatentResult, 'rows'> | null): string {
  if (!l) return '';
  const t = l.torch;
  return `## Latent sets (issue 8)

Latent rows: a random ${((t.prior_params ?? 0) / 1e6).toFixed(2)}M-parameter prior over 32x32x32 latents, the real TAEF2 decoder
and its VJP graph (tools/convert/taef2.py), a small y-only restorer (made by \`bench/make_latent_set.py\`).
PyTorch ${t.torch} on the same CPU in the same run (${t.threads} threads, medians of 5): prior ${t.prior_ms?.toFixed(0)} ms,
decoder ${t.decoder_ms?.toFixed(0)} ms, decoder forward + autograd VJP ${t.decoder_forward_autograd_vjp_ms?.toFixed(0)} ms.

| target | measured | met |
|---|---|---|
| guidance path (decoder + VJP + losses + update) within 1.5x of PyTorch's decoder forward + autograd | ${l.guidancePathMs.toFixed(0)} ms = ${l.ratioToTorch.toFixed(2)}x | ${l.ratioToTorch <= 1.5 ? 'yes' : 'no'} |
| 50-step blind restoration at 256 through the engine (Node, 2 threads) <= 30 s | ${l.fiftyStepBlindS.toFixed(1)} s | ${l.fiftyStepBlindS <= 30 ? 'yes' : 'no'} |
| readbacks between steps | see the table's last column | |
`;
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
    process.exit(1);
  },
);
