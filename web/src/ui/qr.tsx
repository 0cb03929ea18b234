/**
 * QR codes: drawn as SVG (uqr), and read from the camera (BarcodeDetector,
 * or jsQR). Both load on first use, keeping them out of the start-up bundle.
 */
import { useEffect, useRef, useState } from 'preact/hooks';
import { Alert } from './forms.tsx';

export function QrCode({ text, label, size = 232 }: { text: string; label: string; size?: number }) {
  const [drawn, setDrawn] = useState<{ d: string; n: number; text: string } | null>(null);
  useEffect(() => {
    let live = true;
    void import('uqr').then(({ encode }) => {
      const qr = encode(text, { ecc: 'M', border: 2 });
      let d = '';
      qr.data.forEach((row, y) => row.forEach((dark, x) => dark && (d += `M${x} ${y}h1v1h-1z`)));
      if (live) setDrawn({ d, n: qr.size, text });
    });
    return () => {
      live = false;
    };
  }, [text]);
  if (!drawn || drawn.text !== text) return <div class="qr" style={{ width: `${size}px`, height: `${size}px` }} aria-busy="true" />;
  const { d, n } = drawn;
  return (
    <svg class="qr" role="img" aria-label={label} viewBox={`0 0 ${n} ${n}`} width={size} height={size} shape-rendering="crispEdges">
      <rect width={n} height={n} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}

interface Detector {
  detect(source: HTMLVideoElement): Promise<{ rawValue: string }[]>;
}

/** Reads QR codes from the camera until one is found; reports it once. Without a camera it says so and closes. */
export function Scanner({
  onResult,
  onClose,
  onError,
}: {
  onResult: (text: string) => void;
  onClose: () => void;
  onError: (why: string) => void;
}) {
  const video = useRef<HTMLVideoElement>(null);
  useEffect(() => {
    let stream: MediaStream | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let stopped = false;
    const canvas = document.createElement('canvas');
    const start = async () => {
      if (!navigator.mediaDevices?.getUserMedia) throw new Error('this browser gives no camera access here');
      stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
      const el = video.current;
      if (!el || stopped) return;
      el.srcObject = stream;
      await el.play();
      const Native = (globalThis as { BarcodeDetector?: new (o: { formats: string[] }) => Detector }).BarcodeDetector;
      const detector = Native ? new Native({ formats: ['qr_code'] }) : null;
      const jsQR = detector ? null : (await import('jsqr')).default;
      const scan = async () => {
        if (stopped || !el.videoWidth) return void (timer = setTimeout(scan, 250));
        let found: string | null = null;
        if (detector) {
          found = (await detector.detect(el).catch(() => []))[0]?.rawValue ?? null;
        } else if (jsQR) {
          const w = (canvas.width = Math.min(640, el.videoWidth));
          const h = (canvas.height = Math.round((el.videoHeight * w) / el.videoWidth));
          const ctx = canvas.getContext('2d', { willReadFrequently: true });
          ctx?.drawImage(el, 0, 0, w, h);
          const image = ctx?.getImageData(0, 0, w, h);
          found = image ? (jsQR(image.data, w, h, { inversionAttempts: 'attemptBoth' })?.data ?? null) : null;
        }
        if (found && !stopped) {
          stopped = true;
          onResult(found);
        } else timer = setTimeout(scan, 250);
      };
      void scan();
    };
    start().catch((err: Error) => !stopped && onError(`No camera here (${err.message}). Paste or type it instead.`));
    return () => {
      stopped = true;
      clearTimeout(timer);
      stream?.getTracks().forEach((t) => t.stop());
    };
  }, []);
  return (
    <div class="scanner">
      <video ref={video} muted playsInline aria-label="Camera view: hold the QR code in front of the camera" />
      <button type="button" onClick={onClose}>
        Stop scanning
      </button>
    </div>
  );
}

/**
 * A "Scan" button and the scanner it opens, placed apart by the caller
 * (`button` beside the field, `scanner` below it); a code read goes to
 * `onResult` and closes the scanner.
 */
export function useScan(onResult: (text: string) => void, label = 'Scan') {
  const [scanning, setScanning] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const button = (
    <button
      type="button"
      class="secondary"
      aria-expanded={scanning}
      onClick={() => {
        setError(null);
        setScanning(!scanning);
      }}
    >
      {label}
    </button>
  );
  const scanner = scanning ? (
    <Scanner
      onClose={() => setScanning(false)}
      onError={(why) => {
        setScanning(false);
        setError(why);
      }}
      onResult={(text) => {
        setScanning(false);
        onResult(text);
      }}
    />
  ) : (
    <Alert>{error}</Alert>
  );
  return { button, scanner };
}
