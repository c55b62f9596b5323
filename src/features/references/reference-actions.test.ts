import { describe, expect, it } from 'vitest';
import type { DetectedFace } from '../../../workers/api';
import { pickReferenceFace } from './reference-actions';

const face = (w: number, score: number): DetectedFace => ({ box: { x: 0, y: 0, width: w, height: w }, landmarks: [], score });

describe('pickReferenceFace', () => {
  it('prefers the large confident face and handles none', () => {
    expect(pickReferenceFace([])).toBeUndefined();
    const big = face(200, 0.9);
    expect(pickReferenceFace([face(50, 0.99), big, face(220, 0.01)])).toBe(big);
  });
});
