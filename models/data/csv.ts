// RFC-4180 CSV reading and writing for data-set metadata (`image,prompt` files like the reference's
// metadata_merged.csv). Quotes, commas and newlines inside quotes, CRLF and a UTF-8 BOM are handled.

/** One parsed record: its fields and the 1-based line of the file where it starts. */
export interface CsvRecord {
  fields: string[];
  line: number;
}

/**
 * Splits CSV text into records. A quoted field may hold commas, doubled quotes and line breaks.
 * Lenient where RFC 4180 is strict, as pandas is: a quote inside an unquoted field is kept as a
 * character, and text after a closing quote is appended to the field. A record that is a single
 * empty field (a blank line) is dropped. Throws only for a quote left open at the end of the file.
 */
export function parseCsv(text: string, where = "<csv>"): CsvRecord[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const records: CsvRecord[] = [];
  let fields: string[] = [];
  let field = "";
  let line = 1;
  let recordLine = 1;
  let inQuotes = false;
  let quotedLine = 0;
  const endRecord = (): void => {
    fields.push(field);
    if (!(fields.length === 1 && fields[0] === "")) records.push({ fields, line: recordLine });
    fields = [];
    field = "";
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (inQuotes) {
      if (c === '"') {
        if (body[i + 1] === '"') {
          field += '"';
          i++;
        } else inQuotes = false;
      } else {
        if (c === "\n") line++;
        field += c;
      }
      continue;
    }
    if (c === '"' && field === "") {
      inQuotes = true;
      quotedLine = line;
    } else if (c === ",") {
      fields.push(field);
      field = "";
    } else if (c === "\r" || c === "\n") {
      if (c === "\r" && body[i + 1] === "\n") i++;
      endRecord();
      line++;
      recordLine = line;
    } else field += c;
  }
  if (inQuotes) throw new Error(`${where}: expected a closing quote for the field opened on line ${quotedLine}, found the end of the file`);
  if (field !== "" || fields.length > 0) endRecord();
  return records;
}

/** Quotes a field when it holds a comma, a quote, a line break or leading/trailing spaces. */
export function csvField(value: string): string {
  return /[",\r\n]|^\s|\s$/.test(value) ? `"${value.replaceAll('"', '""')}"` : value;
}

/** Formats rows as CSV: RFC-4180 quoting, "\n" line ends (pandas and our parser read both), a final newline. */
export function formatCsv(rows: readonly (readonly string[])[]): string {
  return rows.map((row) => row.map(csvField).join(",")).join("\n") + "\n";
}
