/** Geometry of an enlarged crop; no dependencies, so the UI can import it without the upscaler itself. */

/**
 * The crop -> photo transform of a crop enlarged k times (pixel centres kept): a pixel u' of the enlarged crop is
 * u = (u' + 0.5) / k - 0.5 of the model's crop. For pasting an enlarged face back with the model crop's `inverse`.
 */
export function scaleCropInverse(
  inverse: readonly [number, number, number, number, number, number],
  k: number,
): [number, number, number, number, number, number] {
  const c = 0.5 / k - 0.5;
  const [a, b, x, d, e, y] = inverse;
  return [a / k, b / k, a * c + b * c + x, d / k, e / k, d * c + e * c + y];
}
