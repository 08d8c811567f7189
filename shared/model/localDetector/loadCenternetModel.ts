/** Loads the CenterNet COCO-80 detector from disk onto TensorFlow.js's WebAssembly backend, once per process. */
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

import { setWasmPaths } from '@tensorflow/tfjs-backend-wasm';
import type { GraphModel } from '@tensorflow/tfjs-converter';
import { loadGraphModel } from '@tensorflow/tfjs-converter';
import * as tf from '@tensorflow/tfjs-core';
import { z } from 'zod';

import { TransientError } from '../../errors';

/** Side of the model's square RGB input, in pixels. */
export const CENTERNET_INPUT_SIZE = 512;
/** The output holding the final boxes: [1, 100, 6] = x1, y1, x2, y2 (input pixels), score, class (0-based). */
export const CENTERNET_DETECTIONS = 'tower_0/detections';
const MODEL_NAME = 'centernet';

/** The loaded detector, reduced to what the classifier needs. */
export interface CenternetModel {
  /**
   * Runs the model on one `CENTERNET_INPUT_SIZE`² RGB image (interleaved 8-bit, 0–255, the range the model was
   * trained on) and returns its raw detection rows. Synchronous on purpose: the WebAssembly backend is one
   * single-threaded instance, and a call that never yields cannot interleave with another image's.
   */
  detect(rgb: Uint8Array): number[][];
}

// Only the fields we rely on; the rest of the file is handed to TensorFlow.js as it is.
const modelJsonSchema = z.object({
  modelTopology: z.record(z.string(), z.unknown()),
  weightsManifest: z
    .array(z.object({ paths: z.array(z.string().min(1)).min(1), weights: z.array(z.unknown()) }))
    .min(1),
  format: z.string().optional(),
  generatedBy: z.string().optional(),
  convertedBy: z.string().nullable().optional(),
  signature: z.record(z.string(), z.unknown()).optional(),
});

const requireHere = createRequire(__filename);
let backendReady: Promise<void> | undefined;
const models = new Map<string, Promise<CenternetModel>>();

/** The `models/` folder shipped inside @vladmandic/human (its package.json is not exported, so we go from its entry). */
export function defaultModelDir(): string {
  return path.resolve(path.dirname(requireHere.resolve('@vladmandic/human')), '..', 'models');
}

/**
 * The model in `modelDir`, loaded on first use and shared by every later call with the same folder. Reads
 * `centernet.json` and its weight files from disk, never the network. A failed load is forgotten, so the next image
 * tries again; it throws TransientError `model_unavailable` naming what is wrong.
 */
export async function loadCenternetModel(modelDir: string = defaultModelDir()): Promise<CenternetModel> {
  const key = path.resolve(modelDir);
  let model = models.get(key);
  if (model === undefined) {
    model = load(key);
    models.set(key, model);
    model.catch(() => models.delete(key));
  }
  return model;
}

async function load(modelDir: string): Promise<CenternetModel> {
  // Files first: a missing model is reported without starting the backend.
  const artifacts = await readArtifacts(modelDir);
  await useWasmBackend();
  let graph: GraphModel;
  try {
    graph = await loadGraphModel(tf.io.fromMemory(artifacts));
  } catch (e) {
    throw unavailable(`TensorFlow.js could not build the model from ${modelDir}: ${message(e)}`, e);
  }
  const input = graph.inputs[0]?.shape;
  const expected = [1, CENTERNET_INPUT_SIZE, CENTERNET_INPUT_SIZE, 3];
  if (input === undefined || input.some((d, i) => d !== -1 && d !== expected[i]) || !graph.outputNodes.includes(CENTERNET_DETECTIONS)) {
    graph.dispose();
    throw unavailable(
      `${path.join(modelDir, `${MODEL_NAME}.json`)} is not the CenterNet detector this provider decodes ` +
        `(input ${JSON.stringify(input)}, outputs ${graph.outputNodes.join(', ')}); expected input ${JSON.stringify(expected)} ` +
        `and output ${CENTERNET_DETECTIONS}.`,
    );
  }
  return {
    detect(rgb: Uint8Array): number[][] {
      const size = CENTERNET_INPUT_SIZE;
      if (rgb.length !== size * size * 3) {
        throw new RangeError(`detect: expected ${size}x${size} RGB (${size * size * 3} bytes), got ${rgb.length} bytes.`);
      }
      // tidy frees the input and every intermediate; only the returned output survives, and it is freed below.
      const output = tf.tidy(() => graph.execute(tf.tensor4d(Float32Array.from(rgb), [1, size, size, 3]), CENTERNET_DETECTIONS) as tf.Tensor);
      try {
        return (output.arraySync() as number[][][])[0] ?? [];
      } finally {
        output.dispose();
      }
    },
  };
}

/** Picks the WebAssembly backend once; its .wasm binaries ship inside the npm package and are read from disk. */
async function useWasmBackend(): Promise<void> {
  backendReady ??= (async () => {
    const wasmDir = path.dirname(requireHere.resolve('@tensorflow/tfjs-backend-wasm'));
    // A trailing separator: the backend appends the binary's file name to this prefix.
    setWasmPaths(wasmDir + path.sep);
    let ok: boolean;
    try {
      ok = await tf.setBackend('wasm');
    } catch (e) {
      throw unavailable(`The TensorFlow.js WebAssembly backend failed to start from ${wasmDir}: ${message(e)}`, e);
    }
    if (!ok) {
      throw unavailable(`The TensorFlow.js WebAssembly backend failed to start from ${wasmDir} (see the log above).`);
    }
  })();
  backendReady.catch(() => {
    backendReady = undefined;
  });
  return backendReady;
}

async function readArtifacts(modelDir: string): Promise<tf.io.ModelArtifacts> {
  const jsonPath = path.join(modelDir, `${MODEL_NAME}.json`);
  let parsed: z.infer<typeof modelJsonSchema>;
  try {
    parsed = modelJsonSchema.parse(JSON.parse(await readFile(jsonPath, 'utf8')));
  } catch (e) {
    throw unavailable(`The local detector's model file ${jsonPath} is missing or unreadable (${message(e)}); ${REINSTALL}`, e);
  }
  const weightSpecs = parsed.weightsManifest.flatMap((group) => group.weights) as tf.io.WeightsManifestEntry[];
  // Shards are concatenated in manifest order, the layout TensorFlow.js expects for weightSpecs' offsets.
  const shards: Buffer[] = [];
  for (const file of parsed.weightsManifest.flatMap((group) => group.paths)) {
    const shardPath = path.resolve(modelDir, file);
    try {
      shards.push(await readFile(shardPath));
    } catch (e) {
      throw unavailable(`The local detector's weight file ${shardPath} is missing or unreadable (${message(e)}); ${REINSTALL}`, e);
    }
  }
  const weights = Buffer.concat(shards);
  return {
    modelTopology: parsed.modelTopology,
    weightSpecs,
    weightData: weights.buffer.slice(weights.byteOffset, weights.byteOffset + weights.byteLength),
    ...(parsed.format === undefined ? {} : { format: parsed.format }),
    ...(parsed.generatedBy === undefined ? {} : { generatedBy: parsed.generatedBy }),
    ...(parsed.convertedBy === undefined ? {} : { convertedBy: parsed.convertedBy }),
    ...(parsed.signature === undefined ? {} : { signature: parsed.signature }),
  };
}

const REINSTALL = 'the files ship in the @vladmandic/human npm package (models/centernet.json and centernet.bin): reinstall dependencies with `npm ci`.';

function unavailable(text: string, cause?: unknown): TransientError {
  return new TransientError('model_unavailable', text, cause === undefined ? {} : { cause });
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
