/**
 * Start-up probe of the witnesses (issue 10 §5): what is the largest size of
 * this log a witness has cosigned? c2sp.org/tlog-witness answers an
 * add-checkpoint whose "old" size is not the witness's latest with 409 and
 * that latest size in the body, so asking with old size 0 tells us, with no
 * new endpoint. (A witness that never saw the log cosigns instead; that is
 * harmless: it is a checkpoint the log signed and committed.)
 *
 * A witness ahead of the store proves the store was rolled back even when
 * the local record (signed-record.ts) was lost or restored along with it.
 */
import { parseDecimal } from '../encoding.js';
import type { CheckpointRecord } from './storage.js';
import type { WitnessTarget } from './witnesses.js';

export type ProbeResult = { witness: string; size: number } | { witness: string; error: string };

/** Asks every witness, in parallel, for its latest size of this log. Never throws: an unreachable witness is an `error`. */
export async function probeWitnesses(
  targets: readonly WitnessTarget[],
  checkpoint: CheckpointRecord,
  timeoutMs: number,
  fetchFn: typeof fetch = fetch,
): Promise<ProbeResult[]> {
  return Promise.all(
    targets.map(async (w): Promise<ProbeResult> => {
      const witness = w.verifier.name;
      try {
        const res = await fetchFn(`${w.url.replace(/\/+$/, '')}/add-checkpoint`, {
          method: 'POST',
          body: `old 0\n\n${checkpoint.note}`,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = await res.text();
        if (res.status === 200) return { witness, size: checkpoint.size };
        if (res.status === 409) return { witness, size: Number(parseDecimal(text.replace(/\n$/, ''), 'witness size')) };
        return { witness, error: `answered ${res.status}: ${text.slice(0, 200)}` };
      } catch (err) {
        return { witness, error: (err as Error).message };
      }
    }),
  );
}
