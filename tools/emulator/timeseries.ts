/**
 * One telemetry key of one device, bounded so a long-running emulator under load keeps flat memory:
 * at most `maxPoints` points, the oldest (by ts) dropped first.
 */
import type { KvValue, TsPoint } from "./model.js";

export type SortOrder = "ASC" | "DESC";

/** Points handed out are copies (object values too), so callers cannot edit stored data. */
const copy = (p: TsPoint): TsPoint => ({ ts: p.ts, value: typeof p.value === "object" ? structuredClone(p.value) : p.value });

export interface RangeQuery {
  /** Inclusive. */
  startTs: number;
  /** Exclusive, as in ThingsBoard's SQL (`ts >= startTs AND ts < endTs`). */
  endTs: number;
  limit: number;
  order: SortOrder;
}

export class BoundedSeries {
  /** Ascending by ts, one point per ts (ThingsBoard's key is entity+key+ts: a repeat overwrites). */
  private points: TsPoint[] = [];

  constructor(readonly maxPoints: number) {
    if (!Number.isInteger(maxPoints) || maxPoints < 1) {
      throw new RangeError(`maxPoints must be a positive integer, got ${maxPoints}`);
    }
  }

  get size(): number {
    return this.points.length;
  }

  put(ts: number, value: KvValue): void {
    const pts = this.points;
    const last = pts[pts.length - 1];
    if (last === undefined || ts > last.ts) {
      pts.push({ ts, value }); // the common case: telemetry arrives in order
    } else {
      const i = this.lowerBound(ts);
      if (pts[i]?.ts === ts) pts[i] = { ts, value };
      else pts.splice(i, 0, { ts, value });
    }
    if (pts.length > this.maxPoints) pts.splice(0, pts.length - this.maxPoints);
  }

  latest(): TsPoint | undefined {
    const p = this.points[this.points.length - 1];
    return p && copy(p);
  }

  range(q: RangeQuery): TsPoint[] {
    const from = this.lowerBound(q.startTs);
    const to = this.lowerBound(q.endTs);
    const slice = this.points.slice(from, Math.max(from, to));
    if (q.order === "DESC") slice.reverse();
    return slice.slice(0, Math.max(0, q.limit)).map(copy);
  }

  /** All points, oldest first (for persistence). */
  all(): TsPoint[] {
    return this.points.map(copy);
  }

  /** First index whose ts is >= the given ts. */
  private lowerBound(ts: number): number {
    let lo = 0;
    let hi = this.points.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.points[mid]!.ts < ts) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
