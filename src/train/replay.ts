/**
 * A replay buffer for incremental learning: a uniform sample of every row ever added (reservoir
 * sampling), held in a fixed capacity, so an update can train on new rows together with a fair
 * sample of the old ones instead of forgetting them. Seeded, so the same rows give the same sample.
 */
import { errors } from '../core/errors.js';
import { Random } from './random.js';
import { describeSchema, schemaOf, type TableSchema, type TrainingTable } from './training-table.js';

export class ReplayBuffer {
  readonly capacity: number;
  private readonly random: Random;
  private schema: TableSchema | null;
  private features = new Float64Array(0);
  private labels = new Int32Array(0);
  private targets = new Float64Array(0);
  private stored = 0;
  private seenCount = 0;

  /** `schema` fixes the columns up front; otherwise the first table added does. */
  constructor(capacity: number, seed: number, schema?: TableSchema) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) {
      throw errors.invalidArgument(`replay buffer capacity must be a positive integer, got ${capacity}`);
    }
    this.capacity = capacity;
    this.random = new Random(seed);
    this.schema = null;
    if (schema !== undefined) this.setSchema(schema);
  }

  private setSchema(schema: TableSchema): void {
    this.schema = {
      ...schema,
      featureColumns: [...schema.featureColumns],
      ...(schema.classes === undefined ? {} : { classes: [...schema.classes] }),
    };
    this.features = new Float64Array(this.capacity * schema.featureColumns.length);
    if (schema.task === 'classification') this.labels = new Int32Array(this.capacity);
    else this.targets = new Float64Array(this.capacity);
  }

  /** Rows held now (≤ capacity). */
  get size(): number {
    return this.stored;
  }

  /** Rows ever offered. */
  get seen(): number {
    return this.seenCount;
  }

  /** Offer every row of `table` (same columns and classes as the buffer's). */
  addTable(table: TrainingTable): void {
    if (this.schema === null) this.setSchema(schemaOf(table));
    const schema = this.schema as TableSchema;
    const same = (a: readonly string[] | undefined, b: readonly string[] | undefined) =>
      a === undefined || b === undefined ? a === b : a.length === b.length && a.every((v, i) => v === b[i]);
    if (
      table.task !== schema.task ||
      table.targetColumn !== schema.targetColumn ||
      !same(table.featureColumns, schema.featureColumns) ||
      !same(table.classes, schema.classes)
    ) {
      throw errors.invalidArgument(
        `rows of (${describeSchema(schemaOf(table))}) do not fit the replay buffer (${describeSchema(schema)})`,
      );
    }
    const width = schema.featureColumns.length;
    for (let r = 0; r < table.rows; r++) {
      const value =
        schema.task === 'classification' ? (table.labels?.[r] as number) : (table.target?.[r] as number);
      this.addRow(table.features.subarray(r * width, (r + 1) * width), value);
    }
  }

  /** Offer one row of raw features with its class index (classification) or target value (regression). */
  addRow(raw: ArrayLike<number>, value: number): void {
    const schema = this.schema;
    if (schema === null)
      throw errors.invalidArgument(
        'the replay buffer has no columns yet: add a table first or give a schema',
      );
    const width = schema.featureColumns.length;
    if (raw.length !== width)
      throw errors.invalidArgument(`a replay row needs ${width} features, got ${raw.length}`);
    const classCount = schema.classes?.length ?? 0;
    if (
      schema.task === 'classification'
        ? !(Number.isInteger(value) && value >= 0 && value < classCount)
        : !Number.isFinite(value)
    ) {
      throw errors.invalidArgument(
        schema.task === 'classification'
          ? `a class index must be in 0..${classCount - 1}, got ${value}`
          : `a target must be a finite number, got ${value}`,
      );
    }
    this.seenCount++;
    let slot: number;
    if (this.stored < this.capacity) slot = this.stored++;
    else {
      // Algorithm R: the n-th row replaces a random slot with probability capacity / n.
      slot = this.random.int(this.seenCount);
      if (slot >= this.capacity) return;
    }
    for (let c = 0; c < width; c++) this.features[slot * width + c] = raw[c] as number;
    if (schema.task === 'classification') this.labels[slot] = value;
    else this.targets[slot] = value;
  }

  /** The rows held, as a table (null while empty). */
  asTable(): TrainingTable | null {
    if (this.schema === null || this.stored === 0) return null;
    const width = this.schema.featureColumns.length;
    const table: TrainingTable = {
      featureColumns: [...this.schema.featureColumns],
      targetColumn: this.schema.targetColumn,
      task: this.schema.task,
      features: this.features.slice(0, this.stored * width),
      rows: this.stored,
    };
    if (this.schema.task === 'classification') {
      table.classes = [...(this.schema.classes ?? [])];
      table.labels = this.labels.slice(0, this.stored);
    } else table.target = this.targets.slice(0, this.stored);
    return table;
  }
}
