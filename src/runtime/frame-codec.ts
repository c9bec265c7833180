/**
 * Protocol messages as frames on a byte stream (the pipe to a model child process): a JSON header
 * in which every typed array is replaced by a reference, followed by the arrays' raw bytes.
 *
 *   u32 LE  length of the rest of the frame
 *   u32 LE  header length in bytes
 *   header  UTF-8 JSON
 *   payload the typed arrays' bytes, one after the other
 *
 * A round trip costs about half of Node's `serialization: 'advanced'` IPC (a V8 serializer and
 * deserializer per message, with a JavaScript callback per typed array) on this class of machine.
 */

type ViewConstructor = new (length: number) => ArrayBufferView;

const VIEW_TYPES: Readonly<Record<string, ViewConstructor>> = {
  Uint8Array,
  Int8Array,
  Uint16Array,
  Int16Array,
  Uint32Array,
  Int32Array,
  BigUint64Array,
  BigInt64Array,
  Float32Array,
  Float64Array,
};

/** The key marking a typed-array reference in a header (never a key of a protocol message). */
const VIEW_KEY = '$view';

interface ViewReference {
  [VIEW_KEY]: string;
  /** Byte offset in the payload. */
  at: number;
  /** Elements. */
  length: number;
}

const MAX_FRAME_BYTES = 0xffff_ffff;

/** Name of the typed-array class of `view` (a Buffer counts as a Uint8Array). */
function viewType(view: ArrayBufferView): string {
  if (view instanceof Uint8Array) return 'Uint8Array';
  const name = view.constructor.name;
  if (VIEW_TYPES[name] === undefined) throw new TypeError(`cannot send a ${name} to a model process`);
  return name;
}

/**
 * The buffers of one frame carrying `message`, to be written in order (the payload buffers are
 * views on the message's own arrays, not copies: they must stay unchanged until written).
 * Throws on a detached array or a frame over 4 GiB.
 */
export function encodeFrame(message: unknown): Buffer[] {
  const payload: Buffer[] = [];
  let payloadBytes = 0;
  const header = JSON.stringify(
    message,
    function (this: Record<string, unknown>, key: string, value: unknown) {
      // The holder's own value: Buffer.prototype.toJSON has already replaced `value` for a Buffer.
      const original = this[key];
      if (!ArrayBuffer.isView(original)) return value;
      // A detached array throws here ("Cannot perform Construct on a detached ArrayBuffer").
      const bytes = Buffer.from(original.buffer, original.byteOffset, original.byteLength);
      const reference: ViewReference = {
        [VIEW_KEY]: viewType(original),
        at: payloadBytes,
        length: (original as unknown as { length: number }).length,
      };
      payload.push(bytes);
      payloadBytes += bytes.length;
      return reference;
    },
  );
  const headerBytes = Buffer.from(header, 'utf8');
  const frameBytes = 4 + headerBytes.length + payloadBytes;
  if (frameBytes > MAX_FRAME_BYTES)
    throw new RangeError(`a message of ${frameBytes} bytes is over the 4 GiB a frame can carry`);
  const prefix = Buffer.allocUnsafe(8);
  prefix.writeUInt32LE(frameBytes, 0);
  prefix.writeUInt32LE(headerBytes.length, 4);
  return [prefix, headerBytes, ...payload];
}

function isViewReference(value: unknown): value is ViewReference {
  return typeof value === 'object' && value !== null && VIEW_KEY in value;
}

/** The message in one frame (without its length prefix); every typed array is a fresh copy that owns its buffer. */
export function decodeFrame(frame: Buffer): unknown {
  const headerBytes = frame.readUInt32LE(0);
  const payload = frame.subarray(4 + headerBytes);
  return JSON.parse(frame.toString('utf8', 4, 4 + headerBytes), (_key, value: unknown) => {
    if (!isViewReference(value)) return value;
    const Ctor = VIEW_TYPES[value[VIEW_KEY]];
    if (Ctor === undefined) throw new TypeError(`unknown typed array '${value[VIEW_KEY]}' in a frame`);
    const view = new Ctor(value.length);
    new Uint8Array(view.buffer).set(payload.subarray(value.at, value.at + view.byteLength));
    return view;
  });
}

/** Cuts a byte stream into frames, whatever the chunk boundaries. */
export class FrameReader {
  private chunks: Buffer[] = [];
  private buffered = 0;

  constructor(private readonly onMessage: (message: unknown) => void) {}

  /** Feed one chunk read from the stream; calls onMessage for every frame it completes. */
  push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    while (this.buffered >= 4) {
      let head = this.chunks[0]!;
      if (head.length < 4) {
        head = Buffer.concat(this.chunks, this.buffered);
        this.chunks = [head];
      }
      const frameBytes = head.readUInt32LE(0);
      if (this.buffered < 4 + frameBytes) return;
      const all = this.chunks.length === 1 ? head : Buffer.concat(this.chunks, this.buffered);
      const rest = all.subarray(4 + frameBytes);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.onMessage(decodeFrame(all.subarray(4, 4 + frameBytes)));
    }
  }
}
