// IndexedDB storage of non-extractable CryptoKeys (structured clone keeps them
// usable but unreadable). Any failure to store keys becomes `storage_unavailable`.
import { OneshareError } from './core.mjs';

const DB_VERSION = 1;
export const DEVICES = 'devices';
export const OWNER = 'owner';

const ADVICE =
  'This browser cannot keep the keys for this share on this device (private window, ' +
  'blocked site data, or an unsupported browser). Open the link in a normal window ' +
  'with site data allowed for this site, then try again.';

function unavailable(cause) {
  return new OneshareError('storage_unavailable', ADVICE, { cause });
}

function promisify(req) {
  return new Promise((resolve, reject) => {
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

/** A small key-value store over one IndexedDB database. */
export class KeyStore {
  /** @param {IDBDatabase} db */
  constructor(db) {
    this.db = db;
  }

  /** Opens (or creates) the database `name`. */
  static async open(name = 'oneshare-sdk') {
    if (typeof indexedDB === 'undefined' || indexedDB === null) throw unavailable();
    let db;
    try {
      const req = indexedDB.open(name, DB_VERSION);
      req.onupgradeneeded = () => {
        const d = req.result;
        if (!d.objectStoreNames.contains(DEVICES)) d.createObjectStore(DEVICES, { keyPath: 'shareId' });
        if (!d.objectStoreNames.contains(OWNER)) d.createObjectStore(OWNER, { keyPath: 'id' });
      };
      req.onblocked = () => {};
      db = await promisify(req);
    } catch (e) {
      throw unavailable(e);
    }
    // Ask that this origin's storage not be evicted under pressure: evicting it
    // would lose the only keys that open bound shares. Best effort, no prompt in
    // Chromium.
    globalThis.navigator?.storage?.persist?.().catch(() => {});
    return new KeyStore(db);
  }

  async #tx(store, mode, fn) {
    let tx;
    try {
      tx = this.db.transaction(store, mode);
    } catch (e) {
      throw unavailable(e);
    }
    const done = new Promise((resolve, reject) => {
      tx.oncomplete = () => resolve();
      tx.onabort = () => reject(tx.error);
      tx.onerror = () => reject(tx.error);
    });
    let result;
    try {
      result = await promisify(fn(tx.objectStore(store)));
      await done;
    } catch (e) {
      // DataCloneError: this browser cannot store a CryptoKey.
      throw unavailable(e);
    }
    return result;
  }

  get(store, key) {
    return this.#tx(store, 'readonly', (s) => s.get(key));
  }

  put(store, value) {
    return this.#tx(store, 'readwrite', (s) => s.put(value));
  }

  delete(store, key) {
    return this.#tx(store, 'readwrite', (s) => s.delete(key));
  }

  all(store) {
    return this.#tx(store, 'readonly', (s) => s.getAll());
  }

  /** Closes the connection (a later `open` sees the same data: a "reload"). */
  close() {
    this.db.close();
  }
}
