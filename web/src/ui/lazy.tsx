/** Screens people open rarely load on first use, keeping them out of the start-up bundle. */
import type { ComponentType } from 'preact';
import { useEffect, useState } from 'preact/hooks';

export function lazy<P extends object>(load: () => Promise<ComponentType<P>>): ComponentType<P> {
  let loaded: ComponentType<P> | null = null;
  let pending: Promise<void> | null = null;
  return function Lazy(props: P) {
    const [, setReady] = useState(0);
    pending ??= load().then((c) => void (loaded = c));
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
  };
}
