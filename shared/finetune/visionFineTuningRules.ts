/**
 * Azure OpenAI's rules for vision fine-tuning data, checked before anything is uploaded or paid for. Source:
 * learn.microsoft.com "Vision fine-tuning" (azure/foundry/openai/how-to/fine-tuning-vision), "Image dataset
 * requirements": at most 50,000 examples with images per training file, at most 64 images per example, at most 10 MB
 * per image, JPEG / PNG / WEBP in RGB or RGBA mode, no images in assistant messages, at least 10 examples. The
 * quotas page adds 512 MB per fine-tuning file. Vision fine-tuning is offered on gpt-4o 2024-08-06 (and gpt-4.1).
 */
export const MIN_EXAMPLES = 10;
export const MAX_EXAMPLES_WITH_IMAGES = 50_000;
export const MAX_IMAGES_PER_EXAMPLE = 64;
export const MAX_IMAGE_BYTES = 10 * 1024 * 1024;
export const MAX_FILE_BYTES = 512 * 1024 * 1024;
/** Containers (as sniffImageFormat names them) and the data-URL media types Azure accepts. */
export const ACCEPTED_CONTAINERS: ReadonlySet<string> = new Set(['jpeg', 'png', 'webp']);
export const ACCEPTED_MEDIA_TYPES: ReadonlySet<string> = new Set(['image/jpeg', 'image/png', 'image/webp']);
/** The base model this project fine-tunes (the one the dog-breeds study tuned). */
export const FINE_TUNE_BASE_MODEL = 'gpt-4o-2024-08-06';
