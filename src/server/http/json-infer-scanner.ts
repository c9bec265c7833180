/**
 * A streaming guard over a large V2 JSON infer body, fed chunk by chunk while the body arrives. It
 * tokenizes without building values and counts the scalars of each `inputs[i].data` (nested arrays
 * flattened): once a count passes the element count its `shape` declares — or, with no shape seen
 * yet, `limits.max_tensor_elements` — the request is refused before the rest is read or any of it is
 * materialized. A body of 33 million numbers for a `[1, 64]` input is refused after the 65th.
 *
 * It is a guard, not the parser: a body it lets through is parsed by the real decoder, which gives
 * the precise messages. It refuses only what the real parser would refuse too (too many elements,
 * broken JSON structure), so a valid request is never refused here.
 */
import { errors } from '../../core/errors.js';

const enum Role {
  Other,
  Root,
  Inputs,
  Input,
  Shape,
  Data,
}

interface Frame {
  isArray: boolean;
  role: Role;
  /** The last key read in an object (only kept for the roles whose keys matter). */
  key: string | null;
}

const MAX_KEY_BYTES = 32;
const MAX_SHAPE_DIMS = 64;
const MAX_DEPTH = 64;

// Bytes.
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_OBJECT = 0x7b;
const CLOSE_OBJECT = 0x7d;
const OPEN_ARRAY = 0x5b;
const CLOSE_ARRAY = 0x5d;
const COMMA = 0x2c;
const COLON = 0x3a;

function isWhitespace(b: number): boolean {
  return b === 0x20 || b === 0x0a || b === 0x0d || b === 0x09;
}

/** Bytes that may appear in a number or a literal (true, false, null); the real parser checks their form. */
function isScalarByte(b: number): boolean {
  return (
    (b >= 0x30 && b <= 0x39) ||
    b === 0x2d ||
    b === 0x2b ||
    b === 0x2e ||
    (b >= 0x61 && b <= 0x7a) ||
    (b >= 0x41 && b <= 0x5a)
  );
}

export class JsonInferScanner {
  private readonly stack: Frame[] = [];
  private inString = false;
  private escaped = false;
  private inScalar = false;
  /** The string being read is an object key (else a value). */
  private stringIsKey = false;
  private expectKey = false;
  private keyBytes: number[] = [];
  private scalarText = '';
  private offset = 0;
  private done = false;
  // The input being read.
  private inputIndex = -1;
  private inputName: string | null = null;
  private readingName = false;
  private nameBytes: number[] = [];
  private shape: number[] | null = null;
  private shapeDims: number[] = [];
  private dataCount = 0;
  /** Elements the current input's data may hold: its shape's count once known, never past the limit. */
  private allowed: number;
  /** Where the structural byte being handled sits, for error messages. */
  private at = 0;

  constructor(private readonly maxTensorElements: number) {
    this.allowed = maxTensorElements;
  }

  /** Scan the next chunk; throws TendError (400) as soon as the body must be refused. */
  write(chunk: Uint8Array): void {
    if (this.done) return;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i] as number;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (b === BACKSLASH) this.escaped = true;
        else if (b === QUOTE) this.endString();
        else if (this.stringIsKey) {
          if (this.keyBytes.length <= MAX_KEY_BYTES) this.keyBytes.push(b);
        } else if (this.readingName && this.nameBytes.length <= 256) this.nameBytes.push(b);
        continue;
      }
      if (this.inScalar) {
        if (isScalarByte(b)) {
          if (this.scalarText.length < 40) this.scalarText += String.fromCharCode(b);
          continue;
        }
        this.endScalar();
      }
      if (isWhitespace(b)) continue;
      this.at = this.offset + i;
      const top = this.stack[this.stack.length - 1];
      if (b === QUOTE) {
        this.inString = true;
        this.stringIsKey = top !== undefined && !top.isArray && this.expectKey;
        this.keyBytes.length = 0;
        this.readingName = !this.stringIsKey && top?.role === Role.Input && top.key === 'name';
        this.nameBytes.length = 0;
        if (!this.stringIsKey) this.countValue();
      } else if (b === OPEN_OBJECT || b === OPEN_ARRAY) {
        this.open(b === OPEN_ARRAY, top);
      } else if (b === CLOSE_OBJECT || b === CLOSE_ARRAY) {
        this.close(b === CLOSE_ARRAY, top);
      } else if (b === COMMA) {
        if (top === undefined) this.fail('a comma outside any object or array');
        if (!top.isArray) this.expectKey = true;
      } else if (b === COLON) {
        if (top === undefined || top.isArray) this.fail('a colon outside an object');
        this.expectKey = false;
      } else if (isScalarByte(b)) {
        this.inScalar = true;
        this.scalarText = String.fromCharCode(b);
        this.countValue();
      } else {
        this.fail(`unexpected byte 0x${b.toString(16).padStart(2, '0')}`);
      }
    }
    this.offset += chunk.length;
  }

  /** The whole body was read: nothing more to check here (the real parser reports incomplete JSON). */
  end(): void {
    this.done = true;
  }

  private fail(what: string): never {
    this.done = true;
    throw errors.invalidJson(`request body is not valid JSON: ${what} (near byte ${this.at})`);
  }

  private open(isArray: boolean, top: Frame | undefined): void {
    if (this.stack.length >= MAX_DEPTH) {
      // Deeper than any V2 request needs: leave it to the real parser, which refuses deep nesting itself.
      this.done = true;
      return;
    }
    let role = Role.Other;
    if (top === undefined) role = isArray ? Role.Other : Role.Root;
    else if (top.role === Role.Data) role = Role.Data;
    else if (top.role === Role.Root && isArray && top.key === 'inputs') role = Role.Inputs;
    else if (top.role === Role.Inputs && !isArray) role = Role.Input;
    else if (top.role === Role.Input && isArray && top.key === 'shape') role = Role.Shape;
    else if (top.role === Role.Input && isArray && top.key === 'data') role = Role.Data;
    if (role === Role.Input) {
      this.inputIndex += 1;
      this.inputName = null;
      this.shape = null;
      this.dataCount = 0;
      this.allowed = this.maxTensorElements;
    } else if (role === Role.Shape) {
      this.shapeDims = [];
    }
    this.stack.push({ isArray, role, key: null });
    this.expectKey = !isArray;
  }

  private close(isArray: boolean, top: Frame | undefined): void {
    if (top === undefined || top.isArray !== isArray)
      this.fail(
        `'${isArray ? ']' : '}'}' does not close the open ${top === undefined ? 'value' : top.isArray ? 'array' : 'object'}`,
      );
    this.stack.pop();
    if (top.role === Role.Shape) {
      this.shape = this.shapeDims.length <= MAX_SHAPE_DIMS ? this.shapeDims : null;
      if (this.shape !== null) {
        let declared = 1;
        for (const d of this.shape) declared *= d;
        // A bad shape (negative, fractional) is left for the real parser to name.
        if (Number.isFinite(declared)) this.allowed = Math.min(this.allowed, declared);
      }
      // Data before its shape: check what was counted so far against the shape now known.
      if (this.dataCount > this.allowed) this.refuseCount();
    }
    this.expectKey = false;
    if (this.stack.length === 0) this.done = true;
  }

  private endString(): void {
    this.inString = false;
    if (this.stringIsKey) {
      const top = this.stack[this.stack.length - 1];
      if (top !== undefined && (top.role === Role.Root || top.role === Role.Input)) {
        top.key = this.keyBytes.length > MAX_KEY_BYTES ? null : String.fromCharCode(...this.keyBytes);
      }
    } else if (this.readingName) {
      this.readingName = false;
      this.inputName = Buffer.from(this.nameBytes).toString('utf8');
    }
  }

  private endScalar(): void {
    this.inScalar = false;
    const top = this.stack[this.stack.length - 1];
    if (top?.role === Role.Shape) {
      const d = Number(this.scalarText);
      this.shapeDims.push(Number.isSafeInteger(d) && d >= 0 ? d : Number.NaN);
    }
  }

  /** A value begins: count it when it is an element of the current input's data. */
  private countValue(): void {
    const top = this.stack[this.stack.length - 1];
    if (top?.role !== Role.Data) return;
    this.dataCount += 1;
    if (this.dataCount > this.allowed) this.refuseCount();
  }

  private refuseCount(): never {
    this.done = true;
    const label =
      this.inputName !== null ? `input '${this.inputName.slice(0, 64)}'` : `inputs[${this.inputIndex}]`;
    if (this.allowed === this.maxTensorElements) {
      throw errors.invalidInput(
        `${label}: 'data' has more than limits.max_tensor_elements (${this.maxTensorElements}) elements; refused while reading the body`,
      );
    }
    throw errors.invalidInput(
      `${label}: 'data' has more than the ${this.allowed} elements its shape [${(this.shape ?? []).join(',')}] declares; refused while reading the body`,
    );
  }
}
