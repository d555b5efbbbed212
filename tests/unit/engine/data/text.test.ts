// Text data: newline and printable ASCII as 96 symbols, the embedded corpus, a text
// of one's own.
import { describe, expect, it } from 'vitest';
import { decodeText, encodeText, textDataset, TEXT_VOCAB } from '../../../../src/engine/data/text';

describe('text', () => {
  it('maps newline and printable ASCII to 96 symbols and back; anything else becomes ?', () => {
    expect(TEXT_VOCAB.length).toBe(96);
    expect(decodeText(encodeText('Hi,\nthere~'))).toBe('Hi,\nthere~');
    expect(decodeText(encodeText('tab\there é'))).toBe('tab here ?');
  });

  it('the embedded corpus is TypeScript library text; a string of ones own works the same', () => {
    const ds = textDataset({ length: 64 });
    expect(ds.vocab).toBe(TEXT_VOCAB);
    expect(ds.train.n).toBeGreaterThan(2000);
    expect(decodeText(ds.train.x.subarray(0, 64 * 50))).toMatch(/interface|function|readonly/);
    const own = textDataset({ text: 'abc '.repeat(200), length: 16 });
    expect(own.train.n + own.val.n + own.test.n).toBe(50);
    expect(() => textDataset({ text: 'short', length: 16 })).toThrow('at least 10 are needed');
    expect(() => textDataset({ file: '/nonexistent/file.txt' })).toThrow('cannot read');
  });
});
