/**
 * The API for people signed in through App Service authentication (app/api/*): anonymous to the Functions host,
 * each handler requires the platform's principal with an Entra ID app role (shared/auth). Machines use the key routes.
 */
import { registerHttp } from './lib/register';

export const me = registerHttp('me');
export const listProfilesSignedIn = registerHttp('listProfilesSignedIn');
export const listImagesSignedIn = registerHttp('listImagesSignedIn');
export const getImageSignedIn = registerHttp('getImageSignedIn');
export const getImageContentSignedIn = registerHttp('getImageContentSignedIn');
export const reviewImageSignedIn = registerHttp('reviewImageSignedIn');
export const uploadImageSignedIn = registerHttp('uploadImageSignedIn');
export const classifySignedIn = registerHttp('classifySignedIn');
export const statsSignedIn = registerHttp('statsSignedIn');
export const reviewNextSignedIn = registerHttp('reviewNextSignedIn');
export const reprocessImageSignedIn = registerHttp('reprocessImageSignedIn');
export const reprocessImagesSignedIn = registerHttp('reprocessImagesSignedIn');
export const deleteImageSignedIn = registerHttp('deleteImageSignedIn');
