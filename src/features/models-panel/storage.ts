/**
 * Ask the browser to keep the cached models under storage pressure (best effort: Chromium decides by site
 * engagement). persist() exists only in a window, not in the worker that holds the cache, so it is asked here.
 */
export async function requestPersistentStorage(
  storage: { persist?(): Promise<boolean> } | undefined = globalThis.navigator?.storage,
): Promise<boolean> {
  try {
    return (await storage?.persist?.()) ?? false;
  } catch {
    return false;
  }
}
