/** The normalised inputs of an evaluation: one truth item and one prediction item per image name. */
import type { CocoGroundTruth } from './detection/readCocoGroundTruth';

/** A box in pixels, corners x1 < x2, y1 < y2 (COCO's [x, y, w, h] becomes x1 = x, x2 = x + w). */
export interface EvalBox {
  category: string;
  x1: number;
  y1: number;
  x2: number;
  y2: number;
  /** Predictions: the detector's score; null when the source gave none. */
  score?: number | null;
  /** Truth: a crowd region (COCO iscrowd, BDD100K attributes.crowd) that absorbs detections. */
  crowd?: boolean;
  /** Truth: BDD100K attributes.ignored: treated as crowd by BDD100K's evaluation. */
  ignored?: boolean;
  /** Truth: the source's own area (COCO `area`), when it gave one. */
  area?: number;
  /** Truth: the source's annotation id, for warnings. */
  id?: number | string;
  /** COCO sources: the original [x, y, w, h], passed to the COCO evaluator unchanged (no round trip through corners). */
  bbox?: [number, number, number, number];
}

export interface AnswerDecision {
  label: string;
  confidence: number | null;
}

export interface TruthItem {
  name: string;
  label?: string;
  labels?: string[];
  attributes?: Record<string, string>;
  boxes?: EvalBox[];
  width?: number;
  height?: number;
  /** COCO image id: the evaluator orders images by it, as pycocotools does (score ties across images break by it). */
  id?: number;
}

export interface PredictionItem {
  name: string;
  location: string | null;
  /** `answered`: a predictions file that is not a run (no status). */
  status: 'classified' | 'needs_review' | 'rejected' | 'failed' | 'answered';
  reviewed: boolean;
  /** Exactly one of these is set for an answered image; none for an unanswered one. */
  label?: AnswerDecision;
  labels?: AnswerDecision[];
  attributes?: Record<string, AnswerDecision>;
  boxes?: EvalBox[];
  /** From a run: spend and time of this image. */
  usage?: { promptTokens: number; completionTokens: number; costUsd: number | null; modelCalls: number };
  totalMs?: number;
  reusedAnswer?: boolean;
}

export interface TruthSet {
  format: 'bdd100k' | 'coco' | 'folders' | 'jsonl';
  items: TruthItem[];
  warnings: string[];
  /** COCO truth as the detection evaluator reads it, to read COCO results files against its ids. */
  coco?: CocoGroundTruth;
  /** Every category the truth declares (COCO categories, BDD100K detection classes seen). */
  categories?: string[];
}

export interface PredictionSet {
  format: 'run' | 'jsonl' | 'bdd100k' | 'coco';
  items: PredictionItem[];
  warnings: string[];
  /** A run's profile, from its config.json. */
  profile?: { name: string; version: string; kind: string };
}
