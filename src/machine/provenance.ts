// Who wrote each byte: for frames marked for tracking, the last writer of
// every byte is kept as an index into a table of write records (one record
// per writing instruction or event, shared by the bytes it wrote). Writes
// to tracked frames leave the CPU's fast path (FRAME_WRITE_SLOW), so the
// cost is paid only where someone asked.

export type WriterKind = 'cpu' | 'loader' | 'device' | 'hypervisor' | 'debugger';

export interface WriteRecord {
  kind: WriterKind;
  /** Virtual time: instructions retired when the write happened. */
  icount: number;
  /** For CPU writes: the writing instruction's RIP, bytes and disassembly are resolved by the machine. */
  rip?: bigint;
  /** For CPU writes: the instruction's bytes. */
  bytes?: Uint8Array;
  /** A label for non-CPU writers: "kexec segment kernel", "vcpu_info[0].time.system_time", … */
  what?: string;
}

export class WriteProvenance {
  private readonly records: WriteRecord[] = [{ kind: 'loader', icount: 0, what: '(never written)' }];
  private readonly lastWriter = new Map<number, Int32Array>();

  /** Start tracking a 4 KiB frame; its bytes read as never written until written. */
  track(frame: number): void {
    if (!this.lastWriter.has(frame)) this.lastWriter.set(frame, new Int32Array(4096));
  }

  isTracked(frame: number): boolean { return this.lastWriter.has(frame); }

  get trackedFrames(): number[] { return [...this.lastWriter.keys()]; }

  /** Add a record; returns its id for `note`. */
  record(r: WriteRecord): number {
    this.records.push(r);
    return this.records.length - 1;
  }

  /** The last record, for writers that reuse one record across the bytes of one write. */
  get lastId(): number { return this.records.length - 1; }

  recordAt(id: number): WriteRecord { return this.records[id]!; }

  /** Attribute bytes [addr, addr+len) to record `id` (untracked frames are ignored). */
  note(addr: number, len: number, id: number): void {
    for (let k = 0; k < len;) {
      const a = addr + k;
      const frame = Math.floor(a / 4096);
      const off = a % 4096;
      const n = Math.min(len - k, 4096 - off);
      const arr = this.lastWriter.get(frame);
      if (arr) arr.fill(id, off, off + n);
      k += n;
    }
  }

  /** The last writer of the byte at `addr`, or undefined if its frame is not tracked or it was never written. */
  whoWrote(addr: number): WriteRecord | undefined {
    const arr = this.lastWriter.get(Math.floor(addr / 4096));
    if (!arr) return undefined;
    const id = arr[addr % 4096]!;
    return id === 0 ? undefined : this.records[id];
  }
}
