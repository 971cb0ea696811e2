/**
 * CSV records as Apache Commons CSV's DEFAULT format reads them (ThingsBoard's CsvUtils.parseCsv): a configurable
 * one-character delimiter, double-quoted fields with "" as an escaped quote, CRLF or LF line ends, empty lines
 * skipped, spaces kept.
 */

export class CsvSyntaxError extends Error {
  override readonly name = "CsvSyntaxError";
}

export function parseCsv(text: string, delimiter = ","): string[][] {
  if (delimiter.length !== 1 || delimiter === '"' || delimiter === "\n" || delimiter === "\r") {
    throw new CsvSyntaxError(`Invalid delimiter: ${JSON.stringify(delimiter)}`);
  }
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  let fieldStarted = false;
  let i = 0;
  const endRecord = () => {
    // A line with nothing on it is not a record (ignoreEmptyLines).
    if (record.length > 0 || fieldStarted || field !== "") {
      record.push(field);
      records.push(record);
    }
    record = [];
    field = "";
    fieldStarted = false;
  };
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += ch;
      i++;
      continue;
    }
    if (ch === '"' && field === "") {
      quoted = true;
      fieldStarted = true;
    } else if (ch === delimiter) {
      record.push(field);
      field = "";
      fieldStarted = true;
    } else if (ch === "\r" || ch === "\n") {
      if (ch === "\r" && text[i + 1] === "\n") i++;
      endRecord();
    } else field += ch;
    i++;
  }
  if (quoted) throw new CsvSyntaxError("EOF reached before encapsulated token finished");
  endRecord();
  return records;
}
