/** The output of preprocessing: what the model is sent, and the facts about the original that are stored. */

export type SupportedFormat = 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'heif' | 'avif';

export interface OriginalImageFacts {
  /** Upright (after EXIF orientation) width and height of the original, in pixels. */
  width: number;
  height: number;
  /** The real format, sniffed from the bytes, never from the name or content type. */
  format: SupportedFormat;
  /** Hex SHA-256 of the original bytes exactly as stored. */
  sha256: string;
  bytes: number;
}

export interface PreprocessedImage {
  /** JPEG bytes sent to the model: upright, metadata stripped, resized for the detail. */
  jpeg: Buffer;
  /** The detail actually requested from the model (`auto` is resolved before sending). */
  detail: 'low' | 'high';
  width: number;
  height: number;
  /** GPT-4o image tokens predicted for `jpeg` at `detail`. */
  estimatedImageTokens: number;
  original: OriginalImageFacts;
}
