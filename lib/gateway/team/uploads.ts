/**
 * Bodies still uploading, per member token. Team mode reads each body whole
 * before its reservation (its size and max_tokens make the estimate), so the
 * bodies one token may have the gateway hold at once are capped like its
 * requests in flight: memory the whole team's gateway shares.
 */
export class Uploads {
  private readonly counts = new Map<string, number>();

  /** A place for one more body of this token: its release (called once the body is in or the client gone; idempotent), or the count that fills the cap. */
  take(hash: string, cap: number): (() => void) | number {
    const reading = this.counts.get(hash) ?? 0;
    if (reading >= cap) return reading;
    this.counts.set(hash, reading + 1);
    let held = true;
    return () => {
      if (!held) return;
      held = false;
      const left = (this.counts.get(hash) ?? 1) - 1;
      if (left > 0) this.counts.set(hash, left);
      else this.counts.delete(hash);
    };
  }
}
