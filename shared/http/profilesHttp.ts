/** GET /api/profiles: the profiles this app knows and which of them the configured model can serve. */
import type { Classifier } from '../model/classifier';
import { classifierFor } from '../model/routing/RoutingClassifier';
import type { ProfileRegistry } from '../profiles';
import type { HttpContext } from './HttpContext';
import { json } from './HttpContext';

export interface ProfilesHttpDeps {
  profiles: ProfileRegistry;
  classifier: Pick<Classifier, 'supportedKinds' | 'info'>;
  defaultProfile: string;
}

export function profilesHttp(_req: Request, _ctx: HttpContext, deps: ProfilesHttpDeps): Promise<Response> {
  // Each profile's own model when it names one (profile `model`), else the configured one.
  const items = deps.profiles.list().map((p) => {
    const c = classifierFor(deps.classifier, p);
    return { ...p, servedByModel: c.supportedKinds.includes(p.kind), servedBy: { provider: c.info.provider, deployment: c.info.deployment } };
  });
  return Promise.resolve(json({ defaultProfile: deps.defaultProfile, model: deps.classifier.info, items }));
}
