/** GET /: the web page (upload, browse, review), served by the app itself. */
import { registerHttp } from './lib/register';

export const web = registerHttp('web');
