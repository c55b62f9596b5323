import { describe, expect, it } from 'vitest';
import { buildCsp, connectAllowed, cspMetaTag } from './csp';

describe('production CSP', () => {
  it('is strict: self by default, wasm but no eval, no inline script, no objects', () => {
    const csp = buildCsp();
    expect(csp).toContain("default-src 'self'");
    expect(csp).toMatch(/script-src 'self' 'wasm-unsafe-eval'(;|$)/);
    expect(csp).not.toContain("'unsafe-inline'");
    expect(csp).not.toMatch(/'unsafe-eval'/);
    expect(csp).toContain("worker-src 'self' blob:");
    expect(csp).toContain("img-src 'self' blob: data:");
    expect(csp).toContain("object-src 'none'");
    expect(csp).toMatch(/connect-src 'self' https:/);
    expect(csp).not.toMatch(/connect-src[^;]*http:/);
    expect(cspMetaTag()).toMatch(/^<meta http-equiv="Content-Security-Policy" content="[^"]+" \/>$/);
  });
  it('lets pasted https model URLs through and refuses plain http elsewhere', () => {
    const page = 'http://localhost:4173/';
    expect(connectAllowed('https://huggingface.co/x/manifest.json', page)).toBe(true);
    expect(connectAllowed('/models/pgdiff-utk-latent/manifest.json', page)).toBe(true);
    expect(connectAllowed('http://example.org/manifest.json', page)).toBe(false);
    expect(connectAllowed('ftp://example.org/m.json', page)).toBe(false);
  });
});
