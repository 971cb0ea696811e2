/**
 * Crash-safe file replacement: readers see either the old file or the new one, never a mix.
 * Write a temp file in the same directory, fsync it, rename it over the target, fsync the directory
 * (so the rename itself survives a power cut).
 */
import { promises as fs } from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";

/** Test seam: runs after the temp file is durable and before the rename, as a crash at that point would. */
export interface AtomicWriteHooks {
  beforeRename?: (tempPath: string) => void | Promise<void>;
}

const TEMP_SUFFIX = ".tmp";

/** `.name.<random>.tmp` beside the target: same filesystem (rename is atomic), hidden, recognisable. */
function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${randomBytes(6).toString("hex")}${TEMP_SUFFIX}`);
}

export async function writeFileAtomic(file: string, data: string, hooks: AtomicWriteHooks = {}): Promise<void> {
  const temp = tempPathFor(file);
  let renamed = false;
  try {
    const handle = await fs.open(temp, "wx", 0o600);
    try {
      await handle.writeFile(data, "utf8");
      await handle.sync();
    } finally {
      await handle.close();
    }
    await hooks.beforeRename?.(temp);
    await fs.rename(temp, file);
    renamed = true;
    await fsyncDirectory(path.dirname(file));
  } finally {
    if (!renamed) await fs.rm(temp, { force: true }).catch(() => undefined);
  }
}

async function fsyncDirectory(dir: string): Promise<void> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(dir, "r");
    await handle.sync();
  } catch (e) {
    // Some platforms (Windows) cannot open or fsync a directory; the rename is still atomic there.
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EISDIR" && code !== "EPERM" && code !== "EINVAL" && code !== "EBADF") throw e;
  } finally {
    await handle?.close();
  }
}

/** Removes temp files a killed writer left beside `file`; they never hold the only copy of anything. */
export async function removeStaleTempFiles(file: string): Promise<string[]> {
  const dir = path.dirname(file);
  const prefix = `.${path.basename(file)}.`;
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch {
    return [];
  }
  const stale = names.filter((n) => n.startsWith(prefix) && n.endsWith(TEMP_SUFFIX));
  await Promise.all(stale.map((n) => fs.rm(path.join(dir, n), { force: true }).catch(() => undefined)));
  return stale;
}
