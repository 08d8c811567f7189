/** The request as blobsight built it before the token cuts (commit 79ebde5): the bench's 'today' baseline. Kept verbatim, not used by the app. */
import type { ChatCompletionContentPart, ChatCompletionMessageParam } from 'openai/resources/chat/completions';

import { answerConfidenceKey } from '../../../shared/model/answerConfidenceKey';
import type { PreprocessedImage } from '../../../shared/preprocess/preprocessedImage';
import type { Label, LabelProfile } from '../../../shared/profiles/profileSchema';

const TASK: Record<LabelProfile['kind'], string> = {
  'single-label': 'Choose the one label from the list that best describes the image.',
  'multi-label':
    'Decide for every label in the list whether it applies to the image: true if it does, false if it does not. Any number of labels may be true, including none.',
  attributes: 'For each attribute, choose the one label from its list that best describes the image.',
};

export function legacyMessages(profile: LabelProfile, image: PreprocessedImage): ChatCompletionMessageParam[] {
  const confidenceKey = answerConfidenceKey(profile);
  const system = [
    'You are an image classifier.',
    TASK[profile.kind],
    'Rules:',
    '- Answer only with labels from the given lists, spelled exactly as written there. Never invent a label.',
    '- Reply with the JSON object the response format describes and nothing else.',
    `- Be calibrated: "${confidenceKey}" is your probability from 0 to 1 that the whole answer is correct. Use a lower value when the image is unclear, ambiguous or the answer is a guess.`,
  ].join('\n');

  const image_url: ChatCompletionContentPart = {
    type: 'image_url',
    image_url: { url: `data:image/jpeg;base64,${image.jpeg.toString('base64')}`, detail: image.detail },
  };

  return [
    { role: 'system', content: system },
    { role: 'user', content: [{ type: 'text', text: `${profile.prompt}\n\n${describeChoices(profile)}` }, image_url] },
  ];
}

function describeChoices(profile: LabelProfile): string {
  if (profile.kind === 'attributes') {
    return [
      'Attributes:',
      ...profile.attributes.map((a) =>
        [`${JSON.stringify(a.name)}${a.description === undefined ? '' : `: ${a.description}`}`, labelLines(a.labels)].join('\n'),
      ),
    ].join('\n\n');
  }
  return `Labels:\n${labelLines(profile.labels)}`;
}

// Names are JSON-quoted so the exact spelling (spaces, case) is unambiguous.
function labelLines(labels: readonly Label[]): string {
  return labels.map((l) => `- ${JSON.stringify(l.name)}${l.description === undefined ? '' : `: ${l.description}`}`).join('\n');
}
