/** Chat messages for a detection profile answered by a vision model: the grid convention, categories and attributes. */
import type { ChatCompletionMessageParam } from 'openai/resources/chat/completions';

import type { PreprocessedImage } from '../preprocess/preprocessedImage';
import type { ObjectsProfile } from '../profiles/profileSchema';
import { answerConfidenceKey } from './answerConfidenceKey';
import { BOX_GRID } from './boxGrid';

export function buildDetectionMessages(profile: ObjectsProfile & { categories: readonly string[] }, image: PreprocessedImage): ChatCompletionMessageParam[] {
  const confidenceKey = answerConfidenceKey(profile);
  const hasAttributes = (profile.attributes ?? []).length > 0;
  const system = [
    'You are an object detector for images.',
    `Find the objects of the listed categories and give each a tight bounding box.${hasAttributes ? ' Also choose, for each attribute, the one label from its list that best describes the whole image.' : ''}`,
    'Rules:',
    `- Box coordinates are integers on a ${BOX_GRID} x ${BOX_GRID} grid laid over the image, whatever its pixel size: x from 0 at the left edge to ${BOX_GRID} at the right edge, y from 0 at the top edge to ${BOX_GRID} at the bottom edge. x1,y1 is the top-left corner of the box, x2,y2 its bottom-right corner.`,
    '- One box per object instance; leave out objects you cannot see clearly. An empty list is a valid answer.',
    `- List at most ${profile.maxObjects} objects, the most certain first.`,
    '- Use only categories and labels from the given lists, spelled exactly as written there.',
    '- Reply with the JSON object the response format describes and nothing else.',
    `- Be calibrated: each "score" is your probability that the box holds an object of its category; "${confidenceKey}" is your probability that the whole answer is correct.`,
  ].join('\n');
  const choices = [
    `Categories:\n${profile.categories.map((c) => `- ${JSON.stringify(c)}`).join('\n')}`,
    ...(hasAttributes
      ? [
          [
            'Attributes:',
            ...(profile.attributes ?? []).map((a) =>
              [
                `${JSON.stringify(a.name)}${a.description === undefined ? '' : `: ${a.description}`}`,
                a.labels.map((l) => `- ${JSON.stringify(l.name)}${l.description === undefined ? '' : `: ${l.description}`}`).join('\n'),
              ].join('\n'),
            ),
          ].join('\n\n'),
        ]
      : []),
  ].join('\n\n');
  return [
    { role: 'system', content: system },
    {
      role: 'user',
      content: [
        { type: 'text', text: `${profile.prompt}\n\n${choices}` },
        { type: 'image_url', image_url: { url: `data:image/jpeg;base64,${image.jpeg.toString('base64')}`, detail: image.detail } },
      ],
    },
  ];
}
