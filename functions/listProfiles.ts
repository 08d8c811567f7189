/** GET /api/profiles: the profiles this app knows, for the web page and clients. */
import { registerHttp } from './lib/register';

export const listProfiles = registerHttp('listProfiles');
