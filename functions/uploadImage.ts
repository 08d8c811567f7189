/** POST /api/uploads?profile=: stream one image into the images container; the event flow classifies it. */
import { registerHttp } from './lib/register';

export const uploadImage = registerHttp('uploadImage');
