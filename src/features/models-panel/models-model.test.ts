import { describe, expect, it } from 'vitest';
import { manifestJson, randomFile } from '../../../tests/helpers/models/fixtures';
import { previewManifest } from '../../../workers/models/catalog';
import { checkManifestUrl, findManifestFile, formatBytes, matchPickedFiles } from './models-model';

const prior = { path: 'prior.onnx', data: randomFile(1000) };
const prior16 = { path: 'prior.fp16.onnx', data: randomFile(500) };
const restorer = { path: 'sub/restorer.onnx', data: randomFile(300) };

describe('picked files', () => {
  it('finds the manifest and reports missing required and optional files', () => {
    const p = previewManifest(manifestJson({ prior, priorFp16: prior16, restorer }), 'manifest.json');
    const files = [{ name: 'manifest.json' }, { name: 'prior.onnx' }, { name: 'notes.txt' }];
    expect(findManifestFile(files)?.name).toBe('manifest.json');
    expect(findManifestFile([{ name: 'a.json' }, { name: 'b.json' }])).toBeUndefined();
    expect(findManifestFile([{ name: 'set.json' }, { name: 'x.onnx' }])?.name).toBe('set.json');
    expect(
      matchPickedFiles(
        files.map((f) => f.name),
        p,
      ),
    ).toEqual({
      missingRequired: ['restorer.onnx'],
      missingOptional: ['prior.fp16.onnx'],
      unused: ['notes.txt'],
    });
  });
});

describe('sizes and URLs', () => {
  it('formats sizes', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(450 * 1024 * 1024)).toBe('450 MB');
  });
  it('accepts https and same-origin manifest URLs only', () => {
    const base = 'http://localhost:5179/';
    expect(checkManifestUrl('https://example.org/m/manifest.json', base).url).toBe('https://example.org/m/manifest.json');
    expect(checkManifestUrl('/models/x/manifest.json', base).url).toBe('http://localhost:5179/models/x/manifest.json');
    expect(checkManifestUrl('http://example.org/manifest.json', base).error).toMatch(/https/);
    expect(checkManifestUrl('  ', base).error).toBeDefined();
    expect(checkManifestUrl('javascript:alert(1)', base).error).toMatch(/https/);
  });
});
