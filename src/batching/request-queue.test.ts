import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DeadlineHeap } from './queue-deadlines.js';
import { QueueEntry, RequestQueue } from './request-queue.js';

class Item extends QueueEntry {
  constructor(
    readonly id: string,
    key: string,
    size: number,
    level = 0,
    readonly deadlineMs = Infinity,
  ) {
    super(key, size, level);
  }
}

const ids = (items: readonly Item[] | null) => (items === null ? null : items.map((i) => i.id));

test('peek serves the highest level first, FIFO within a level', () => {
  const q = new RequestQueue<Item>(2);
  const a = new Item('a', 'k', 1, 1);
  const b = new Item('b', 'k', 1, 0);
  const c = new Item('c', 'k', 1, 0);
  for (const x of [a, b, c]) q.push(x);
  assert.equal(q.peek()?.id, 'b');
  q.remove(b);
  assert.equal(q.peek()?.id, 'c');
  q.remove(c);
  assert.equal(q.peek()?.id, 'a');
  q.remove(a);
  q.remove(a); // not queued any more: no-op
  assert.equal(q.peek(), undefined);
  assert.equal(q.size, 0);
});

test('collect walks only one key, across levels, and stops at the first misfit', () => {
  const q = new RequestQueue<Item>(2);
  const items = [
    new Item('a1', 'a', 2),
    new Item('b1', 'b', 1),
    new Item('a2', 'a', 3),
    new Item('a3', 'a', 1),
    new Item('a0', 'a', 1, 0),
    new Item('low', 'a', 1, 1),
  ];
  for (const x of items) q.push(x);
  assert.equal(q.itemsFor('a'), 8);
  assert.equal(q.itemsFor('b'), 1);
  assert.equal(q.itemsFor('none'), 0);
  assert.deepEqual(ids(q.collect('a', 8)), ['a1', 'a2', 'a3', 'a0', 'low']);
  assert.deepEqual(ids(q.collect('a', 5)), ['a1', 'a2']);
  assert.deepEqual(ids(q.collect('a', 4)), ['a1']);
  q.remove(items[2] as Item);
  assert.deepEqual(ids(q.collect('a', 4)), ['a1', 'a3', 'a0']);
  assert.equal(q.itemsFor('a'), 5);
});

test('collectPreferred cuts to the largest preferred total, or gives null', () => {
  const q = new RequestQueue<Item>(1);
  for (const [id, size] of [
    ['x', 1],
    ['y', 2],
    ['z', 1],
    ['w', 1],
  ] as const)
    q.push(new Item(id, 'k', size));
  assert.deepEqual(ids(q.collectPreferred('k', 8, new Set([3, 4]))), ['x', 'y', 'z']);
  assert.deepEqual(ids(q.collectPreferred('k', 8, new Set([2]))), null);
  assert.deepEqual(ids(q.collectPreferred('k', 3, new Set([1, 5]))), ['x']);
});

test('removeAll empties the queue in dispatch order', () => {
  const q = new RequestQueue<Item>(2);
  for (const x of [new Item('a', 'k', 1, 1), new Item('b', 'j', 1, 0), new Item('c', 'k', 1, 1)]) q.push(x);
  assert.deepEqual(ids(q.removeAll()), ['b', 'a', 'c']);
  assert.equal(q.size, 0);
  assert.equal(q.itemsFor('k'), 0);
});

test('DeadlineHeap yields live entries by deadline and drops the ones that left the queue', () => {
  const q = new RequestQueue<Item>(1);
  const heap = new DeadlineHeap<Item>();
  const deadlines = [50, 10, 40, 30, 20, 60, 5];
  const items = deadlines.map((d, i) => new Item(`i${i}`, 'k', 1, 0, d));
  for (const x of items) {
    q.push(x);
    heap.push(x, q.size);
  }
  q.remove(items[1] as Item); // deadline 10
  q.remove(items[6] as Item); // deadline 5
  const order: number[] = [];
  for (let top = heap.peek(); top !== undefined; top = heap.peek()) {
    order.push(top.deadlineMs);
    heap.pop();
  }
  assert.deepEqual(order, [20, 30, 40, 50, 60]);
});

test('DeadlineHeap sweeps stale entries once they outnumber the live ones', () => {
  const q = new RequestQueue<Item>(1);
  const heap = new DeadlineHeap<Item>();
  for (let i = 0; i < 200; i++) {
    const x = new Item(`i${i}`, 'k', 1, 0, 1000 - i);
    q.push(x);
    heap.push(x, q.size);
    q.remove(x);
  }
  assert.ok(heap.size < 200);
  assert.equal(heap.peek(), undefined);
});
