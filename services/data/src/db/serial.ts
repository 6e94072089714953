/**
 * Runs async tasks one at a time, in call order. The SQLite adapter puts every statement and every
 * transaction through one of these: SQLite allows one writer, and a transaction holds the single
 * connection across awaits, so nothing else may use it meanwhile (no SQLITE_BUSY, no interleaving).
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
