import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeHtml } from './html.js';

test('escapeHtml escapes the five characters that matter in text and quoted attributes', () => {
  assert.equal(escapeHtml(`<a href="x">'&'</a>`), '&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;');
  assert.equal(
    escapeHtml('&amp;'),
    '&amp;amp;',
    'already-escaped text is escaped again: the input is text, not HTML',
  );
  assert.equal(escapeHtml('plain ünïcode — 1 ≥ 0'), 'plain ünïcode — 1 ≥ 0');
});
