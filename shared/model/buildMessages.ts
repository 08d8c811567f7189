/**
 * The chat messages for one classification: fixed rules in the system message, the task in the user message's text,
 * the image last. Everything before the image is the same for every image of a profile, so Azure's prompt cache can
 * serve it once it is long enough (1,024 tokens and more).
 */
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';

import type { PreprocessedImage } from '../preprocess/preprocessedImage';
import type { Label, LabelProfile } from '../profiles/profileSchema';
import { answerConfidenceKey } from './answerConfidenceKey';

const TASK: Record<LabelProfile['kind'], string> = {
  'single-label': 'Choose the label that best describes the image.',
  'multi-label': 'For every label, answer true if it applies to the image, else false; any number may be true, including none.',
  attributes: 'For each attribute, choose the label that best describes the image.',
};

/**
 * The label names are not listed here: the response format's enums already carry them, and a strict schema is part of
 * the prompt the model reads (and is billed for). Listing them again doubled a 120-label profile's prompt. Only what
 * the schema cannot say is written: label and attribute descriptions.
 */
export function buildMessages(profile: LabelProfile, image: PreprocessedImage): ChatCompletionMessageParam[] {
  return [
    { role: 'system', content: systemRules(profile) },
    { role: 'user', content: [{ type: 'text', text: taskText(profile) }, imagePart(image)] },
  ];
}

/** The system message: the same for every image of the profile. */
export function systemRules(profile: LabelProfile): string {
  const confidenceKey = answerConfidenceKey(profile);
  return [
    `You are an image classifier. ${TASK[profile.kind]}`,
    'Answer only with labels from the given lists, spelled exactly as there. Never invent a label.',
    `Be calibrated: "${confidenceKey}" is your 0-1 probability that the whole answer is correct; lower when unclear or a guess.`,
  ].join('\n');
}

/** The profile's prompt and the descriptions the schema cannot carry. */
export function taskText(profile: LabelProfile): string {
  const notes = describeChoices(profile);
  return notes === '' ? profile.prompt : `${profile.prompt}\n\n${notes}`;
}

export function imagePart(image: PreprocessedImage): ChatCompletionContentPart {
  return { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${image.jpeg.toString('base64')}`, detail: image.detail } };
}

function describeChoices(profile: LabelProfile): string {
  if (profile.kind === 'attributes') {
    const fields = profile.attributes
      .map((a) => {
        const head = a.description === undefined ? [] : [`${JSON.stringify(a.name)}: ${a.description}`];
        const labels = labelNotes(a.labels);
        if (labels.length > 0 && head.length === 0) head.push(`${JSON.stringify(a.name)}:`);
        return [...head, ...labels].join('\n');
      })
      .filter((s) => s !== '');
    return fields.length === 0 ? '' : ['Attributes:', ...fields].join('\n');
  }
  const notes = labelNotes(profile.labels);
  return notes.length === 0 ? '' : `Labels:\n${notes.join('\n')}`;
}

// Names are JSON-quoted so the exact spelling (spaces, case) is unambiguous; labels without a description are left to the schema.
function labelNotes(labels: readonly Label[]): string[] {
  return labels.filter((l) => l.description !== undefined).map((l) => `- ${JSON.stringify(l.name)}: ${l.description ?? ''}`);
}
