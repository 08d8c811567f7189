/** Who made an API request, as far as the app can verify it. */
import type { Principal } from './clientPrincipal';

export type Caller =
  /** A signed-in person (App Service authentication, Entra ID) holding an app role. */
  | { kind: 'user'; principal: Principal }
  /** A holder of a function key: the Functions host checked the key before the handler ran. */
  | { kind: 'key' };
