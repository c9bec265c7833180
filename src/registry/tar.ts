/**
 * A small POSIX ustar writer and reader, enough for model archives that `tar tf` / `tar xf` open:
 * regular files and nothing else are written; the reader also steps over what other tars add when
 * someone repacks an archive (folders, pax and GNU long-name headers). Sizes past ustar's 8 GiB
 * octal limit use the base-256 form GNU tar and bsdtar read.
 */
import { open } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { type TendError, errors } from '../core/errors.js';

const BLOCK = 512;
const ZERO_BLOCK = Buffer.alloc(BLOCK);
const MAX_OCTAL_SIZE = 8 ** 11 - 1;
/** pax / GNU long-name payloads are small; a larger one means a broken or hostile archive. */
const MAX_META_BYTES = 1 << 20;

/** One file inside an archive: where its bytes are, so they can be streamed without extracting. */
export interface TarEntry {
  name: string;
  size: number;
  /** Byte offset of the data in the archive file. */
  offset: number;
  mtime: Date;
}

function paddingFor(size: number): number {
  return (BLOCK - (size % BLOCK)) % BLOCK;
}

function writeString(header: Buffer, value: string, offset: number, length: number): void {
  const bytes = Buffer.from(value, 'utf8');
  if (bytes.length > length)
    throw errors.invalidArgument(`tar field '${value}' is longer than ${length} bytes`);
  bytes.copy(header, offset);
}

function writeOctal(header: Buffer, value: number, offset: number, length: number): void {
  writeString(header, `${value.toString(8).padStart(length - 1, '0')}\0`, offset, length);
}

function writeSize(header: Buffer, size: number): void {
  if (size <= MAX_OCTAL_SIZE) return writeOctal(header, size, 124, 12);
  // Base-256: a first byte with the high bit set, then the value big-endian in the other 11 bytes.
  let rest = BigInt(size);
  for (let i = 135; i > 124; i--) {
    header[i] = Number(rest & 0xffn);
    rest >>= 8n;
  }
  header[124] = 0x80;
}

/** ustar keeps names up to 255 bytes as prefix + '/' + name (name ≤ 100, prefix ≤ 155). */
function splitName(name: string): { prefix: string; name: string } {
  if (Buffer.byteLength(name) <= 100) return { prefix: '', name };
  for (let i = name.indexOf('/'); i > 0; i = name.indexOf('/', i + 1)) {
    const prefix = name.slice(0, i);
    const rest = name.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(rest) <= 100 && rest !== '')
      return { prefix, name: rest };
  }
  throw errors.invalidArgument(`'${name}' is too long for a ustar archive entry`);
}

function fileHeader(name: string, size: number, mtime: Date): Buffer {
  const header = Buffer.alloc(BLOCK);
  const split = splitName(name);
  writeString(header, split.name, 0, 100);
  writeOctal(header, 0o644, 100, 8);
  writeOctal(header, 0, 108, 8); // uid
  writeOctal(header, 0, 116, 8); // gid
  writeSize(header, size);
  writeOctal(header, Math.max(0, Math.floor(mtime.getTime() / 1000)), 136, 12);
  header[156] = 0x30; // '0': a regular file
  writeString(header, 'ustar\0', 257, 6);
  writeString(header, '00', 263, 2);
  writeString(header, split.prefix, 345, 155);
  header.fill(0x20, 148, 156); // the checksum is computed with its own field as spaces
  let sum = 0;
  for (const byte of header) sum += byte;
  writeString(header, `${sum.toString(8).padStart(6, '0')}\0 `, 148, 8);
  return header;
}

/** Writes a ustar archive to a file handle, entry by entry; `finish()` writes the end marker. */
export class TarWriter {
  private position = 0;

  constructor(private readonly out: FileHandle) {}

  private async write(bytes: Buffer): Promise<void> {
    await this.out.write(bytes, 0, bytes.length, this.position);
    this.position += bytes.length;
  }

  /** Add a file whose content is in memory. */
  async addBuffer(name: string, data: Buffer, mtime = new Date()): Promise<void> {
    await this.write(fileHeader(name, data.length, mtime));
    await this.write(data);
    await this.write(ZERO_BLOCK.subarray(0, paddingFor(data.length)));
  }

  /**
   * Add a file streamed from `chunks`, which must yield exactly `size` bytes (the header is
   * written first, so a source that grows or shrinks meanwhile is an error, not a broken archive).
   */
  async addStream(
    name: string,
    size: number,
    chunks: AsyncIterable<Buffer>,
    mtime = new Date(),
  ): Promise<void> {
    await this.write(fileHeader(name, size, mtime));
    let written = 0;
    for await (const chunk of chunks) {
      written += chunk.length;
      if (written > size) break;
      await this.write(chunk);
    }
    if (written !== size) {
      throw errors.invalidArgument(
        `'${name}' was ${written > size ? 'longer' : 'shorter'} than its ${size} bytes while being archived`,
      );
    }
    await this.write(ZERO_BLOCK.subarray(0, paddingFor(size)));
  }

  /** Write the two zero blocks that end an archive. */
  async finish(): Promise<void> {
    await this.write(Buffer.alloc(2 * BLOCK));
  }
}

function readString(header: Buffer, offset: number, length: number): string {
  const field = header.subarray(offset, offset + length);
  const end = field.indexOf(0);
  return field.subarray(0, end < 0 ? length : end).toString('utf8');
}

function readNumber(header: Buffer, offset: number, length: number, what: string): number {
  const first = header[offset] ?? 0;
  if (first & 0x80) {
    let value = 0n;
    for (let i = offset + 1; i < offset + length; i++) value = (value << 8n) | BigInt(header[i] ?? 0);
    if (first !== 0x80 || value > BigInt(Number.MAX_SAFE_INTEGER))
      throw badTar(`a header's ${what} field is out of range`);
    return Number(value);
  }
  const text = readString(header, offset, length).trim();
  if (text === '') return 0;
  if (!/^[0-7]+$/.test(text)) throw badTar(`a header's ${what} field '${text}' is not octal`);
  return parseInt(text, 8);
}

/** A file that is no tar at all (an ONNX file, a zip, text). */
function notTar(why: string): TendError {
  return errors.invalidArchive(`not a tar archive: ${why}`);
}

/** A tar whose later headers are damaged. */
function badTar(why: string): TendError {
  return errors.invalidArchive(`a damaged tar archive: ${why}`);
}

/** A tar cut short (an interrupted copy or download). */
function truncatedTar(why: string): TendError {
  return errors.invalidArchive(`a truncated tar archive: ${why}`);
}

function checksumMatches(header: Buffer): boolean {
  let stored: number;
  try {
    stored = readNumber(header, 148, 8, 'checksum');
  } catch {
    return false; // not even a number where the checksum goes: no tar header
  }
  let unsigned = 0;
  let signed = 0;
  for (let i = 0; i < BLOCK; i++) {
    const byte = i >= 148 && i < 156 ? 0x20 : (header[i] ?? 0);
    unsigned += byte;
    signed += byte > 127 ? byte - 256 : byte; // some old tars summed signed chars
  }
  return stored === unsigned || stored === signed;
}

/** pax extended header records: "<length> <key>=<value>\n", repeated. */
function parsePax(data: Buffer): Map<string, string> {
  const records = new Map<string, string>();
  let at = 0;
  while (at < data.length) {
    const space = data.indexOf(0x20, at);
    const length = Number(data.subarray(at, space).toString('ascii'));
    if (space < 0 || !Number.isSafeInteger(length) || length <= 0 || at + length > data.length)
      throw badTar('a pax header is malformed');
    const record = data.subarray(space + 1, at + length - 1).toString('utf8');
    const eq = record.indexOf('=');
    if (eq > 0) records.set(record.slice(0, eq), record.slice(eq + 1));
    at += length;
  }
  return records;
}

async function readExactly(file: FileHandle, position: number, length: number): Promise<Buffer> {
  const buffer = Buffer.alloc(length);
  let filled = 0;
  while (filled < length) {
    const { bytesRead } = await file.read(buffer, filled, length - filled, position + filled);
    if (bytesRead === 0) throw truncatedTar('it ends in the middle of an entry');
    filled += bytesRead;
  }
  return buffer;
}

/**
 * The regular files of a tar archive, in archive order, without reading their data.
 * @throws TendError TEND_INVALID_ARCHIVE when the file is not a tar archive, is damaged or truncated,
 * TEND_INVALID_ARGUMENT when it cannot be opened.
 */
export async function listTar(path: string): Promise<TarEntry[]> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (err) {
    throw errors.invalidArgument(`cannot open ${path}: ${(err as Error).message}`);
  }
  try {
    const { size: fileSize } = await file.stat();
    const entries: TarEntry[] = [];
    let position = 0;
    let longName: string | undefined;
    let pax = new Map<string, string>();
    for (;;) {
      if (position + BLOCK > fileSize) {
        if (entries.length === 0 && position === 0)
          throw notTar(`it is empty or shorter than one ${BLOCK}-byte block`);
        if (fileSize > position)
          throw truncatedTar(`it ends in the middle of the header at byte ${position}`);
        throw truncatedTar(`it ends after ${position} bytes without the end-of-archive blocks`);
      }
      const header = await readExactly(file, position, BLOCK);
      if (header.equals(ZERO_BLOCK)) return entries;
      if (!checksumMatches(header)) {
        throw position === 0
          ? notTar('its first block is not a tar header (bad checksum)')
          : badTar(`the header at byte ${position} has a bad checksum`);
      }
      const type = String.fromCharCode(header[156] ?? 0);
      const prefix = readString(header, 345, 155);
      const baseName = readString(header, 0, 100);
      const size = Number(pax.get('size') ?? readNumber(header, 124, 12, 'size'));
      if (!Number.isSafeInteger(size) || size < 0)
        throw badTar(`the entry at byte ${position} has an invalid size`);
      const offset = position + BLOCK;
      if (offset + size > fileSize)
        throw truncatedTar(
          `it ends in the middle of an entry (${fileSize - offset} of its ${size} bytes are there)`,
        );
      position = offset + size + paddingFor(size);

      if (type === 'x' || type === 'L') {
        if (size > MAX_META_BYTES) throw badTar('an extended header is too large');
        const data = await readExactly(file, offset, size);
        if (type === 'x') pax = parsePax(data);
        else longName = data.toString('utf8').replace(/\0+$/, '');
        continue;
      }
      const name = pax.get('path') ?? longName ?? (prefix !== '' ? `${prefix}/${baseName}` : baseName);
      const mtime = new Date(Number(pax.get('mtime') ?? readNumber(header, 136, 12, 'mtime')) * 1000);
      pax = new Map();
      longName = undefined;
      if (type === '0' || type === '\0' || type === '7') entries.push({ name, size, offset, mtime });
      // Folders, links, global pax headers and the rest carry nothing a model archive needs.
    }
  } finally {
    await file.close();
  }
}

/** Stream one entry's bytes from the archive. */
export function readTarEntry(path: string, entry: TarEntry): Readable {
  // createReadStream's `end` is inclusive and may not precede `start`: an empty entry is no stream at all.
  return entry.size === 0
    ? Readable.from([])
    : createReadStream(path, {
        start: entry.offset,
        end: entry.offset + entry.size - 1,
        highWaterMark: 1 << 20,
      });
}

/** Read one (small) entry whole. */
export async function readTarEntryBuffer(path: string, entry: TarEntry): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of readTarEntry(path, entry)) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}
