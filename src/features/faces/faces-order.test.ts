import { describe, expect, it } from 'vitest';
import { sortLeftToRight } from './faces-actions';

const f = (x: number, y: number, s = 100) => ({ box: { x, y, width: s, height: s } });

describe('sortLeftToRight', () => {
  it('numbers faces left to right, a column top to bottom', () => {
    const faces = [f(900, 100), f(100, 400), f(500, 50), f(120, 50)];
    expect(sortLeftToRight(faces).map((x) => [x.box.x, x.box.y])).toEqual([
      [120, 50],
      [100, 400],
      [500, 50],
      [900, 100],
    ]);
  });
});
