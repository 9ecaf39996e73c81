/**
 * Where a character of a scalar's value sits in the file, so an error inside a long string (a `shell: |` block)
 * can name its own line and column. Exact for styles whose text is the value as written (plain or quoted on one
 * line without escapes, literal blocks); undefined otherwise, and the caller names the scalar's start.
 */
import { SCALAR_STYLE, getScalarValue, type ScalarEvent } from 'js-yaml';

/** Offset in `text` of character `index` of the scalar's value, or undefined when it cannot be known exactly. */
export function scalarOffset(text: string, scalar: ScalarEvent, index: number): number | undefined {
  const value = getScalarValue(text, scalar);
  if (index < 0 || index >= value.length) return undefined;
  const raw = text.slice(scalar.valueStart, scalar.valueEnd);
  if (
    scalar.style === SCALAR_STYLE.PLAIN ||
    scalar.style === SCALAR_STYLE.SINGLE_QUOTED ||
    scalar.style === SCALAR_STYLE.DOUBLE_QUOTED
  ) {
    return raw === value ? scalar.valueStart + index : undefined;
  }
  if (scalar.style !== SCALAR_STYLE.LITERAL_BLOCK || scalar.indent < 0) return undefined;
  // A literal block is its lines as written, each after `indent` spaces.
  const lines = value.split('\n');
  const rawLines = raw.split('\n');
  let before = 0;
  let rawOffset = scalar.valueStart;
  for (let k = 0; k < lines.length; k++) {
    const line = lines[k]!;
    const rawLine = rawLines[k];
    if (rawLine === undefined || (line !== '' && rawLine.slice(scalar.indent) !== line)) return undefined;
    if (index <= before + line.length) return rawOffset + scalar.indent + (index - before);
    before += line.length + 1;
    rawOffset += rawLine.length + 1;
  }
  return undefined;
}
