// A progress bar for long work on stderr: count, bar, rate, ETA and any live fields (loss), redrawn
// in place on a terminal and printed every few seconds otherwise (so logs stay readable).

export interface Progress {
  tick(done: number, fields?: Readonly<Record<string, string>>): void;
  done(message?: string): void;
}

const formatDuration = (seconds: number): string => {
  if (!Number.isFinite(seconds)) return "?";
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, "0")}m`;
};

/** `startAt`: the count already done before this bar started (a resumed run), left out of the rate. */
export function progressBar(label: string, total: number | undefined, unit = "it", startAt = 0): Progress {
  const started = performance.now();
  const tty = process.stderr.isTTY === true;
  let lastPrint = 0;
  let lastLine = "";
  const render = (done: number, fields: Readonly<Record<string, string>>): string => {
    const elapsed = (performance.now() - started) / 1000;
    const rate = (done - startAt) / Math.max(elapsed, 1e-9);
    const width = 24;
    const frac = total ? Math.min(done / total, 1) : 0;
    const bar = total ? `[${"#".repeat(Math.round(frac * width)).padEnd(width, ".")}] ` : "";
    const count = total ? `${done}/${total}` : `${done}`;
    const eta = total ? ` ETA ${formatDuration((total - done) / rate)}` : "";
    const extra = Object.entries(fields)
      .map(([k, v]) => `${k} ${v}`)
      .join("  ");
    return `${label} ${bar}${count} ${rate.toFixed(rate < 10 ? 2 : 1)} ${unit}/s${eta}${extra ? "  " + extra : ""}`;
  };
  return {
    tick(done, fields = {}) {
      const now = performance.now();
      if (tty) {
        if (now - lastPrint < 100 && done !== total) return;
        lastLine = render(done, fields);
        process.stderr.write(`\r${lastLine}\x1b[K`);
      } else {
        if (now - lastPrint < 5000 && done !== total) return;
        process.stderr.write(render(done, fields) + "\n");
      }
      lastPrint = now;
    },
    done(message) {
      if (tty && lastLine) process.stderr.write("\n");
      if (message) process.stderr.write(message + "\n");
    },
  };
}
