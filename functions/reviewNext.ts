/** GET /api/review/next: the next image to review, held for this reviewer for a short lease. */
import { registerHttp } from './lib/register';

export const reviewNext = registerHttp('reviewNext');
