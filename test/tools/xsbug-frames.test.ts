/**
 * Moddable's xsbug framing, as a debug build sends it (to xsbug over TCP on lin, interleaved with plain ESP-IDF
 * output on an ESP32's serial port): the parser must give the same text however the stream is chunked.
 */
import * as net from "node:net";
import { unescapeXml, XsbugFrameParser, type XsbugEvent } from "../../tools/xsbug/frames.js";
import { startXsbugLogServer } from "../../tools/xsbug/log-server.js";

/** A frame the way XS's fxEchoStart/fxEcho/fxEchoStop write it. */
const frame = (body: string) => `\r\n<xsbug>${body}</xsbug>\r\n`;
const STREAM =
  "I (31) boot: ESP-IDF v6.0 2nd stage bootloader\r\n" +
  frame('<login name="tbsdk" value="XS 17.7.0 32-bit LE 32 4"/>') +
  frame("<log>I (12) device: state idle -&#62; provisioning&#10;</log>") +
  "W (40) wifi: plain line between frames\r\n" +
  frame('<instruments><instrument name="Slot used" value=" / "/><instrument name="Chunk used" value=" / "/></instruments>') +
  frame("<samples>1024,2048</samples>") +
  frame('<break path="main.js" line="12">Error: x &#38; y &#60;z&#62; &#34;q&#34;</break>') +
  frame("<log>é ünïcode ✓&#10;</log>");

function textOf(events: XsbugEvent[]): string {
  return events.map((e) => (e.kind === "text" ? e.text : "")).join("");
}

function parseInChunks(stream: string, cuts: number[]): XsbugEvent[] {
  const p = new XsbugFrameParser();
  const events: XsbugEvent[] = [];
  let from = 0;
  for (const c of [...cuts, stream.length]) {
    events.push(...p.push(stream.slice(from, c)));
    from = c;
  }
  events.push(...p.flush());
  return events;
}

describe("XsbugFrameParser", () => {
  it("unwraps logs, keeps plain output, and reports login, break, instruments and samples", () => {
    const events = parseInChunks(STREAM, []);
    expect(textOf(events)).toBe(
      "I (31) boot: ESP-IDF v6.0 2nd stage bootloader\r\n" +
        "I (12) device: state idle -> provisioning\n" +
        "W (40) wifi: plain line between frames\r\n" +
        "é ünïcode ✓\n",
    );
    expect(events.filter((e) => e.kind !== "text")).toEqual([
      { kind: "login", name: "tbsdk", value: "XS 17.7.0 32-bit LE 32 4" },
      { kind: "instruments", names: ["Slot used", "Chunk used"], units: ["/", "/"] },
      { kind: "samples", values: [1024, 2048] },
      { kind: "break", path: "main.js", line: "12", message: 'Error: x & y <z> "q"' },
    ]);
    expect(events.filter((e) => e.kind === "text" && e.framed).length).toBe(2);
  });

  it("gives the same result for the stream cut at every position, and cut into single characters", () => {
    const whole = JSON.stringify(parseInChunks(STREAM, []).filter((e) => e.kind !== "text"));
    const text = textOf(parseInChunks(STREAM, []));
    for (let cut = 1; cut < STREAM.length; cut++) {
      const events = parseInChunks(STREAM, [cut]);
      expect(textOf(events)).toBe(text);
      expect(JSON.stringify(events.filter((e) => e.kind !== "text"))).toBe(whole);
    }
    const singles = parseInChunks(STREAM, Array.from({ length: STREAM.length - 1 }, (_, i) => i + 1));
    expect(textOf(singles)).toBe(text);
  });

  it("passes a lone '<' in plain output through once it is clearly not a frame", () => {
    expect(textOf(parseInChunks("a < b and <x> tags\n", [3]))).toBe("a < b and <x> tags\n");
  });

  it("unescapes numeric and named entities", () => {
    expect(unescapeXml("&#60;&#x41;&amp;&lt;&gt;&quot;&apos;&#10;")).toBe("<A&<>\"'\n");
  });
});

describe("headless xsbug log server", () => {
  it("answers a machine's login with <go/>, resumes breaks, and hands over complete lines", async () => {
    const lines: string[] = [];
    const server = await startXsbugLogServer({ onLine: (l) => lines.push(l) });
    const socket = net.connect(server.port, "127.0.0.1");
    const received: string[] = [];
    socket.on("data", (d) => received.push(d.toString()));
    await new Promise((r) => socket.once("connect", r));
    socket.write(frame('<login name="app" value="XS"/>'));
    socket.write(frame("<log>I (1) a: one&#10;I (2) a: tw</log>"));
    socket.write(frame("<log>o&#10;</log>") + frame('<break path="m.js" line="3">stop</break>'));
    const deadline = Date.now() + 5000;
    while ((lines.length < 3 || received.join("").split("<go/>").length < 3) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    socket.destroy();
    await server.close();
    expect(lines).toEqual(["I (1) a: one", "I (2) a: two", "xsbug: break at m.js:3: stop"]);
    expect(server.logins).toEqual([{ name: "app", value: "XS" }]);
    expect(received.join("").split("<go/>").length - 1).toBe(2);
  });
});

describe("XsbugFrameParser.flush", () => {
  it("mid-stream releases held plain text but keeps a frame being received and a possible frame start", () => {
    const p = new XsbugFrameParser();
    expect(textOf(p.push("I (1) a: x\r\n"))).toBe("I (1) a: x");
    expect(textOf(p.flush(false))).toBe("\r\n");
    p.push("<xsbug><log>I (2) b: ");
    expect(p.flush(false)).toEqual([]);
    expect(textOf(p.push("y&#10;</log></xsbug>\r\nplain <xsb"))).toBe("I (2) b: y\nplain ");
    expect(p.flush(false)).toEqual([]);
    expect(textOf(p.push("ug><log>z</log></xsbug>\r\n"))).toBe("z");
    expect(textOf(p.push("end"))).toBe("end");
    expect(p.flush()).toEqual([]);
  });
});
