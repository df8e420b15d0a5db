// How long the capture process sleeps between drains of libpcap's ring (live-process-main.ts).

/**
 * After each drain of the ring the capture process sleeps before looking again, so that packets
 * arriving meanwhile are read in one go. In immediate mode every packet wakes a waiting reader: at
 * full load that was a wakeup and its system calls per packet, half the process's CPU (BENCHMARKS.md,
 * Live capture in its own process). Each wakeup still costs some 200-300 µs of this process and a
 * read and its handling in the main process, whatever it brings: at a fixed 2 000 connections a
 * second, a 4 ms pause made ~200 of them a second, most of the capture process's CPU (BENCHMARKS.md,
 * "Fewer wakeups at fixed rates").
 *
 * So the pause is as long as the ring allows, up to PAUSE_MAX_MS (the frames' wait before the
 * stream, on top of the stream's own 20 ms): the ring (its size over the slot a packet takes, see
 * ringPackets) must keep RING_SHARE of its room free through a pause even if the traffic grows
 * SURGE times over the rate of the last drain, or comes at BURST_RATE from quiet (a SYN flood from
 * one process reaches that on lo). With the watching snap length the 64 MiB default holds some
 * 110 000 packets, seconds of the busiest loopback, and the pause is PAUSE_MAX_MS at any rate; with
 * whole packets (-w) it holds some 1 000, about 40 ms of a busy loopback, and the pause stays at
 * PAUSE_MIN_MS (as before).
 */
export const PAUSE_MIN_MS = 4;
export const PAUSE_MAX_MS = 20;
const RING_SHARE = 0.25;
const SURGE = 4;
/** Packets a second assumed possible at any moment, whatever the last drain saw. */
const BURST_RATE = 250_000;
/** Bytes of the ring a packet takes beyond its captured bytes (TPACKET_V2 header, alignment). */
const SLOT_OVERHEAD = 96;
/** Packets libpcap's ring holds: in immediate mode one fixed slot each, sized by the snap length. */
export function ringPackets(bufferSize: number, snapLength: number): number {
  return Math.max(1, Math.floor(bufferSize / (Math.min(snapLength, 65535) + SLOT_OVERHEAD)));
}

/** Whether a drain of `frames` packets found the ring so full that the kernel may have dropped some. */
export function nearlyFull(ring: number, frames: number): boolean {
  return frames >= ring * (1 - RING_SHARE);
}

/** The pause after a drain that read `frames` packets `sinceMs` after the one before. */
export function pauseMs(ring: number, frames: number, sinceMs: number): number {
  const rate = Math.max(BURST_RATE, (SURGE * frames * 1000) / Math.max(1, sinceMs));
  return Math.min(PAUSE_MAX_MS, Math.max(PAUSE_MIN_MS, (ring * RING_SHARE * 1000) / rate));
}
