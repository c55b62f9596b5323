/** The run history in IndexedDB (idb). Records are StoredRun; the list keeps only entries. */
import { openDB } from 'idb';
import type { DBSchema, IDBPDatabase } from 'idb';
import type { StoredRun } from './history-model';
import { entryFromStored, idsToPrune, validateStored } from './history-model';
import type { HistoryEntry } from './history-model';

interface HistoryDb extends DBSchema {
  runs: { key: string; value: StoredRun; indexes: { createdAt: number } };
}

export const DB_NAME = 'pgdiff-web';
export const MAX_RUNS = 40;

let dbPromise: Promise<IDBPDatabase<HistoryDb>> | undefined;

function db(): Promise<IDBPDatabase<HistoryDb>> {
  dbPromise ??= openDB<HistoryDb>(DB_NAME, 1, {
    upgrade(d) {
      const store = d.createObjectStore('runs', { keyPath: 'id' });
      store.createIndex('createdAt', 'createdAt');
    },
  });
  return dbPromise;
}

export async function listHistory(): Promise<HistoryEntry[]> {
  const all = await (await db()).getAllFromIndex('runs', 'createdAt');
  const out: HistoryEntry[] = [];
  for (const raw of all) {
    const s = validateStored(raw);
    if (s) out.push(entryFromStored(s));
  }
  return out.sort((a, b) => b.createdAt - a.createdAt);
}

export async function saveRun(run: StoredRun): Promise<string[]> {
  const d = await db();
  await d.put('runs', run);
  const keys = await d.getAllKeysFromIndex('runs', 'createdAt');
  const entries: { id: string; createdAt: number }[] = [];
  const tx = d.transaction('runs', 'readwrite');
  for (const k of keys) {
    const r = await tx.store.get(k);
    if (r) entries.push({ id: r.id, createdAt: r.createdAt });
  }
  const prune = idsToPrune(entries, MAX_RUNS);
  for (const id of prune) await tx.store.delete(id);
  await tx.done;
  return prune;
}

export async function getRun(id: string): Promise<StoredRun | undefined> {
  return validateStored(await (await db()).get('runs', id));
}

export async function deleteRun(id: string): Promise<void> {
  await (await db()).delete('runs', id);
}
