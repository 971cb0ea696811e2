/**
 * Flash progress for people and for logs: on a terminal one bar per image, redrawn in place;
 * elsewhere (CI, a pipe) a plain line at every 10 % step, e.g. `flash: bootloader.bin 0x1000 40% (12288/27000 B)`.
 * Counts are bytes sent over the wire (compressed bytes when compressing), as the loader reports them.
 */

export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
}

export interface ProgressImage {
  name: string;
  address: number;
}

const BAR_WIDTH = 30;

export class FlashProgress {
  private readonly tty: boolean;
  /** Last 10 % step printed per image (plain mode), or -1. */
  private readonly lastStep: number[];
  private readonly finished: boolean[];

  constructor(
    private readonly stream: ProgressStream,
    private readonly images: readonly ProgressImage[],
  ) {
    this.tty = stream.isTTY === true;
    this.lastStep = images.map(() => -1);
    this.finished = images.map(() => false);
  }

  /** esptool-js's reportProgress(fileIndex, written, total). */
  update(index: number, written: number, total: number): void {
    const image = this.images[index];
    if (!image || this.finished[index]) return;
    const percent = total > 0 ? Math.min(100, Math.floor((written * 100) / total)) : 100;
    const label = `flash: ${image.name} 0x${image.address.toString(16)}`;
    if (this.tty) {
      const filled = Math.round((percent * BAR_WIDTH) / 100);
      const bar = "#".repeat(filled) + ".".repeat(BAR_WIDTH - filled);
      this.stream.write(`\r\x1b[2K${label} [${bar}] ${String(percent).padStart(3)}% (${written}/${total} B)${percent === 100 ? "\n" : ""}`);
    } else {
      const step = Math.floor(percent / 10);
      if (step <= this.lastStep[index]) return;
      this.lastStep[index] = step;
      this.stream.write(`${label} ${percent}% (${written}/${total} B)\n`);
    }
    if (percent === 100) this.finished[index] = true;
  }
}
