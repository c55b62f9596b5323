/**
 * The production Content-Security-Policy (a <meta> in the built index.html; see docs in README.md
 * next to this file). Used by vite.config.ts at build time only: vite dev keeps no CSP because its
 * HMR client needs ws: and inline module scripts.
 */

export const CSP_DIRECTIVES: Readonly<Record<string, readonly string[]>> = {
  'default-src': ["'self'"],
  // onnxruntime-web compiles WebAssembly: 'wasm-unsafe-eval' allows that and nothing else (no eval)
  'script-src': ["'self'", "'wasm-unsafe-eval'"],
  // the engine worker is a same-origin module; onnxruntime's threaded WASM may start blob: workers
  'worker-src': ["'self'", 'blob:'],
  // results and thumbnails are blob: and data: URLs made in the page
  'img-src': ["'self'", 'blob:', 'data:'],
  // React sets styles through the CSSOM, which style-src does not restrict; no inline <style> is used
  'style-src': ["'self'"],
  'font-src': ["'self'"],
  // model manifests and files come from this site or from an https address the person pastes:
  // the address is not known when the page is built, so any https origin is allowed (never plain
  // http). Photos are never sent: the app makes no request with user data.
  'connect-src': ["'self'", 'https:', 'blob:', 'data:'],
  'manifest-src': ["'self'"],
  'media-src': ["'self'", 'blob:'],
  'object-src': ["'none'"],
  'base-uri': ["'self'"],
  'form-action': ["'none'"],
};

export function buildCsp(directives: Readonly<Record<string, readonly string[]>> = CSP_DIRECTIVES): string {
  return Object.entries(directives)
    .map(([k, v]) => `${k} ${v.join(' ')}`)
    .join('; ');
}

/** The <meta> tag inserted at the top of <head> in production builds. */
export function cspMetaTag(): string {
  return `<meta http-equiv="Content-Security-Policy" content="${buildCsp()}" />`;
}

/** Whether a URL may be fetched under connect-src (used to explain refusals before they happen). */
export function connectAllowed(url: string, pageOrigin: string): boolean {
  let u: URL;
  try {
    u = new URL(url, pageOrigin);
  } catch {
    return false;
  }
  return u.origin === new URL(pageOrigin).origin || u.protocol === 'https:' || u.protocol === 'blob:' || u.protocol === 'data:';
}
