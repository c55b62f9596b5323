/** The run history in IndexedDB (idb). Records are StoredRun; the list keeps only entries. */
import { openDB } from 'idb';
import type { DBSchema, IDBPDatabase } from 'idb';
import type { StoredRun } from './history-model';
import { entryFromStored, idsToPrune, validateStored } from './history-model';
import type { HistoryEntry } from './history-model';

interface HistoryDb extends DBSchema {
  runs: { key: string; value: StoredRun; indexes: { createdAt: number } };
  /** original photos, once per photo however many runs use it (key: photoId) */
  photos: { key: string; value: Blob };
  /** the work in progress (photo, mask, references, settings), key 'current': src/features/session */
  session: { key: string; value: unknown };
}

export const DB_NAME = 'pgdiff-web';
export const MAX_RUNS = 40;

let dbPromise: Promise<IDBPDatabase<HistoryDb>> | undefined;

/** The app's one IndexedDB database (history and the saved session). */
export function db(): Promise<IDBPDatabase<HistoryDb>> {
  dbPromise ??= openDB<HistoryDb>(DB_NAME, 3, {
    upgrade(d, oldVersion) {
      if (oldVersion < 1) {
        const store = d.createObjectStore('runs', { keyPath: 'id' });
        store.createIndex('createdAt', 'createdAt');
      }
      if (oldVersion < 2) d.createObjectStore('photos');
      if (oldVersion < 3) d.createObjectStore('session');
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

/** Save a run (its photo goes to the photos store, once per photo); returns the ids pruned. */
export async function saveRun(run: StoredRun, photo?: Blob): Promise<string[]> {
  const d = await db();
  const tx = d.transaction(['runs', 'photos'], 'readwrite');
  const runs = tx.objectStore('runs');
  const photos = tx.objectStore('photos');
  if (photo && !(await photos.getKey(run.photoId))) await photos.put(photo, run.photoId);
  await runs.put(run);
  const entries: { id: string; createdAt: number; photoId: string }[] = [];
  let cursor = await runs.openCursor();
  while (cursor) {
    entries.push({ id: cursor.value.id, createdAt: cursor.value.createdAt, photoId: cursor.value.photoId });
    cursor = await cursor.continue();
  }
  const prune = new Set(idsToPrune(entries, MAX_RUNS));
  for (const id of prune) await runs.delete(id);
  // photos no remaining run refers to
  const used = new Set(entries.filter((e) => !prune.has(e.id)).map((e) => e.photoId));
  for (const key of await photos.getAllKeys()) if (!used.has(key)) await photos.delete(key);
  await tx.done;
  return [...prune];
}

/** The original photo a run was made from, when it was kept. */
export async function getRunPhoto(run: StoredRun): Promise<Blob | undefined> {
  if (run.photo) return run.photo;
  return (await db()).get('photos', run.photoId);
}

export async function getRun(id: string): Promise<StoredRun | undefined> {
  return validateStored(await (await db()).get('runs', id));
}

export async function deleteRun(id: string): Promise<void> {
  const d = await db();
  const tx = d.transaction(['runs', 'photos'], 'readwrite');
  const run = await tx.objectStore('runs').get(id);
  await tx.objectStore('runs').delete(id);
  if (run) {
    let stillUsed = false;
    let cursor = await tx.objectStore('runs').openCursor();
    while (cursor && !stillUsed) {
      stillUsed = cursor.value.photoId === run.photoId;
      cursor = await cursor.continue();
    }
    if (!stillUsed) await tx.objectStore('photos').delete(run.photoId);
  }
  await tx.done;
}
