/** PATCH /api/images/{id}/review: store a person's correction beside the model's answer. */
import { registerHttp } from './lib/register';

export const reviewImage = registerHttp('reviewImage');
