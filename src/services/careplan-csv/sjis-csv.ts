// The byte level of the standard's CSV: Shift-JIS (MS932), CRLF between records, free text in "…" with "" for
// a quote and line breaks and commas kept. Parsed on bytes (a quote, comma, CR or LF byte is never the second
// byte of a Shift-JIS character), so every problem has a line and a column; each field is then checked to be
// valid MS932 before decoding: iconv-lite would silently turn a bad byte into U+FFFD.
import iconv from 'iconv-lite';

export const ENCODING = 'cp932';

export interface CsvField {
  text: string;
  quoted: boolean;
  /** physical line (1-based) where the field starts */
  line: number;
}

export interface CsvRecord {
  /** physical line where the record starts */
  line: number;
  fields: CsvField[];
}

export interface CsvProblem {
  line: number;
  column: number;
  code: 'invalid' | 'structure';
  message: string;
}

const isLead = (b: number): boolean => (b >= 0x81 && b <= 0x9f) || (b >= 0xe0 && b <= 0xfc);
const isTrail = (b: number): boolean => (b >= 0x40 && b <= 0x7e) || (b >= 0x80 && b <= 0xfc);
const isSingle = (b: number): boolean => b <= 0x7f || (b >= 0xa1 && b <= 0xdf);

/** Offset of the first byte that is not MS932, or -1. */
function invalidSjisAt(bytes: Buffer): number {
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i]!;
    if (isLead(b)) {
      if (i + 1 >= bytes.length || !isTrail(bytes[i + 1]!)) return i;
      i++;
    } else if (!isSingle(b)) return i;
  }
  return -1;
}

function decodeField(bytes: Buffer): { text: string } | { error: string } {
  // Most fields (numbers, codes, dates) are ASCII, which Shift-JIS leaves as it is: no decoder needed.
  let ascii = true;
  for (let i = 0; i < bytes.length && ascii; i++) ascii = bytes[i]! < 0x80;
  if (ascii) return { text: bytes.toString('latin1') };
  const bad = invalidSjisAt(bytes);
  if (bad >= 0)
    return {
      error: `byte 0x${bytes[bad]!.toString(16).toUpperCase().padStart(2, '0')} at offset ${bad} of the field is not Shift-JIS (MS932)`,
    };
  const text = iconv.decode(bytes, ENCODING);
  const unmapped = text.indexOf('\uFFFD');
  if (unmapped >= 0)
    return {
      error: `the field holds a Shift-JIS code with no character in MS932 (after "${text.slice(Math.max(0, unmapped - 5), unmapped)}")`,
    };
  return { text };
}

export function parseCsv(bytes: Buffer): { records: CsvRecord[]; problems: CsvProblem[] } {
  const records: CsvRecord[] = [];
  const problems: CsvProblem[] = [];
  let i = 0;
  let line = 1;
  const n = bytes.length;
  while (i < n) {
    const record: CsvRecord = { line, fields: [] };
    let endOfRecord = false;
    while (!endOfRecord) {
      const column = record.fields.length + 1;
      const fieldLine = line;
      let raw: Buffer;
      let quoted = false;
      let broken = false;
      if (bytes[i] === 0x22) {
        quoted = true;
        const parts: Buffer[] = [];
        let start = ++i;
        let closed = false;
        while (i < n) {
          const b = bytes[i]!;
          if (b === 0x22) {
            parts.push(bytes.subarray(start, i));
            if (bytes[i + 1] === 0x22) {
              parts.push(Buffer.from([0x22]));
              i += 2;
              start = i;
              continue;
            }
            i++;
            closed = true;
            break;
          }
          if (b === 0x0a) line++;
          i += isLead(b) && i + 1 < n ? 2 : 1;
        }
        if (!closed) {
          problems.push({
            line: fieldLine,
            column,
            code: 'structure',
            message: 'a quoted field is not closed before the end of the file',
          });
          return { records, problems };
        }
        raw = Buffer.concat(parts);
        if (i < n && bytes[i] !== 0x2c && bytes[i] !== 0x0d) {
          problems.push({
            line,
            column,
            code: 'structure',
            message:
              'a closing quote must be followed by a comma or the end of the record (write " inside free text as "")',
          });
          broken = true;
        }
      } else {
        const start = i;
        while (i < n && bytes[i] !== 0x2c && bytes[i] !== 0x0d && bytes[i] !== 0x0a) {
          if (bytes[i] === 0x22 && !broken) {
            problems.push({
              line,
              column,
              code: 'structure',
              message: 'a quote inside an unquoted field (free text must be enclosed in "…")',
            });
            broken = true;
          }
          i += isLead(bytes[i]!) && i + 1 < n ? 2 : 1;
        }
        raw = bytes.subarray(start, i);
      }
      if (broken) {
        // skip to the end of this record
        while (i < n && bytes[i] !== 0x0a) i++;
        if (i < n) {
          i++;
          line++;
        }
        break;
      }
      const decoded = decodeField(raw);
      if ('error' in decoded) problems.push({ line: fieldLine, column, code: 'invalid', message: decoded.error });
      record.fields.push({ text: 'text' in decoded ? decoded.text : '', quoted, line: fieldLine });
      if (i >= n) endOfRecord = true;
      else if (bytes[i] === 0x2c) {
        i++;
        if (i >= n) {
          record.fields.push({ text: '', quoted: false, line });
          endOfRecord = true;
        }
      } else if (bytes[i] === 0x0d && bytes[i + 1] === 0x0a) {
        i += 2;
        line++;
        endOfRecord = true;
      } else {
        problems.push({
          line,
          column,
          code: 'structure',
          message: 'records must end with CRLF (a bare CR or LF was found)',
        });
        while (i < n && bytes[i] !== 0x0a) i++;
        if (i < n) {
          i++;
          line++;
        }
        endOfRecord = true;
      }
    }
    records.push(record);
  }
  return { records, problems };
}

export interface OutField {
  text: string;
  quote: boolean;
}

/** Records → bytes; throws with the offending character when a text cannot be written in MS932. */
export function writeCsv(records: OutField[][]): Buffer {
  const text = records
    .map((r) => r.map((f) => (f.quote ? `"${f.text.replace(/"/g, '""')}"` : f.text)).join(',') + '\r\n')
    .join('');
  const bytes = iconv.encode(text, ENCODING);
  const back = iconv.decode(bytes, ENCODING);
  if (back !== text) {
    let k = 0;
    while (k < text.length && text[k] === back[k]) k++;
    throw new Error(
      `character ${JSON.stringify(text.slice(k, k + 1))} (U+${text.codePointAt(k)!.toString(16).toUpperCase()}) cannot be written in Shift-JIS (MS932)`,
    );
  }
  return bytes;
}
