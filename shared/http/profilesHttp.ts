/** GET /api/profiles: the profiles this app knows and which of them the configured model can serve. */
import type { Classifier } from '../model/classifier';
import type { ProfileRegistry } from '../profiles';
import type { HttpContext } from './HttpContext';
import { json } from './HttpContext';

export interface ProfilesHttpDeps {
  profiles: ProfileRegistry;
  classifier: Pick<Classifier, 'supportedKinds' | 'info'>;
  defaultProfile: string;
}

export function profilesHttp(_req: Request, _ctx: HttpContext, deps: ProfilesHttpDeps): Promise<Response> {
  const items = deps.profiles.list().map((p) => ({ ...p, servedByModel: deps.classifier.supportedKinds.includes(p.kind) }));
  return Promise.resolve(json({ defaultProfile: deps.defaultProfile, model: deps.classifier.info, items }));
}
