/**
 * ThingsBoard's PageLink / PageData: `?pageSize=&page=[&textSearch=&sortProperty=&sortOrder=]` in,
 * `{"data","totalPages","totalElements","hasNext"}` out. pageSize and page are required, as in its controllers.
 */
import { badRequest } from "./http-reply.js";

export interface PageRequest {
  pageSize: number;
  page: number;
  textSearch: string | undefined;
  sortProperty: string | undefined;
  sortOrder: "ASC" | "DESC";
}

export interface PageData<T> {
  data: T[];
  totalPages: number;
  totalElements: number;
  hasNext: boolean;
}

function requiredInt(query: URLSearchParams, name: string): number {
  const text = query.get(name);
  // Spring's message for a missing primitive @RequestParam.
  if (text === null) throw badRequest(`Required request parameter '${name}' for method parameter type int is not present`);
  const n = Number(text);
  if (!/^-?\d+$/.test(text.trim()) || !Number.isSafeInteger(n)) {
    throw badRequest(`Failed to convert value of type 'java.lang.String' to required type 'int'; For input string: "${text}"`);
  }
  return n;
}

export function readPageRequest(query: URLSearchParams): PageRequest {
  const pageSize = requiredInt(query, "pageSize");
  const page = requiredInt(query, "page");
  if (pageSize < 1) throw badRequest("Page size must not be less than one!");
  if (page < 0) throw badRequest("Page index must not be less than zero!");
  const order = (query.get("sortOrder") ?? "ASC").toUpperCase();
  return {
    pageSize,
    page,
    textSearch: query.get("textSearch") || undefined,
    sortProperty: query.get("sortProperty") || undefined,
    sortOrder: order === "DESC" ? "DESC" : "ASC",
  };
}

/**
 * Filters by name (case-insensitive substring, ThingsBoard's `ILIKE %text%`), sorts, and cuts the page.
 * Without sortProperty the order is creation order (ThingsBoard leaves it to the database).
 */
export function pageOf<T extends { name: string; createdTime: number }>(items: T[], req: PageRequest): PageData<T> {
  const needle = req.textSearch?.toLowerCase();
  const filtered = needle === undefined ? items : items.filter((i) => i.name.toLowerCase().includes(needle));
  const sorted = [...filtered].sort((a, b) => compareBy(a, b, req.sortProperty));
  if (req.sortOrder === "DESC" && req.sortProperty !== undefined) sorted.reverse();
  const start = req.page * req.pageSize;
  const data = sorted.slice(start, start + req.pageSize);
  const totalElements = filtered.length;
  return {
    data,
    totalPages: Math.ceil(totalElements / req.pageSize),
    totalElements,
    hasNext: start + req.pageSize < totalElements,
  };
}

function compareBy<T extends { name: string; createdTime: number }>(a: T, b: T, property: string | undefined): number {
  const key = property === "name" ? "name" : property === undefined || property === "createdTime" ? "createdTime" : property;
  const x = (a as Record<string, unknown>)[key];
  const y = (b as Record<string, unknown>)[key];
  if (typeof x === "number" && typeof y === "number") return x - y;
  return String(x ?? "").localeCompare(String(y ?? ""));
}
