/** Timer (every 5 min): finishes images Event Grid dropped or dead-lettered, and claims whose worker died. */
import { registerTimer } from './lib/register';

export const reconcile = registerTimer('reconcile');
