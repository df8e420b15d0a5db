// Lines of `analyze --format jsonl` from builds older than the `captureGap` field (7be8c35), made
// comparable with today's: the field, false, where today's builds write it (after `partial`).
export const withCaptureGap = (line) => (line.includes('"captureGap":') ? line : line.replace(/("partial":(?:true|false),)/, '$1"captureGap":false,'));
