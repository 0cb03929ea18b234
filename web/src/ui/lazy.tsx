/** Screens people open rarely load on first use, keeping them out of the start-up bundle. */
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

/** A screen loaded on first use; `preload()` fetches it ahead (after the first paint) so opening it does not wait. */
export type LazyScreen<P extends object> = ComponentType<P> & { preload(): Promise<void> };

export function lazy<P extends object>(load: () => Promise<ComponentType<P>>): LazyScreen<P> {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<void> | null = null;
  const preload = (): Promise<void> => (pending ??= load().then((c) => void (loaded = c)));
  function Lazy(props: P) {
    const [, setReady] = useState(0);
    void preload();
    useEffect(() => {
      let live = true;
      void pending?.then(() => live && setReady((n) => n + 1));
      return () => {
        live = false;
      };
    }, []);
    const Component = loaded;
    if (!Component)
      return (
        <p class="loading" aria-live="polite">
          Loading…
        </p>
      );
    return <Component {...props} />;
  }
  return Object.assign(Lazy, { preload });
}
