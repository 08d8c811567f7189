/** Queue trigger: events parked for the model's quota (PARKING_QUEUE) run through the pipeline again. */
import { registerQueue } from './lib/register';

export const drainParked = registerQueue('drainParked');
