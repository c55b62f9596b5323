import { describe, expect, it } from 'vitest';
import type { Backend, Session } from './backend';
import { isSoftwareAdapter, watchDeviceLost } from './web';

describe('isSoftwareAdapter', () => {
  it('recognises fallback adapters by flag and by name', () => {
    expect(isSoftwareAdapter({ vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader Device (Subzero)' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'llvmpipe (LLVM 15.0.6, 256 bits)' })).toBe(true);
    expect(isSoftwareAdapter({ description: 'Microsoft Basic Render Driver' })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ada' }, true)).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ada', isFallbackAdapter: true })).toBe(true);
    expect(isSoftwareAdapter({ vendor: 'nvidia', architecture: 'ada', description: 'NVIDIA GeForce RTX 4070' })).toBe(false);
    expect(isSoftwareAdapter({ vendor: 'apple', architecture: 'metal-3' })).toBe(false);
    expect(isSoftwareAdapter(undefined)).toBe(false);
  });
});

describe('watchDeviceLost', () => {
  function fakeBackend(): { backend: Backend; created: string[] } {
    const created: string[] = [];
    const backend = {
      kind: 'webgpu',
      createSession: async (_model: Uint8Array, label: string) => {
        created.push(label);
        return { label } as unknown as Session;
      },
    } as unknown as Backend;
    return { backend, created };
  }

  it('reads the device only after the first GPU session and tells every listener once when it is lost', async () => {
    const { backend, created } = fakeBackend();
    let reads = 0;
    let lose: (info: unknown) => void = () => undefined;
    const lost = new Promise((resolve) => (lose = resolve));
    const w = watchDeviceLost(backend, async () => {
      reads++;
      return { lost };
    });
    const calls: string[] = [];
    w.listeners.push(
      () => calls.push('a'),
      () => calls.push('b'),
    );
    await w.backend.createSession(new Uint8Array(1), 'face-detector', { device: 'cpu' });
    // a CPU session does not create onnxruntime's GPU device: reading it now would make one of its own
    expect(reads).toBe(0);
    await w.backend.createSession(new Uint8Array(1), 'prior');
    await w.backend.createSession(new Uint8Array(1), 'restorer');
    await Promise.resolve();
    expect(reads).toBe(1);
    expect(created).toEqual(['face-detector', 'prior', 'restorer']);
    expect(calls).toEqual([]);
    lose({ reason: 'destroyed' });
    await new Promise((r) => setTimeout(r, 0));
    expect(calls).toEqual(['a', 'b']);
  });
});
