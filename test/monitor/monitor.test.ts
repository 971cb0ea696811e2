/** runMonitor end to end: SerialPortMock, and a real pseudo-terminal pair (socat) through serialport's binding. */
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { SerialPortMock } from "serialport";
import { monitorMain, monitorOptions } from "../../tools/monitor/command.js";
import { runMonitor, type MonitorDeps } from "../../tools/monitor/monitor.js";
import { UsageError } from "../../tools/args.js";
import { until } from "../support/until.js";

const FIXED = new Date("2026-11-26T10:00:00.000Z");

function io(isTTY = false) {
  const out: string[] = [];
  const err: string[] = [];
  const controller = new AbortController();
  const deps: MonitorDeps = { out: { write: (s) => out.push(s), isTTY }, err: { write: (s) => err.push(s) }, now: () => FIXED, signal: controller.signal };
  return { out, err, deps, stop: () => controller.abort(), text: () => out.join(""), errors: () => err.join("") };
}

let n = 0;
function mockPort(opts: { maxReadSize?: number } = {}) {
  const p = `/dev/ttyMOCK${n++}`;
  SerialPortMock.binding.createPort(p, { echo: false, record: true, ...opts });
  const port = new SerialPortMock({ path: p, baudRate: 115200 });
  return { path: p, port, emit: (s: string | Buffer) => port.port!.emitData(Buffer.from(s)) };
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "tbsdk-monitor-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("runMonitor on SerialPortMock", () => {
  it("prints plain lines when not a terminal, ESP-IDF colours on one", async () => {
    for (const tty of [false, true]) {
      const t = io(tty);
      const m = mockPort();
      const run = runMonitor({ port: m.path, baudRate: 115200 }, { ...t.deps, port: m.port });
      await until("open", () => m.port.isOpen && t.errors().includes("115200 baud"));
      m.emit("I (10) boot: hi\r\nE (11) x: bad\r\nplain\r\n");
      await until("lines", () => t.text().includes("plain\n"));
      t.stop();
      await expect(run).resolves.toBe(0);
      expect(t.text()).toBe(tty ? "\x1b[0;32mI (10) boot: hi\x1b[0m\n\x1b[0;31mE (11) x: bad\x1b[0m\nplain\n" : "I (10) boot: hi\nE (11) x: bad\nplain\n");
    }
  });

  it("reads a debug build one byte at a time (xsbug frames, UTF-8) like in one piece", async () => {
    const t = io();
    const m = mockPort({ maxReadSize: 1 });
    const run = runMonitor({ port: m.path, baudRate: 460800 }, { ...t.deps, port: m.port });
    await until("open", () => m.port.isOpen);
    m.emit("I (1) a: caf\u00e9\r\n\r\n<xsbug><log>I (12) boot: hello&#10;</log></xsbug>\r\nW (2) b: \u20ac\r\n");
    await until("lines", () => t.text().includes("\u20ac\n"));
    t.stop();
    await expect(run).resolves.toBe(0);
    expect(t.text()).toBe("I (1) a: caf\u00e9\nI (12) boot: hello\nW (2) b: \u20ac\n");
  });

  it("--exit-on-panic exits 3 after the backtrace; without it the monitor goes on", async () => {
    const crash = "Guru Meditation Error: Core  0 panic'ed (StoreProhibited).\r\nPC : 0x1\r\nBacktrace: 0x400d1234:0x3ffb1230 0x400d5678:0x3ffb1250\r\nRebooting...\r\n";
    const t = io();
    const m = mockPort();
    const run = runMonitor({ port: m.path, baudRate: 115200, exitOnPanic: true, panicGraceMs: 60_000 }, { ...t.deps, port: m.port });
    await until("open", () => m.port.isOpen);
    m.emit(crash);
    await expect(run).resolves.toBe(3);
    expect(t.text()).toMatch(/Backtrace: 0x400d1234:0x3ffb1230 0x400d5678:0x3ffb1250\n$/);
    expect(t.text()).not.toContain("Rebooting");
    expect(t.errors()).toContain("tbsdk monitor: panic: exiting (--exit-on-panic)");
    expect(m.port.isOpen).toBe(false);

    const goes = io();
    const m2 = mockPort();
    const run2 = runMonitor({ port: m2.path, baudRate: 115200 }, { ...goes.deps, port: m2.port });
    await until("open", () => m2.port.isOpen);
    m2.emit(crash + "I (5) boot: again\r\n");
    await until("reboot", () => goes.text().includes("again"));
    goes.stop();
    await expect(run2).resolves.toBe(0);

    // No backtrace after the panic line: exit after the grace time.
    const xs = io();
    const m3 = mockPort();
    const run3 = runMonitor({ port: m3.path, baudRate: 115200, exitOnPanic: true, panicGraceMs: 10 }, { ...xs.deps, port: m3.port });
    await until("open", () => m3.port.isOpen);
    m3.emit("XS abort: unhandled exception\r\n");
    await expect(run3).resolves.toBe(3);
  });

  it("redacts secrets on screen and in the --log file, which has timestamps and no colours", async () => {
    const secret = "prov-secret-XYZ";
    const file = path.join(tmp, "secret.log");
    const t = io(true);
    const m = mockPort({ maxReadSize: 3 });
    const run = runMonitor({ port: m.path, baudRate: 115200, secrets: [secret], logFile: file, color: "auto" }, { ...t.deps, port: m.port });
    await until("open", () => m.port.isOpen);
    m.emit(`I (3) prov: secret=${secret}\r\n\r\n<xsbug><log>${secret}&#10;</log></xsbug>\r\nprompt> ${secret}`);
    await until("prompt", () => t.text().includes("prompt> "));
    t.stop();
    await expect(run).resolves.toBe(0);
    const log = fs.readFileSync(file, "utf8");
    for (const s of [t.text(), t.errors(), log]) expect(s).not.toContain(secret);
    expect(t.text()).toContain("\x1b[0;32mI (3) prov: secret=[redacted]\x1b[0m\n");
    const lines = log.trim().split("\n");
    for (const l of lines) expect(l).toMatch(/^2026-11-26T10:00:00\.000Z /);
    expect(lines.map((l) => l.slice(25))).toEqual(expect.arrayContaining(["I (3) prov: secret=[redacted]", "[redacted]", "prompt> [redacted]"]));
    expect(log).not.toContain("\x1b");
  });

  it("--reset: RTS on (EN low) with DTR off, then both off", async () => {
    const t = io();
    const m = mockPort();
    const set = jest.spyOn(m.port, "set");
    const run = runMonitor({ port: m.path, baudRate: 115200, reset: true }, { ...t.deps, port: m.port });
    await until("reset", () => set.mock.calls.length === 2 && t.errors().includes("reset"));
    expect(set.mock.calls.map((c) => c[0])).toEqual([{ dtr: false, rts: true }, { dtr: false, rts: false }]);
    t.stop();
    await expect(run).resolves.toBe(0);
  });

  it("port errors: missing, busy, permission denied (exit 1); closed while monitoring: exit 1, or reopen with --reconnect", async () => {
    const a = io();
    await expect(monitorMain(["--port", path.join(tmp, "no-such-tty")], a.deps)).resolves.toBe(1);
    expect(a.errors()).toMatch(/^tbsdk monitor: no such port .*no-such-tty/);

    const m = mockPort();
    await until("open", () => m.port.isOpen);
    const b = io();
    const busy = () => new Promise<never>((_, reject) => new SerialPortMock({ path: m.path, baudRate: 115200 }, (e) => reject(e)));
    await expect(runMonitor({ port: m.path, baudRate: 115200 }, { ...b.deps, openPort: busy })).resolves.toBe(1);
    expect(b.errors()).toMatch(/is busy/);

    const c = io();
    const denied = () => Promise.reject(new Error("Error: Permission denied, cannot open /dev/ttyUSB0"));
    await expect(runMonitor({ port: "/dev/ttyUSB0", baudRate: 115200 }, { ...c.deps, openPort: denied })).resolves.toBe(1);
    expect(c.errors()).toMatch(/permission denied on \/dev\/ttyUSB0: add your user to the dialout group/);

    const d = io();
    const run = runMonitor({ port: m.path, baudRate: 115200 }, { ...d.deps, port: m.port });
    await until("open", () => d.errors().includes("baud"));
    m.emit("half a line");
    await until("the unfinished line, shown after idle", () => d.text() === "half a line");
    m.port.close();
    await expect(run).resolves.toBe(1);
    expect(d.text()).toBe("half a line\n");
    expect(d.errors()).toMatch(/tbsdk monitor: \/dev\/ttyMOCK\d+ closed/);

    const e = io();
    const r = mockPort();
    const reopened: SerialPortMock[] = [];
    const reopen = (p: string) => {
      const port = new SerialPortMock({ path: p, baudRate: 115200 });
      reopened.push(port);
      return new Promise<SerialPortMock>((resolve) => port.on("open", () => resolve(port)));
    };
    const run2 = runMonitor({ port: r.path, baudRate: 115200, reconnect: true, reconnectDelayMs: 5 }, { ...e.deps, port: r.port, openPort: reopen });
    await until("open", () => e.errors().includes("baud"));
    r.port.close();
    await until("reopened", () => e.errors().includes("reopened"));
    reopened[0]!.port!.emitData(Buffer.from("I (1) boot: back\r\n"));
    await until("data after reopen", () => e.text().includes("back"));
    e.stop();
    await expect(run2).resolves.toBe(0);
  });

  it("flags: usage errors, --baud moddable, secrets from --redact-file and --factory", () => {
    expect(() => monitorOptions([])).toThrow(UsageError);
    expect(() => monitorOptions(["--port", "/dev/x", "--baud", "fast"])).toThrow(/--baud/);
    expect(() => monitorOptions(["--port", "/dev/x", "--colour", "always"])).toThrow(/unknown argument/);
    expect(monitorOptions(["--port", "/dev/x", "--moddable-debug"]).baudRate).toBe(460800);
    expect(monitorOptions(["--port", "/dev/x", "--baud", "moddable"]).baudRate).toBe(460800);
    expect(monitorOptions(["--port", "/dev/x"]).baudRate).toBe(115200);
    const redactFile = path.join(tmp, "secrets.txt");
    fs.writeFileSync(redactFile, "one-secret\r\n\r\ntwo secret\n");
    const csv = path.join(tmp, "factory.csv");
    fs.writeFileSync(csv, "key,type,encoding,value\ntb_factory,namespace,,\ntb_host,data,string,tb.example.com\nprov_key,data,string,pk-123456\nprov_secret,data,string,\"ps,654321\"\n");
    const json = path.join(tmp, "factory.json");
    fs.writeFileSync(json, JSON.stringify({ tb_factory: { tb_host: "h.example", mqtt_pass: { type: "string", value: "mp-777777" }, dev_key: "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n" } }));
    const o = monitorOptions(["--port", "/dev/x", "--redact", "cli-secret", "--redact=second", "--redact-file", redactFile, "--factory", csv, "--factory", json]);
    expect(o.secrets).toEqual(expect.arrayContaining(["cli-secret", "second", "one-secret", "two secret", "pk-123456", "ps,654321", "mp-777777", "MIIEvQIBADANBgkqhkiG9w0BAQEFAASC"]));
    expect(o.secrets).not.toContain("tb.example.com");
    expect(o.secrets).not.toContain("h.example");
    expect(o.secrets).not.toContain("string");
    expect(() => monitorOptions(["--port", "/dev/x", "--factory", path.join(tmp, "missing.csv")])).toThrow(/--factory .*no such file/);
  });

  it("--port auto: a clear error when ports cannot be listed", async () => {
    const t = io();
    await expect(monitorMain(["--port", "auto"], t.deps, () => Promise.reject(new Error("spawn udevadm ENOENT")))).resolves.toBe(1);
    expect(t.errors()).toMatch(/--port auto: cannot list serial ports \(spawn udevadm ENOENT\): give the port with --port PATH/);
  });
});

const haveSocat = fs.existsSync("/usr/bin/socat");
(haveSocat ? describe : describe.skip)("tbsdk monitor on a pseudo-terminal (socat)", () => {
  let socat: ChildProcess | undefined;
  const dir = path.join(tmp, "pty");
  const dev = path.join(dir, "dev");
  const peer = path.join(dir, "peer");
  const startSocat = async () => {
    socat = spawn("/usr/bin/socat", [`pty,raw,echo=0,link=${dev}`, `pty,raw,echo=0,link=${peer}`], { stdio: "ignore" });
    await until("socat ptys", () => fs.existsSync(dev) && fs.existsSync(peer));
  };
  const stopSocat = async () => {
    if (!socat || socat.exitCode !== null) return;
    const exited = new Promise((r) => socat!.once("exit", r));
    socat.kill();
    await exited;
    await until("socat links removed", () => !fs.existsSync(dev));
  };
  beforeAll(() => fs.mkdirSync(dir, { recursive: true }));
  afterEach(stopSocat);

  it("reads, colours, redacts and logs through the real serialport binding; warns once that --reset needs modem lines", async () => {
    await startSocat();
    const file = path.join(dir, "pty.log");
    const t = io(false);
    const run = monitorMain(["--port", dev, "--reset", "--redact", "hunter2-secret", "--log", file, "--color", "always"], t.deps);
    await until("open", () => t.errors().includes("baud"));
    const fd = fs.openSync(peer, "w");
    fs.writeSync(fd, "I (1) boot: pty hunter2-secret\r\n\r\n<xsbug><log>trace&#10;</log></xsbug>\r\nW (2) w: warn\r\n");
    fs.closeSync(fd);
    await until("lines", () => t.text().includes("warn"));
    t.stop();
    await expect(run).resolves.toBe(0);
    expect(t.text()).toBe("\x1b[0;32mI (1) boot: pty [redacted]\x1b[0m\ntrace\n\x1b[0;33mW (2) w: warn\x1b[0m\n");
    expect(t.errors().match(/no DTR\/RTS lines/g)).toHaveLength(1);
    const log = fs.readFileSync(file, "utf8");
    expect(log).not.toContain("hunter2-secret");
    expect(log).toMatch(/^\S+Z I \(1\) boot: pty \[redacted\]$/m);
  });

  it("exits 1 when the port goes away, and reopens it with --reconnect", async () => {
    await startSocat();
    const t = io();
    const run = monitorMain(["--port", dev], t.deps);
    await until("open", () => t.errors().includes("baud"));
    await stopSocat();
    await expect(run).resolves.toBe(1);
    expect(t.errors()).toMatch(/closed/);

    await startSocat();
    const r = io();
    const run2 = runMonitor({ port: dev, baudRate: 115200, reconnect: true, reconnectDelayMs: 20 }, r.deps);
    await until("open", () => r.errors().includes("baud"));
    await stopSocat();
    await until("waiting", () => r.errors().includes("waiting for"));
    await startSocat();
    await until("reopened", () => r.errors().includes("reopened"));
    const fd = fs.openSync(peer, "w");
    fs.writeSync(fd, "I (9) boot: back again\r\n");
    fs.closeSync(fd);
    await until("data after reopen", () => r.text().includes("back again"));
    r.stop();
    await expect(run2).resolves.toBe(0);
  });
});
