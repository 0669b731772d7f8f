/**
 * PNG and JPEG bytes → 8-bit pixels, with pure-JavaScript decoders (pngjs, jpeg-js). The format is
 * told by the file's magic bytes, not its name. 16-bit PNGs are scaled down to 8 bits by pngjs; JPEG
 * EXIF orientation and ICC color profiles are ignored (as PIL does unless asked).
 */
import { Buffer } from 'node:buffer';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { QuantkitError } from '../errors.js';
import type { PixelImage } from './preprocess.js';

const PNG_MAGIC = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
const JPEG_MAGIC = [0xff, 0xd8, 0xff];

export function decodeImage(bytes: Uint8Array): PixelImage {
  if (startsWith(bytes, PNG_MAGIC)) {
    try {
      const png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
      return { width: png.width, height: png.height, channels: 4, data: png.data };
    } catch (e) {
      throw new QuantkitError(`not a readable PNG image (${(e as Error).message})`);
    }
  }
  if (startsWith(bytes, JPEG_MAGIC)) {
    try {
      // Strict decoding: a truncated file must fail rather than calibrate on a half-gray picture.
      const img = jpeg.decode(bytes, { useTArray: true, formatAsRGBA: false, tolerantDecoding: false });
      return { width: img.width, height: img.height, channels: 3, data: img.data };
    } catch (e) {
      throw new QuantkitError(`not a readable JPEG image (${(e as Error).message})`);
    }
  }
  throw new QuantkitError('not a PNG or JPEG image (WebP, GIF, BMP and TIFF are not supported)');
}

function startsWith(bytes: Uint8Array, magic: readonly number[]): boolean {
  return bytes.length >= magic.length && magic.every((b, i) => bytes[i] === b);
}
