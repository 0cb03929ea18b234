// Placeholder client: proves the page, the bundle and the Worker are wired
// together by asking the Worker for /health.
const statusEl = document.querySelector<HTMLParagraphElement>("#status");

async function showHealth(): Promise<void> {
  if (!statusEl) return;
  try {
    const res = await fetch("/health");
    const body = (await res.json()) as { ok?: boolean };
    statusEl.textContent = body.ok ? "Server reachable." : "Server unhealthy.";
  } catch {
    statusEl.textContent = "Server unreachable.";
  }
}

void showHealth();

// A module, so its names stay out of the DOM's globals (e.g. window.status).
export {};
