import { describe, expect, it } from 'vitest';
import { fileListSource } from '../src/browser.js';

describe('fileListSource', () => {
  it('reads picked files by COCO file name, and names a missing one', async () => {
    const source = fileListSource([new File([new Uint8Array([1, 2, 3])], 'a.jpg'), new File(['x'], 'b.jpg')]);
    expect(Array.from(await source.read('a.jpg'))).toEqual([1, 2, 3]);
    // COCO file names may carry a folder; picked files carry only their base name.
    expect(Array.from(await source.read('train2017/a.jpg'))).toEqual([1, 2, 3]);
    await expect(source.read('c.jpg')).rejects.toThrow(/no file 'c\.jpg' among the 2 files/);
  });
});
