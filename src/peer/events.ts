/** A small typed event emitter: the engine's whole surface toward the app. */
export class Emitter<Events extends { [K in keyof Events]: unknown }> {
  #listeners = new Map<keyof Events, Set<(value: never) => void>>();

  on<K extends keyof Events>(type: K, listener: (value: Events[K]) => void): () => void {
    let set = this.#listeners.get(type);
    if (!set) this.#listeners.set(type, (set = new Set()));
    set.add(listener as (value: never) => void);
    return () => set.delete(listener as (value: never) => void);
  }

  /** Resolves with the first event that passes `filter`. */
  once<K extends keyof Events>(type: K, filter: (value: Events[K]) => boolean = () => true): Promise<Events[K]> {
    return new Promise((resolve) => {
      const off = this.on(type, (v) => {
        if (filter(v)) {
          off();
          resolve(v);
        }
      });
    });
  }

  emit<K extends keyof Events>(type: K, value: Events[K]): void {
    for (const listener of this.#listeners.get(type) ?? []) {
      try {
        (listener as (value: Events[K]) => void)(value);
      } catch (err) {
        // One broken listener must not stop the others or the engine.
        console.error(`listener for ${String(type)} failed`, err);
      }
    }
  }
}

/** Whether `promise` settles within `ms` (an event awaited with a deadline); the timer never outlives it. */
export async function within(promise: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([promise.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
