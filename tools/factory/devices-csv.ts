/**
 * The factory's device list: a CSV with a header naming `name` and optionally `mac`, `serial` and any setting key
 * (tb_port, cred_type, mqtt_user…) as a per-device override. Every problem names the file's line number.
 *
 * - `name` becomes the image's dev_name (so a `dev_name` column is refused) and the image file name, so it is
 *   limited to letters, digits, `.`, `_` and `-` and must start with a letter or digit; names are unique.
 * - `mac` is normalised to `AA:BB:CC:DD:EE:FF` (colons, dashes or nothing between bytes) and must be unique.
 * - Empty cells are "not set" (the common settings apply).
 * - RFC 4180: `"` quotes, `""` escapes, quoted cells may span lines (a PEM certificate); CRLF or LF; blank lines skipped.
 */
import { SETTINGS, settingByKey } from "../../src/settings/keys.js";
import { FactoryError } from "./sdk-settings.js";

export interface DeviceRow {
  /** 1-based line in the file where the record starts (the header is line 1). */
  line: number;
  name: string;
  mac?: string;
  serial?: string;
  /** Per-device setting overrides by NVS key, non-empty cells only. */
  overrides: Record<string, string>;
}

export const DEVICE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** Records with the line each starts on. */
export function parseCsvWithLines(text: string, file: string): { line: number; cells: string[] }[] {
  const out: { line: number; cells: string[] }[] = [];
  let cells: string[] = [];
  let field = "";
  let quoted = false;
  let started = false;
  let line = 1;
  let recordLine = 1;
  const end = () => {
    if (cells.length > 0 || started || field !== "") {
      cells.push(field);
      out.push({ line: recordLine, cells });
    }
    cells = [];
    field = "";
    started = false;
  };
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (c === "\n") line++;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i++;
        } else quoted = false;
      } else field += c;
      continue;
    }
    if (c !== "\r" && c !== "\n" && cells.length === 0 && !started && field === "") recordLine = line;
    if (c === '"' && field === "") {
      quoted = true;
      started = true;
    } else if (c === ",") {
      cells.push(field);
      field = "";
      started = true;
    } else if (c === "\r" || c === "\n") {
      if (c === "\r" && text[i + 1] === "\n") {
        i++;
        line++;
      }
      end();
    } else field += c;
  }
  if (quoted) throw new FactoryError(`${file} line ${recordLine}: a quoted cell is not closed`);
  end();
  return out;
}

/** Parses and checks the device list. `file` names it in messages. */
export function parseDevicesCsv(text: string, file: string): DeviceRow[] {
  const records = parseCsvWithLines(text.replace(/^\uFEFF/, ""), file);
  const header = records.shift();
  if (!header) throw new FactoryError(`${file}: empty; the first line must be a header with a "name" column`);
  const columns = header.cells.map((c) => c.trim());
  const nameCol = columns.indexOf("name");
  if (nameCol < 0) throw new FactoryError(`${file} line ${header.line}: the header has no "name" column`);
  const seen = new Set<string>();
  columns.forEach((c, i) => {
    if (seen.has(c)) throw new FactoryError(`${file} line ${header.line}: column "${c}" appears twice`);
    seen.add(c);
    if (c === "name" || c === "mac" || c === "serial") return;
    if (c === SETTINGS.deviceName.key) throw new FactoryError(`${file} line ${header.line}: column "${c}": the device name comes from the "name" column`, c);
    if (!settingByKey(c)) {
      throw new FactoryError(`${file} line ${header.line}: column ${i + 1} "${c}" is neither name, mac, serial nor a setting key (${Object.values(SETTINGS).map((d) => d.key).join(", ")})`);
    }
  });

  const names = new Map<string, number>();
  const macs = new Map<string, number>();
  const rows: DeviceRow[] = [];
  for (const r of records) {
    const at = `${file} line ${r.line}`;
    if (r.cells.length > columns.length) throw new FactoryError(`${at}: ${r.cells.length} cells, the header has ${columns.length}`);
    const cell = (i: number) => (r.cells[i] ?? "").trim();
    const name = cell(nameCol);
    if (name === "") throw new FactoryError(`${at}: missing name`, "name");
    if (!DEVICE_NAME_PATTERN.test(name)) {
      throw new FactoryError(`${at}: name "${name}" must be 1..128 letters, digits, ".", "_" or "-", starting with a letter or digit (it names the image file)`, "name");
    }
    const dup = names.get(name.toLowerCase());
    if (dup !== undefined) throw new FactoryError(`${at}: duplicate name "${name}" (first on line ${dup})`, "name");
    names.set(name.toLowerCase(), r.line);
    const row: DeviceRow = { line: r.line, name, overrides: {} };
    columns.forEach((c, i) => {
      const raw = r.cells[i] ?? "";
      // Setting cells are kept as written (a PEM needs its line breaks); only name/mac/serial are trimmed.
      if (c === "name") return;
      if (c === "mac") {
        const v = cell(i);
        if (v === "") return;
        const mac = normaliseMac(v);
        if (!mac) throw new FactoryError(`${at}: mac "${v}" is not six hex bytes (AA:BB:CC:DD:EE:FF)`, "mac");
        const first = macs.get(mac);
        if (first !== undefined) throw new FactoryError(`${at}: duplicate mac ${mac} (first on line ${first})`, "mac");
        macs.set(mac, r.line);
        row.mac = mac;
      } else if (c === "serial") {
        if (cell(i) !== "") row.serial = cell(i);
      } else if (raw.trim() !== "") {
        row.overrides[c] = settingByKey(c)![1].type === "string" && !raw.includes("-----BEGIN") ? raw.trim() : raw;
      }
    });
    rows.push(row);
  }
  if (rows.length === 0) throw new FactoryError(`${file}: no devices after the header`);
  return rows;
}

function normaliseMac(v: string): string | undefined {
  const hex = v.replace(/[:-]/g, "");
  if (!/^[0-9A-Fa-f]{12}$/.test(hex) || (v.length !== 12 && v.length !== 17)) return undefined;
  return hex.toUpperCase().match(/../g)!.join(":");
}
